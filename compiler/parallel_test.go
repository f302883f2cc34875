package compiler

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
)

// TestParallelStagesDeterministic: hosts (stage 3) and clusters (stage 4)
// are resolved and checked on GOMAXPROCS workers; the diagnostics and the
// fleet are the same as with one.
func TestParallelStagesDeterministic(t *testing.T) {
	var b strings.Builder
	b.Write(fleetgen.Inventory(40))
	// Stage-3 and stage-4 findings in several clusters: two primaries, a
	// reused pg_seq, a host in two clusters, an unknown role and a user twice.
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&b, `    bad-%d:
      hosts:
        10.9.%d.1: { pg_seq: 1, pg_role: primary }
        10.9.%d.2: { pg_seq: 1, pg_role: primary }
        10.1.%d.11: { pg_seq: 3, pg_role: replica }
      vars:
        pg_cluster: bad-%d
        pg_users:
          - { name: u%d, password: x, roles: [ no_such_role ] }
          - { name: u%d, password: y }
`, i, i, i, i, i, i, i)
	}
	data := []byte(b.String())
	run := func(procs int) (string, string) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		res := Compile(Options{Names: []string{"fleet.yml"}, Datas: [][]byte{data}})
		return res.Diags.Error(), fmt.Sprint(len(res.Diags))
	}
	one, n1 := run(1)
	many, n2 := run(4)
	if one != many || n1 != n2 {
		t.Fatalf("GOMAXPROCS=1:\n%s\nGOMAXPROCS=4:\n%s", one, many)
	}
	for _, want := range []string{
		"fleet.yml:697:21: all.children.bad-0.vars.pg_cluster: host 10.1.0.11 is already in cluster pg-c0000 (all.children.pg-c0000)\n",
		"fleet.yml:744:41: all.children.bad-5.hosts.10.9.5.2.pg_role: cluster bad-5 has 2 primaries (bad-5-1, bad-5-1); want exactly one\n",
		"fleet.yml:750:21: all.children.bad-5.vars.pg_users[1].name: user \"u5\" is defined twice in pg_users\n",
	} {
		if !strings.Contains(one, want) {
			t.Errorf("missing %q in:\n%s", want, one)
		}
	}

	// A valid fleet resolves to the same model.
	good := fleetgen.Inventory(40)
	model := func(procs int) string {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		res := Compile(Options{Names: []string{"fleet.yml"}, Datas: [][]byte{good}})
		if res.Fleet == nil {
			t.Fatal(res.Diags.Error())
		}
		var s strings.Builder
		for _, cl := range res.Fleet.Clusters {
			fmt.Fprintf(&s, "%s %s %v %d %d %d\n", cl.Name, cl.Primary.Name, cl.MemberIPs, len(cl.Users), len(cl.HBARules), len(cl.Services))
			for _, m := range cl.Members {
				tr, err := m.Tuning()
				fmt.Fprintf(&s, "  %s %s %d %d %v %d\n", m.Name, m.Role, m.Seq, len(m.Vars), err, len(tr.Params))
			}
		}
		return s.String()
	}
	if a, b := model(1), model(4); a != b {
		t.Fatalf("models differ:\n%s\n---\n%s", a, b)
	}
}

// TestTuningSharedByPeers: members with the same tuning input share one
// result, and it is the result each would compute alone.
func TestTuningSharedByPeers(t *testing.T) {
	res := Compile(Options{Names: []string{"fleet.yml"}, Datas: [][]byte{fleetgen.Inventory(2)}})
	if res.Fleet == nil {
		t.Fatal(res.Diags.Error())
	}
	cl := res.Fleet.Clusters[0]
	a, err := cl.Members[0].Tuning()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cl.Members[1].Tuning()
	if len(a.Params) == 0 || &a.Params[0] != &b.Params[0] {
		t.Errorf("members of %s do not share their tuning result", cl.Name)
	}
	in, err := cl.Members[1].TuningInput()
	if err != nil {
		t.Fatal(err)
	}
	alone, err := (*tuneMemo)(nil).compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(alone) != fmt.Sprint(b) {
		t.Errorf("shared result differs from the instance's own:\n%v\n%v", alone, b)
	}
	other, _ := res.Fleet.Clusters[1].Members[0].Tuning()
	if &other.Params[0] == &a.Params[0] {
		t.Error("clusters share a tuning result (the input names the cluster)")
	}
}
