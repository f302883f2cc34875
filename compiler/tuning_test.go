package compiler

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgcc-dev/pgcc/tuning"
)

// tnCompile compiles an in-memory inventory named inv.yml.
func tnCompile(t *testing.T, inv string, opts ...func(*Options)) *Result {
	t.Helper()
	o := Options{Names: []string{"inv.yml"}, Datas: [][]byte{[]byte(inv)}}
	for _, f := range opts {
		f(&o)
	}
	return Compile(o)
}

func tnFleet(t *testing.T, inv string) *Fleet {
	t.Helper()
	res := tnCompile(t, inv)
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile:\n%s", errs.Error())
	}
	return res.Fleet
}

// tnLines renders diagnostics of the given codes as text lines.
func tnLines(ds Diags, codes ...string) []string {
	var out []string
	for _, d := range ds.Sorted() {
		for _, c := range codes {
			if d.Code == c {
				out = append(out, d.String())
			}
		}
	}
	return out
}

const tnBase = `all:
  vars: { admin_ip: 10.10.10.10 }
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    pg-test:
      vars: { pg_cluster: pg-test, node_cpu: 8, node_mem_mb: 32768, node_disk_gb: 500 }
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
        10.10.10.12: { pg_seq: 2, pg_role: replica }
`

func TestInstanceTuning(t *testing.T) {
	f := tnFleet(t, tnBase)
	m := f.Cluster("pg-test").Primary
	in, err := m.TuningInput()
	if err != nil {
		t.Fatal(err)
	}
	want := tuning.Input{CPU: 8, MemMB: 32768, DiskGB: 500, Template: "oltp.yml", PGVersion: 18, Storage: "SSD",
		MaxConn: tuning.MaxConnAuto, SharedBufferRatio: 0.25, Libs: "pg_stat_statements, auto_explain", IOMethod: "worker",
		DefaultServiceDest: "pgbouncer", Mode: "pgsql", Cluster: "pg-test", PgBackRest: true, LogDir: "/pg/log/postgres",
		PrimaryDB: "postgres"}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("TuningInput (-want +got):\n%s", d)
	}
	res, err := m.Tuning()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"work_mem": "64MB", "shared_buffers": "8192MB", "max_connections": "500",
		"archive_command": "pgbackrest --stanza=pg-test archive-push %p", "cron.database_name": "postgres"} {
		if p, ok := res.Get(name); !ok || p.Value.String() != v {
			t.Errorf("%s = %q, want %q", name, p.Value.String(), v)
		}
	}
	// Cached: the same Result (same backing array) on the second call.
	again, _ := m.Tuning()
	if &again.Params[0] != &res.Params[0] {
		t.Error("Tuning is not cached")
	}
}

func TestTuningInputOverrides(t *testing.T) {
	inv := strings.Replace(tnBase, "node_disk_gb: 500 }", `node_disk_gb: 500, pg_max_conn: '300', pg_stat_monitor_lowmem: true,
              pg_parameters: { cron.database_name: app, jit: false }, pgbackrest_enabled: false, pg_conf: tiny }`, 1)
	m := tnFleet(t, inv).Cluster("pg-test").Primary
	in, err := m.TuningInput()
	if err != nil {
		t.Fatal(err)
	}
	if in.MaxConn != 300 || in.StatMonitorLowMem == nil || !*in.StatMonitorLowMem || in.CronDatabase != "app" || in.PgBackRest || in.Template != "tiny" {
		t.Errorf("input = %+v", in)
	}
	// Derived pg_stat_monitor_lowmem (template is tiny) stays nil: tuning's default.
	m = tnFleet(t, strings.Replace(tnBase, "node_disk_gb: 500 }", "node_disk_gb: 500, pg_conf: tiny }", 1)).Cluster("pg-test").Primary
	if in, _ := m.TuningInput(); in.StatMonitorLowMem != nil {
		t.Errorf("derived lowmem passed as %v", *in.StatMonitorLowMem)
	}
}

func TestTuningNoFacts(t *testing.T) {
	inv := strings.Replace(tnBase, "node_cpu: 8, ", "", 1)
	res := tnCompile(t, inv, func(o *Options) { o.SkipFactErrors = true })
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	m := res.Fleet.Cluster("pg-test").Primary
	if _, err := m.Tuning(); !errors.Is(err, ErrNoFacts) {
		t.Errorf("err = %v, want ErrNoFacts", err)
	}
	if got := tnLines(res.Diags, "tuning"); len(got) > 0 {
		t.Errorf("tuning rule reported hosts without facts: %q", got)
	}
}

func TestRTO(t *testing.T) {
	for _, c := range []struct {
		rto  string
		want RTO
	}{
		{"fast", RTO{Plan: "fast", TTL: 20, LoopWait: 5, RetryTimeout: 5, PrimaryStartTimeout: 15, SafetyMargin: 5, Inter: "1s", FastInter: "0.5s", DownInter: "1s", Rise: 3, Fall: 3}},
		{"norm", RTO{Plan: "norm", TTL: 30, LoopWait: 5, RetryTimeout: 10, PrimaryStartTimeout: 25, SafetyMargin: 5, Inter: "2s", FastInter: "1s", DownInter: "2s", Rise: 3, Fall: 3}},
		{"wide", RTO{Plan: "wide", TTL: 120, LoopWait: 20, RetryTimeout: 30, PrimaryStartTimeout: 95, SafetyMargin: 15, Inter: "4s", FastInter: "2s", DownInter: "4s", Rise: 3, Fall: 3}},
		{"30", RTO{Seconds: 30, TTL: 30, LoopWait: 10, RetryTimeout: 10, PrimaryStartTimeout: 10, SafetyMargin: 5, Inter: "2s", FastInter: "1s", DownInter: "2s", Rise: 3, Fall: 3}},
		{"31", RTO{Seconds: 31, TTL: 31, LoopWait: 11, RetryTimeout: 11, PrimaryStartTimeout: 11, SafetyMargin: 5, Inter: "2s", FastInter: "1s", DownInter: "2s", Rise: 3, Fall: 3}},
		{"3600", RTO{Seconds: 3600, TTL: 3600, LoopWait: 1200, RetryTimeout: 1200, PrimaryStartTimeout: 1200, SafetyMargin: 5, Inter: "2s", FastInter: "1s", DownInter: "2s", Rise: 3, Fall: 3}},
	} {
		inv := strings.Replace(tnBase, "admin_ip: 10.10.10.10 }", "admin_ip: 10.10.10.10, pg_rto: "+c.rto+" }", 1)
		got, err := tnFleet(t, inv).Cluster("pg-test").Primary.RTO()
		if err != nil {
			t.Errorf("pg_rto %s: %v", c.rto, err)
			continue
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("pg_rto %s (-want +got):\n%s", c.rto, d)
		}
	}
}

func TestDelayIsZero(t *testing.T) {
	for v, want := range map[any]bool{int64(0): true, "0": true, "0ms": true, "00s": true, "": true,
		int64(5): false, "1h": false, "10ms": false, "100": false} {
		if got := DelayIsZero(v); got != want {
			t.Errorf("DelayIsZero(%#v) = %v, want %v", v, got, want)
		}
	}
}

// TestTuningRule: tuning.md warnings and input errors at the variable
// responsible (stage 4), in the inventory format.
func TestTuningRule(t *testing.T) {
	inv := `all:
  vars: { admin_ip: 10.10.10.10, pg_version: 16 }
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    pg-test:
      vars:
        pg_cluster: pg-test
        node_cpu: 2
        node_mem_mb: 4096
        node_disk_gb: 40
        pg_shared_buffer_ratio: 0.5
        pg_io_method: io_uring
        pg_libs: 'pg_stat_statements, citus, pg_stat_monitor'
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary, pg_max_conn: 6000 }
        10.10.10.12: { pg_seq: 2, pg_role: replica }
`
	res := tnCompile(t, inv)
	got := tnLines(res.Diags, "shared-buffer-ratio", "shmem-budget", "ext-shmem", "io-method-ignored", "libs-order", "max-conn-high", "tuning")
	want := []string{
		`inv.yml:11:33: all.children.pg-test.vars.pg_shared_buffer_ratio: warning: pg_shared_buffer_ratio 0.5 is above the documented range 0.1..0.4 [shared-buffer-ratio]`,
		`inv.yml:11:33: all.children.pg-test.vars.pg_shared_buffer_ratio: warning: shared memory shared_buffers 2048MB + wal_buffers 16MB + extensions 276MB = 2340MB exceeds half of node memory (2048MB) [shmem-budget]`,
		`inv.yml:12:23: all.children.pg-test.vars.pg_io_method: warning: pg_io_method io_uring is ignored: io_method exists from PostgreSQL 18 (pg_version 16) [io-method-ignored]`,
		`inv.yml:13:18: all.children.pg-test.vars.pg_libs: warning: citus should be the first entry of pg_libs (it is entry 2 of "pg_stat_statements, citus, pg_stat_monitor") [libs-order]`,
		`inv.yml:13:18: all.children.pg-test.vars.pg_libs: warning: pg_stat_monitor shared memory 276MB exceeds 5% of node memory (204.8MB); set pg_stat_monitor_lowmem with the low-memory build or lower pg_stat_monitor.pgsm_max [ext-shmem]`,
		`inv.yml:15:66: all.children.pg-test.hosts.10.10.10.11.pg_max_conn: warning: pg_max_conn 6000 is above 5000; every connection is a process and reserves lock and memory slots [max-conn-high]`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tuning diagnostics (-want +got):\n%s", d)
	}

	// An input error that CUE cannot see: a newline in pg_parameters'
	// cron.database_name would escape its postgresql.conf line.
	bad := strings.Replace(tnBase, "node_disk_gb: 500 }", "node_disk_gb: 500, pg_parameters: { cron.database_name: \"a\\nb\" } }", 1)
	got = tnLines(tnCompile(t, bad).Diags, "tuning")
	want = []string{`inv.yml:6:125: all.children.pg-test.vars.pg_parameters.cron.database_name: must not contain a newline or NUL byte`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("input errors (-want +got):\n%s", d)
	}
}

// TestPatroniRule: patroni.md's warnings (rto-constraint, crit-single-node,
// checksum-forced, delay-ignored).
func TestPatroniRule(t *testing.T) {
	inv := `all:
  vars: { admin_ip: 10.10.10.10, pg_rto: 31 }
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    pg-crit:
      vars: { pg_cluster: pg-crit, pg_conf: crit, pg_checksum: false, node_cpu: 4, node_mem_mb: 8192, node_disk_gb: 100 }
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
    pg-standby:
      vars: { pg_cluster: pg-standby, node_cpu: 4, node_mem_mb: 8192, node_disk_gb: 100 }
      hosts:
        10.10.10.21: { pg_seq: 1, pg_role: primary, pg_upstream: 10.10.10.11, pg_delay: 1h }
        10.10.10.22: { pg_seq: 2, pg_role: replica, pg_delay: 5min }
`
	got := tnLines(tnCompile(t, inv).Diags, "rto-constraint", "crit-single-node", "checksum-forced", "delay-ignored")
	want := []string{
		`inv.yml:2:42: all.vars.pg_rto: warning: pg_rto 31 gives ttl 31 < loop_wait 11 + 2 * retry_timeout 11; Patroni needs ttl >= loop_wait + 2 * retry_timeout [rto-constraint]`,
		`inv.yml:6:45: all.children.pg-crit.vars.pg_conf: warning: cluster pg-crit uses the crit template with one member: synchronous_mode_strict blocks every write while no synchronous standby exists [crit-single-node]`,
		`inv.yml:6:64: all.children.pg-crit.vars.pg_checksum: warning: pg_checksum is false but the crit template always initialises pg-crit-1 with data-checksums [checksum-forced]`,
		`inv.yml:13:63: all.children.pg-standby.hosts.10.10.10.22.pg_delay: warning: pg_delay 5min is ignored on pg-standby-2: only the primary of a standby cluster (with pg_upstream) applies a delay [delay-ignored]`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("patroni diagnostics (-want +got):\n%s", d)
	}
	// A custom plan that violates the constraint points at pg_rto_plan.
	custom := strings.Replace(inv, "pg_rto: 31 }", "pg_rto: quick, pg_rto_plan: { quick: [10, 5, 5, 5, 2, 1s, 1s, 1s, 2, 2] } }", 1)
	got = tnLines(tnCompile(t, custom).Diags, "rto-constraint")
	want = []string{`inv.yml:2:62: all.vars.pg_rto_plan: warning: pg_rto plan quick gives ttl 10 < loop_wait 5 + 2 * retry_timeout 5; Patroni needs ttl >= loop_wait + 2 * retry_timeout [rto-constraint]`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("custom plan (-want +got):\n%s", d)
	}
}

// TestParamLints: param-mismatch names both values and the host fact or
// variable that makes them differ; param-ignored flags Patroni-managed
// pg_parameters (tuning.md §8).
func TestParamLints(t *testing.T) {
	inv := `all:
  vars: { admin_ip: 10.10.10.10 }
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    pg-test:
      vars: { pg_cluster: pg-test, node_cpu: 8, node_mem_mb: 8192, node_disk_gb: 100, pg_parameters: { Max_Connections: 800, work_mem: 8MB } }
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
        10.10.10.12: { pg_seq: 2, pg_role: replica, node_cpu: 16 }
        10.10.10.13: { pg_seq: 3, pg_role: replica, pg_libs: 'citus, pg_stat_statements' }
`
	f := tnFleet(t, inv)
	got := tnLines(Lint(f), "param-mismatch", "param-ignored")
	want := []string{
		`inv.yml:6:104: all.children.pg-test.vars.pg_parameters.Max_Connections: warning: Max_Connections in pg_parameters has no effect: Patroni passes it on the postgres command line, which beats postgresql.auto.conf; change it in the DCS (patronictl edit-config) instead [param-ignored]`,
		`inv.yml:9:63: all.children.pg-test.hosts.10.10.10.12.node_cpu: warning: max_worker_processes is 32 on pg-test-2 but 24 on pg-test-1; it must be equal on every member: Patroni keeps the leader's value in the DCS and a replica with a lower value than its primary refuses to start (node_cpu 16 from host at inv.yml:9:63 on pg-test-2, 8 from group pg-test at inv.yml:6:46 on pg-test-1) [param-mismatch]`,
		`inv.yml:10:62: all.children.pg-test.hosts.10.10.10.13.pg_libs: warning: max_locks_per_transaction is 1000 on pg-test-3 but 500 on pg-test-1; it must be equal on every member: Patroni keeps the leader's value in the DCS and a replica with a lower value than its primary refuses to start (pg_libs "citus, pg_stat_statements" from host at inv.yml:10:62 on pg-test-3, "pg_stat_statements, auto_explain" from default on pg-test-1) [param-mismatch]`,
		`inv.yml:10:62: all.children.pg-test.hosts.10.10.10.13.pg_libs: warning: max_prepared_transactions is 500 on pg-test-3 but 0 on pg-test-1; it must be equal on every member: Patroni keeps the leader's value in the DCS and a replica with a lower value than its primary refuses to start (pg_libs "citus, pg_stat_statements" from host at inv.yml:10:62 on pg-test-3, "pg_stat_statements, auto_explain" from default on pg-test-1) [param-mismatch]`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lints (-want +got):\n%s", d)
	}
	// Equal members: no param lints.
	if got := tnLines(Lint(tnFleet(t, tnBase)), "param-mismatch", "param-ignored"); len(got) > 0 {
		t.Errorf("uniform cluster: %q", got)
	}
}
