package compiler

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pgcc-dev/pgcc/schema"
	"github.com/pgcc-dev/pgcc/tuning"
)

// Parameter consistency lints (tuning.md §8).

func init() {
	Linters = append(Linters,
		Linter{Name: "param-mismatch", Run: lintParamMismatch},
		Linter{Name: "param-ignored", Run: lintParamIgnored},
	)
}

// mustMatchInputs are the variables that can make a must-match parameter
// differ between two members (tuning.md §2, §3, §6). wal_level and
// track_commit_timestamp are fixed by every template: if they ever differ,
// every tuning input is a suspect.
var mustMatchInputs = map[string][]string{
	"max_connections":           {"pg_max_conn", "pg_conf", "pg_default_service_dest"},
	"max_locks_per_transaction": {"pg_max_conn", "pg_conf", "pg_default_service_dest", "pg_libs"},
	"max_prepared_transactions": {"pg_max_conn", "pg_conf", "pg_default_service_dest", "pg_libs"},
	"max_worker_processes":      {"node_cpu", "pg_conf"},
}

// lintParamMismatch warns when a member computes a different value than the
// primary for a parameter that must match on every member (param-mismatch):
// Patroni keeps the bootstrap leader's values in the DCS, and PostgreSQL
// refuses to start a hot standby whose max_connections, max_worker_processes,
// max_locks_per_transaction or max_prepared_transactions is lower than the
// primary's (docs "Hot Standby: Administrator's Overview"). The warning
// points at the host fact or variable that makes them differ and names the
// provenance of both values.
func lintParamMismatch(f *Fleet) Diags {
	var out Diags
	for _, cl := range f.Clusters {
		ref := cl.Vars()
		if !ref.HasFacts() {
			continue
		}
		refRes, err := ref.Tuning()
		if err != nil {
			continue
		}
		for _, m := range cl.Members {
			if m == ref || !m.HasFacts() {
				continue
			}
			res, err := m.Tuning()
			if err != nil {
				continue
			}
			for _, name := range tuning.MustMatchParams() {
				a, aok := res.Get(name)
				b, bok := refRes.Get(name)
				if aok == bok && (!aok || a.Value.String() == b.Value.String()) {
					continue
				}
				out = append(out, mismatchDiag(m, ref, name, paramShown(a, aok), paramShown(b, bok)))
			}
		}
	}
	return out
}

func paramShown(p tuning.Param, ok bool) string {
	if !ok {
		return "unset"
	}
	return p.Value.String()
}

func mismatchDiag(m, ref *Instance, name, mine, theirs string) Diag {
	cands := mustMatchInputs[name]
	var diff []string
	for pass := 0; pass < 2 && len(diff) == 0; pass++ {
		if pass == 1 {
			cands = tuningVars
		}
		for _, v := range cands {
			if v == "pg_parameters" || v == "pg_cluster" {
				continue
			}
			a, aok := m.Vars[v]
			b, bok := ref.Vars[v]
			if aok != bok || !reflect.DeepEqual(a.V, b.V) {
				diff = append(diff, v)
			}
		}
	}
	pos, path := m.KeyPos, schema.HostPath(m.Group, m.IP)
	var why []string
	for k, v := range diff {
		if k == 0 {
			pos, path = at(m, v)
		}
		why = append(why, fmt.Sprintf("%s %s from %s on %s, %s from %s on %s", v,
			shownVar(m, v), provOf(m, v), m.Name, shownVar(ref, v), provOf(ref, v), ref.Name))
	}
	msg := fmt.Sprintf("%s is %s on %s but %s on %s; it must be equal on every member: Patroni keeps the leader's value in the DCS and a replica with a lower value than its primary refuses to start",
		name, mine, m.Name, theirs, ref.Name)
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return Diag{Pos: pos, Path: path, Code: "param-mismatch", Severity: schema.SevWarning, Message: msg}
}

func shownVar(i *Instance, name string) string {
	v, ok := i.Vars[name]
	if !ok {
		return "unset"
	}
	return display(v.V)
}

func provOf(i *Instance, name string) string {
	v, ok := i.Vars[name]
	if !ok {
		return "nowhere"
	}
	return v.Prov.String()
}

// lintParamIgnored warns about pg_parameters entries that Patroni controls
// (param-ignored): Patroni starts postgres with them on the command line
// (postgresql/config.py CMDLINE_OPTIONS), which beats postgresql.auto.conf.
func lintParamIgnored(f *Fleet) Diags {
	managed := map[string]bool{}
	for _, p := range tuning.PatroniManagedParams() {
		managed[p] = true
	}
	var out Diags
	for _, cl := range f.Clusters {
		for _, m := range cl.Members {
			v, ok := m.Vars["pg_parameters"]
			if !ok || v.node == nil || f.ShapeFailed(v) {
				continue
			}
			for _, e := range v.node.Keys {
				if !managed[strings.ToLower(e.Key)] {
					continue
				}
				pos, path := e.KeyPos, v.Prov.Path+"."+e.Key
				if v.Prov.Pos.IsZero() {
					pos, path = m.KeyPos, "pg_parameters."+e.Key
				}
				out = append(out, Diag{Pos: pos, Path: path, Code: "param-ignored", Severity: schema.SevWarning,
					Message: fmt.Sprintf("%s in pg_parameters has no effect: Patroni passes it on the postgres command line, which beats postgresql.auto.conf; change it in the DCS (patronictl edit-config) instead", e.Key)})
			}
		}
	}
	return out
}
