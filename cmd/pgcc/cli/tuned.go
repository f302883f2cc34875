package cli

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/tuning"
)

// tunedSet holds the explain lines of an instance's PostgreSQL parameters.
// order lists every parameter in effect (the template's set and
// pg_parameters), sorted by name; lines also answers for parameters that
// another template or PostgreSQL version sets ("not set by …"), which are not
// in order.
type tunedSet struct {
	order []string
	lines map[string]string
}

// tunedParams returns the PostgreSQL parameters of an instance with their
// origin: the template formula with its inputs (tuning.md), or the
// pg_parameters entry and its file:line, which postgresql.auto.conf applies
// on top (tuning.md §7) unless Patroni passes that parameter on the command
// line (§8). nil when the instance cannot be tuned (no facts).
func tunedParams(inst *compiler.Instance) *tunedSet {
	res, err := inst.Tuning()
	if err != nil {
		return nil
	}
	ts := &tunedSet{lines: map[string]string{}}
	inEffect := map[string]bool{}
	for _, p := range res.Params {
		ts.lines[p.Name] = p.Explain()
		inEffect[p.Name] = true
	}
	managed := map[string]bool{}
	for _, p := range tuning.PatroniManagedParams() {
		managed[p] = true
	}
	for _, e := range pgParameters(inst) {
		lower := strings.ToLower(e.name)
		val := e.value
		if strings.Contains(lower, "password") {
			val = "(secret)"
		}
		p, tuned := res.Get(lower)
		var line string
		switch {
		case tuned && managed[lower]:
			line = fmt.Sprintf("%s (pg_parameters %s = %s, %s, is ignored: Patroni passes %s on the postgres command line)",
				p.Explain(), e.name, val, e.src, lower)
		case tuned && lower == "cron.database_name":
			line = p.Explain() + " (also written to postgresql.auto.conf)"
		case tuned:
			line = fmt.Sprintf("%s = %s: pg_parameters, %s (postgresql.auto.conf overrides the template's %s: %s)",
				p.Name, val, e.src, p.Value.String(), p.Formula)
		case managed[lower]:
			line = fmt.Sprintf("%s = %s: pg_parameters, %s (ignored: Patroni passes %s on the postgres command line)", e.name, val, e.src, lower)
		default:
			line = fmt.Sprintf("%s = %s: pg_parameters, %s (postgresql.auto.conf)", e.name, val, e.src)
		}
		name := lower
		if !tuned {
			name = e.name
		}
		ts.lines[name] = line
		inEffect[name] = true
	}
	for n := range inEffect {
		ts.order = append(ts.order, n)
	}
	sort.Strings(ts.order)
	for _, n := range knownParams() {
		if _, ok := ts.lines[n]; !ok {
			ts.lines[n] = res.Explain(n)[0]
		}
	}
	return ts
}

type paramEntry struct{ name, value, src string }

// pgParameters lists the instance's pg_parameters in inventory order with the
// position of each value.
func pgParameters(inst *compiler.Instance) []paramEntry {
	v, ok := inst.Get("pg_parameters")
	params, _ := v.V.(map[string]any)
	if !ok || len(params) == 0 {
		return nil
	}
	var out []paramEntry
	if n := v.Node(); n != nil && len(n.Keys) == len(params) {
		for _, e := range n.Keys {
			src := compiler.Prov{Layer: v.Prov.Layer, Group: v.Prov.Group, Pos: e.Value.Pos}.String()
			out = append(out, paramEntry{e.Key, compiler.ParamText(params[e.Key]), src})
		}
		return out
	}
	for _, k := range compiler.SortedKeys(params) {
		out = append(out, paramEntry{k, compiler.ParamText(params[k]), v.Prov.String()})
	}
	return out
}

var (
	knownOnce  sync.Once
	knownNames []string
)

// knownParams are the parameters some template sets for some PostgreSQL
// version, pg_libs or pg_mode: explain answers "not set by this template"
// for them instead of "unknown".
func knownParams() []string {
	knownOnce.Do(func() {
		seen := map[string]bool{}
		for _, tmpl := range []string{tuning.OLTP, tuning.OLAP, tuning.Crit, tuning.Tiny} {
			for _, v := range []int{15, 18} {
				for _, mode := range []string{"pgsql", "polar"} {
					in := tuning.NewInput(4, 8192, 100)
					in.Template, in.PGVersion, in.Mode = tmpl, v, mode
					in.Libs = "citus, timescaledb, pgsodium, pg_duckdb, pg_stat_monitor, pg_stat_statements, auto_explain"
					in.PgBackRest, in.Cluster = true, "x"
					res, err := tuning.Compute(in)
					if err != nil {
						continue
					}
					for _, p := range res.Params {
						seen[p.Name] = true
					}
				}
			}
		}
		knownNames = compiler.SortedKeys(seen)
	})
	return knownNames
}
