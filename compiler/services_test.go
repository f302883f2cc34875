package compiler

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// svcInventory is a 3-node cluster like reference/pg-test.yml: .11 primary,
// .12 replica (pg_weight 50), .13 offline; extra is appended to the cluster vars.
func svcInventory(hosts, extra string) string {
	if hosts == "" {
		hosts = `        10.10.10.11: { pg_seq: 1, pg_role: primary }
        10.10.10.12: { pg_seq: 2, pg_role: replica, pg_weight: 50 }
        10.10.10.13: { pg_seq: 3, pg_role: offline }
`
	}
	return `all:
  children:
    infra: { hosts: { 10.10.10.10: { infra_seq: 1 } } }
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    proxy: { hosts: { 10.10.10.20: {} } }
    pg-test:
      hosts:
` + hosts + `      vars:
        pg_cluster: pg-test
` + extra + `
  vars:
    admin_ip: 10.10.10.10
    node_cpu: 8
    node_mem_mb: 32768
    node_disk_gb: 500
`
}

func compileSvc(t *testing.T, inv string, vars ...string) *Result {
	t.Helper()
	return Compile(Options{Names: []string{"pigsty.yml"}, Datas: [][]byte{[]byte(inv)}, Vars: vars})
}

// serverList renders a selection as "name[:backup]" items for literal comparison.
func serverList(t *testing.T, cl *Cluster, name string) []string {
	t.Helper()
	sel := NewSelector(cl)
	for _, s := range cl.Services {
		if s.Name != name {
			continue
		}
		res, err := sel.Select(s)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		var out []string
		for _, srv := range res.Servers {
			item := srv.Member.Name
			if srv.Backup {
				item += ":backup"
			}
			out = append(out, item)
		}
		return out
	}
	t.Fatalf("no service %s", name)
	return nil
}

func TestSelectorsDefaultServices(t *testing.T) {
	res := compileSvc(t, svcInventory("", `        pg_services:
          - { name: olap ,port: 5439 ,selector: '[? pg_role == `+"`offline`"+` ]' ,backup: '[? pg_role == `+"`replica`"+` ]' ,dest: postgres }
`))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := res.Fleet.Cluster("pg-test")
	for _, tc := range []struct {
		svc  string
		want []string
	}{
		{"primary", []string{"pg-test-1", "pg-test-2", "pg-test-3"}},
		// backup-only hosts keep their place when also selected; the replica is the only non-backup.
		{"replica", []string{"pg-test-1:backup", "pg-test-2", "pg-test-3:backup"}},
		{"default", []string{"pg-test-1", "pg-test-2", "pg-test-3"}},
		// pg_offline_query is unset everywhere: null is falsy, !null is truthy.
		{"offline", []string{"pg-test-3", "pg-test-2:backup"}},
		{"olap", []string{"pg-test-3", "pg-test-2:backup"}},
	} {
		if diff := cmp.Diff(tc.want, serverList(t, cl, tc.svc)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.svc, diff)
		}
	}
}

func TestSelectorsOfflineQuery(t *testing.T) {
	// A replica with pg_offline_query joins the offline service; the one without stays its backup.
	hosts := `        10.10.10.11: { pg_seq: 1, pg_role: primary }
        10.10.10.12: { pg_seq: 2, pg_role: replica, pg_offline_query: true }
        10.10.10.13: { pg_seq: 3, pg_role: replica }
`
	res := compileSvc(t, svcInventory(hosts, ""))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := res.Fleet.Cluster("pg-test")
	if diff := cmp.Diff([]string{"pg-test-2", "pg-test-3:backup"}, serverList(t, cl, "offline")); diff != "" {
		t.Errorf("offline (-want +got):\n%s", diff)
	}
	// pg_offline_query: false written explicitly behaves like unset.
	hosts = strings.Replace(hosts, "pg_role: replica }", "pg_role: replica, pg_offline_query: false }", 1)
	res = compileSvc(t, svcInventory(hosts, ""))
	cl = res.Fleet.Cluster("pg-test")
	if diff := cmp.Diff([]string{"pg-test-2", "pg-test-3:backup"}, serverList(t, cl, "offline")); diff != "" {
		t.Errorf("offline with explicit false (-want +got):\n%s", diff)
	}
}

func TestSelectorsNullAndNumbers(t *testing.T) {
	hosts := `        10.10.10.11: { pg_seq: 1, pg_role: primary, tier: gold }
        10.10.10.12: { pg_seq: 2, pg_role: replica }
        10.10.10.13: { pg_seq: 3, pg_role: replica, tier: silver }
`
	extra := `        pg_services:
          # an unset variable is null: pg_weight is never written, so none has it
          - { name: weighted ,port: 5501 ,selector: '[? pg_weight ]' }
          - { name: untiered ,port: 5502 ,selector: '[? tier == null ]' }
          # YAML integers compare as JSON numbers
          - { name: seq2 ,port: 5503 ,selector: '[? pg_seq == ` + "`2`" + ` ]' }
          - { name: seqge ,port: 5504 ,selector: '[? pg_seq >= ` + "`2`" + ` ]' }
          # derived keys are always present
          - { name: named ,port: 5505 ,selector: "[? pg_instance == 'pg-test-3' ]" ,backup: "[? inventory_hostname == '10.10.10.11' ]" }
          # order follows the result: reversed
          - { name: rev ,port: 5506 ,selector: 'reverse(@)' }
          # backup null → no backups; a member listed twice is one server
          - { name: twice ,port: 5507 ,selector: '[[0], [0]][]' ,backup: 'nothing' }
`
	res := compileSvc(t, svcInventory(hosts, extra))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := res.Fleet.Cluster("pg-test")
	for _, tc := range []struct {
		svc  string
		want []string
	}{
		{"weighted", nil},
		{"untiered", []string{"pg-test-2"}},
		{"seq2", []string{"pg-test-2"}},
		{"seqge", []string{"pg-test-2", "pg-test-3"}},
		{"named", []string{"pg-test-3", "pg-test-1:backup"}},
		{"rev", []string{"pg-test-3", "pg-test-2", "pg-test-1"}},
		{"twice", []string{"pg-test-1"}},
	} {
		if diff := cmp.Diff(tc.want, serverList(t, cl, tc.svc)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.svc, diff)
		}
	}
	var empty []string
	for _, w := range Lint(res.Fleet) {
		if w.Code == "service-empty" {
			empty = append(empty, w.String())
		}
	}
	want := []string{`pigsty.yml:15:53: all.children.pg-test.vars.pg_services[0].selector: warning: service pg-test-weighted selects no member; it is written without servers [service-empty]`}
	if diff := cmp.Diff(want, empty); diff != "" {
		t.Errorf("service-empty warnings (-want +got):\n%s", diff)
	}
}

func TestServiceErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		vars  []string
		want  []string
	}{
		{
			name:  "syntax",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[? pg_role == ' }\n",
			want:  []string{`pigsty.yml:14:48: all.children.pg-test.vars.pg_services[0].selector: not a valid JMESPath expression: Incomplete expression at offset 14`},
		},
		{
			name:  "backup syntax",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[]' ,backup: '[?' }\n",
			want:  []string{`pigsty.yml:14:62: all.children.pg-test.vars.pg_services[0].backup: not a valid JMESPath expression: Incomplete expression at offset 2`},
		},
		{
			name:  "not members",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[].pg_seq' }\n",
			want:  []string{`pigsty.yml:14:48: all.children.pg-test.vars.pg_services[0].selector: selector must return cluster members`},
		},
		{
			name:  "new objects",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[].{pg_seq: pg_seq}' }\n",
			want:  []string{`pigsty.yml:14:48: all.children.pg-test.vars.pg_services[0].selector: selector must return cluster members`},
		},
		{
			name:  "single member",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[0]' }\n",
			want:  []string{`pigsty.yml:14:48: all.children.pg-test.vars.pg_services[0].selector: selector must return cluster members`},
		},
		{
			name:  "null selector",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: 'nothing' }\n",
			want:  []string{`pigsty.yml:14:48: all.children.pg-test.vars.pg_services[0].selector: selector must return cluster members`},
		},
		{
			name:  "unknown dest",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[]' ,dest: pgpool }\n",
			want:  []string{`pigsty.yml:14:60: all.children.pg-test.vars.pg_services[0].dest: "pgpool" is not allowed; want default, postgres, pgbouncer or a port number`},
		},
		{
			name:  "dest out of range",
			extra: "        pg_services:\n          - { name: bad ,port: 5501 ,selector: '[]' ,dest: '99999' }\n",
			want:  []string{`pigsty.yml:14:60: all.children.pg-test.vars.pg_services[0].dest: 99999 is out of range; want 1..65535`},
		},
		{
			name:  "default dest out of range",
			extra: "        pg_default_service_dest: '0'\n",
			want:  []string{`pigsty.yml:13:34: all.children.pg-test.vars.pg_default_service_dest: 0 is out of range; want postgres, pgbouncer or a port number`},
		},
		{
			name:  "vip loopback",
			extra: "        pg_vip_enabled: true\n",
			want:  []string{`pigsty.yml:13:25: all.children.pg-test.vars.pg_vip_enabled: pg_vip_address 127.0.0.1/24 is a loopback address; an enabled vip needs an address of the cluster's network`},
		},
		{
			name:  "vip mask",
			extra: "        pg_vip_enabled: true\n        pg_vip_address: 10.10.10.3/0\n",
			want:  []string{`pigsty.yml:14:25: all.children.pg-test.vars.pg_vip_address: vip netmask 0 is out of range; want 1..32`},
		},
		{
			name:  "pgbouncer user key",
			extra: "        pg_users:\n          - { name: 'app@corp' ,pool_mode: session }\n          - { name: 'ok@corp' ,pgbouncer: true }\n",
			want:  []string{`pigsty.yml:14:21: all.children.pg-test.vars.pg_users[0].name: user "app@corp" has pool_mode or pool_connlimit, but pgbouncer cannot read this name as a [users] key; want [A-Za-z0-9_.*-]+`},
		},
		{
			name:  "unknown provider",
			extra: "        pg_service_provider: proxies\n",
			want:  []string{`pigsty.yml:13:30: all.children.pg-test.vars.pg_service_provider: pg_service_provider "proxies" is not a group of the inventory`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := compileSvc(t, svcInventory("", tc.extra), tc.vars...)
			var got []string
			for _, d := range res.Diags.Errors() {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\ngot:\n%s", diff, strings.Join(got, "\n"))
			}
		})
	}
}

// Two clusters delegated to one provider group may not share a port.
func TestProviderPortClash(t *testing.T) {
	inv := `all:
  children:
    infra: { hosts: { 10.10.10.10: { infra_seq: 1 } } }
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    proxy: { hosts: { 10.10.10.20: {} } }
    pg-a:
      hosts: { 10.10.10.11: { pg_seq: 1, pg_role: primary } }
      vars:
        pg_cluster: pg-a
        pg_service_provider: proxy
        pg_default_services:
          - { name: primary ,port: 5433 ,selector: '[]' }
    pg-b:
      hosts: { 10.10.10.12: { pg_seq: 1, pg_role: primary } }
      vars:
        pg_cluster: pg-b
        pg_service_provider: proxy
        pg_default_services:
          - { name: primary ,port: 5433 ,selector: '[]' }
          - { name: replica ,port: 5434 ,selector: '[]' }
  vars: { admin_ip: 10.10.10.10, node_cpu: 2, node_mem_mb: 4096, node_disk_gb: 40 }
`
	res := compileSvc(t, inv)
	var got []string
	for _, d := range res.Diags.Errors() {
		got = append(got, d.String())
	}
	want := []string{`pigsty.yml:19:36: all.children.pg-b.vars.pg_default_services[0].port: port 5433 on provider group proxy is already used by pg-a-primary`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s\ngot:\n%s", diff, strings.Join(got, "\n"))
	}
}

func TestResolveDest(t *testing.T) {
	res := compileSvc(t, svcInventory(`        10.10.10.11: { pg_seq: 1, pg_role: primary, pgbouncer_port: 6543, pg_port: 5532 }
        10.10.10.12: { pg_seq: 2, pg_role: replica, pg_default_service_dest: postgres }
        10.10.10.13: { pg_seq: 3, pg_role: replica, pg_default_service_dest: 7000 }
`, ""))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := res.Fleet.Cluster("pg-test")
	m1, m2, m3 := cl.Members[0], cl.Members[1], cl.Members[2]
	for _, tc := range []struct {
		dest       string
		view, memb *Instance
		port       int
		pgb        bool
	}{
		{"", m1, m1, 6543, true},
		{"default", m1, m2, 6432, true},
		{"default", m2, m1, 5532, false},
		{"default", m3, m1, 7000, false},
		{"postgres", m3, m1, 5532, false},
		{"pgbouncer", m2, m1, 6543, true},
		{"6543", m1, m2, 6543, false}, // a numeric string is a port (Pigsty: 5432)
		{"1433", m1, m2, 1433, false},
	} {
		port, pgb, err := ResolveDest(tc.dest, tc.view, tc.memb)
		if err != nil || port != tc.port || pgb != tc.pgb {
			t.Errorf("ResolveDest(%q, %s, %s) = %d, %v, %v; want %d, %v", tc.dest, tc.view.Name, tc.memb.Name, port, pgb, err, tc.port, tc.pgb)
		}
	}
	if _, _, err := ResolveDest("bogus", m1, m1); err == nil || err.Error() != `"bogus" is not allowed; want default, postgres, pgbouncer or a port number` {
		t.Errorf("bogus dest: %v", err)
	}
}

func TestPgbouncerUsers(t *testing.T) {
	extra := `        pgbouncer_auth_query: AQ
        pg_users:
          - { name: app ,password: a ,pgbouncer: true }
          - { name: dbuser_monitor ,password: override ,pgbouncer: true }
          - { name: etl ,password: e }
          - { name: gone ,password: g ,pgbouncer: true ,state: absent }
          - { name: nopw ,pgbouncer: true }
`
	for _, tc := range []struct {
		aq   string
		want []string
	}{
		{"false", []string{"postgres=", "dbuser_monitor=override", "dbuser_dba=DBUser.DBA", "app=a", "nopw="}},
		{"true", []string{"postgres=", "dbuser_monitor=override", "dbuser_dba=DBUser.DBA"}},
	} {
		res := compileSvc(t, svcInventory("", strings.Replace(extra, "AQ", tc.aq, 1)))
		if errs := res.Diags.Errors(); len(errs) > 0 {
			t.Fatal(errs)
		}
		var got []string
		for _, u := range PgbouncerUsers(res.Fleet.Cluster("pg-test")) {
			got = append(got, u.Name+"="+u.Password)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("auth_query %s (-want +got):\n%s", tc.aq, diff)
		}
		var warns []string
		for _, w := range Lint(res.Fleet) {
			if w.Code == "pgbouncer-no-password" {
				warns = append(warns, w.String())
			}
		}
		if tc.aq == "false" {
			want := []string{`pigsty.yml:19:21: all.children.pg-test.vars.pg_users[4].name: warning: user "nopw" is listed in pgbouncer's userlist.txt without a password; it cannot log in through pgbouncer [pgbouncer-no-password]`}
			if diff := cmp.Diff(want, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		}
	}
}

// Python jmespath (Ansible's json_query) reads a literal that is not JSON as
// a string (JEP-12); go-jmespath refuses it, so pgcc rewrites such literals.
func TestLegacyLiterals(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"[? pg_role == `primary` ]", "[? pg_role == `\"primary\"` ]"},
		{"[? pg_role == `primary` || pg_role == `offline` ]", "[? pg_role == `\"primary\"` || pg_role == `\"offline\"` ]"},
		{"[? pg_seq == `2` ]", "[? pg_seq == `2` ]"},
		{"[? a == `true` ]", "[? a == `true` ]"},
		{"[? a == `\"quoted\"` ]", "[? a == `\"quoted\"` ]"},
		{"[? a == ` spaced` ]", "[? a == `\"spaced\"` ]"},
		{"[? a == `x\\`y` ]", "[? a == `\"x\\`y\"` ]"},
		{"[? a == 'raw `not` literal' ]", "[? a == 'raw `not` literal' ]"},
		{"[? \"odd`key\" == `v` ]", "[? \"odd`key\" == `\"v\"` ]"},
		{"[? a == `unclosed ]", "[? a == `unclosed ]"},
		{"[]", "[]"},
	} {
		if got := legacyLiterals(tc.in); got != tc.want {
			t.Errorf("legacyLiterals(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestServiceAndPoolingLints(t *testing.T) {
	hosts := `        10.10.10.11: { pg_seq: 1, pg_role: primary }
        10.10.10.12: { pg_seq: 2, pg_role: replica, pgbouncer_enabled: false }
`
	extra := `        pg_services:
          - { name: odd ,port: 5501 ,selector: '[]' ,check: /healthz ,dest: postgres }
          - { name: lagged ,port: 5502 ,selector: '[]' ,check: '/replica?lag=10MB' ,dest: postgres }
        pg_databases:
          - { name: app ,pool_auth_user: dbuser_monitor }
`
	res := compileSvc(t, svcInventory(hosts, extra))
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, w := range Lint(res.Fleet) {
		if w.Code != "default-password" {
			got = append(got, w.String())
		}
	}
	want := []string{
		// the default primary and replica services route to pgbouncer (pg_default_service_dest)
		`pigsty.yml:11:21: all.children.pg-test.vars.pg_cluster: warning: service pg-test-primary routes to pgbouncer on pg-test-2, which has pgbouncer_enabled false [dest-pgbouncer-disabled]`,
		`pigsty.yml:11:21: all.children.pg-test.vars.pg_cluster: warning: service pg-test-replica routes to pgbouncer on pg-test-2, which has pgbouncer_enabled false [dest-pgbouncer-disabled]`,
		`pigsty.yml:13:61: all.children.pg-test.vars.pg_services[0].check: warning: check "/healthz" is not a Patroni health endpoint [service-check-unknown]`,
		`pigsty.yml:16:42: all.children.pg-test.vars.pg_databases[0].pool_auth_user: warning: pool_auth_user "dbuser_monitor" of database "app" has no effect without pgbouncer_auth_query [pool-auth-user-without-auth-query]`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lints (-want +got):\n%s\ngot:\n%s", diff, strings.Join(got, "\n"))
	}
}
