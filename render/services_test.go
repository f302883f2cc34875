package render

// Tests of the pooling and service renderers (pgbouncer, HAProxy,
// vip-manager, pgBackRest): reference facts read back from the files,
// goldens, and literal expectations for selectors and delegation. The
// real-daemon oracles are in services_daemon_test.go.

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
)

// svcRepoRoot is the repository root (computed from this file).
func svcRepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// svcShared is ../shared next to the repository, or skips.
func svcShared(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(svcRepoRoot(), "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (it is not part of the repository): %v", dir, err)
	}
	return dir
}

// svcRand is a deterministic salt source, so userlist.txt goldens are stable.
func svcRand() *rand.ChaCha8 {
	var s [32]byte
	copy(s[:], "pgcc services test salt source..")
	return rand.NewChaCha8(s)
}

func svcCompile(t testing.TB, opts compiler.Options) *compiler.Fleet {
	t.Helper()
	res := compiler.Compile(opts)
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile: %s", errs.Error())
	}
	return res.Fleet
}

// svcRender runs only this area's renderers (haproxy, pgbouncer,
// vip-manager, pgbackrest) so the tests do not depend on the others.
func svcRender(t testing.TB, f *compiler.Fleet) map[string]File {
	t.Helper()
	ctx := &Context{Fleet: f, Opts: Options{Previous: func(string) []byte { return nil }, Rand: svcRand()}}
	out := map[string]File{}
	add := func(fs []File, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		for _, file := range fs {
			if _, dup := out[file.Path]; dup {
				t.Fatalf("two files %s", file.Path)
			}
			out[file.Path] = file
		}
	}
	for _, cl := range f.Clusters {
		add(renderHAProxy(ctx, cl))
		add(renderPgbouncer(ctx, cl))
		add(renderVIPManager(ctx, cl))
		add(renderPgBackRest(ctx, cl))
	}
	add(renderDelegatedServices(ctx, f.Clusters))
	return out
}

func svcReference(t testing.TB, vars ...string) (*compiler.Fleet, map[string]File) {
	t.Helper()
	f := svcCompile(t, compiler.Options{Files: []string{filepath.Join(svcShared(t), "testdata", "reference", "pg-test.yml")}, Vars: vars})
	return f, svcRender(t, f)
}

// ---- HAProxy: words and facts ----

// hpWords splits an HAProxy configuration line into words (configuration.txt
// §2.2): blanks separate, `#` starts a comment, `\` escapes outside single
// quotes, quotes group.
func hpWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, sq, dq := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"' && !sq:
			dq, in = !dq, true
		case c == '\'' && !dq:
			sq, in = !sq, true
		case c == '\\' && !sq && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			in = true
		case (c == ' ' || c == '\t') && !sq && !dq:
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '#' && !sq && !dq:
			if in {
				words = append(words, cur.String())
			}
			return words
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// hpMillis reads an HAProxy time (default unit ms) as milliseconds.
func hpMillis(t testing.TB, s string) float64 {
	t.Helper()
	units := []struct {
		suf string
		mul float64
	}{{"us", 0.001}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			n, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suf), 64)
			if err != nil || strings.Contains(s, ".") {
				t.Fatalf("bad HAProxy time %q", s)
			}
			return n * u.mul
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad HAProxy time %q", s)
	}
	return float64(n)
}

// defaultServerFacts normalises default-server options as the reference
// README says: sorted by keyword, times in ms.
func defaultServerFacts(t testing.TB, args []string) (string, float64) {
	t.Helper()
	type opt struct{ k, v string }
	var opts []opt
	weight := 1.0 // HAProxy's default
	for i := 0; i < len(args); i++ {
		k := args[i]
		switch k {
		case "inter", "fastinter", "downinter", "slowstart":
			i++
			opts = append(opts, opt{k, strconv.FormatFloat(hpMillis(t, args[i]), 'f', -1, 64)})
		case "rise", "fall", "maxconn", "maxqueue", "weight", "on-marked-down", "port", "minconn":
			i++
			opts = append(opts, opt{k, args[i]})
			if k == "weight" {
				weight, _ = strconv.ParseFloat(args[i], 64)
			}
		default:
			opts = append(opts, opt{k, ""})
		}
	}
	sort.SliceStable(opts, func(a, b int) bool { return opts[a].k < opts[b].k })
	var parts []string
	for _, o := range opts {
		parts = append(parts, strings.TrimSpace(o.k+" "+o.v))
	}
	return strings.Join(parts, " "), weight
}

// serviceFacts reads the listen sections of service files back into the
// reference "services" facts.
func serviceFacts(t testing.TB, data []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	var cur map[string]any
	var servers []any
	var checkPorts []float64
	var defWeight float64 = 1
	var rawServers [][]string
	flush := func() {
		if cur == nil {
			return
		}
		for _, w := range rawServers {
			weight := defWeight
			backup := false
			for i := 3; i < len(w); i++ {
				switch w[i] {
				case "weight":
					weight, _ = strconv.ParseFloat(w[i+1], 64)
				case "backup":
					backup = true
				case "port":
					p, _ := strconv.ParseFloat(w[i+1], 64)
					checkPorts = append(checkPorts, p)
				}
			}
			servers = append(servers, []any{w[1], w[2], weight, backup})
		}
		cur["servers"] = servers
		if len(checkPorts) > 0 {
			same := true
			for _, p := range checkPorts {
				same = same && p == checkPorts[0]
			}
			if same {
				cur["check_port"] = checkPorts[0]
			}
		}
		if _, ok := cur["balance"]; !ok {
			cur["balance"] = "roundrobin"
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		w := hpWords(sc.Text())
		if len(w) == 0 {
			continue
		}
		switch {
		case w[0] == "listen":
			flush()
			cur, servers, checkPorts, defWeight, rawServers = map[string]any{}, []any{}, nil, 1, nil
			out[w[1]] = cur
		case cur == nil:
		case w[0] == "bind":
			host, port, _ := strings.Cut(w[1], ":")
			if host == "" || host == "0.0.0.0" {
				host = "*"
			}
			cur["bind"] = host + ":" + port
		case w[0] == "maxconn":
			n, _ := strconv.ParseFloat(w[1], 64)
			cur["maxconn"] = n
		case w[0] == "balance":
			cur["balance"] = w[1]
		case w[0] == "http-check" && len(w) > 1 && w[1] == "send":
			for i := 2; i+1 < len(w); i++ {
				if w[i] == "uri" {
					cur["check"] = w[i+1]
				}
			}
		case w[0] == "option" && len(w) > 2 && w[1] == "httpchk":
			cur["check"] = w[len(w)-1]
		case w[0] == "default-server":
			cur["default_server"], defWeight = defaultServerFacts(t, w[1:])
		case w[0] == "server":
			rawServers = append(rawServers, w)
		}
	}
	flush()
	return out
}

// ---- pgbouncer facts ----

// iniSections reads a pgbouncer-style ini file: section → ordered key/values.
func iniSections(data []byte) map[string][][2]string {
	out := map[string][][2]string{}
	sec := ""
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == ';' || l[0] == '#' || l[0] == '%':
		case l[0] == '[':
			sec = strings.Trim(l, "[]")
		default:
			k, v, _ := strings.Cut(l, "=")
			out[sec] = append(out[sec], [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out
}

// connString parses pgbouncer's key=value connection string (values may be
// single-quoted with ” for ').
func connString(t testing.TB, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			t.Fatalf("bad connection string %q", s)
		}
		k := s[i : i+eq]
		i += eq + 1
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						v.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				v.WriteByte(s[i])
				i++
			}
		} else {
			for i < len(s) && s[i] != ' ' {
				v.WriteByte(s[i])
				i++
			}
		}
		out[k] = v.String()
	}
	return out
}

// numOrString turns digits into a float64 (reference numbers), else keeps text.
func numOrString(s string) any {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return n
	}
	return s
}

func pgbouncerDBFacts(t testing.TB, ini, dbtxt []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	lines := append(iniSections(ini)["databases"], iniSections(dbtxt)[""]...)
	for _, kv := range lines {
		m := map[string]any{"port": 5432.0, "dbname": kv[0]}
		for k, v := range connString(t, kv[1]) {
			m[k] = numOrString(v)
		}
		out[kv[0]] = m
	}
	return out
}

func pgbouncerUserFacts(t testing.TB, ini, useropts []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	lines := append(iniSections(ini)["users"], iniSections(useropts)[""]...)
	for _, kv := range lines {
		m := map[string]any{}
		for k, v := range connString(t, kv[1]) {
			m[k] = numOrString(v)
		}
		out[kv[0]] = m
	}
	return out
}

// pgbouncerIniFacts normalises [pgbouncer] as the reference README says:
// comma lists sorted, 0/1 booleans, numbers; unset keys are pgbouncer's defaults.
func pgbouncerIniFacts(ini []byte) map[string]any {
	lists := map[string]bool{"admin_users": true, "stats_users": true, "listen_addr": true, "ignore_startup_parameters": true}
	bools := map[string]bool{"application_name_add_host": true, "server_reset_query_always": true, "server_round_robin": true,
		"log_connections": true, "log_disconnections": true}
	out := map[string]any{"auth_query": "<pgbouncer default>", "auth_user": nil}
	for _, kv := range iniSections(ini)["pgbouncer"] {
		k, v := kv[0], kv[1]
		switch {
		case lists[k]:
			var l []any
			var items []string
			for _, x := range strings.Split(v, ",") {
				if x = strings.TrimSpace(x); x != "" {
					items = append(items, x)
				}
			}
			sort.Strings(items)
			for _, x := range items {
				l = append(l, x)
			}
			out[k] = l
		case bools[k]:
			out[k] = v == "1"
		default:
			out[k] = numOrString(v)
		}
	}
	return out
}

// vipFacts reads vip-manager.yml (numbers as float64, as JSON decodes them).
func vipFacts(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("vip-manager.yml: %v", err)
	}
	return jsonRoundTrip(t, m).(map[string]any)
}

func jsonRoundTrip(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// onlyKeys keeps the keys of got that want has (the README: only the keys
// present in the JSON are compared).
func onlyKeys(got, want map[string]any) map[string]any {
	out := map[string]any{}
	for k := range want {
		if v, ok := got[k]; ok {
			out[k] = v
		}
	}
	return out
}

// TestServicesReferenceFacts: the services, pgbouncer and vip facts of
// reference/pg-test.json, read back from the rendered files of each instance.
func TestServicesReferenceFacts(t *testing.T) {
	f, files := svcReference(t)
	raw, err := os.ReadFile(filepath.Join(svcShared(t), "testdata", "reference", "pg-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]map[string]any
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	cl := f.Cluster("pg-test")
	if len(cl.Members) != 3 {
		t.Fatalf("members: %d", len(cl.Members))
	}
	for _, m := range cl.Members {
		want := ref[m.Name]
		dir := path.Join(cl.Name, m.Name)
		get := func(p string) []byte {
			file, ok := files[path.Join(dir, p)]
			if !ok {
				t.Fatalf("%s: no %s", m.Name, p)
			}
			return file.Data
		}
		// services: every <cluster>-<service>.cfg of the instance's haproxy dir.
		services := map[string]any{}
		for p, file := range files {
			if path.Dir(p) == path.Join(dir, "haproxy") && path.Base(p) != "haproxy.cfg" {
				for k, v := range serviceFacts(t, file.Data) {
					services[k] = v
				}
			}
		}
		got := map[string]any{
			"services":       services,
			"pgbouncer_db":   pgbouncerDBFacts(t, get("pgbouncer/pgbouncer.ini"), get("pgbouncer/database.txt")),
			"pgbouncer_user": pgbouncerUserFacts(t, get("pgbouncer/pgbouncer.ini"), get("pgbouncer/useropts.txt")),
			"pgbouncer_ini":  onlyKeys(pgbouncerIniFacts(get("pgbouncer/pgbouncer.ini")), want["pgbouncer_ini"].(map[string]any)),
			"vip":            onlyKeys(vipFacts(t, get("vip-manager.yml")), want["vip"].(map[string]any)),
		}
		for _, k := range []string{"services", "pgbouncer_db", "pgbouncer_user", "pgbouncer_ini", "vip"} {
			if diff := cmp.Diff(want[k], jsonRoundTrip(t, got[k])); diff != "" {
				t.Errorf("%s %s (-reference +pgcc):\n%s", m.Name, k, diff)
			}
		}
	}
}

// TestServicesGolden compares every file of these renderers for the example
// inventory and a delegating inventory with render/testdata/services/
// (PGCC_UPDATE=1 rewrites them).
func TestServicesGolden(t *testing.T) {
	inputs := map[string]compiler.Options{
		"example":   {Files: []string{filepath.Join(svcRepoRoot(), "examples", "pigsty.yml")}},
		"delegated": {Names: []string{"delegated.yml"}, Datas: [][]byte{[]byte(delegatedInventory)}},
	}
	for _, name := range []string{"example", "delegated"} {
		t.Run(name, func(t *testing.T) {
			opts := inputs[name]
			if len(opts.Files) > 0 {
				if _, err := os.Stat(opts.Files[0]); err != nil {
					t.Skipf("no example inventory: %v", err)
				}
			}
			files := svcRender(t, svcCompile(t, opts))
			root := filepath.Join("testdata", "services", name)
			if os.Getenv("PGCC_UPDATE") == "1" {
				if err := os.RemoveAll(root); err != nil {
					t.Fatal(err)
				}
				for p, file := range files {
					dst := filepath.Join(root, filepath.FromSlash(p))
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(dst, file.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var want []string
			err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				want = append(want, filepath.ToSlash(rel))
				return nil
			})
			if err != nil {
				t.Fatalf("%v (run PGCC_UPDATE=1 go test ./render -run TestServicesGolden)", err)
			}
			var got []string
			for p := range files {
				got = append(got, p)
			}
			sort.Strings(got)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("file list (-golden +rendered):\n%s", diff)
			}
			for _, p := range got {
				data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(data), string(files[p].Data)); diff != "" {
					t.Errorf("%s (-golden +rendered; PGCC_UPDATE=1 to accept):\n%s", p, diff)
				}
			}
		})
	}
}

// delegatedInventory: two clusters delegating to the proxy group, one of
// them with a numeric-string dest and a custom service; a third cluster
// renders locally with haproxy disabled on one member.
const delegatedInventory = `all:
  children:
    infra: { hosts: { 10.10.10.10: { infra_seq: 1 } } }
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    proxy: { hosts: { 10.10.10.2: {}, 10.10.10.3: {} } }
    pg-a:
      hosts:
        10.10.10.21: { pg_seq: 1, pg_role: replica }
        10.10.10.22: { pg_seq: 2, pg_role: primary }
      vars:
        pg_cluster: pg-a
        pg_service_provider: proxy
        pg_rto: fast
    pg-b:
      hosts:
        10.10.10.31: { pg_seq: 1, pg_role: primary, patroni_ssl_enabled: true }
        10.10.10.32: { pg_seq: 2, pg_role: replica, pg_weight: 0 }
      vars:
        pg_cluster: pg-b
        pg_service_provider: proxy
        pg_rto: safe
        pg_default_services:
          - { name: primary ,port: 6433 ,dest: '6543' ,check: /primary ,selector: "[]" }
          - { name: replica ,port: 6434 ,dest: pgbouncer ,check: '/replica?lag=1MB' ,selector: "[? pg_role == 'replica' ]" ,backup: "[? pg_role == 'primary' ]" ,ip: 10.10.10.2 ,maxconn: 100 ,balance: leastconn ,options: 'inter 1s fall 2' }
    pg-c:
      hosts:
        10.10.10.41: { pg_seq: 1, pg_role: primary, haproxy_enabled: false }
        10.10.10.42: { pg_seq: 2, pg_role: replica, pg_default_service_dest: postgres, node_id_from_pg: false, nodename: node-42 }
      vars:
        pg_cluster: pg-c
        pg_rto: 45
        pgbouncer_auth_query: true
        pg_databases:
          - { name: app ,pool_auth_user: dbuser_monitor ,pool_mode: session ,pool_size_min: 2 }
          - { name: gone ,state: absent }
        pg_users:
          - { name: app ,password: 'SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$c3RvcmVkc3RvcmVkc3RvcmVkc3RvcmVkc3RvcmVkc3Q=:c2VydmVyc2VydmVyc2VydmVyc2VydmVyc2VydmVyc2U=' ,pgbouncer: true ,pool_connlimit: -1 }
        pg_port: 5532
        pgbouncer_version: '1.18'
        pg_vip_enabled: true
        pg_vip_address: 10.10.10.49
        pg_vip_interface: auto
        pgbackrest_method: minio
  vars:
    admin_ip: 10.10.10.10
    node_cpu: 16
    node_mem_mb: 16384
    node_disk_gb: 100
    node_interface: eth0
`

// TestDelegatedServices: with pg_service_provider the services are written
// once under haproxy/<group>/ from the primary's point of view, and the
// instances keep only their main haproxy.cfg.
func TestDelegatedServices(t *testing.T) {
	files := svcRender(t, svcCompile(t, compiler.Options{Names: []string{"delegated.yml"}, Datas: [][]byte{[]byte(delegatedInventory)}}))
	var hp []string
	for p := range files {
		if strings.Contains(p, "haproxy") {
			hp = append(hp, p)
		}
	}
	sort.Strings(hp)
	want := []string{
		"haproxy/proxy/pg-a-default.cfg", "haproxy/proxy/pg-a-offline.cfg", "haproxy/proxy/pg-a-primary.cfg", "haproxy/proxy/pg-a-replica.cfg",
		"haproxy/proxy/pg-b-primary.cfg", "haproxy/proxy/pg-b-replica.cfg",
		"pg-a/pg-a-1/haproxy/haproxy.cfg", "pg-a/pg-a-2/haproxy/haproxy.cfg",
		"pg-b/pg-b-1/haproxy/haproxy.cfg", "pg-b/pg-b-2/haproxy/haproxy.cfg",
		"pg-c/pg-c-2/haproxy/haproxy.cfg",
		"pg-c/pg-c-2/haproxy/pg-c-default.cfg", "pg-c/pg-c-2/haproxy/pg-c-offline.cfg", "pg-c/pg-c-2/haproxy/pg-c-primary.cfg", "pg-c/pg-c-2/haproxy/pg-c-replica.cfg",
	}
	if diff := cmp.Diff(want, hp); diff != "" {
		t.Errorf("haproxy files (-want +got):\n%s", diff)
	}
	// pg-a: rendered from the primary (pg-a-2, 10.10.10.22), fast plan timings in whole ms.
	wantA := `# pgcc: service pg-a-replica for cluster pg-a
# service: pg-a-replica @ 10.10.10.22:5434
# service instances 10.10.10.21, 10.10.10.22
# service backups   10.10.10.22
listen pg-a-replica
    bind *:5434
    mode tcp
    maxconn 5000
    balance roundrobin
    option httpchk
    option http-keep-alive
    http-check send meth OPTIONS uri /read-only
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100

    # servers
    server pg-a-1 10.10.10.21:6432 check port 8008 weight 100
    server pg-a-2 10.10.10.22:6432 check port 8008 weight 100 backup
`
	if diff := cmp.Diff(wantA, string(files["haproxy/proxy/pg-a-replica.cfg"].Data)); diff != "" {
		t.Errorf("pg-a-replica (-want +got):\n%s", diff)
	}
	// pg-b: numeric-string dest '6543' is port 6543 (Pigsty: 5432); check-ssl on the SSL member.
	wantB := []string{
		"    server pg-b-1 10.10.10.31:6543 check-ssl ca-file /pg/cert/ca.crt check port 8008 weight 100",
		"    server pg-b-2 10.10.10.32:6543 check port 8008 weight 0",
	}
	if diff := cmp.Diff(wantB, svcServerLines(files["haproxy/proxy/pg-b-primary.cfg"].Data)); diff != "" {
		t.Errorf("pg-b-primary servers (-want +got):\n%s", diff)
	}
	// A custom service: ip, maxconn, balance, options, a quoted check URI,
	// backup-only primary listed last.
	gotB := string(files["haproxy/proxy/pg-b-replica.cfg"].Data)
	for _, l := range []string{
		"    bind 10.10.10.2:6434\n", "    maxconn 100\n", "    balance leastconn\n",
		"    http-check send meth OPTIONS uri '/replica?lag=1MB'\n", "    default-server inter 1s fall 2\n",
		"    server pg-b-2 10.10.10.32:6432 check port 8008 weight 0\n    server pg-b-1 10.10.10.31:6432 check-ssl ca-file /pg/cert/ca.crt check port 8008 weight 100 backup\n",
	} {
		if !strings.Contains(gotB, l) {
			t.Errorf("pg-b-replica lacks %q:\n%s", l, gotB)
		}
	}
	// pg-c: local services seen from pg-c-2 (dest default → its postgres at 5532),
	// integer pg_rto → norm timings; node name from nodename.
	gotC := string(files["pg-c/pg-c-2/haproxy/pg-c-primary.cfg"].Data)
	for _, l := range []string{
		"    default-server inter 2s fastinter 1s downinter 2s rise 3 fall 3 on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100\n",
		"    server pg-c-1 10.10.10.41:5532 check port 8008 weight 100\n",
	} {
		if !strings.Contains(gotC, l) {
			t.Errorf("pg-c-primary lacks %q:\n%s", l, gotC)
		}
	}
	mainC := string(files["pg-c/pg-c-2/haproxy/haproxy.cfg"].Data)
	for _, l := range []string{"    node node-42\n", "    stats uri /haproxy/node-42/\n"} {
		if !strings.Contains(mainC, l) {
			t.Errorf("pg-c-2 haproxy.cfg lacks %q", l)
		}
	}
}

func svcServerLines(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "    server ") {
			out = append(out, l)
		}
	}
	return out
}

// TestPgbouncerDetails: auth_query, version gate, port in database.txt,
// redirect, pass-through verifiers, absent databases, useropts merging.
func TestPgbouncerDetails(t *testing.T) {
	files := svcRender(t, svcCompile(t, compiler.Options{Names: []string{"delegated.yml"}, Datas: [][]byte{[]byte(delegatedInventory)}}))
	ini := string(files["pg-c/pg-c-1/pgbouncer/pgbouncer.ini"].Data)
	for _, l := range []string{
		"auth_user                   = postgres\n",
		"auth_query                  = SELECT username, password FROM monitor.pgbouncer_auth($1)\n",
	} {
		if !strings.Contains(ini, l) {
			t.Errorf("pgbouncer.ini lacks %q", l)
		}
	}
	if strings.Contains(ini, "max_prepared_statements") {
		t.Error("pgbouncer_version 1.18 must not get max_prepared_statements")
	}
	wantDB := "; pgcc: database.txt for pg-c-1 (cluster pg-c)\n" +
		"app                         = host=/var/run/postgresql port=5532 auth_user=dbuser_monitor pool_mode=session min_pool_size=2\n"
	if diff := cmp.Diff(wantDB, string(files["pg-c/pg-c-1/pgbouncer/database.txt"].Data)); diff != "" {
		t.Errorf("database.txt (-want +got):\n%s", diff)
	}
	// auth_query: only dbsu, monitor and admin are listed; app's verifier is not needed.
	ul := files["pg-c/pg-c-1/pgbouncer/userlist.txt"]
	if ul.Mode != ModeSecret {
		t.Errorf("userlist.txt mode %o", ul.Mode)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(ul.Data)), "\n")[1:] {
		names = append(names, strings.Fields(l)[0])
	}
	if diff := cmp.Diff([]string{`"postgres"`, `"dbuser_monitor"`, `"dbuser_dba"`}, names); diff != "" {
		t.Errorf("userlist names (-want +got):\n%s", diff)
	}
	wantOpts := "; pgcc: useropts.txt for pg-c-1 (cluster pg-c)\n" +
		"dbuser_dba                  = pool_mode=session max_user_connections=16\n" +
		"dbuser_monitor              = pool_mode=session max_user_connections=8\n" +
		"app                         = max_user_connections=-1\n"
	if diff := cmp.Diff(wantOpts, string(files["pg-c/pg-c-1/pgbouncer/useropts.txt"].Data)); diff != "" {
		t.Errorf("useropts.txt (-want +got):\n%s", diff)
	}
	// A verifier given in the inventory passes through to userlist.txt.
	inv := strings.Replace(delegatedInventory, "pgbouncer_auth_query: true", "pgbouncer_auth_query: false", 1)
	files = svcRender(t, svcCompile(t, compiler.Options{Names: []string{"d.yml"}, Datas: [][]byte{[]byte(inv)}}))
	want := `"app" "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$c3RvcmVkc3RvcmVkc3RvcmVkc3RvcmVkc3RvcmVkc3Q=:c2VydmVyc2VydmVyc2VydmVyc2VydmVyc2VydmVyc2U="` + "\n"
	if got := string(files["pg-c/pg-c-2/pgbouncer/userlist.txt"].Data); !strings.HasSuffix(got, want) {
		t.Errorf("userlist.txt does not end with the pass-through verifier:\n%s", got)
	}
}

// TestVIPManagerFile: every key of vip-manager.yml, the auto interface from
// the node_interface fact, the mask default, and no file without the fact.
func TestVIPManagerFile(t *testing.T) {
	files := svcRender(t, svcCompile(t, compiler.Options{Names: []string{"delegated.yml"}, Datas: [][]byte{[]byte(delegatedInventory)}}))
	f := files["pg-c/pg-c-2/vip-manager.yml"]
	if f.Mode != ModeSecret {
		t.Errorf("mode %o; want 600", f.Mode)
	}
	want := `# pgcc: vip-manager.yml for pg-c-2 (cluster pg-c)
interval: 1000
trigger-key: /pg/pg-c/leader
trigger-value: pg-c-2
ip: 10.10.10.49
netmask: 24
interface: eth0
hosting-type: basic
dcs-type: etcd
dcs-endpoints:
  - https://10.10.10.10:2379
etcd-ca-file: /pg/cert/ca.crt
etcd-cert-file: /pg/cert/server.crt
etcd-key-file: /pg/cert/server.key
etcd-user: pg-c
etcd-password: pg-c
retry-num: 2
retry-after: 250
verbose: false
`
	if diff := cmp.Diff(want, string(f.Data)); diff != "" {
		t.Errorf("vip-manager.yml (-want +got):\n%s", diff)
	}
	// Without the fact: no file (the compiler warns vip-interface-unknown).
	inv := strings.Replace(delegatedInventory, "    node_interface: eth0\n", "", 1)
	res := compiler.Compile(compiler.Options{Names: []string{"d.yml"}, Datas: [][]byte{[]byte(inv)}})
	var codes []string
	for _, w := range res.Diags.Warnings() {
		if w.Code == "vip-interface-unknown" {
			codes = append(codes, w.Code)
		}
	}
	if len(codes) != 2 {
		t.Errorf("vip-interface-unknown warnings: %v", codes)
	}
	files = svcRender(t, res.Fleet)
	for p := range files {
		if strings.HasSuffix(p, "vip-manager.yml") {
			t.Errorf("%s written without an interface", p)
		}
	}
	// Citus: trigger key with shard and group, etcd user = shard, custom password.
	citus := `all:
  children:
    etcd: { hosts: { 10.10.10.12: { etcd_seq: 2 }, 10.10.10.100: { etcd_seq: 1 } } }
    pg-citus1:
      hosts: { 10.10.10.21: { pg_seq: 1, pg_role: primary } }
      vars: { pg_cluster: pg-citus1, pg_mode: citus, pg_shard: pg-citus, pg_group: 1, pg_vip_enabled: true, pg_vip_address: 10.10.10.29/16, pg_vip_interface: eth1, pg_etcd_password: Etcd.Secret }
  vars: { admin_ip: 10.10.10.10, node_cpu: 1, node_mem_mb: 2048, node_disk_gb: 20, etcd_port: 2399 }
`
	files = svcRender(t, svcCompile(t, compiler.Options{Names: []string{"c.yml"}, Datas: [][]byte{[]byte(citus)}}))
	got := string(files["pg-citus1/pg-citus1-1/vip-manager.yml"].Data)
	for _, l := range []string{"trigger-key: /pg/pg-citus/1/leader\n", "netmask: 16\n", "etcd-user: pg-citus\n", "etcd-password: Etcd.Secret\n",
		"dcs-endpoints:\n  - https://10.10.10.100:2399\n  - https://10.10.10.12:2399\n"} {
		if !strings.Contains(got, l) {
			t.Errorf("citus vip-manager.yml lacks %q:\n%s", l, got)
		}
	}
	// node_cpu 1: process-max floors (backup 2, restore 1).
	br := string(files["pg-citus1/pg-citus1-1/pgbackrest.conf"].Data)
	if !strings.Contains(br, "[global:backup]\nprocess-max=2\n") || !strings.Contains(br, "[global:restore]\nprocess-max=1\n") {
		t.Errorf("process-max for 1 CPU:\n%s", br)
	}
}

func TestBrProcessMax(t *testing.T) {
	for _, tc := range []struct{ cpu, par, restore int }{
		{1, 2, 1}, {2, 2, 2}, {4, 2, 4}, {8, 2, 8}, {9, 3, 8}, {12, 3, 8}, {13, 4, 8}, {16, 4, 8}, {64, 4, 8},
	} {
		if p, r := brProcessMax(tc.cpu); p != tc.par || r != tc.restore {
			t.Errorf("brProcessMax(%d) = %d, %d; want %d, %d", tc.cpu, p, r, tc.par, tc.restore)
		}
	}
}

func TestHAProxyTime(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2s", "2s"}, {"1s", "1s"}, {"0.5s", "500ms"}, {"1.5s", "1500ms"}, {"4s", "4s"},
		{"500ms", "500ms"}, {"2000ms", "2s"}, {"0.25ms", "250us"}, {"10", "10s"},
	} {
		got, err := haproxyTime(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("haproxyTime(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "s", "1e3s", "-1s", "abc"} {
		if got, err := haproxyTime(bad); err == nil {
			t.Errorf("haproxyTime(%q) = %q; want an error", bad, got)
		}
	}
}

// TestPgBackRestMinio: the minio repository in map order, booleans, ${pg_cluster}.
func TestPgBackRestMinio(t *testing.T) {
	files := svcRender(t, svcCompile(t, compiler.Options{Names: []string{"delegated.yml"}, Datas: [][]byte{[]byte(delegatedInventory)}}))
	want := `# pgcc: pgbackrest.conf for pg-c-1 (cluster pg-c)
[pg-c]
pg1-path=/pg/data
pg1-port=5532

[global]
archive-async=y
archive-push-queue-max=4GiB
annotation=pg_cluster=pg-c
expire-auto=y
start-fast=y
compress-type=zst
spool-path=/pg/spool
log-path=/pg/log/pgbackrest
log-level-file=info
log-level-console=info
repo1-type=s3
repo1-s3-endpoint=sss.pigsty
repo1-s3-region=us-east-1
repo1-s3-bucket=pgsql
repo1-s3-key=pgbackrest
repo1-s3-key-secret=S3User.Backup
repo1-s3-uri-style=path
repo1-path=/pgbackrest
repo1-storage-port=9000
repo1-storage-ca-file=/etc/pki/ca.crt
repo1-block=y
repo1-bundle=y
repo1-bundle-limit=20MiB
repo1-bundle-size=128MiB
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=pgBackRest
repo1-retention-full-type=time
repo1-retention-full=14
delta=y

[global:backup]
process-max=4

[global:restore]
process-max=8

[global:archive-get]
process-max=4

[global:archive-push]
process-max=4
`
	f := files["pg-c/pg-c-1/pgbackrest.conf"]
	if diff := cmp.Diff(want, string(f.Data)); diff != "" {
		t.Errorf("pgbackrest.conf (-want +got):\n%s", diff)
	}
	if f.Mode != ModeSecret {
		t.Errorf("mode %o", f.Mode)
	}
	// A user repository: keys in written order, booleans y/n, ${pg_cluster}.
	inv := `all:
  children:
    etcd: { hosts: { 10.10.10.10: { etcd_seq: 1 } } }
    pg-x:
      hosts: { 10.10.10.11: { pg_seq: 1, pg_role: primary } }
      vars:
        pg_cluster: pg-x
        pg_mode: ivory
        pgbackrest_method: nfs
        pgbackrest_repo:
          nfs: { path: '/nfs/${pg_cluster}', retention_full: 3, bundle: true, block: false }
  vars: { admin_ip: 10.10.10.10, node_cpu: 6, node_mem_mb: 2048, node_disk_gb: 20, pg_version: 17 }
`
	files = svcRender(t, svcCompile(t, compiler.Options{Names: []string{"x.yml"}, Datas: [][]byte{[]byte(inv)}}))
	got := string(files["pg-x/pg-x-1/pgbackrest.conf"].Data)
	for _, l := range []string{
		"[pg-x]\npg1-path=/pg/data\npg1-port=5432\narchive-header-check=n\npg-version-force=17\n",
		"repo1-path=/nfs/pg-x\nrepo1-retention-full=3\nrepo1-bundle=y\nrepo1-block=n\ndelta=y\n",
	} {
		if !strings.Contains(got, l) {
			t.Errorf("pgbackrest.conf lacks %q:\n%s", l, got)
		}
	}
	// An unknown method is an error at compile time.
	res := compiler.Compile(compiler.Options{Names: []string{"x.yml"}, Datas: [][]byte{[]byte(strings.Replace(inv, "pgbackrest_method: nfs", "pgbackrest_method: s3", 1))}})
	var errs []string
	for _, e := range res.Diags.Errors() {
		errs = append(errs, e.String())
	}
	if diff := cmp.Diff([]string{`x.yml:9:28: all.children.pg-x.vars.pgbackrest_method: "s3" is not allowed; want nfs`}, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// BenchmarkServicesRender: the HAProxy, pgbouncer, vip-manager and pgBackRest
// renderers on a synthetic 1000-cluster × 3-host fleet (build budget: the
// whole bundle in ≤ 2 s). SCRAM verifiers are computed once per role and
// cluster (shared with roles.sql); the benchmark includes them.
func BenchmarkServicesRender(b *testing.B) {
	res := compiler.Compile(compiler.Options{Names: []string{"fleet.yml"}, Datas: [][]byte{fleetgen.Inventory(1000)}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		svcRender(b, res.Fleet)
	}
}
