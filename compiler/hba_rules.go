package compiler

import (
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler/hbaspec"
)

// Stage-4 validation of the HBA rule objects (hba.md §7). CUE already checks the
// shape (role and auth enums, integer order, one-line raw strings); Go parses what
// CUE cannot: addresses, user and database items with their aliases, and the auth/addr
// combinations PostgreSQL or pgbouncer would refuse to load.

func init() {
	RegisterRule(ClusterRule{Name: "hba", Check: checkHBA})
}

// HBARulesOf returns the rule objects of pg_hba.conf (pgb false: pg_default_hba_rules
// + pg_hba_rules) or pgb_hba.conf (pgb_default_hba_rules + pgb_hba_rules) as resolved
// on inst. Pigsty allows these variables at host level (G/C/I), so a member may have
// its own list; otherwise this is the cluster's list.
func HBARulesOf(f *Fleet, cl *Cluster, inst *Instance, pgb bool) []*HBARule {
	defName, name, list := "pg_default_hba_rules", "pg_hba_rules", cl.HBARules
	if pgb {
		defName, name, list = "pgb_default_hba_rules", "pgb_hba_rules", cl.PgbHBARules
	}
	ref := cl.Vars()
	if inst == ref || (inst.Vars[defName].Prov == ref.Vars[defName].Prov && inst.Vars[name].Prov == ref.Vars[name].Prov) {
		return list
	}
	var out []*HBARule
	idx := 0
	for _, vn := range []string{defName, name} {
		v, ok := inst.Vars[vn]
		if !ok || f.badPaths[v.Prov.Path] {
			continue
		}
		items, base, ok := listItems(v)
		if !ok {
			continue
		}
		for i, it := range items {
			p := itemPath(base, vn, i)
			r := decodeHBARule(it, p, vn == defName, idx)
			r.Broken = f.badPaths[p]
			out = append(out, r)
			idx++
		}
	}
	return out
}

// HBAAliases returns the values of ${dbsu}, ${repl}, ${monitor} and ${admin} on inst.
func HBAAliases(inst *Instance) hbaspec.Aliases {
	return hbaspec.Aliases{
		DBSU:    inst.Str("pg_dbsu"),
		Repl:    inst.Str("pg_replication_username"),
		Monitor: inst.Str("pg_monitor_username"),
		Admin:   inst.Str("pg_admin_username"),
	}
}

// HBATarget returns the file target of inst (pgb: pgb_hba.conf).
func HBATarget(inst *Instance, pgb bool) hbaspec.Target {
	return hbaspec.Target{PGB: pgb, PGVersion: inst.Int("pg_version")}
}

// HBAEnv returns what the address aliases expand to on inst (hba.md §5).
func HBAEnv(f *Fleet, cl *Cluster, inst *Instance) hbaspec.Env {
	admin := f.AdminIP
	if admin == "" {
		admin = inst.Str("admin_ip")
	}
	return hbaspec.Env{
		AdminIP:    admin,
		InfraIPs:   f.InfraIPs,
		ClusterIPs: cl.MemberIPs,
		Intranet:   inst.Strings("node_firewall_intranet"),
	}
}

// HBASpec converts a rule object to the hbaspec form.
func (r *HBARule) HBASpec() hbaspec.Rule {
	return hbaspec.Rule{User: r.User, DB: r.DB, Addr: r.Addr, Auth: r.Auth, Rules: r.Rules}
}

// Label names a rule in messages: its title, or its path when it has none.
func (r *HBARule) Label() string {
	if r.Title != "" {
		return r.Title
	}
	return r.Src.Path
}

func checkHBA(f *Fleet, cl *Cluster) Diags {
	var out Diags
	seen := map[string]bool{}
	for _, m := range cl.Members {
		for _, pgb := range []bool{false, true} {
			if pgb && !m.Bool("pgbouncer_enabled") {
				continue // no pgb_hba.conf is written for this member
			}
			a, t := HBAAliases(m), HBATarget(m, pgb)
			for _, r := range HBARulesOf(f, cl, m, pgb) {
				key := fmt.Sprintf("%t|%s|%s", pgb, r.Src.Path, r.Src.Pos)
				if r.Broken || seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, validateHBARule(r, a, t)...)
			}
		}
	}
	return out
}

func validateHBARule(r *HBARule, a hbaspec.Aliases, t hbaspec.Target) Diags {
	var out Diags
	spec := r.HBASpec()
	if spec.Raw() {
		rs := r.KeySrc("rules")
		for i, line := range r.Rules {
			// CUE refuses CR/LF and the empty string; a blank line would render as a
			// rule that is not there.
			if strings.TrimSpace(line) == "" || strings.IndexByte(line, 0) >= 0 {
				out = append(out, Diag{Pos: rs.Pos, Path: fmt.Sprintf("%s[%d]", rs.Path, i), Code: "hba",
					Message: fmt.Sprintf("%q is not a rule line; want one non-blank line", line)})
			}
		}
		return out
	}
	_, errs := hbaspec.Parse(spec, a, t)
	for _, e := range errs {
		s := r.Src
		if e.Key != "" {
			s = r.KeySrc(e.Key)
		}
		out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "hba", Message: e.Msg})
	}
	return out
}
