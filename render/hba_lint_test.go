package render

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgcc-dev/pgcc/compiler"
)

// hbaLintInventory is a 3-member cluster with no default rules, so each case sees
// only its own rules. pg-s-3 is an offline instance.
func hbaLintInventory(rules, vars string) string {
	return `all:
  children:
    infra: { hosts: { 10.10.10.10: { infra_seq: 1 } } }
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    pg-s:
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
        10.10.10.12: { pg_seq: 2, pg_role: replica }
        10.10.10.13: { pg_seq: 3, pg_role: offline }
      vars:
        pg_cluster: pg-s
        pg_version: 17
        pg_users: [ { name: dbuser_x, roles: [ dbrole_readonly ] }, { name: dbuser_gone, state: absent } ]
        pg_default_hba_rules: []
        pgb_default_hba_rules: []
` + vars + `        pg_hba_rules:
` + rules + `  vars: { admin_ip: 10.10.10.10 }
`
}

var hbaPosPrefix = regexp.MustCompile(`^[^:]+:\d+:\d+: `)

// hbaLint returns the HBA warnings as "PATH: warning: MESSAGE [code]" (the file
// position stripped: it depends on the YAML layout of the case).
func hbaLint(t *testing.T, yml string) []string {
	t.Helper()
	f := hbaCompile(t, yml)
	var out []string
	for _, d := range LintHBA(f) {
		out = append(out, hbaPosPrefix.ReplaceAllString(d.String(), ""))
	}
	return out
}

const pgHBA = "all.children.pg-s.vars.pg_hba_rules"

// TestHBALintShadowing: hba-shadowed / hba-dead-reject / hba-reject-blocks, each
// case asserting the exact warnings or their absence (hba.md §8 "Covers").
func TestHBALintShadowing(t *testing.T) {
	all3 := "pg-s-1, pg-s-2, pg-s-3"
	for _, tc := range []struct {
		name  string
		rules string
		vars  string
		want  []string
	}{
		{"cidr containment", `
          - { title: A, addr: 10.0.0.0/8, order: 1 }
          - { title: B, addr: 10.10.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"wider network later is not shadowed", `
          - { title: A, addr: 10.10.0.0/16, order: 1 }
          - { title: B, addr: 10.0.0.0/8, order: 2 }
`, "", nil},
		{"host bits are masked like PostgreSQL does", `
          - { title: A, addr: 10.10.10.1/16, order: 1 }
          - { title: B, addr: 10.10.99.99, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"db all covers a named database", `
          - { title: A, db: all, addr: intra, order: 1 }
          - { title: B, db: meta, user: dbuser_x, addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"db all does not cover replication", `
          - { title: A, db: all, addr: intra, order: 1 }
          - { title: B, db: replication, addr: 10.1.0.0/16, order: 2 }
`, "", nil},
		{"replication covers replication", `
          - { title: A, db: replication, addr: intra, order: 1 }
          - { title: B, db: replication, user: dbuser_x, addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"a named database covers only itself", `
          - { title: A, db: meta, addr: intra, order: 1 }
          - { title: B, db: 'meta,other', addr: 10.1.0.0/16, order: 2 }
`, "", nil},
		{"user all covers a named user", `
          - { title: A, user: all, addr: intra, order: 1 }
          - { title: B, user: dbuser_x, addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"+group is unknown: it never covers a member", `
          - { title: A, user: '+dbrole_readonly', addr: intra, order: 1 }
          - { title: B, user: dbuser_x, addr: 10.1.0.0/16, order: 2 }
`, "", nil},
		{"+group is unknown: a user never covers a group", `
          - { title: A, user: dbuser_x, addr: intra, order: 1 }
          - { title: B, user: '+dbrole_readonly', addr: 10.1.0.0/16, order: 2 }
`, "", nil},
		{"the same +group covers itself", `
          - { title: A, user: '+dbrole_readonly', addr: intra, order: 1 }
          - { title: B, user: '+dbrole_readonly', addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"host covers hostssl", `
          - { title: A, user: '${admin}', addr: intra, order: 1 }
          - { title: B, user: '${admin}', addr: admin, auth: cert, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"hostssl does not cover host", `
          - { title: A, addr: intra, auth: ssl, order: 1 }
          - { title: B, addr: 10.1.0.0/16, auth: pwd, order: 2 }
`, "", nil},
		{"local does not cover host lines", `
          - { title: A, addr: local, auth: trust, order: 1 }
          - { title: B, addr: localhost, order: 2 }
`, "", nil},
		{"localhost covers local", `
          - { title: A, addr: localhost, order: 1 }
          - { title: B, user: dbuser_x, addr: local, auth: peer, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"host lines never cover local", `
          - { title: A, addr: world, order: 1 }
          - { title: B, addr: local, order: 2 }
`, "", []string{pgHBA + `[0]: warning: password authentication from anywhere without SSL [hba-world-password]`}},
		{"0.0.0.0/0 does not cover IPv6", `
          - { title: A, addr: 0.0.0.0/0, auth: ssl, order: 1 }
          - { title: B, addr: '2001:db8::/32', order: 2 }
`, "", nil},
		{"world covers IPv6", `
          - { title: A, addr: world, auth: ssl, order: 1 }
          - { title: B, addr: '2001:DB8::/32', auth: ssl, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"several covering rules are listed in order", `
          - { title: C, addr: 192.168.0.0/16, order: 2 }
          - { title: A, addr: 10.0.0.0/8, order: 1 }
          - { title: B, addr: intra, order: 3 }
`, "        node_firewall_intranet: [ 10.0.0.0/8, 192.168.0.0/16 ]\n",
			[]string{pgHBA + `[2]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1), "C" (order 2) [hba-shadowed]`}},
		{"partly covered is not shadowed", `
          - { title: A, addr: 10.0.0.0/8, order: 1 }
          - { title: B, addr: intra, order: 2 }
`, "", nil},
		{"a reject that accepted connections reach first", `
          - { title: A, addr: intra, order: 1 }
          - { title: B, user: dbuser_x, addr: 10.1.0.0/16, auth: deny, order: 2 }
`, "", []string{pgHBA + `[1]: warning: reject rule "B" never applies on ` + all3 + `: "A" (order 1) accepts those connections first [hba-dead-reject]`}},
		{"a rule behind a reject", `
          - { title: A, addr: world, auth: reject, order: 1 }
          - { title: B, user: dbuser_x, addr: intra, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" is unreachable on ` + all3 + `: reject rule "A" (order 1) matches first [hba-reject-blocks]`}},
		{"only where the covering rule is enabled", `
          - { title: A, role: replica, addr: intra, auth: md5, order: 1 }
          - { title: B, user: dbuser_x, addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on pg-s-2: covered by "A" (order 1) [hba-shadowed]`}},
		{"offline rules count on offline instances and pg_offline_query replicas", `
          - { title: A, role: offline, addr: intra, order: 1 }
          - { title: B, user: dbuser_x, addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on pg-s-3: covered by "A" (order 1) [hba-shadowed]`}},
		{"a disabled rule is not reported", `
          - { title: A, addr: intra, order: 1 }
          - { title: B, role: primary, addr: 10.1.0.0/16, order: 2 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on pg-s-1: covered by "A" (order 1) [hba-shadowed]`}},
		{"a rule without order names no order", `
          - { title: A, addr: intra }
          - { title: B, addr: 10.1.0.0/16 }
`, "", []string{pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (no order) [hba-shadowed]`}},
		{"raw lines are tokenised", `
          - { title: A, order: 1, rules: [ 'host all all 10.0.0.0/8 md5 # comment' ] }
          - { title: B, addr: 10.1.0.0/16, order: 2 }
          - { title: C, order: 3, rules: [ 'hostssl "all" dbuser_x 10.2.0.0 255.255.0.0 scram-sha-256' ] }
`, "", []string{
			pgHBA + `[1]: warning: rule "B" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`,
			pgHBA + `[2]: warning: rule "C" never matches on ` + all3 + `: covered by "A" (order 1) [hba-shadowed]`}},
		{"raw lines with hostnames take no part", `
          - { title: A, order: 1, rules: [ 'host all all .example.com md5' ] }
          - { title: B, order: 2, rules: [ 'host all all 10.0.0.0/8 md5', 'host all all samenet md5' ] }
          - { title: C, addr: 10.1.0.0/16, order: 3 }
`, "", []string{pgHBA + `[2]: warning: rule "C" never matches on ` + all3 + `: covered by "B" (order 2) [hba-shadowed]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hbaLint(t, hbaLintInventory(tc.rules, tc.vars))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}

// TestHBALintOthers: the other HBA lints, literally.
func TestHBALintOthers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules string
		want  []string
	}{
		{"trust from remote networks", `
          - { title: T, addr: cluster, auth: trust, user: '+dbrole_readonly', order: 1 }
          - { title: L, addr: localhost, auth: trust, user: dbuser_x, order: 2 }
          - { title: R, order: 3, rules: [ 'host all all 127.0.0.0/8 trust', 'host all all ::1/128 trust', 'hostssl all dbuser_x,+dbrole_readonly 0.0.0.0/0 trust' ] }
`, []string{
			pgHBA + `[0]: warning: trust from 10.10.10.11/32 lets anyone connect as +dbrole_readonly without a password [hba-trust-remote]`,
			pgHBA + `[0]: warning: trust from 10.10.10.12/32 lets anyone connect as +dbrole_readonly without a password [hba-trust-remote]`,
			pgHBA + `[0]: warning: trust from 10.10.10.13/32 lets anyone connect as +dbrole_readonly without a password [hba-trust-remote]`,
			pgHBA + `[2]: warning: trust from 0.0.0.0/0 lets anyone connect as dbuser_x,+dbrole_readonly without a password [hba-trust-remote]`}},
		{"passwords from anywhere", `
          - { title: P, user: dbuser_x, addr: world, auth: pwd, order: 1 }
          - { title: M, user: '${admin}', addr: world, auth: md5, order: 2 }
          - { title: SM, user: '${monitor}', addr: world, auth: ssl-md5, order: 3 }
          - { title: S, user: '${repl}', addr: world, auth: ssl, order: 4 }
          - { title: C, user: postgres, addr: world, auth: cert, order: 5 }
          - { title: N, user: '+dbrole_readonly', addr: intra, auth: md5, order: 6 }
`, []string{
			pgHBA + `[0]: warning: password authentication from anywhere without SSL [hba-world-password]`,
			pgHBA + `[1]: warning: weak md5 authentication from anywhere [hba-world-password]`,
			pgHBA + `[2]: warning: weak md5 authentication from anywhere [hba-world-password]`}},
		{"roles never enabled", `
          - { title: S, role: standby, addr: intra, order: 1 }
          - { title: D, role: delayed, addr: intra, order: 2 }
`, []string{
			pgHBA + `[0].role: warning: rule "S" is never enabled (pg_role is never standby/delayed) [hba-role-never]`,
			pgHBA + `[1].role: warning: rule "D" is never enabled (pg_role is never standby/delayed) [hba-role-never]`}},
		{"unknown roles", `
          - { title: U, user: 'nosuch,dbuser_x,+nogroup,+dbrole_readonly,${monitor},pg_monitor,postgres', addr: intra, order: 1 }
          - { title: G, user: dbuser_gone, addr: 10.9.0.0/16, order: 2 }
          - { title: R, order: 3, rules: [ 'host all rawuser 10.8.0.0/16 md5' ] }
          - { title: O, role: offline, user: offuser, addr: 10.7.0.0/16, order: 4 }
`, []string{
			pgHBA + `[0].user: warning: role "nogroup" is not defined [hba-unknown-role]`,
			pgHBA + `[0].user: warning: role "nosuch" is not defined [hba-unknown-role]`,
			pgHBA + `[1].user: warning: role "dbuser_gone" is not defined [hba-unknown-role]`,
			pgHBA + `[2].rules: warning: role "rawuser" is not defined [hba-unknown-role]`,
			pgHBA + `[3].user: warning: role "offuser" is not defined [hba-unknown-role]`}},
		{"raw rules with alias keys", `
          - { title: R, addr: intra, auth: md5, order: 1, rules: [ 'local all postgres peer' ] }
          - { title: S, user: x, order: 2, rules: [ 'local all dbuser_x peer' ] }
`, []string{
			pgHBA + `[0].rules: warning: rule "R" has rules and also addr, auth; the raw rules win and those are ignored [hba-rules-addr]`,
			pgHBA + `[1].rules: warning: rule "S" has rules and also user; the raw rules win and it is ignored [hba-rules-addr]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hbaLint(t, hbaLintInventory(tc.rules, ""))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}

// TestHBALintEmptyAlias: an alias that expands to nothing (no infra group).
func TestHBALintEmptyAlias(t *testing.T) {
	yml := strings.Replace(hbaLintInventory(`
          - { title: I, user: dbuser_x, addr: infra, order: 1 }
`, ""), "    infra: { hosts: { 10.10.10.10: { infra_seq: 1 } } }\n", "", 1)
	want := []string{pgHBA + `[0].addr: warning: addr infra expands to no address; rule "I" renders only its title [hba-empty-alias]`}
	if d := cmp.Diff(want, hbaLint(t, yml)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	f := hbaCompile(t, yml)
	if got := hbaFile(t, f, "pg-s", "pg-s-1", false); !strings.HasSuffix(got, "# user alias\n# dbsu    :  postgres\n# repl    :  replicator\n# monitor :  dbuser_monitor\n# admin   :  dbuser_dba\n\n# I [default]\n") ||
		!strings.Contains(got, "\n# infra     :\n") {
		t.Errorf("empty alias file:\n%s", got)
	}
}

// TestHBALintDefaults: Pigsty's default rules raise nothing (hba.md §8).
func TestHBALintDefaults(t *testing.T) {
	yml := strings.Replace(hbaLintInventory("          []\n", ""), "        pg_default_hba_rules: []\n        pgb_default_hba_rules: []\n", "", 1)
	yml = strings.Replace(yml, "        pg_hba_rules:\n          []\n", "", 1)
	if got := hbaLint(t, yml); len(got) != 0 {
		t.Errorf("defaults raise:\n%s", strings.Join(got, "\n"))
	}
}

// TestHBALintReference: the reference inventory, with positions: the admin cert rule
// is covered by default rule 450 (hba.md §8's example), the replica trust rule trusts
// the members, and the pgbouncer office rule is covered by default rule 400.
func TestHBALintReference(t *testing.T) {
	ref := filepath.Join(hbaSharedDir(t), "testdata", "reference", "pg-test.yml")
	f := hbaCompileFile(t, ref)
	var got []string
	for _, d := range LintHBA(f) {
		got = append(got, strings.TrimPrefix(d.String(), ref))
	}
	want := []string{
		`:45:13: all.children.pg-test.vars.pg_hba_rules[2]: warning: rule "admin node with a client certificate" never matches on pg-test-1, pg-test-2, pg-test-3: covered by "admin @ intranet nodes with pwd" (order 450) [hba-shadowed]`,
		`:47:13: all.children.pg-test.vars.pg_hba_rules[4]: warning: trust from 10.10.10.11/32 lets anyone connect as all without a password [hba-trust-remote]`,
		`:47:13: all.children.pg-test.vars.pg_hba_rules[4]: warning: trust from 10.10.10.12/32 lets anyone connect as all without a password [hba-trust-remote]`,
		`:47:13: all.children.pg-test.vars.pg_hba_rules[4]: warning: trust from 10.10.10.13/32 lets anyone connect as all without a password [hba-trust-remote]`,
		`:49:13: all.children.pg-test.vars.pgb_hba_rules[0]: warning: rule "read-only office users via pgbouncer" never matches on pg-test-1, pg-test-2, pg-test-3: covered by "allow all user intra access with pwd" (order 400) [hba-shadowed]`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestHBALintTrustLocalhost: hba.md §8's last example — a trust rule for all on
// localhost with order 1 shadows the default localhost rules on every member. It
// also shadows default rule 100 (dbsu, local all postgres), whose only line is a
// local line it covers; the spec names only 350 and 550.
func TestHBALintTrustLocalhost(t *testing.T) {
	yml := strings.Replace(hbaLintInventory("          - { title: trust local, user: all, db: all, addr: localhost, auth: trust, order: 1 }\n", ""),
		"        pg_default_hba_rules: []\n        pgb_default_hba_rules: []\n", "", 1)
	all3 := "pg-s-1, pg-s-2, pg-s-3"
	want := []string{
		`pg_default_hba_rules[0]: warning: rule "dbsu access via local os user ident" never matches on ` + all3 + `: covered by "trust local" (order 1) [hba-shadowed]`,
		`pg_default_hba_rules[5]: warning: rule "monitor from localhost with password" never matches on ` + all3 + `: covered by "trust local" (order 1) [hba-shadowed]`,
		`pg_default_hba_rules[9]: warning: rule "pgbouncer read/write via local socket" never matches on ` + all3 + `: covered by "trust local" (order 1) [hba-shadowed]`,
	}
	got := hbaLint(t, yml)
	for i := range got {
		got[i] = strings.TrimPrefix(got[i], "default: ")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

var _ = compiler.Diag{}

// TestHBARoleStandby: inventory.md accepts pg_role standby and delayed; a rule with
// that role is enabled on such a member and hba-role-never stays quiet.
func TestHBARoleStandby(t *testing.T) {
	yml := strings.Replace(hbaLintInventory(`
          - { title: S, role: standby, user: dbuser_x, addr: 10.5.0.0/16, order: 1 }
          - { title: D, role: delayed, user: dbuser_x, addr: 10.6.0.0/16, order: 2 }
`, ""), "10.10.10.13: { pg_seq: 3, pg_role: offline }", "10.10.10.13: { pg_seq: 3, pg_role: standby }", 1)
	want := []string{pgHBA + `[1].role: warning: rule "D" is never enabled (pg_role is never standby/delayed) [hba-role-never]`}
	if d := cmp.Diff(want, hbaLint(t, yml)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	f := hbaCompile(t, yml)
	if got := hbaFile(t, f, "pg-s", "pg-s-3", false); !strings.Contains(got, "# S [standby]\nhost ") {
		t.Errorf("standby rule not enabled on the standby member:\n%s", got)
	}
	if got := hbaFile(t, f, "pg-s", "pg-s-1", false); !strings.Contains(got, "# S [standby] [DISABLED]\n#host ") {
		t.Errorf("standby rule enabled on the primary:\n%s", got)
	}
}
