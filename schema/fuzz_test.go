package schema

import (
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader and the shape validator: no
// input may panic, and every diagnostic must be one line with a position in
// the file that was read (`make fuzz` runs it for 60 s).
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"all:\n  vars: { admin_ip: 10.10.10.10 }\n  children:\n    pg-test:\n      vars: { pg_cluster: pg-test }\n      hosts: { 10.10.10.11: { pg_seq: 1, pg_role: primary } }\n",
		"all: &a { vars: { x: *a } }\n",
		"a: &a [*a, *a]\n",
		"all:\n  children:\n    g: { hosts: { '10.0.0.[1:3]': {} } }\n",
		"all:\n  vars:\n    <<: [ { pg_version: 16 }, { pg_version: 15 } ]\n    pg_users: [ { name: x, roles: [ { name: y, admin: yes } ] } ]\n",
		"---\nall: ~\n...\n",
		"all: { vars: { pg_seq: '1', pg_role: off, pg_databases: [ { name: d, pool_size_reserve: 1 } ] } }",
		"\t",
		"all:\n  vars:\n    pg_parameters: { 'a b': 1, x: [1] }\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, diags := LoadBytes([]string{"fuzz.yml"}, [][]byte{data})
		check := func(ds Diags) {
			for _, d := range ds {
				line := d.String()
				if strings.ContainsAny(line, "\n\r") && !strings.Contains(d.Message, "\n") {
					t.Fatalf("diagnostic spans lines: %q", line)
				}
				if d.Pos.File != "" && d.Pos.File != "fuzz.yml" {
					t.Fatalf("diagnostic for another file: %q", line)
				}
			}
		}
		check(diags)
		if inv == nil {
			return
		}
		units := []Unit{{Maps: []VarMap{{Path: "all.vars", Vars: inv.Vars}}}}
		for _, g := range inv.Groups {
			u := Unit{Maps: []VarMap{{Path: GroupVarsPath(g.Name), Vars: g.Vars}}}
			for _, h := range g.Hosts {
				u.Maps = append(u.Maps, VarMap{Path: HostPath(g.Name, h.Addr), Vars: h.Vars})
			}
			units = append(units, u)
		}
		check(Validate(units))
	})
}
