package compiler

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
	"github.com/pgcc-dev/pgcc/schema"
)

// BenchmarkLoadResolve measures load + validate + resolve of synthetic fleets
// of N clusters × 3 hosts (goal, foundation issue: 1000 clusters ≤ 1.0 s and
// ≤ 300 MB on 2 cores). Reports ns/instance for the ratio gates of
// testing.md §9.
func BenchmarkLoadResolve(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		data := fleetgen.Inventory(n)
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res := Compile(Options{Names: []string{"fleet.yml"}, Datas: [][]byte{data}})
				if errs := res.Diags.Errors(); len(errs) > 0 {
					b.Fatalf("%d errors, first: %s", len(errs), errs[0])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(3*n), "ns/instance")
		})
	}
}

// TestSyntheticFleet: the generator's fleet is valid and resolves as
// expected, and one worker gives the same diagnostics as many.
func TestSyntheticFleet(t *testing.T) {
	data := fleetgen.Inventory(20)
	res := Compile(Options{Names: []string{"fleet.yml"}, Datas: [][]byte{data}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("errors:\n%s", errs.Error())
	}
	if got := len(res.Fleet.Clusters); got != 20 {
		t.Fatalf("clusters = %d, want 20", got)
	}
	cl := res.Fleet.Cluster("pg-c0007")
	if cl == nil || len(cl.Members) != 3 || cl.Primary.Name != "pg-c0007-1" || len(cl.Users) != 2 || len(cl.Services) != 5 {
		t.Fatalf("unexpected cluster %+v", cl)
	}
	if got := cl.MemberIPs; fmt.Sprint(got) != "[10.1.7.11 10.1.7.12 10.1.7.13]" {
		t.Fatalf("member IPs %v", got)
	}
}

// TestWorkersDeterministic: the diagnostics of an invalid fleet are the same
// with 1 and with N validation workers.
func TestWorkersDeterministic(t *testing.T) {
	data := []byte(string(fleetgen.Inventory(30)) + "    broken:\n      vars: { pg_cluster: broken, pg_max_conn: 5, pg_confg: x }\n      hosts: { 10.99.0.1: { pg_seq: one, pg_role: master } }\n")
	run := func(workers int) string {
		old := schema.Workers
		schema.Workers = workers
		defer func() { schema.Workers = old }()
		res := Compile(Options{Names: []string{"fleet.yml"}, Datas: [][]byte{data}})
		return res.Diags.Error()
	}
	one := run(1)
	many := run(max(4, runtime.GOMAXPROCS(0)))
	if one != many {
		t.Fatalf("1 worker:\n%s\nN workers:\n%s", one, many)
	}
	want := `fleet.yml:522:48: all.children.broken.vars.pg_max_conn: 5 is out of range; want 20..10000 or auto
fleet.yml:522:51: all.children.broken.vars.pg_confg: unknown variable "pg_confg"; did you mean "pg_conf"?
fleet.yml:523:37: all.children.broken.hosts.10.99.0.1.pg_seq: "one" is a string; want an integer
fleet.yml:523:51: all.children.broken.hosts.10.99.0.1.pg_role: "master" is not allowed; want primary, replica, offline, standby or delayed
4 errors`
	if one != want {
		t.Fatalf("got:\n%s\nwant:\n%s", one, want)
	}
}
