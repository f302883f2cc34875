package render

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
	"github.com/pgcc-dev/pgcc/compiler/hbaspec"
)

// hbaSharedDir locates ../shared next to the repository (test data that is not part
// of it), or skips.
func hbaSharedDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (it is not part of the repository): %v", dir, err)
	}
	return dir
}

var hbaFactVars = []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}

func hbaCompileFile(t testing.TB, path string, vars ...string) *compiler.Fleet {
	t.Helper()
	res := compiler.Compile(compiler.Options{Files: []string{path}, Vars: vars})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("%s: %d errors:\n%s", path, len(errs), errs.Error())
	}
	return res.Fleet
}

func hbaCompile(t testing.TB, yml string) *compiler.Fleet {
	t.Helper()
	res := compiler.Compile(compiler.Options{Names: []string{"pigsty.yml"}, Datas: [][]byte{[]byte(yml)}, Vars: hbaFactVars})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("%d errors:\n%s", len(errs), errs.Error())
	}
	return res.Fleet
}

// hbaFile renders one instance's file.
func hbaFile(t testing.TB, f *compiler.Fleet, cluster, inst string, pgb bool) string {
	t.Helper()
	cl := f.Cluster(cluster)
	if cl == nil {
		t.Fatalf("no cluster %s", cluster)
	}
	in := cl.Instance(inst)
	if in == nil {
		t.Fatalf("no instance %s", inst)
	}
	h, err := BuildHBA(f, cl, in, pgb)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var hbaMethods = map[string]bool{
	"trust": true, "reject": true, "scram-sha-256": true, "md5": true, "password": true, "gss": true, "sspi": true,
	"ident": true, "peer": true, "ldap": true, "radius": true, "cert": true, "pam": true, "bsd": true,
}

// hbaFacts reduces an HBA file to the reference facts (reference/README.md "HBA"):
// [enabled, type, database, user, address, method] per rule line in file order; a
// comment counts only when its text after # is a complete rule.
func hbaFacts(t testing.TB, content string) [][]any {
	t.Helper()
	var out [][]any
	for _, line := range strings.Split(content, "\n") {
		enabled := true
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "#") {
			enabled = false
			s = s[1:]
		}
		f := strings.Fields(s)
		if len(f) < 4 {
			continue
		}
		typ, db, user := f[0], f[1], f[2]
		var addr, method string
		switch typ {
		case "local":
			method = f[3]
			if method == "ident" {
				method = "peer" // PostgreSQL reads local ident as peer
			}
		case "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc":
			if len(f) < 5 {
				continue
			}
			a := f[3]
			method = f[4]
			var p netip.Prefix
			var err error
			if strings.Contains(a, "/") {
				p, err = netip.ParsePrefix(a)
			} else if ip, e := netip.ParseAddr(a); e == nil {
				if m, e2 := netip.ParseAddr(f[4]); e2 == nil && len(f) >= 6 {
					bits := 0
					for _, b := range m.AsSlice() {
						for i := 7; i >= 0; i-- {
							if b&(1<<i) != 0 {
								bits++
							}
						}
					}
					p, method = netip.PrefixFrom(ip, bits), f[5]
				} else {
					p = netip.PrefixFrom(ip, ip.BitLen())
				}
			} else {
				err = e
			}
			if err != nil {
				continue
			}
			addr = p.Masked().String()
		default:
			continue
		}
		if !hbaMethods[method] {
			continue
		}
		out = append(out, []any{enabled, typ, db, user, addr, method})
	}
	return out
}

// TestHBAReferenceFacts: the files pgcc renders for reference/pg-test.yml reduce to
// exactly the hba and pgb_hba facts of reference/pg-test.json, on all three instances.
func TestHBAReferenceFacts(t *testing.T) {
	ref := filepath.Join(hbaSharedDir(t), "testdata", "reference")
	data, err := os.ReadFile(filepath.Join(ref, "pg-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		HBA    [][]any `json:"hba"`
		PgbHBA [][]any `json:"pgb_hba"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	f := hbaCompileFile(t, filepath.Join(ref, "pg-test.yml"))
	for _, inst := range []string{"pg-test-1", "pg-test-2", "pg-test-3"} {
		w, ok := want[inst]
		if !ok || len(w.HBA) == 0 || len(w.PgbHBA) == 0 {
			t.Fatalf("reference has no hba facts for %s", inst)
		}
		if d := cmp.Diff(w.HBA, hbaFacts(t, hbaFile(t, f, "pg-test", inst, false))); d != "" {
			t.Errorf("%s pg_hba.conf facts (-reference +pgcc):\n%s", inst, d)
		}
		if d := cmp.Diff(w.PgbHBA, hbaFacts(t, hbaFile(t, f, "pg-test", inst, true))); d != "" {
			t.Errorf("%s pgb_hba.conf facts (-reference +pgcc):\n%s", inst, d)
		}
	}
}

// TestHBAGolden: the reference inventory's files, byte for byte
// (render/testdata/hba/; PGCC_UPDATE=1 rewrites them).
func TestHBAGolden(t *testing.T) {
	ref := filepath.Join(hbaSharedDir(t), "testdata", "reference", "pg-test.yml")
	f := hbaCompileFile(t, ref)
	cl := f.Cluster("pg-test")
	files, err := renderHBA(&Context{Fleet: f}, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("want 6 files, got %d", len(files))
	}
	for _, file := range files {
		if file.Mode != ModePublic {
			t.Errorf("%s: mode %o", file.Path, file.Mode)
		}
		checkHBAGolden(t, filepath.Join("testdata", "hba", filepath.FromSlash(file.Path)), file.Data)
	}
}

func checkHBAGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	want := readGolden(t, path, got)
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-golden +got):\n%s", path, d)
	}
}

const hbaTestInventory = `
all:
  children:
    infra: { hosts: { 10.10.10.10: { infra_seq: 1 }, 10.10.10.2: { infra_seq: 2 } } }
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    pg-x:
      hosts:
        10.10.10.21: { pg_seq: 1, pg_role: primary }
        10.10.10.22: { pg_seq: 2, pg_role: replica, pg_offline_query: true }
        10.10.10.23: { pg_seq: 3, pg_role: offline }
      vars:
        pg_cluster: pg-x
        pg_version: 16
        pgbouncer_port: 6543
        node_firewall_intranet: [ 10.0.0.0/8, 'FD00::/8' ]
        pg_default_hba_rules:
          - { user: '${dbsu}', db: all, addr: local, auth: ident, title: 'dbsu ident', order: 100 }
        pg_hba_rules:
          - { title: 'replica trust from cluster members', role: replica, user: '+dbrole_readonly', addr: cluster, auth: trust }
          - { title: 'offline etl', role: offline, user: dbuser_etl, addr: intra, auth: ssl, order: 600 }
          - { title: 'raw rules on primary', role: primary, order: 50, rules: [ 'host    all   all   10.1.1.1/32   scram-sha-256', 'hostssl all   all   10.1.1.2/32   cert' ] }
          - { title: 'admin cert from everywhere', user: '${admin}', addr: world, auth: cert, order: 5000 }
          - { title: 'common ipv6 md5', role: common, user: 'a,b,${monitor}', db: 'x,Y', addr: '2001:DB8::/32', auth: md5, order: 100 }
          - { title: 'standby only', role: standby, addr: admin, order: 700 }
          - { title: 'infra and bare ip', user: 'sameuser', db: 'sameuser,replication', addr: infra, auth: ssl-md5, order: 650 }
          - { title: 'bare v4 and v6', db: '/^app_\d+$', user: '/^u#1', addr: '10.1.2.3', auth: sha, order: 660 }
          - { title: 'bare v6', addr: 'FE80::1', auth: reject, order: 661 }
          - { title: 'localhost ssl', user: '${repl}', db: replication, addr: localhost, auth: ssl, order: 670 }
          - { addr: local, auth: os, order: 680 }
          - { title: 'world scram', addr: all, auth: scram-sha-256, order: 690 }
        pgb_hba_rules:
          - { title: 'pgb ident local', user: '${dbsu}', db: pgbouncer, addr: local, auth: ident, order: 10 }
          - { title: 'pgb deny world', user: x, addr: world, auth: deny, order: 20 }
          - { title: 'pgb sameuser', db: sameuser, addr: intranet, auth: ssl-sha, order: 30, role: offline }
  vars:
    admin_ip: 10.10.10.10
`

// TestHBARender: order (ordered stable, unordered last), role filtering including
// pg_offline_query, disabled rules commented and marked, raw rules, every alias, the
// header (hba.md §2–§6), literally.
func TestHBARender(t *testing.T) {
	f := hbaCompile(t, hbaTestInventory)
	got := hbaFile(t, f, "pg-x", "pg-x-2", false)
	want := `# pgcc: pg_hba.conf for pg-x-2 [replica], cluster pg-x

# addr alias
# local     : /var/run/postgresql
# admin     : 10.10.10.10
# infra     : 10.10.10.10, 10.10.10.2
# intra     : 10.0.0.0/8, FD00::/8
# cluster   : 10.10.10.21, 10.10.10.22, 10.10.10.23

# user alias
# dbsu    :  postgres
# repl    :  replicator
# monitor :  dbuser_monitor
# admin   :  dbuser_dba

# raw rules on primary [primary] [DISABLED]
#host    all   all   10.1.1.1/32   scram-sha-256
#hostssl all   all   10.1.1.2/32   cert

# dbsu ident [default]
local    all                postgres                              ident

# common ipv6 md5 [common]
host     x,Y                a,b,dbuser_monitor 2001:db8::/32      md5

# offline etl [offline]
hostssl  all                dbuser_etl         10.0.0.0/8         scram-sha-256
hostssl  all                dbuser_etl         FD00::/8           scram-sha-256

# infra and bare ip [default]
hostssl  sameuser,replication "sameuser"         10.10.10.10/32     md5
hostssl  sameuser,replication "sameuser"         10.10.10.2/32      md5

# bare v4 and v6 [default]
host     /^app_\d+$         "/^u#1"            10.1.2.3/32        scram-sha-256

# bare v6 [default]
host     all                all                fe80::1/128        reject

# localhost ssl [default]
local    replication        replicator                            scram-sha-256
host     replication        replicator         127.0.0.1/32       scram-sha-256
host     replication        replicator         ::1/128            scram-sha-256

# [default]
local    all                all                                   ident

# world scram [default]
host     all                all                0.0.0.0/0          scram-sha-256
host     all                all                ::/0               scram-sha-256

# standby only [standby] [DISABLED]
#host     all                all                10.10.10.10/32     scram-sha-256

# admin cert from everywhere [default]
hostssl  all                dbuser_dba         0.0.0.0/0          cert
hostssl  all                dbuser_dba         ::/0               cert

# replica trust from cluster members [replica]
host     all                +dbrole_readonly   10.10.10.21/32     trust
host     all                +dbrole_readonly   10.10.10.22/32     trust
host     all                +dbrole_readonly   10.10.10.23/32     trust
`
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("pg-x-2 pg_hba.conf (-want +got):\n%s", d)
	}

	// The primary: raw rules enabled, offline and replica rules disabled.
	got = hbaFile(t, f, "pg-x", "pg-x-1", false)
	for _, frag := range []string{
		"# raw rules on primary [primary]\nhost    all   all   10.1.1.1/32   scram-sha-256\nhostssl all   all   10.1.1.2/32   cert\n",
		"# offline etl [offline] [DISABLED]\n#hostssl  all                dbuser_etl         10.0.0.0/8         scram-sha-256\n",
		"# replica trust from cluster members [replica] [DISABLED]\n#host     all                +dbrole_readonly   10.10.10.21/32     trust\n",
	} {
		if !strings.Contains(got, frag) {
			t.Errorf("pg-x-1 lacks:\n%s\nfile:\n%s", frag, got)
		}
	}
	// The offline instance: offline rules on, replica rules off.
	got = hbaFile(t, f, "pg-x", "pg-x-3", false)
	for _, frag := range []string{
		"# offline etl [offline]\nhostssl",
		"# replica trust from cluster members [replica] [DISABLED]\n#host",
		"# raw rules on primary [primary] [DISABLED]\n#host",
	} {
		if !strings.Contains(got, frag) {
			t.Errorf("pg-x-3 lacks %q", frag)
		}
	}
	if !strings.HasSuffix(got, "trust\n") || strings.HasSuffix(got, "\n\n") {
		t.Errorf("file must end with exactly one newline")
	}

	// pgb_hba.conf: its own header line and pgbouncer methods (ident → peer, deny → reject).
	got = hbaFile(t, f, "pg-x", "pg-x-1", true)
	wantPgb := `# pgcc: pgb_hba.conf for pg-x-1 [primary], cluster pg-x

# PGBOUNCER HBA RULES FOR pg-x-1 @ 10.10.10.21:6543

# addr alias
# local     : /var/run/postgresql
# admin     : 10.10.10.10
# infra     : 10.10.10.10, 10.10.10.2
# intra     : 10.0.0.0/8, FD00::/8
# cluster   : 10.10.10.21, 10.10.10.22, 10.10.10.23

# user alias
# dbsu    :  postgres
# repl    :  replicator
# monitor :  dbuser_monitor
# admin   :  dbuser_dba

# pgb ident local [default]
local    pgbouncer          postgres                              peer

# pgb deny world [default]
host     all                x                  0.0.0.0/0          reject
host     all                x                  ::/0               reject

# pgb sameuser [offline] [DISABLED]
#hostssl  sameuser           all                10.0.0.0/8         scram-sha-256
#hostssl  sameuser           all                FD00::/8           scram-sha-256
`
	if !strings.HasPrefix(got, wantPgb[:strings.Index(wantPgb, "# pgb ident local")]) {
		t.Errorf("pgb header:\n%s", got)
	}
	// The user rules (orders 10–30) precede pgb_default_hba_rules (100–400).
	if !strings.Contains(got, wantPgb[strings.Index(wantPgb, "# pgb ident local"):]+"\n# dbsu local admin access with os ident [default]\n") {
		t.Errorf("pgb rules (want):\n%s\ngot:\n%s", wantPgb[strings.Index(wantPgb, "# pgb ident local"):], got)
	}
}

// TestHBASpecExample is the example of hba.md §6 (replica pg-test-2; user rules
// order 50 raw on the primary, and a replica-only rule without order).
func TestHBASpecExample(t *testing.T) {
	ref := filepath.Join(hbaSharedDir(t), "testdata", "reference", "pg-test.yml")
	data, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	yml := strings.Replace(string(data), "        pg_hba_rules:\n", `        pg_hba_rules:
          - { title: 'raw rules on primary', role: primary, order: 50, rules: [ 'host    all   all   10.1.1.1/32   scram-sha-256', 'hostssl all   all   10.1.1.2/32   cert' ] }
          - { title: 'replica trust from cluster members', role: replica, user: '+dbrole_readonly', addr: cluster, auth: trust }
`, 1)
	res := compiler.Compile(compiler.Options{Names: []string{"pigsty.yml"}, Datas: [][]byte{[]byte(yml)}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs.Error())
	}
	got := hbaFile(t, res.Fleet, "pg-test", "pg-test-2", false)
	for _, frag := range []string{
		"# raw rules on primary [primary] [DISABLED]\n#host    all   all   10.1.1.1/32   scram-sha-256\n#hostssl all   all   10.1.1.2/32   cert\n\n# dbsu access via local os user ident [default]\n",
		"# replica trust from cluster members [replica]\nhost     all                +dbrole_readonly   10.10.10.11/32     trust\nhost     all                +dbrole_readonly   10.10.10.12/32     trust\nhost     all                +dbrole_readonly   10.10.10.13/32     trust\n\n# cluster members trusted on the replica (no order) [replica]\n",
	} {
		if !strings.Contains(got, frag) {
			t.Errorf("missing:\n%s\nin:\n%s", frag, got)
		}
	}
	if !strings.Contains(got, "\n# dbsu access via local os user ident [default]\nlocal    all                postgres                              ident\n") {
		t.Errorf("line format differs from hba.md §6")
	}
}

// TestHBAHostLevelRules: pg_hba_rules may be set per host (Pigsty G/C/I); that host
// renders its own list.
func TestHBAHostLevelRules(t *testing.T) {
	f := hbaCompile(t, `
all:
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    pg-h:
      hosts:
        10.10.10.31: { pg_seq: 1, pg_role: primary }
        10.10.10.32: { pg_seq: 2, pg_role: replica, pg_hba_rules: [ { title: host only, addr: 10.9.9.9/32, auth: md5 } ] }
      vars:
        pg_cluster: pg-h
        pg_hba_rules: [ { title: cluster level, addr: 10.8.8.8/32, auth: md5 } ]
  vars: { admin_ip: 10.10.10.10 }
`)
	one, two := hbaFile(t, f, "pg-h", "pg-h-1", false), hbaFile(t, f, "pg-h", "pg-h-2", false)
	if !strings.Contains(one, "# cluster level [default]") || strings.Contains(one, "host only") {
		t.Errorf("pg-h-1 should have the cluster rule only:\n%s", one)
	}
	if !strings.Contains(two, "# host only [default]\nhost     all                all                10.9.9.9/32        md5") || strings.Contains(two, "cluster level") {
		t.Errorf("pg-h-2 should have the host rule only:\n%s", two)
	}
}

// TestHBAPgbouncerDisabled: no pgb_hba.conf without pgbouncer.
func TestHBAPgbouncerDisabled(t *testing.T) {
	f := hbaCompile(t, `
all:
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } }, vars: { etcd_cluster: etcd } }
    pg-n:
      hosts: { 10.10.10.41: { pg_seq: 1, pg_role: primary } }
      vars: { pg_cluster: pg-n, pgbouncer_enabled: false }
  vars: { admin_ip: 10.10.10.10 }
`)
	files, err := renderHBA(&Context{Fleet: f}, f.Cluster("pg-n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "pg-n/pg-n-1/pg_hba.conf" {
		t.Errorf("files: %+v", files)
	}
}

// FuzzHBAFields: whatever user, db and addr values validation accepts, the rendered
// line reads back (PostgreSQL's tokenizer model) as the same type, items, address and
// method, on one line; a title never leaves its comment.
func FuzzHBAFields(f *testing.F) {
	for _, s := range [][4]string{
		{"all", "all", "intra", "t"},
		{"${dbsu},+g,/^a#b", "x,/^d,b", "10.1.1.1", "a\nb"},
		{"all", "replication", "2001:db8::/32", "#"},
		{"sameuser", "samerole", "local", `"quoted"`},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	env := hbaspec.Env{AdminIP: "10.10.10.10", InfraIPs: []string{"10.10.10.10"}, ClusterIPs: []string{"10.10.10.11"}, Intranet: []string{"10.0.0.0/8"}}
	al := hbaspec.Aliases{DBSU: "postgres", Repl: "replicator", Monitor: "dbuser_monitor", Admin: "dbuser_dba"}
	f.Fuzz(func(t *testing.T, user, db, addr, title string) {
		for _, pgb := range []bool{false, true} {
			tg := hbaspec.Target{PGB: pgb, PGVersion: 17}
			p, errs := hbaspec.Parse(hbaspec.Rule{User: user, DB: db, Addr: addr}, al, tg)
			if len(errs) > 0 {
				continue
			}
			for _, l := range hbaspec.Expand(p, env, tg) {
				text, err := hbaLineText(l)
				if err != nil {
					t.Fatalf("accepted %q/%q/%q but cannot render: %v", user, db, addr, err)
				}
				if strings.ContainsAny(text, "\r\n") {
					t.Fatalf("line %q spans lines", text)
				}
				back, ok := hbaspec.ParseRaw(text)
				if !ok {
					t.Fatalf("rendered %q does not read back", text)
				}
				if back.Type != l.Type || back.Method != l.Method || back.Net != l.Net ||
					!cmp.Equal(back.DB, l.DB) || !cmp.Equal(back.User, l.User) {
					t.Fatalf("%q reads back as %+v; want %+v", text, back, l)
				}
			}
		}
		h := &HBAFile{Cluster: &compiler.Cluster{Name: "c"}, Inst: &compiler.Instance{Name: "c-1", Vars: map[string]compiler.Value{}},
			Blocks: []HBABlock{{Rule: &compiler.HBARule{Title: title}, Role: "default", Enabled: true}}}
		b, err := h.Bytes()
		if err != nil {
			if !strings.ContainsAny(title, "\r\n\x00") {
				t.Fatalf("title %q refused: %v", title, err)
			}
			return
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				t.Fatalf("title %q produced a non-comment line %q", title, line)
			}
		}
	})
}

// BenchmarkHBA renders both HBA files of every instance of a 1000-cluster × 3-host
// synthetic fleet, and lints them (build budget: README/BRIEF 1000 clusters ≤ 2 s for
// the whole build). Reports ns/instance.
func BenchmarkHBA(b *testing.B) {
	res := compiler.Compile(compiler.Options{Names: []string{"fleet.yml"}, Datas: [][]byte{fleetgen.Inventory(1000)}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		b.Fatalf("%d errors, first: %s", len(errs), errs[0])
	}
	f := res.Fleet
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ctx := &Context{Fleet: f}
			for _, cl := range f.Clusters {
				if _, err := renderHBA(ctx, cl); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(3*len(f.Clusters)), "ns/instance")
	})
	b.Run("lint", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if ds := LintHBA(f); len(ds) != 0 {
				b.Fatalf("synthetic fleet raises %d HBA warnings, first: %s", len(ds), ds[0])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(3*len(f.Clusters)), "ns/instance")
	})
}
