package compiler

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHBARuleErrors: hba.md §7 errors in the inventory format, at the offending key.
func TestHBARuleErrors(t *testing.T) {
	yml := `all:
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    pg-test:
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
      vars:
        pg_cluster: pg-test
        pg_version: 15
        pg_hba_rules:
          - { user: all, db: all, addr: 10.10.10.0/33, auth: pwd, title: a }
          - { user: all, db: all, addr: intra, auth: ldap, title: b }
          - { user: 'a b', db: 'x,y', addr: localhost, auth: cert, title: c }
          - { user: '${foo}', db: 'replication', auth: peer, title: d }
          - { user: '/^x', db: '/^y', addr: world, auth: peer, title: e }
          - { user: all, db: all, addr: '2001:DB8::/32', auth: trust, title: f }
          - { user: all, db: all, addr: myhost.example.com, title: g }
          - { rules: [ '   ' ], title: h }
          - { user: all, db: all, addr: local, order: 'x', title: i }
          - { user: all, db: all, addr: local, role: master, title: j }
          - { rules: [ "host all all 1.2.3.4/32 md5\nhost all all 0.0.0.0/0 trust" ], title: k }
          - { user: ',', addr: local, title: l }
          - { user: all, db: 'a.b', addr: samenet, title: m }
        pgb_hba_rules:
          - { user: all, db: replication, addr: intra, title: p0 }
          - { user: '+dbrole_readonly', db: samerole, addr: intra, auth: ident, title: p1 }
          - { user: all, addr: localhost, auth: peer, title: p2 }
  vars:
    admin_ip: 10.10.10.10
`
	res := Compile(Options{Names: []string{"pigsty.yml"}, Datas: [][]byte{[]byte(yml)}, Vars: []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}})
	var got []string
	for _, d := range res.Diags.Errors() {
		got = append(got, d.String())
	}
	want := []string{
		`pigsty.yml:11:41: all.children.pg-test.vars.pg_hba_rules[0].addr: "10.10.10.0/33" is not a valid address; want local, localhost, admin, infra, cluster, intra, intranet, world, all or an IPv4/IPv6 address or CIDR`,
		`pigsty.yml:12:54: all.children.pg-test.vars.pg_hba_rules[1].auth: "ldap" is not allowed; want pwd, ssl, ssl-sha, ssl-md5, cert, sha, scram-sha-256, md5, deny, reject, trust, ident, os or peer (use rules for other methods)`,
		`pigsty.yml:13:21: all.children.pg-test.vars.pg_hba_rules[2].user: "a b" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`,
		`pigsty.yml:13:62: all.children.pg-test.vars.pg_hba_rules[2].auth: cert is not allowed with addr localhost; a client certificate needs a TCP connection (hostssl)`,
		`pigsty.yml:14:13: all.children.pg-test.vars.pg_hba_rules[3]: missing required field "addr"`,
		`pigsty.yml:14:21: all.children.pg-test.vars.pg_hba_rules[3].user: "${foo}" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`,
		`pigsty.yml:15:21: all.children.pg-test.vars.pg_hba_rules[4].user: regular expression "/^x" needs PostgreSQL 16 or later (pg_version is 15)`,
		`pigsty.yml:15:32: all.children.pg-test.vars.pg_hba_rules[4].db: regular expression "/^y" needs PostgreSQL 16 or later (pg_version is 15)`,
		`pigsty.yml:15:58: all.children.pg-test.vars.pg_hba_rules[4].auth: peer is not allowed with addr world; peer authentication works only on local (unix socket) connections`,
		`pigsty.yml:17:41: all.children.pg-test.vars.pg_hba_rules[6].addr: "myhost.example.com" is not a valid address; want local, localhost, admin, infra, cluster, intra, intranet, world, all or an IPv4/IPv6 address or CIDR`,
		`pigsty.yml:18:22: all.children.pg-test.vars.pg_hba_rules[7].rules[0]: "   " is not a rule line; want one non-blank line`,
		`pigsty.yml:19:55: all.children.pg-test.vars.pg_hba_rules[8].order: "x" is a string; want an integer`,
		`pigsty.yml:20:54: all.children.pg-test.vars.pg_hba_rules[9].role: "master" is not allowed; want default, common, primary, replica, offline, standby or delayed`,
		`pigsty.yml:21:24: all.children.pg-test.vars.pg_hba_rules[10].rules[0]: "host all all 1.2.3.4/32 md5\nhost all all 0.0.0.0/0 trust" must match ^[^\r\n]+$`,
		`pigsty.yml:22:21: all.children.pg-test.vars.pg_hba_rules[11].user: "" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`,
		`pigsty.yml:23:30: all.children.pg-test.vars.pg_hba_rules[12].db: "a.b" is not a valid database; want all, sameuser, samerole, samegroup, replication, a database name or /regex`,
		`pigsty.yml:23:43: all.children.pg-test.vars.pg_hba_rules[12].addr: "samenet" is not a valid address; want local, localhost, admin, infra, cluster, intra, intranet, world, all or an IPv4/IPv6 address or CIDR`,
		`pigsty.yml:25:30: all.children.pg-test.vars.pgb_hba_rules[0].db: replication is not allowed in pgbouncer rules`,
		`pigsty.yml:26:21: all.children.pg-test.vars.pgb_hba_rules[1].user: group membership "+dbrole_readonly" is not allowed in pgbouncer rules (pgbouncer has no +role items)`,
		`pigsty.yml:26:45: all.children.pg-test.vars.pgb_hba_rules[1].db: samerole is not allowed in pgbouncer rules`,
		`pigsty.yml:26:74: all.children.pg-test.vars.pgb_hba_rules[1].auth: ident is not allowed with addr intra in pgbouncer rules; peer authentication works only on local (unix socket) connections`,
		`pigsty.yml:27:49: all.children.pg-test.vars.pgb_hba_rules[2].auth: peer is not allowed with addr localhost in pgbouncer rules; peer authentication works only on local (unix socket) connections`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}

// TestHBARuleValid: valid inputs (IPv6, aliases per item, raw lines) pass, and
// pgb rules are not checked when no member writes a pgb_hba.conf.
func TestHBARuleValid(t *testing.T) {
	yml := `all:
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    pg-test:
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
      vars:
        pg_cluster: pg-test
        pg_version: 16
        pgbouncer_enabled: false
        pg_hba_rules:
          - { user: '${admin},${monitor},+dbrole_readonly,/^app_', db: 'meta,/^x,sameuser', addr: '2001:db8::/32', auth: ssl-md5 }
          - { user: '', db: '', addr: 10.1.1.1, auth: '', role: '' }
          - { rules: [ 'host all all samenet md5', 'local all all peer map=x' ] }
          - { addr: local, auth: peer }
        pgb_hba_rules:
          - { user: all, db: replication, addr: intra, title: not checked without pgbouncer }
  vars:
    admin_ip: 10.10.10.10
`
	res := Compile(Options{Names: []string{"pigsty.yml"}, Datas: [][]byte{[]byte(yml)}, Vars: []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("unexpected errors:\n%s", errs.Error())
	}
	cl := res.Fleet.Cluster("pg-test")
	if n := len(HBARulesOf(res.Fleet, cl, cl.Members[0], false)); n != 16 {
		t.Errorf("pg rules: %d, want 12 defaults + 4", n)
	}
	if got := cl.HBARules[12].Label(); !strings.HasPrefix(got, "all.children.pg-test.vars.pg_hba_rules[0]") {
		t.Errorf("label of an untitled rule: %q", got)
	}
}
