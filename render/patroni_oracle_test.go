package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/golden/testenv"
	"github.com/pgcc-dev/pgcc/render/conffmt"

	"github.com/pgcc-dev/pgcc/tuning/refnorm"
)

// Real-daemon oracles (testing.md §4.1, §4.5): PostgreSQL 15 parses and boots on
// the rendered parameters, its initdb takes the rendered options, and Patroni
// 3.0.2 validates the rendered file.

// oracleInventory is a two-member cluster with the small facts of testing.md
// §4.1, addresses in a fresh 127.A.B block and free ports (never fixed ports),
// PG 15 binaries, and a few pg_parameters for postgresql.auto.conf. etcdPort
// 0 keeps the default 2379 (nothing connects to it).
func oracleInventory(t *testing.T, version, etcdPort int) *compiler.Fleet {
	t.Helper()
	block := testenv.LoopbackBlock()
	if etcdPort == 0 {
		etcdPort = 2379
	}
	inv := fmt.Sprintf(`all:
  vars:
    admin_ip: 127.0.0.1
    pg_version: %d
    pg_bin_dir: %s
    pg_listen: '${ip},${lo}'
    pg_port: %d
    patroni_port: %d
    etcd_port: %d
  children:
    infra: { hosts: { 127.0.0.1: { infra_seq: 1 } } }
    etcd: { hosts: { 127.0.0.1: { etcd_seq: 1 } } }
    pg-test:
      vars:
        pg_cluster: pg-test
        node_cpu: 2
        node_mem_mb: 2048
        node_disk_gb: 20
        pg_parameters:
          work_mem: 8MB
          search_path: '''"$user", public, monitor'''
          statement_timeout: 60000
          jit: false
      hosts:
        %s.11: { pg_seq: 1, pg_role: primary }
        %s.12: { pg_seq: 2, pg_role: replica }
`, version, testenv.PGBinDir(), testenv.FreePort(t), testenv.FreePort(t), etcdPort, block, block)
	res := compiler.Compile(compiler.Options{Names: []string{"oracle.yml"}, Datas: [][]byte{[]byte(inv)}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile:\n%s", errs.Error())
	}
	return res.Fleet
}

// oracleFiles renders the primary's patroni.yml and postgresql.auto.conf.
func oracleFiles(t *testing.T, f *compiler.Fleet) (patroni, auto []byte) {
	t.Helper()
	cl := f.Cluster("pg-test")
	files, err := renderPatroni(&Context{Fleet: f}, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		switch file.Path {
		case "pg-test/pg-test-1/patroni.yml":
			patroni = file.Data
		case "pg-test/pg-test-1/postgresql.auto.conf":
			auto = file.Data
		}
	}
	if patroni == nil || auto == nil {
		t.Fatal("patroni.yml or postgresql.auto.conf not rendered")
	}
	return patroni, auto
}

// effectiveConf is what PostgreSQL reads on a Patroni node: the DCS and local
// parameters as Patroni writes them into postgresql.conf (every value quoted),
// then postgresql.auto.conf. It also returns each parameter's text.
func effectiveConf(t *testing.T, patroni, auto []byte) (string, map[string]string) {
	t.Helper()
	root := yamlDoc(t, patroni)
	texts := map[string]string{}
	var b strings.Builder
	b.WriteString("# patroni parameters (as Patroni writes postgresql.conf)\n")
	for _, path := range [][]string{{"bootstrap", "dcs", "postgresql", "parameters"}, {"postgresql", "parameters"}} {
		m := yget(root, path...)
		for i := 0; i+1 < len(m.Content); i += 2 {
			name, v := m.Content[i].Value, m.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				t.Fatalf("%s is not a scalar", name)
			}
			line, err := conffmt.Line(name, v.Value)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(line + "\n")
			texts[name] = v.Value
		}
	}
	b.Write(auto)
	for _, kv := range parseAutoConf(t, auto) {
		texts[kv[0]] = kv[1]
	}
	return b.String(), texts
}

// TestOracleParamsPG15: PostgreSQL 15 accepts every rendered parameter
// (postgres -C reads each back, in internal units that the reference
// normalisation must agree with), then boots on them with only sandbox paths
// overridden; pg_file_settings has no errors and current_setting agrees.
func TestOracleParamsPG15(t *testing.T) {
	testenv.Need(t, "postgres")
	t.Parallel()
	patroni, auto := oracleFiles(t, oracleInventory(t, 15, 0))
	conf, texts := effectiveConf(t, patroni, auto)
	names := make([]string, 0, len(texts))
	for n := range texts {
		names = append(names, n)
	}
	sort.Strings(names)
	vals, err := testenv.ConfCheck(t, conf, names...)
	if err != nil {
		t.Fatalf("PostgreSQL 15 rejects the rendered parameters: %v\n%s", err, conf)
	}
	for _, n := range names {
		want, err := refnorm.Normalize(n, texts[n])
		if err != nil {
			t.Fatal(err)
		}
		got, err := refnorm.Normalize(n, vals[n])
		if err != nil {
			t.Errorf("%s: server value %q: %v", n, vals[n], err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s = %q: postgres -C reads %q (-rendered +server):\n%s", n, texts[n], vals[n], d)
		}
	}

	// Boot test: only sandbox paths are overridden (the harness sets port,
	// listen_addresses, unix_socket_directories, logging_collector=off, and
	// with SSL the three ssl_*_file).
	logDir := testenv.TempDir(t)
	pg := testenv.StartPostgres(t, testenv.PGOptions{AutoConf: conf, SSL: true,
		Settings: []string{"log_directory=" + logDir, "archive_command=/bin/true"}})
	// A restart-only parameter that the harness overrides on the command line
	// reads "setting could not be applied" (testing.md §4.1): only the sandbox
	// overrides may show up.
	overridden := map[string]bool{"ssl_cert_file": true, "ssl_key_file": true, "ssl_ca_file": true, "log_directory": true,
		"archive_command": true, "unix_socket_directories": true, "logging_collector": true}
	if out := pg.MustPsql(t, "", "SELECT coalesce(string_agg(name || ': ' || error, E'\\n'), '') FROM pg_file_settings WHERE error IS NOT NULL"); out != "" {
		for _, line := range strings.Split(out, "\n") {
			name, msg, _ := strings.Cut(line, ": ")
			if !overridden[name] || msg != "setting could not be applied" {
				t.Errorf("pg_file_settings error after boot: %s", line)
			}
		}
	}
	var q strings.Builder
	for i, n := range names {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "SELECT %s, current_setting(%s, true)", sqlLit(n), sqlLit(n))
	}
	out := pg.MustPsql(t, "", "SELECT string_agg(n || '=' || coalesce(v, '<null>'), E'\\n') FROM ("+q.String()+") s(n, v)")
	for _, line := range strings.Split(out, "\n") {
		n, v, _ := strings.Cut(line, "=")
		if overridden[n] {
			continue
		}
		want, _ := refnorm.Normalize(n, texts[n])
		got, err := refnorm.Normalize(n, v)
		if err != nil {
			t.Errorf("%s: running value %q: %v", n, v, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s = %q: the running server has %q (-rendered +server):\n%s", n, texts[n], v, d)
		}
	}
}

// sqlLit quotes a parameter name for the query above (names match
// conffmt.CheckName: letters, digits, _ and one dot).
func sqlLit(s string) string {
	if conffmt.CheckName(s) != nil {
		panic("not a parameter name: " + s)
	}
	return "'" + s + "'"
}

var (
	oracleUnknownRE = regexp.MustCompile(`unrecognized configuration parameter "([^"]+)"`)
	oracleInvalidRE = regexp.MustCompile(`(?:invalid value for parameter|parameter) "([^"]+)"(?: requires|: )`)
)

// TestOraclePG18On15: the pg_version 18 rendering fails on PostgreSQL 15 with
// exactly the names the tuning oracle found (testing.md §4.1 plus
// file_copy_method, which tuning.md §4.2 emits for 18+): unknown names hide
// value errors, so the reported lines are dropped and the check repeated.
func TestOraclePG18On15(t *testing.T) {
	testenv.Need(t, "postgres")
	t.Parallel()
	patroni, auto := oracleFiles(t, oracleInventory(t, 18, 0))
	_, texts := effectiveConf(t, patroni, auto)
	skip := map[string]bool{}
	var unknown, invalid []string
	for round := 0; ; round++ {
		if round == 6 {
			t.Fatal("still rejected after 6 rounds")
		}
		var b strings.Builder
		for _, n := range sortedTextKeys(texts) {
			if skip[n] {
				continue
			}
			line, err := conffmt.Line(n, texts[n])
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(line + "\n")
		}
		_, err := testenv.ConfCheck(t, b.String())
		if err == nil {
			break
		}
		var ce *testenv.ConfError
		if !errors.As(err, &ce) {
			t.Fatal(err)
		}
		found := false
		for _, m := range oracleUnknownRE.FindAllStringSubmatch(ce.Output, -1) {
			unknown, skip[m[1]], found = append(unknown, m[1]), true, true
		}
		if !found {
			for _, m := range oracleInvalidRE.FindAllStringSubmatch(ce.Output, -1) {
				invalid, skip[m[1]], found = append(invalid, m[1]+" = "+texts[m[1]]), true, true
			}
		}
		if !found {
			t.Fatalf("postgres -C failed without a parameter name:\n%s", ce.Output)
		}
	}
	sort.Strings(unknown)
	wantUnknown := []string{"file_copy_method", "idle_replication_slot_timeout", "io_method", "io_workers",
		"log_lock_failures", "sync_replication_slots"}
	wantInvalid := []string{"log_connections = authorization"}
	if !cmp.Equal(unknown, wantUnknown) || !cmp.Equal(invalid, wantInvalid) {
		t.Errorf("PG 15 rejects unknown %v and invalid %v; want unknown %v and invalid %v", unknown, invalid, wantUnknown, wantInvalid)
	}
}

func sortedTextKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// initdbArgs turns bootstrap.initdb into initdb flags as Patroni does
// (item → --item, {k: v} → --k=v).
func initdbArgs(t *testing.T, patroni []byte) []string {
	t.Helper()
	var args []string
	for _, it := range yget(yamlDoc(t, patroni), "bootstrap", "initdb").Content {
		if it.Kind == yaml.MappingNode {
			args = append(args, "--"+it.Content[0].Value+"="+it.Content[1].Value)
		} else {
			args = append(args, "--"+it.Value)
		}
	}
	return args
}

// TestOracleInitdb: PostgreSQL 15's initdb accepts the pg_version 15 options
// and rejects the pg_version 18 ones (builtin locale provider, testing.md §4.1).
func TestOracleInitdb(t *testing.T) {
	testenv.Need(t, "postgres")
	t.Parallel()
	for _, c := range []struct {
		version int
		ok      bool
	}{{15, true}, {18, false}} {
		patroni, _ := oracleFiles(t, oracleInventory(t, c.version, 0))
		args := initdbArgs(t, patroni)
		home := testenv.TempDir(t)
		cmd := testenv.DaemonCommand(home, nil, "initdb", append([]string{"-D", filepath.Join(home, "data"), "--no-sync"}, args...)...)
		out, err := cmd.CombinedOutput()
		if (err == nil) != c.ok {
			t.Errorf("pg_version %d: initdb %s: err %v, want ok=%v\n%s", c.version, strings.Join(args, " "), err, c.ok, out)
		}
		if !c.ok && !strings.Contains(string(out), "builtin") {
			t.Errorf("pg_version %d: initdb failed for another reason:\n%s", c.version, out)
		}
	}
}

// TestOraclePatroniValidate: patroni --validate-config (3.0.2) on the rendered
// file (addresses, ports and bin_dir sandboxed through the inventory, the file
// itself unmodified). The only allowed message is the missing bootstrap.pg_hba,
// which 3.0.2 requires and pgcc leaves to pg_hba.conf (testing.md §4.5).
func TestOraclePatroniValidate(t *testing.T) {
	testenv.Need(t, "patroni", "etcd")
	t.Parallel()
	// 3.0.2 also checks that etcd3.hosts answer: a real etcd, as Pigsty runs it.
	etcd := testenv.StartEtcd(t, testenv.EtcdOptions{})
	for _, m := range []string{"pg-test-1", "pg-test-2"} {
		f := oracleInventory(t, 15, etcd.ClientPort)
		files, err := renderPatroni(&Context{Fleet: f}, f.Cluster("pg-test"))
		if err != nil {
			t.Fatal(err)
		}
		home := testenv.TempDir(t)
		path := filepath.Join(home, "patroni.yml")
		for _, file := range files {
			if file.Path == "pg-test/"+m+"/patroni.yml" {
				testenv.WriteDaemonFile(t, path, file.Data, 0o600)
			}
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		cmd := testenv.DaemonCommand(home, nil, "patroni", "--validate-config", path)
		out, _ := cmd.CombinedOutput()
		var msgs []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				msgs = append(msgs, l)
			}
		}
		if want := []string{"bootstrap.pg_hba  is not defined."}; !cmp.Equal(msgs, want) {
			t.Errorf("%s: patroni --validate-config says %q; want only %q", m, msgs, want)
		}
	}
}
