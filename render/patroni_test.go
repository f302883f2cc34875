package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/pgcc-dev/pgcc/compiler"

	"github.com/pgcc-dev/pgcc/tuning/refnorm"
)

// patroniSharedDir is ../shared next to the repository, or skips.
func patroniSharedDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (it is not part of the repository): %v", dir, err)
	}
	return dir
}

// patroniCompile compiles inventory files with --var settings.
func patroniCompile(t testing.TB, vars []string, files ...string) *compiler.Fleet {
	t.Helper()
	res := compiler.Compile(compiler.Options{Files: files, Vars: vars})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile %v:\n%s", files, errs.Error())
	}
	return res.Fleet
}

// patroniFiles renders the patroni renderer's files of the fleet (only this
// renderer: the test does not depend on the others) as path → file.
func patroniFiles(t testing.TB, f *compiler.Fleet, clusters ...string) map[string]File {
	t.Helper()
	out := map[string]File{}
	ctx := &Context{Fleet: f}
	for _, cl := range f.Clusters {
		if len(clusters) > 0 && !containsString(clusters, cl.Name) {
			continue
		}
		fs, err := renderPatroni(ctx, cl)
		if err != nil {
			t.Fatalf("render %s: %v", cl.Name, err)
		}
		for _, file := range fs {
			out[file.Path] = file
		}
	}
	return out
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ---- reading a rendered patroni.yml back into reference facts ----

func yamlDoc(t testing.TB, data []byte) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("rendered YAML does not parse: %v\n%s", err, data)
	}
	return doc.Content[0]
}

// yget walks mapping keys; nil when absent.
func yget(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// yscalar is a scalar as the consumer sees it: YAML booleans as true/false,
// numbers as written, strings verbatim.
func yscalar(t testing.TB, n *yaml.Node) any {
	t.Helper()
	if n.Kind != yaml.ScalarNode {
		t.Fatalf("not a scalar at line %d", n.Line)
	}
	switch n.Tag {
	case "!!bool":
		return n.Value == "true"
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	case "!!null":
		return nil
	}
	return n.Value
}

// parseAutoConf reads `name = 'value'` lines (the subset postgresql.auto.conf uses).
func parseAutoConf(t testing.TB, data []byte) [][2]string {
	t.Helper()
	var out [][2]string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("bad auto.conf line %q", line)
		}
		if strings.HasPrefix(val, "'") {
			if !strings.HasSuffix(val, "'") || len(val) < 2 {
				t.Fatalf("bad quoted value in %q", line)
			}
			val = strings.NewReplacer("''", "'", `\\`, `\`).Replace(val[1 : len(val)-1])
		}
		out = append(out, [2]string{name, val})
	}
	return out
}

// instanceFacts reduces patroni.yml (+ postgresql.auto.conf) to the "params"
// and "patroni" facts of reference/README.md.
func instanceFacts(t testing.TB, patroni, auto []byte) (map[string]any, map[string]any) {
	t.Helper()
	root := yamlDoc(t, patroni)
	texts := map[string]string{}
	for _, path := range [][]string{{"bootstrap", "dcs", "postgresql", "parameters"}, {"postgresql", "parameters"}} {
		m := yget(root, path...)
		if m == nil {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			v := m.Content[i+1]
			text := v.Value
			if v.Tag == "!!bool" { // a YAML boolean counts as on/off
				text = map[string]string{"true": "on", "false": "off"}[v.Value]
			}
			texts[m.Content[i].Value] = text
		}
	}
	if auto != nil {
		for _, kv := range parseAutoConf(t, auto) {
			texts[kv[0]] = kv[1]
		}
	}
	params := map[string]any{}
	for k, text := range texts {
		v, err := refnorm.Normalize(k, text)
		if err != nil {
			t.Fatal(err)
		}
		params[k] = v
	}
	dcs := yget(root, "bootstrap", "dcs")
	pat := map[string]any{}
	for _, k := range []string{"ttl", "loop_wait", "retry_timeout", "primary_start_timeout", "maximum_lag_on_failover",
		"synchronous_mode", "synchronous_mode_strict", "failsafe_mode"} {
		n := yget(dcs, k)
		if n == nil {
			t.Fatalf("bootstrap.dcs.%s missing", k)
		}
		pat[k] = yscalar(t, n)
	}
	pat["standby_cluster"] = nil
	if sc := yget(dcs, "standby_cluster"); sc != nil {
		m := map[string]any{"host": yscalar(t, yget(sc, "host")), "port": yscalar(t, yget(sc, "port"))}
		if d := yget(sc, "recovery_min_apply_delay"); d != nil {
			v, err := refnorm.Normalize("recovery_min_apply_delay", d.Value)
			if err != nil {
				t.Fatal(err)
			}
			m["recovery_min_apply_delay"] = v
		}
		var methods []any
		for _, it := range yget(sc, "create_replica_methods").Content {
			methods = append(methods, it.Value)
		}
		m["create_replica_methods"] = methods
		pat["standby_cluster"] = m
	}
	pat["watchdog_mode"] = yscalar(t, yget(root, "watchdog", "mode"))
	tags := map[string]any{}
	tn := yget(root, "tags")
	for i := 0; i+1 < len(tn.Content); i += 2 {
		k, v := tn.Content[i].Value, tn.Content[i+1]
		switch k {
		case "nofailover", "clonefrom", "noloadbalance", "nosync":
			tags[k] = yscalar(t, v)
		default:
			tags[k] = v.Value // other tags are text: version 18 equals '18'
		}
	}
	for _, k := range []string{"nofailover", "clonefrom", "noloadbalance", "nosync"} {
		if _, ok := tags[k]; !ok {
			tags[k] = false
		}
	}
	pat["tags"] = tags
	var initdb []any
	for _, it := range yget(root, "bootstrap", "initdb").Content {
		if it.Kind == yaml.MappingNode {
			initdb = append(initdb, it.Content[0].Value+"="+it.Content[1].Value)
		} else {
			initdb = append(initdb, it.Value)
		}
	}
	pat["initdb"] = initdb
	return params, pat
}

// TestPatroniReference: the params and patroni facts of reference/pg-test.json
// are reproduced exactly from the rendered patroni.yml (+ postgresql.auto.conf)
// of all three instances after the README's normalisation.
func TestPatroniReference(t *testing.T) {
	shared := patroniSharedDir(t)
	ref := filepath.Join(shared, "testdata", "reference")
	raw, err := os.ReadFile(filepath.Join(ref, "pg-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	f := patroniCompile(t, nil, filepath.Join(ref, "pg-test.yml"))
	files := patroniFiles(t, f)
	for _, inst := range []string{"pg-test-1", "pg-test-2", "pg-test-3"} {
		t.Run(inst, func(t *testing.T) {
			p, ok := files["pg-test/"+inst+"/patroni.yml"]
			if !ok {
				t.Fatalf("no patroni.yml for %s", inst)
			}
			if p.Mode != ModeSecret {
				t.Errorf("patroni.yml mode %o, want 0600", p.Mode)
			}
			var auto []byte
			if a, ok := files["pg-test/"+inst+"/postgresql.auto.conf"]; ok {
				auto = a.Data
			}
			params, pat := instanceFacts(t, p.Data, auto)
			if d := cmp.Diff(want[inst]["params"], any(params)); d != "" {
				t.Errorf("params differ from the reference (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want[inst]["patroni"], any(pat)); d != "" {
				t.Errorf("patroni facts differ from the reference (-want +got):\n%s", d)
			}
		})
	}
}

// ---- goldens ----

// patroniGoldenCases are the inventories of render/testdata/patroni: the
// reference pg-test (shared), a citus cluster of the corpus (shared), and
// local ones for a standby/delayed cluster with a cascade, the crit template
// and an integer pg_rto with pg_parameters.
var patroniGoldenCases = []struct {
	name     string
	shared   string // path under shared/testdata, or "" for a local input
	vars     []string
	clusters []string
}{
	{name: "reference", shared: "reference/pg-test.yml"},
	{name: "citus", shared: "pigsty-conf/ha/citus.yml", vars: []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"},
		clusters: []string{"pg-citus1", "pg-citus2"}},
	{name: "standby"},
	{name: "crit"},
	{name: "rto-int"},
}

func TestPatroniGoldens(t *testing.T) {
	update := os.Getenv("PGCC_UPDATE") == "1"
	for _, tc := range patroniGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join("testdata", "patroni", "inputs", tc.name+".yml")
			if tc.shared != "" {
				in = filepath.Join(patroniSharedDir(t), "testdata", tc.shared)
			}
			f := patroniCompile(t, tc.vars, in)
			files := patroniFiles(t, f, tc.clusters...)
			if len(files) == 0 {
				t.Fatal("no patroni files rendered")
			}
			dir := filepath.Join("testdata", "patroni", tc.name)
			if update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for p, file := range files {
				if !bytes.HasSuffix(file.Data, []byte("\n")) || bytes.Contains(file.Data, []byte("\r")) {
					t.Errorf("%s: not LF-terminated lines", p)
				}
				golden := filepath.Join(dir, filepath.FromSlash(p))
				seen[golden] = true
				if update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, file.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				wantData, err := os.ReadFile(golden)
				if err != nil {
					t.Errorf("%s: %v (run PGCC_UPDATE=1 go test ./render)", p, err)
					continue
				}
				if d := cmp.Diff(string(wantData), string(file.Data)); d != "" {
					t.Errorf("%s differs from %s (-golden +rendered):\n%s", p, golden, d)
				}
			}
			if update {
				return
			}
			if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && !seen[p] {
					t.Errorf("golden %s was not rendered", p)
				}
				return nil
			}); err != nil {
				t.Fatalf("listing goldens: %v", err)
			}
			// Determinism: a second render gives the same bytes.
			again := patroniFiles(t, patroniCompile(t, tc.vars, in), tc.clusters...)
			for p, file := range files {
				if !bytes.Equal(file.Data, again[p].Data) {
					t.Errorf("%s: second render differs", p)
				}
			}
		})
	}
}

// TestPatroniDetails pins values of the local inputs that the goldens show
// but a reader might not spot (literal expectations, patroni.md §2–§7).
func TestPatroniDetails(t *testing.T) {
	load := func(name string) map[string]*yaml.Node {
		f := patroniCompile(t, nil, filepath.Join("testdata", "patroni", "inputs", name+".yml"))
		out := map[string]*yaml.Node{}
		for p, file := range patroniFiles(t, f) {
			if strings.HasSuffix(p, "/patroni.yml") {
				out[filepath.Base(filepath.Dir(p))] = yamlDoc(t, file.Data)
			}
		}
		return out
	}
	str := func(n *yaml.Node) string {
		if n == nil {
			return "<absent>"
		}
		if n.Kind != yaml.ScalarNode {
			b, _ := yaml.Marshal(n)
			return strings.TrimSpace(string(b))
		}
		return n.Value
	}
	for _, c := range []struct {
		file, inst string
		path       []string
		want       string
	}{
		// standby cluster with a delay: the leader replicates from pg_upstream.
		{"standby", "pg-delay-1", []string{"bootstrap", "dcs", "standby_cluster", "host"}, "10.10.10.11"},
		{"standby", "pg-delay-1", []string{"bootstrap", "dcs", "standby_cluster", "port"}, "5432"},
		{"standby", "pg-delay-1", []string{"bootstrap", "dcs", "standby_cluster", "recovery_min_apply_delay"}, "1h"},
		{"standby", "pg-delay-1", []string{"tags", "replicatefrom"}, "10.10.10.11"},
		{"standby", "pg-delay-2", []string{"bootstrap", "dcs", "standby_cluster"}, "<absent>"},
		// cascade replica: only tags.replicatefrom.
		{"standby", "pg-delay-3", []string{"tags", "replicatefrom"}, "10.10.10.22"},
		{"standby", "pg-delay-3", []string{"bootstrap", "dcs", "standby_cluster"}, "<absent>"},
		// pg_rpo 0 → synchronous_mode on oltp; PG 16 → no builtin locale, no io_method.
		{"standby", "pg-src-1", []string{"bootstrap", "dcs", "synchronous_mode"}, "true"},
		{"standby", "pg-src-1", []string{"bootstrap", "dcs", "synchronous_mode_strict"}, "false"},
		{"standby", "pg-src-1", []string{"bootstrap", "dcs", "postgresql", "parameters", "io_method"}, "<absent>"},
		// crit: watchdog automatic, strict sync, 16 log files, checksums forced, no gather.
		{"crit", "pg-crit-1", []string{"watchdog", "mode"}, "automatic"},
		{"crit", "pg-crit-1", []string{"bootstrap", "dcs", "synchronous_mode"}, "true"},
		{"crit", "pg-crit-1", []string{"bootstrap", "dcs", "synchronous_mode_strict"}, "true"},
		{"crit", "pg-crit-1", []string{"log", "file_num"}, "16"},
		{"crit", "pg-crit-1", []string{"bootstrap", "initdb"}, "- data-checksums\n- encoding: UTF8\n- locale: en_US.UTF-8\n- lc-collate: C\n- lc-ctype: C"},
		{"crit", "pg-crit-1", []string{"bootstrap", "dcs", "postgresql", "parameters", "max_parallel_workers_per_gather"}, "0"},
		{"crit", "pg-crit-1", []string{"bootstrap", "dcs", "postgresql", "parameters", "vacuum_defer_cleanup_age"}, "500000"},
		{"crit", "pg-crit-1", []string{"ctl", "insecure"}, "false"},
		{"crit", "pg-crit-1", []string{"restapi", "verify_client"}, "none"},
		{"crit", "pg-crit-1", []string{"postgresql", "listen"}, "10.10.10.41,10.10.10.4,127.0.0.1:5432"},
		{"crit", "pg-crit-1", []string{"postgresql", "create_replica_methods"}, "- basebackup\n- pgbackrest"},
		{"crit", "pg-crit-1", []string{"postgresql", "authentication", "superuser", "password"}, "DBUser: \"Postgres\" #1"},
		// integer pg_rto 31: ttl 31, ceil(31/3) = 11, norm's safety margin.
		{"rto-int", "pg-rto-1", []string{"bootstrap", "dcs", "ttl"}, "31"},
		{"rto-int", "pg-rto-1", []string{"bootstrap", "dcs", "loop_wait"}, "11"},
		{"rto-int", "pg-rto-1", []string{"bootstrap", "dcs", "retry_timeout"}, "11"},
		{"rto-int", "pg-rto-1", []string{"bootstrap", "dcs", "primary_start_timeout"}, "11"},
		{"rto-int", "pg-rto-1", []string{"watchdog", "safety_margin"}, "5"},
		{"rto-int", "pg-rto-1", []string{"watchdog", "mode"}, "required"},
		{"rto-int", "pg-rto-1", []string{"bootstrap", "initdb"}, "- no-data-checksums\n- encoding: UTF8\n- locale-provider: builtin\n- builtin-locale: C.UTF-8\n- lc-collate: C\n- lc-ctype: C"},
		{"rto-int", "pg-rto-1", []string{"postgresql", "create_replica_methods"}, "- basebackup"},
		{"rto-int", "pg-rto-1", []string{"postgresql", "pgbackrest"}, "<absent>"},
		{"rto-int", "pg-rto-1", []string{"bootstrap", "dcs", "postgresql", "parameters", "archive_mode"}, "<absent>"},
		{"rto-int", "pg-rto-1", []string{"bootstrap", "dcs", "postgresql", "parameters", "cron.database_name"}, "app"},
		{"rto-int", "pg-rto-1", []string{"etcd3", "password"}, "etcd: secret"},
		{"rto-int", "pg-rto-1", []string{"etcd3", "hosts"}, "10.10.10.10:2379,10.10.10.100:2379,10.10.10.9:2379"},
		{"rto-int", "pg-rto-1", []string{"restapi", "allowlist"}, "- 10.10.10.10\n- 10.10.10.100\n- 10.10.10.51\n- 10.10.10.52"},
	} {
		docs := load(c.file)
		got := str(yget(docs[c.inst], c.path...))
		if got != c.want {
			t.Errorf("%s %s %s = %q, want %q", c.file, c.inst, strings.Join(c.path, "."), got, c.want)
		}
	}
}

// TestAutoConf: pg_parameters in inventory order, quoted (tuning.md §7), and
// no file when empty.
func TestAutoConf(t *testing.T) {
	f := patroniCompile(t, nil, filepath.Join("testdata", "patroni", "inputs", "rto-int.yml"))
	files := patroniFiles(t, f)
	got := string(files["pg-rto/pg-rto-1/postgresql.auto.conf"].Data)
	want := `# pgcc: postgresql.auto.conf for pg-rto-1 (cluster pg-rto): pg_parameters
work_mem = '128MB'
cron.database_name = 'app'
search_path = '"$user", public'
shared_preload_libraries = 'pg_stat_statements, auto_explain'
log_destination = csvlog
statement_timeout = '30000'
jit = 'off'
random_page_cost = '1.5'
application_name = 'it''s \\ a test'
`
	if got != want {
		t.Errorf("postgresql.auto.conf:\n%s\nwant:\n%s", got, want)
	}
	ref := patroniCompile(t, nil, filepath.Join("testdata", "patroni", "inputs", "crit.yml"))
	for p := range patroniFiles(t, ref) {
		if strings.HasSuffix(p, "postgresql.auto.conf") {
			t.Errorf("%s written for empty pg_parameters", p)
		}
	}
}

func TestConfValue(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"work_mem", "64MB", "'64MB'"},
		{"shared_preload_libraries", "pg_stat_statements, auto_explain", "'pg_stat_statements, auto_explain'"},
		{"shared_preload_libraries", "citus", "citus"},
		{"search_path", `'"$user", public'`, `'"$user", public'`},
		{"log_destination", "csvlog", "csvlog"},
		{"application_name", "a'b\\c", `'a''b\\c'`},
		{"Search_Path", "public", "public"},
	} {
		got, err := ConfValue(c.name, c.in)
		if err != nil || got != c.want {
			t.Errorf("ConfValue(%s, %q) = %s, %v; want %s", c.name, c.in, got, err, c.want)
		}
	}
	if _, err := ConfValue("x", "a\nb"); err == nil {
		t.Error("newline accepted")
	}
}

func ExamplePatroniYAML() {
	res := compiler.Compile(compiler.Options{Names: []string{"inv.yml"}, Datas: [][]byte{[]byte(`all:
  vars: { admin_ip: 10.10.10.10 }
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    pg-x:
      vars: { pg_cluster: pg-x, node_cpu: 2, node_mem_mb: 2048, node_disk_gb: 20 }
      hosts: { 10.10.10.11: { pg_seq: 1, pg_role: primary } }
`)}})
	cl := res.Fleet.Cluster("pg-x")
	data, _ := PatroniYAML(res.Fleet, cl, cl.Primary)
	root := map[string]any{}
	_ = yaml.Unmarshal(data, &root)
	fmt.Println(strings.SplitN(string(data), "\n", 2)[0])
	fmt.Println(root["watchdog"])
	// Output:
	// # pgcc: patroni.yml for pg-x-1 (cluster pg-x)
	// map[device:/dev/watchdog mode:off safety_margin:5]
}

func BenchmarkPatroniYAML(b *testing.B) {
	f := patroniCompile(b, nil, filepath.Join("testdata", "patroni", "inputs", "rto-int.yml"))
	cl := f.Cluster("pg-rto")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, m := range cl.Members {
			if _, err := PatroniYAML(f, cl, m); err != nil {
				b.Fatal(err)
			}
			if _, err := AutoConf(cl, m); err != nil {
				b.Fatal(err)
			}
		}
	}
}
