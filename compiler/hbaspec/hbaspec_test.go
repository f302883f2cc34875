package hbaspec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind AddrKind
		text string
	}{
		{"local", AddrLocal, "local"},
		{"localhost", AddrLocalhost, "localhost"},
		{"admin", AddrAdmin, "admin"},
		{"infra", AddrInfra, "infra"},
		{"cluster", AddrCluster, "cluster"},
		{"intra", AddrIntra, "intra"},
		{"intranet", AddrIntra, "intranet"},
		{"world", AddrWorld, "world"},
		{"all", AddrWorld, "all"},
		{"10.10.10.10", AddrCIDR, "10.10.10.10/32"},
		{"10.10.0.0/16", AddrCIDR, "10.10.0.0/16"},
		{"0.0.0.0/0", AddrCIDR, "0.0.0.0/0"},
		{"255.255.255.255/32", AddrCIDR, "255.255.255.255/32"},
		{"10.10.10.1/16", AddrCIDR, "10.10.10.1/16"}, // as written; PostgreSQL masks it
		{"2001:DB8::/32", AddrCIDR, "2001:db8::/32"},
		{"fe80::1", AddrCIDR, "fe80::1/128"},
		{"::/0", AddrCIDR, "::/0"},
		{"::ffff:10.1.1.1/128", AddrCIDR, "::ffff:10.1.1.1/128"},
	} {
		a, err := ParseAddr(tc.in)
		if err != nil || a.Kind != tc.kind || a.Text != tc.text {
			t.Errorf("ParseAddr(%q) = %+v, %v; want kind %d text %q", tc.in, a, err, tc.kind, tc.text)
		}
	}
	for _, bad := range []string{"", "10.10.10.0/33", "256.1.1.1", "10.1.1", "010.1.1.1", "10.1.1.1/", "10.1.1.1/08",
		"myhost.example.com", "samehost", "samenet", "Local", "fe80::1%eth0", "2001:db8::/129", "10.1.1.1 255.0.0.0", ".example.com"} {
		if _, err := ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) accepted", bad)
		}
	}
	_, err := ParseAddr("10.10.10.0/33")
	want := `"10.10.10.0/33" is not a valid address; want local, localhost, admin, infra, cluster, intra, intranet, world, all or an IPv4/IPv6 address or CIDR`
	if err == nil || err.Error() != want {
		t.Errorf("message: %v", err)
	}
}

var aliases = Aliases{DBSU: "postgres", Repl: "replicator", Monitor: "dbuser_monitor", Admin: "dbuser_dba"}

func TestParseUsers(t *testing.T) {
	pg16 := Target{PGVersion: 16}
	for _, tc := range []struct {
		in   string
		t    Target
		want []Item
	}{
		{"", pg16, []Item{{ItemAll, "all"}}},
		{"all", pg16, []Item{{ItemAll, "all"}}},
		{"${dbsu}", pg16, []Item{{ItemName, "postgres"}}},
		{"${admin},${monitor},x", pg16, []Item{{ItemName, "dbuser_dba"}, {ItemName, "dbuser_monitor"}, {ItemName, "x"}}},
		{"${repl}", pg16, []Item{{ItemName, "replicator"}}},
		{"+dbrole_readonly", pg16, []Item{{ItemGroup, "dbrole_readonly"}}},
		{"dbuser_meta@pigsty", pg16, []Item{{ItemName, "dbuser_meta@pigsty"}}},
		{"/^app_", pg16, []Item{{ItemRegex, "/^app_"}}},
		{"sameuser", pg16, []Item{{ItemName, "sameuser"}}}, // not a keyword in the user field
		{"all", Target{PGB: true}, []Item{{ItemAll, "all"}}},
	} {
		got, err := ParseUsers(tc.in, aliases, tc.t)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("ParseUsers(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in  string
		t   Target
		msg string
	}{
		{"a b", pg16, `"a b" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{"${foo}", pg16, `"${foo}" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{"x,", pg16, `"" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{"@admins", pg16, `"@admins" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{`"x"`, pg16, `"\"x\"" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{"Admin", pg16, `"Admin" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{"+", pg16, `"+" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
		{"/^x", Target{PGVersion: 15}, `regular expression "/^x" needs PostgreSQL 16 or later (pg_version is 15)`},
		{"/^x", Target{PGB: true, PGVersion: 17}, `regular expression "/^x" is not allowed in pgbouncer rules`},
		{"+dbrole_readonly", Target{PGB: true}, `group membership "+dbrole_readonly" is not allowed in pgbouncer rules (pgbouncer has no +role items)`},
	} {
		_, err := ParseUsers(tc.in, aliases, tc.t)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("ParseUsers(%q) error = %v; want %s", tc.in, err, tc.msg)
		}
	}
}

func TestParseDBs(t *testing.T) {
	pg16 := Target{PGVersion: 16}
	for _, tc := range []struct {
		in   string
		t    Target
		want []Item
	}{
		{"", pg16, []Item{{ItemAll, "all"}}},
		{"replication", pg16, []Item{{ItemReplication, "replication"}}},
		{"sameuser,samerole,samegroup", pg16, []Item{{ItemSameUser, "sameuser"}, {ItemSameRole, "samerole"}, {ItemSameGroup, "samegroup"}}},
		{"meta,Test_DB", pg16, []Item{{ItemName, "meta"}, {ItemName, "Test_DB"}}},
		{"/^db", pg16, []Item{{ItemRegex, "/^db"}}},
		{"pgbouncer,sameuser", Target{PGB: true}, []Item{{ItemName, "pgbouncer"}, {ItemSameUser, "sameuser"}}},
	} {
		got, err := ParseDBs(tc.in, tc.t)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("ParseDBs(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in  string
		t   Target
		msg string
	}{
		{"replication", Target{PGB: true}, `replication is not allowed in pgbouncer rules`},
		{"samerole", Target{PGB: true}, `samerole is not allowed in pgbouncer rules`},
		{"samegroup", Target{PGB: true}, `samegroup is not allowed in pgbouncer rules`},
		{"a.b", pg16, `"a.b" is not a valid database; want all, sameuser, samerole, samegroup, replication, a database name or /regex`},
		{"x y", pg16, `"x y" is not a valid database; want all, sameuser, samerole, samegroup, replication, a database name or /regex`},
		{"/a b", pg16, `"/a b" is not a valid database; want all, sameuser, samerole, samegroup, replication, a database name or /regex`},
		{"/^db", Target{PGVersion: 13}, `regular expression "/^db" needs PostgreSQL 16 or later (pg_version is 13)`},
	} {
		_, err := ParseDBs(tc.in, tc.t)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("ParseDBs(%q) error = %v; want %s", tc.in, err, tc.msg)
		}
	}
}

func TestParseErrors(t *testing.T) {
	pg := Target{PGVersion: 17}
	pgb := Target{PGB: true, PGVersion: 17}
	for _, tc := range []struct {
		r    Rule
		t    Target
		want []FieldError
	}{
		{Rule{Addr: "intra"}, pg, nil},
		{Rule{}, pg, []FieldError{{"", `missing required field "addr"`}}},
		{Rule{Addr: "intra", Auth: "ldap"}, pg, []FieldError{{"auth", `"ldap" is not allowed; want pwd, ssl, ssl-sha, ssl-md5, cert, sha, scram-sha-256, md5, deny, reject, trust, ident, os or peer (use rules for other methods)`}}},
		{Rule{Addr: "local", Auth: "cert"}, pg, []FieldError{{"auth", `cert is not allowed with addr local; a client certificate needs a TCP connection (hostssl)`}}},
		{Rule{Addr: "localhost", Auth: "cert"}, pg, []FieldError{{"auth", `cert is not allowed with addr localhost; a client certificate needs a TCP connection (hostssl)`}}},
		{Rule{Addr: "admin", Auth: "cert"}, pg, nil},
		{Rule{Addr: "localhost", Auth: "peer"}, pg, []FieldError{{"auth", `peer is not allowed with addr localhost; peer authentication works only on local (unix socket) connections`}}},
		{Rule{Addr: "local", Auth: "peer"}, pg, nil},
		{Rule{Addr: "intra", Auth: "ident"}, pg, nil}, // ident over TCP is RFC 1413 ident: PostgreSQL loads it
		{Rule{Addr: "intra", Auth: "ident"}, pgb, []FieldError{{"auth", `ident is not allowed with addr intra in pgbouncer rules; peer authentication works only on local (unix socket) connections`}}},
		{Rule{Addr: "world", Auth: "os"}, pgb, []FieldError{{"auth", `os is not allowed with addr world in pgbouncer rules; peer authentication works only on local (unix socket) connections`}}},
		{Rule{Addr: "local", Auth: "os"}, pgb, nil},
		{Rule{Addr: "10.0.0.0/33", User: "a b", DB: "replication"}, pgb, []FieldError{
			{"user", `"a b" is not a valid user; want all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex`},
			{"db", `replication is not allowed in pgbouncer rules`},
			{"addr", `"10.0.0.0/33" is not a valid address; want local, localhost, admin, infra, cluster, intra, intranet, world, all or an IPv4/IPv6 address or CIDR`}}},
	} {
		_, errs := Parse(tc.r, aliases, tc.t)
		var got []FieldError
		for _, e := range errs {
			got = append(got, *e)
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("Parse(%+v, pgb=%v):\n%s", tc.r, tc.t.PGB, cmp.Diff(tc.want, got))
		}
	}
}

// lineStrings is a compact view of lines for literal comparisons.
func lineStrings(ls []Line) []string {
	var out []string
	for _, l := range ls {
		var db, user []string
		for _, it := range l.DB {
			db = append(db, it.String())
		}
		for _, it := range l.User {
			user = append(user, it.String())
		}
		parts := []string{l.Type, strings.Join(db, ","), strings.Join(user, ",")}
		if l.Addr != "" {
			parts = append(parts, l.Addr)
		}
		out = append(out, strings.Join(append(parts, l.Method), " "))
	}
	return out
}

func TestExpand(t *testing.T) {
	env := Env{
		AdminIP:    "10.10.10.10",
		InfraIPs:   []string{"10.10.10.10", "10.10.10.9"},
		ClusterIPs: []string{"10.10.10.11", "10.10.10.12"},
		Intranet:   []string{"10.0.0.0/8", "fd00::/8"},
	}
	for _, tc := range []struct {
		r    Rule
		pgb  bool
		want []string
	}{
		{Rule{User: "${dbsu}", Addr: "local", Auth: "ident"}, false, []string{"local all postgres ident"}},
		{Rule{User: "${dbsu}", Addr: "local", Auth: "ident"}, true, []string{"local all postgres peer"}},
		{Rule{User: "${repl}", DB: "replication", Addr: "localhost", Auth: "ssl"}, false, []string{
			"local replication replicator scram-sha-256",
			"host replication replicator 127.0.0.1/32 scram-sha-256",
			"host replication replicator ::1/128 scram-sha-256"}},
		{Rule{Addr: "admin", Auth: "cert"}, false, []string{"hostssl all all 10.10.10.10/32 cert"}},
		{Rule{Addr: "infra"}, false, []string{"host all all 10.10.10.10/32 scram-sha-256", "host all all 10.10.10.9/32 scram-sha-256"}},
		{Rule{Addr: "cluster", Auth: "trust"}, false, []string{"host all all 10.10.10.11/32 trust", "host all all 10.10.10.12/32 trust"}},
		{Rule{Addr: "intranet", Auth: "ssl-md5"}, false, []string{"hostssl all all 10.0.0.0/8 md5", "hostssl all all fd00::/8 md5"}},
		{Rule{Addr: "world", Auth: "deny"}, true, []string{"host all all 0.0.0.0/0 reject", "host all all ::/0 reject"}},
		{Rule{Addr: "all", Auth: "ssl-sha"}, false, []string{"hostssl all all 0.0.0.0/0 scram-sha-256", "hostssl all all ::/0 scram-sha-256"}},
		{Rule{Addr: "10.10.10.10", Auth: "md5", DB: "a,b", User: "x,+g"}, false, []string{"host a,b x,+g 10.10.10.10/32 md5"}},
		{Rule{Addr: "2001:DB8::1", Auth: "sha"}, false, []string{"host all all 2001:db8::1/128 scram-sha-256"}},
		{Rule{Addr: "local", Auth: "scram-sha-256"}, false, []string{"local all all scram-sha-256"}},
		{Rule{Addr: "local", Auth: "reject"}, false, []string{"local all all reject"}},
		{Rule{Addr: "local", Auth: "ssl"}, false, []string{"local all all scram-sha-256"}},
		{Rule{Addr: "local", Auth: "os"}, false, []string{"local all all ident"}},
		{Rule{Addr: "local", Auth: "peer"}, false, []string{"local all all peer"}},
		{Rule{Addr: "local", Auth: "trust"}, true, []string{"local all all trust"}},
	} {
		tg := Target{PGB: tc.pgb, PGVersion: 17}
		p, errs := Parse(tc.r, aliases, tg)
		if len(errs) > 0 {
			t.Fatalf("Parse(%+v): %v", tc.r, errs[0])
		}
		if got := lineStrings(Expand(p, env, tg)); !cmp.Equal(got, tc.want) {
			t.Errorf("Expand(%+v, pgb=%v):\n%s", tc.r, tc.pgb, cmp.Diff(tc.want, got))
		}
	}
	p, _ := Parse(Rule{Addr: "infra"}, aliases, Target{})
	if got := Expand(p, Env{}, Target{}); len(got) != 0 {
		t.Errorf("empty infra expands to %v", lineStrings(got))
	}
}

func TestParseRaw(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // lineStrings form; "" = not lintable
		net  string
	}{
		{"host all all 10.1.1.1/32 scram-sha-256", "host all all 10.1.1.1/32 scram-sha-256", "10.1.1.1/32"},
		{"hostssl all all 10.1.1.2/32 cert clientcert=verify-full", "hostssl all all 10.1.1.2/32 cert", "10.1.1.2/32"},
		{"local   all   postgres   peer   # comment", "local all postgres peer", ""},
		{`host "all" all 10.0.0.0/8 md5`, "host all all 10.0.0.0/8 md5", "10.0.0.0/8"},
		{"host db1, db2 +grp,u1 10.1.0.0 255.255.0.0 md5", "host db1,db2 +grp,u1 10.1.0.0 md5", "10.1.0.0/16"},
		{"host all all 10.1.2.3/8 md5", "host all all 10.1.2.3/8 md5", "10.0.0.0/8"},
		{"host all all all trust", "host all all all trust", ""},
		{"hostnogssenc replication all ::1/128 trust", "hostnogssenc replication all ::1/128 trust", "::1/128"},
		{`host "my db" "a,b" 10.0.0.0/8 md5`, "host my db a,b 10.0.0.0/8 md5", "10.0.0.0/8"},
		{"host all all myhost.example.com md5", "", ""},
		{"host all all samenet md5", "", ""},
		{"host all all 10.1.1.1 md5", "", ""}, // no netmask column: PostgreSQL refuses it
		{"host all all 10.1.0.0 255.0.255.0 md5", "", ""},
		{"host all @admins 10.0.0.0/8 md5", "", ""},
		{"include_dir conf.d", "", ""},
		{"# just a comment", "", ""},
		{"", "", ""},
		{`host "all all 10.0.0.0/8 md5`, "", ""},
		{"host all all 10.0.0.0/8", "", ""},
		{"local all all", "", ""},
	} {
		l, ok := ParseRaw(tc.in)
		got := ""
		if ok {
			got = lineStrings([]Line{l})[0]
		}
		if got != tc.want {
			t.Errorf("ParseRaw(%q) = %q; want %q", tc.in, got, tc.want)
		}
		if ok && tc.net != "" && l.Net.String() != tc.net {
			t.Errorf("ParseRaw(%q).Net = %s; want %s", tc.in, l.Net, tc.net)
		}
	}
	l, _ := ParseRaw(`host "all" +g,"+h" 10.0.0.0/8 md5`)
	want := Line{Type: "host", DB: []Item{{ItemName, "all"}}, User: []Item{{ItemGroup, "g"}, {ItemName, "+h"}}}
	if !cmp.Equal(l.DB, want.DB) || !cmp.Equal(l.User, want.User) {
		t.Errorf("quoted items: %+v %+v", l.DB, l.User)
	}
}

func raw(t *testing.T, s string) Line {
	t.Helper()
	l, ok := ParseRaw(s)
	if !ok {
		t.Fatalf("ParseRaw(%q) failed", s)
	}
	return l
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		l, m string
		want bool
	}{
		{"host all all 10.0.0.0/8 md5", "host all all 10.1.0.0/16 md5", true},
		{"host all all 10.1.0.0/16 md5", "host all all 10.0.0.0/8 md5", false},
		{"host all all 10.0.0.0/8 md5", "host all all 11.0.0.0/16 md5", false},
		{"host all all 0.0.0.0/0 md5", "host all all ::1/128 md5", false},
		{"host all all ::/0 md5", "host all all fd00::/8 md5", true},
		{"host all all all md5", "host all all fd00::/8 md5", true},
		{"host all all 0.0.0.0/0 md5", "host all all all md5", false},
		{"host all all 10.0.0.0/8 md5", "hostssl all all 10.0.0.0/8 md5", true},
		{"host all all 10.0.0.0/8 md5", "hostnossl all all 10.0.0.0/8 md5", true},
		{"host all all 10.0.0.0/8 md5", "hostgssenc all all 10.0.0.0/8 md5", true},
		{"hostssl all all 10.0.0.0/8 md5", "host all all 10.0.0.0/8 md5", false},
		{"hostssl all all 10.0.0.0/8 md5", "hostnossl all all 10.0.0.0/8 md5", false},
		{"local all all trust", "host all all 127.0.0.1/32 md5", false},
		{"host all all 127.0.0.1/32 md5", "local all all md5", false},
		{"local all all trust", "local all postgres peer", true},
		{"local all all trust", "local replication all peer", false},
		{"local replication all trust", "local replication postgres peer", true},
		{"local all +g trust", "local all u peer", false},
		{"local all u trust", "local all +g peer", false},
		{"local all +g trust", "local all +g peer", true},
		{"local a,b all trust", "local b all peer", true},
		{"local a all trust", "local a,b all peer", false},
		{"local sameuser all trust", "local a all peer", false},
		{`local "all" all trust`, "local a all peer", false},
		{"local all all trust", `local "all" all peer`, true},
		{"host all all 10.1.2.3/16 md5", "host all all 10.1.9.9/32 md5", true}, // PostgreSQL masks the address
	} {
		if got := Covers(raw(t, tc.l), raw(t, tc.m)); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v; want %v", tc.l, tc.m, got, tc.want)
		}
	}
}

func TestLoopbackWorld(t *testing.T) {
	for _, tc := range []struct {
		s               string
		loopback, world bool
	}{
		{"host all all 127.0.0.1/32 md5", true, false},
		{"host all all 127.1.0.0/16 md5", true, false},
		{"host all all 127.0.0.0/7 md5", false, false},
		{"host all all ::1/128 md5", true, false},
		{"host all all ::/0 md5", false, true},
		{"host all all 0.0.0.0/0 md5", false, true},
		{"host all all all md5", false, true},
		{"host all all 10.0.0.0/8 md5", false, false},
	} {
		l := raw(t, tc.s)
		if l.Loopback() != tc.loopback || l.World() != tc.world {
			t.Errorf("%q: loopback %v world %v", tc.s, l.Loopback(), l.World())
		}
	}
}

// TestExpandPgbouncerMasks: pgbouncer needs the network address (it does not mask
// the rule's address); PostgreSQL gets the address as written.
func TestExpandPgbouncerMasks(t *testing.T) {
	env := Env{Intranet: []string{"10.1.2.3/8"}}
	for _, tc := range []struct {
		addr string
		pgb  bool
		want []string
	}{
		{"10.10.10.1/16", false, []string{"host all all 10.10.10.1/16 scram-sha-256"}},
		{"10.10.10.1/16", true, []string{"host all all 10.10.0.0/16 scram-sha-256"}},
		{"2001:DB8::1/32", true, []string{"host all all 2001:db8::/32 scram-sha-256"}},
		{"intra", true, []string{"host all all 10.0.0.0/8 scram-sha-256"}},
		{"10.10.0.0/16", true, []string{"host all all 10.10.0.0/16 scram-sha-256"}},
	} {
		tg := Target{PGB: tc.pgb}
		p, errs := Parse(Rule{Addr: tc.addr}, aliases, tg)
		if len(errs) > 0 {
			t.Fatal(errs[0])
		}
		if got := lineStrings(Expand(p, env, tg)); !cmp.Equal(got, tc.want) {
			t.Errorf("%s pgb=%v: %v; want %v", tc.addr, tc.pgb, got, tc.want)
		}
	}
}
