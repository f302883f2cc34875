package schema

// Tests of the embedded CUE files themselves (schema/cue/*.cue and pigsty_vars.txt), independent of the
// Go validator: the files compile as one package, `defaults` is concrete and satisfies #Vars, literal
// values are accepted or rejected as inventory.md §4 says, and the Pigsty test corpus passes.

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
	"go.yaml.in/yaml/v3"
)

// loadCUEDir compiles every schema/cue/*.cue file as one package: the files reference each other's
// definitions, so they are merged into one AST before building (building them one by one fails with
// "reference not found").
func loadCUEDir(t *testing.T) (*cue.Context, cue.Value) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("cue", "*.cue"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no cue files: %v", err)
	}
	sort.Strings(names)
	merged := &ast.File{Filename: "pgcc.cue"}
	for i, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(name, data, parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			if _, ok := d.(*ast.Package); ok && i > 0 {
				continue
			}
			merged.Decls = append(merged.Decls, d)
		}
	}
	ctx := cuecontext.New()
	v := ctx.BuildFile(merged)
	if err := v.Err(); err != nil {
		t.Fatalf("build schema: %v", err)
	}
	if err := v.Validate(); err != nil {
		t.Fatalf("validate schema: %v", err)
	}
	return ctx, v
}

func lookupDef(t *testing.T, root cue.Value, path string) cue.Value {
	t.Helper()
	v := root.LookupPath(cue.ParsePath(path))
	if !v.Exists() {
		t.Fatalf("%s not found", path)
	}
	return v
}

// varSchema returns #Vars.<name> the way the Go validator looks it up (an optional field).
func varSchema(t *testing.T, vars cue.Value, name string) cue.Value {
	t.Helper()
	v := vars.LookupPath(cue.MakePath(cue.Str(name).Optional()))
	if !v.Exists() {
		t.Fatalf("#Vars.%s not found", name)
	}
	return v
}

func accepts(ctx *cue.Context, schema cue.Value, src string) error {
	val := ctx.CompileString(src)
	if err := val.Err(); err != nil {
		return err
	}
	return schema.Unify(val).Validate(cue.Concrete(true))
}

func TestCUEFilesVarCases(t *testing.T) {
	ctx, root := loadCUEDir(t)
	vars := lookupDef(t, root, "#Vars")
	cases := []struct {
		name, value string
		ok          bool
	}{
		{"pg_role", `"primary"`, true},
		{"pg_role", `"delayed"`, true},
		{"pg_role", `"master"`, false},
		{"pg_seq", `2`, true},
		{"pg_seq", `"2"`, true},
		{"pg_seq", `"one"`, false},
		{"pg_seq", `-1`, false},
		{"pg_seq", `1.5`, false},
		{"pg_cluster", `"pg-test"`, true},
		{"pg_cluster", `"Pg-test"`, false},
		{"pg_cluster", `"1pg"`, false},
		{"pg_max_conn", `10`, false},
		{"pg_max_conn", `20`, true},
		{"pg_max_conn", `10001`, false},
		{"pg_max_conn", `"auto"`, true},
		{"pg_max_conn", `"500"`, true},
		{"pg_max_conn", `"many"`, false},
		{"pg_version", `12`, false},
		{"pg_version", `13`, true},
		{"pg_version", `19`, true},
		{"pg_version", `20`, false},
		{"pg_version", `"17"`, true},
		{"pg_conf", `"tiny"`, true},
		{"pg_conf", `"crit.yml"`, true},
		{"pg_conf", `"custom.yml"`, false},
		{"pg_rto", `"norm"`, true},
		{"pg_rto", `"fastest"`, true}, // a plan name: checked in Go against pg_rto_plan
		{"pg_rto", `30`, true},
		{"pg_rto", `5`, false},
		{"pg_rto", `3601`, false},
		{"pg_delay", `0`, true},
		{"pg_delay", `"1h"`, true},
		{"pg_delay", `"1d"`, true},
		{"pg_delay", `"1 hour"`, false},
		{"pg_mode", `"citus"`, true},
		{"pg_mode", `"gpsql"`, false},
		{"pg_weight", `0`, true},
		{"pg_weight", `256`, false},
		{"pg_upstream", `"10.10.10.11"`, true},
		{"pg_upstream", `"10.10.10.256"`, false},
		{"pg_upstream", `"pg-test-1"`, false},
		{"pg_shared_buffer_ratio", `0.25`, true},
		{"pg_shared_buffer_ratio", `0.9`, false},
		{"pg_pwd_enc", `"md5"`, false},
		{"pg_libs", `"timescaledb,pg_stat_statements, auto_explain"`, true},
		{"pg_libs", `"$libdir/passwordcheck_cracklib, vchord.so"`, true},
		{"pg_libs", `"a b"`, false},
		{"pg_listen", `"${ip},${vip},${lo}"`, true},
		{"pg_listen", `"0.0.0.0"`, true},
		{"pg_listen", `"localhost"`, false},
		{"pg_data", `"pg/data"`, false},
		{"pg_port", `0`, false},
		{"pg_port", `"5432"`, false},
		{"patroni_watchdog_mode", `"off"`, true},
		{"patroni_watchdog_mode", `"Automatic"`, true},
		{"patroni_watchdog_mode", `false`, true},
		{"patroni_watchdog_mode", `true`, false},
		{"patroni_watchdog_mode", `"on"`, false},
		{"pg_vip_address", `"10.10.10.2/24"`, true},
		{"pg_vip_address", `"10.10.10.2"`, true},
		{"pg_vip_address", `"10.10.10.2/33"`, false},
		{"pg_default_service_dest", `"postgres"`, true},
		{"pg_default_service_dest", `6543`, true},
		{"pg_default_service_dest", `"pgpool"`, false},
		{"pgbouncer_sslmode", `"verify-full"`, true},
		{"pgbouncer_sslmode", `"on"`, false},
		{"pgbouncer_version", `"1.18"`, true},
		{"pgbouncer_version", `1.18`, false},
		{"node_firewall_intranet", `["10.0.0.0/8", "fd00::/8"]`, true},
		{"node_firewall_intranet", `["10.0.0.0"]`, false},
		{"node_cpu", `0`, false},
		{"node_cpu", `4`, true},
		{"node_mem_mb", `128`, false},
		{"node_disk_gb", `"40"`, false},
		{"admin_ip", `"10.10.10.10"`, true},
		{"pg_instances", `{"6000": {pg_seq: 1}}`, true}, // refused by a Go rule with its own message
		{"pg_parameters", `{"cron.database_name": "meta", max_connections: 100}`, true},
		{"pg_parameters", `{"bad key": "x"}`, false},
		{"pg_parameters", `{k: [1]}`, false},
		{"pg_rto_plan", `{quick: [10, 3, 3, 5, 3, "1s", "500ms", "1s", 2, 2]}`, true},
		{"pg_rto_plan", `{quick: [10, 3, 3, 5, 3, "1s", "500ms", "1s", 2]}`, false},
		{"pg_rto_plan", `{quick: [10, 3, 3, 5, 3, "1m", "500ms", "1s", 2, 2]}`, false},
		{"pg_rto_plan", `{quick: [0, 3, 3, 5, 3, "1s", "500ms", "1s", 2, 2]}`, false},
		{"pgbackrest_repo", `{s3: {type: "s3", "repo-path": "/x"}}`, false},
		{"pg_default_privileges", `["GRANT SELECT ON TABLES TO dbrole_readonly", "grant  all privileges on large objects to x with grant option"]`, true},
		{"pg_default_privileges", `["GRANT SELECT ON TABLE foo TO bar"]`, false},
		{"pg_users", `[{name: "dbuser_meta", password: "x", pgbouncer: true, roles: ["dbrole_admin", {name: "pg_monitor", set: false}]}]`, true},
		{"pg_users", `[{name: "dbuser_Meta"}]`, false},
		{"pg_users", `[{name: "u", search_path: "public"}]`, false},
		{"pg_users", `[{password: "x"}]`, false},
		{"pg_users", `[{name: "u", roles: [{name: "r", state: "grant", admin: true, typo: 1}]}]`, false},
		{"pg_users", `[{name: "u", expire_at: "2030-12-31"}, {name: "v", expire_at: "infinity"}, {name: "w", expire_at: "2030-12-31T00:00:00Z"}]`, true},
		{"pg_users", `[{name: "u", expire_at: "31/12/2030"}]`, false},
		{"pg_users", `[{name: "u", connlimit: -2}]`, false},
		{"pg_users", `[{name: "u", backup_tool: "pgbackrest"}]`, false},
		{"pg_databases", `[{name: "meta", baseline: "cmdb.sql", schemas: ["pigsty", {name: "s", owner: "o", state: "absent"}], extensions: ["vector", {name: "postgis", schema: "public", version: "3.5"}], pool_reserve: 8}]`, true},
		{"pg_databases", `[{owner: "x"}]`, false},
		{"pg_databases", `[{name: "meta", pool_size_reserve: 32}]`, false},
		{"pg_databases", `[{name: "meta", pool_size: 0}]`, false},
		{"pg_databases", `[{name: "meta", strategy: "FILE_COPY", locale_provider: "builtin"}]`, true},
		{"pg_databases", `[{name: "meta", extensions: [{name: "x", version: 1.1}]}]`, false},
		{"pg_services", `[{name: "standby", port: 5435, selector: "[]", dest: "6543", ip: "*"}]`, true},
		{"pg_services", `[{name: "standby", selector: "[]"}]`, false},
		{"pg_services", `[{name: "standby", port: 5435, selector: "[]", balance: "weighted"}]`, false},
		{"pg_hba_rules", `[{title: "t", role: "offline", user: "all", db: "all", addr: "intra", auth: "pwd", order: 650}]`, true},
		{"pg_hba_rules", `[{title: "t", role: "", user: "", addr: "world", auth: ""}]`, true},
		{"pg_hba_rules", `[{addr: "intra", auth: "ldap"}]`, false},
		{"pg_hba_rules", `[{addr: "intra", role: "master"}]`, false},
		{"pg_hba_rules", `[{rules: ["host all all 10.0.0.0/8 md5\nlocal all all trust"]}]`, false},
		{"pg_hba_rules", `[{addr: "intra", order: "5"}]`, false},
	}
	for _, c := range cases {
		err := accepts(ctx, varSchema(t, vars, c.name), c.value)
		if (err == nil) != c.ok {
			t.Errorf("#Vars.%s = %s: accepted=%v, want %v (err: %v)", c.name, c.value, err == nil, c.ok, err)
		}
	}
}

func TestCUEFilesObjects(t *testing.T) {
	ctx, root := loadCUEDir(t)
	cases := []struct {
		def, value string
		ok         bool
	}{
		{"#User", `{name: "dbuser_app", pool_mode: "session"}`, true},
		{"#User", `{name: "dbuser_app", unknown: true}`, false},
		{"#User", `{name: "dbuser_app", pool_mode: "none"}`, false},
		{"#Database", `{name: "meta"}`, true},
		{"#Database", `{comment: "no name"}`, false},
		{"#Database", `{name: "1meta"}`, false},
		{"#Service", `{name: "olap", port: 5439, selector: "[]"}`, true},
		{"#Service", `{name: "olap", port: 70000, selector: "[]"}`, false},
		{"#HBARule", `{addr: "intra", auth: "pwd", foo: 1}`, false},
		{"#Schema", `"monitor"`, true},
		{"#Schema", `{owner: "x"}`, false},
		{"#Extension", `{name: "pg_repack"}`, true},
		{"#Extension", `""`, false},
		{"#RtoPlanEntry", `[30, 5, 10, 25, 5, "2s", "1s", "2s", 3, 3]`, true},
		{"#RtoPlanEntry", `[30, 5, 10, 25, 5, "2s", "1s", "2s", 3, 3, 3]`, false},
		// CUE inventory layout: other modules' variables are accepted, known ones are constrained,
		// null vars / hosts / host entries count as empty.
		{"#Inventory", `{all: {vars: {admin_ip: "10.10.10.10", infra_portal: {home: {domain: "i.pigsty"}}}, children: {
			etcd: {hosts: {"10.10.10.10": {etcd_seq: 1}}, vars: {etcd_cluster: "etcd"}},
			minio: {hosts: {"10.10.10.10": null}, vars: null},
			"pg-test": {hosts: {"10.10.10.11": {pg_seq: 1, pg_role: "primary"}}, vars: {pg_cluster: "pg-test"}}}}}`, true},
		{"#Inventory", `{all: {children: {"pg-test": {hosts: {"10.10.10.11": {pg_seq: 1, pg_role: "master"}}}}}}`, false},
		{"#Inventory", `{all: {vars: {admin_ip: "10.10.10"}}}`, false},
		{"#Inventory", `{all: {children: {"pg-test": {host: {}}}}}`, false},
		{"#Inventory", `{all: {varz: {}}}`, false},
	}
	for _, c := range cases {
		err := accepts(ctx, lookupDef(t, root, c.def), c.value)
		if (err == nil) != c.ok {
			t.Errorf("%s & %s: accepted=%v, want %v (err: %v)", c.def, c.value, err == nil, c.ok, err)
		}
	}
}

func TestCUEFilesDefaults(t *testing.T) {
	_, root := loadCUEDir(t)
	d := lookupDef(t, root, "defaults")
	if err := d.Validate(cue.Concrete(true), cue.Final()); err != nil {
		t.Fatalf("defaults not concrete: %v", err)
	}
	vars := lookupDef(t, root, "#Vars")
	if err := vars.Unify(d).Validate(cue.Concrete(true)); err != nil {
		t.Fatalf("defaults do not satisfy #Vars: %v", err)
	}
	// No default for required or derived variables (inventory.md §4).
	for _, n := range []string{"pg_cluster", "pg_seq", "pg_role", "admin_ip", "node_cpu", "node_mem_mb", "node_disk_gb",
		"pg_shard", "pg_stat_monitor_lowmem", "pg_etcd_password", "pg_upstream", "pg_instances", "pgbouncer_redirect_to"} {
		if d.LookupPath(cue.ParsePath(n)).Exists() {
			t.Errorf("defaults.%s exists; it must not have a default", n)
		}
	}
	scalars := []struct{ path, want string }{
		{"pg_version", "18"},
		{"pg_conf", `"oltp.yml"`},
		{"pg_max_conn", `"auto"`},
		{"pg_shared_buffer_ratio", "0.25"},
		{"pg_rto", `"norm"`},
		{"pg_rpo", "1048576"},
		{"pg_libs", `"pg_stat_statements, auto_explain"`},
		{"pg_listen", `"0.0.0.0"`},
		{"patroni_watchdog_mode", `"off"`},
		{"pg_vip_address", `"127.0.0.1/24"`},
		{"pg_vip_interface", `"auto"`},
		{"pg_default_service_dest", `"pgbouncer"`},
		{"pgbouncer_version", `"1.24"`},
		{"pg_replication_password", `"DBUser.Replicator"`},
		{"haproxy_exporter_port", "9101"},
		{"etcd_port", "2379"},
		{"pg_delay", "0"},
		{"pg_group", "0"},
		{"pg_rto_plan.fast", `[20, 5, 5, 15, 5, "1s", "0.5s", "1s", 3, 3]`},
		{"pg_rto_plan.wide", `[120, 20, 30, 95, 15, "4s", "2s", "4s", 3, 3]`},
		{"pg_default_schemas", `["monitor"]`},
		{"node_firewall_intranet", `["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"]`},
		{"pg_default_roles[7].parameters", `{"log_min_duration_statement": 1000}`},
		{"pg_default_hba_rules[7].title", `"admin @ intranet nodes with pwd"`},
		{"pg_default_services[3].backup", "\"[? pg_role == `replica` && !pg_offline_query]\""},
	}
	for _, c := range scalars {
		v := d.LookupPath(cue.ParsePath(c.path))
		got := strings.Join(strings.Fields(fmtCUE(v)), " ")
		if got != strings.Join(strings.Fields(c.want), " ") {
			t.Errorf("defaults.%s = %s, want %s", c.path, got, c.want)
		}
	}
	lens := []struct {
		path string
		n    int
	}{
		{"pg_default_roles", 8}, {"pg_default_privileges", 17}, {"pg_default_extensions", 15},
		{"pg_default_hba_rules", 12}, {"pgb_default_hba_rules", 7}, {"pg_default_services", 4},
		{"pgbouncer_ignore_param", 6}, {"pg_users", 0},
	}
	for _, c := range lens {
		n, err := d.LookupPath(cue.ParsePath(c.path)).Len().Int64()
		if err != nil || int(n) != c.n {
			t.Errorf("len(defaults.%s) = %d (%v), want %d", c.path, n, err, c.n)
		}
	}
	// pgbackrest.conf writes repo entries in map order (pooling-services.md §5): CUE keeps field order.
	var keys []string
	it, err := d.LookupPath(cue.ParsePath("pgbackrest_repo.minio")).Fields()
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
		keys = append(keys, it.Selector().String())
	}
	wantKeys := "type s3_endpoint s3_region s3_bucket s3_key s3_key_secret s3_uri_style path storage_port storage_ca_file block bundle bundle_limit bundle_size cipher_type cipher_pass retention_full_type retention_full"
	if got := strings.Join(keys, " "); got != wantKeys {
		t.Errorf("pgbackrest_repo.minio keys:\n got %s\nwant %s", got, wantKeys)
	}
}

func fmtCUE(v cue.Value) string {
	if !v.Exists() {
		return "<missing>"
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	// One space after each separator, as the expectations are written.
	s := strings.ReplaceAll(string(b), ",", ", ")
	return strings.ReplaceAll(s, `":`, `": `)
}

// readRegistry returns the names of pigsty_vars.txt in file order (comments and blank lines skipped).
func readRegistry(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("cue", "pigsty_vars.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names = append(names, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

var registryPrefixes = []string{"pg_", "pgb_", "pgbouncer_", "pgbackrest_", "patroni_"}

func hasRegistryPrefix(n string) bool {
	for _, p := range registryPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

func TestCUEFilesRegistry(t *testing.T) {
	_, root := loadCUEDir(t)
	names := readRegistry(t)
	set := map[string]bool{}
	for i, n := range names {
		if i > 0 && names[i-1] >= n {
			t.Errorf("pigsty_vars.txt not sorted or duplicated at %q", n)
		}
		if !hasRegistryPrefix(n) {
			t.Errorf("pigsty_vars.txt: %q has none of the checked prefixes", n)
		}
		set[n] = true
	}
	for _, n := range []string{"pg_exporters", "pgbouncer_redirect_to", "pg_stat_monitor_lowmem", "pgbouncer_version", "pg_safeguard", "patroni_mode"} {
		if !set[n] {
			t.Errorf("pigsty_vars.txt lacks %s", n)
		}
	}
	if set["pg_revoke_public"] {
		t.Errorf("pg_revoke_public is not a Pigsty variable (sql.md §6)")
	}
	it, err := lookupDef(t, root, "#Vars").Fields(cue.Optional(true))
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
		n := it.Selector().Unquoted()
		if hasRegistryPrefix(n) && !set[n] {
			t.Errorf("#Vars.%s is not in pigsty_vars.txt", n)
		}
	}
}

// TestCUEFilesCorpus checks that every inventory of the test corpus passes the schema: each file as a
// whole against #Inventory, each known variable against #Vars.<name>, and every checked-prefix
// variable name against the registry.
func TestCUEFilesCorpus(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "testdata")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("test corpus not available at %s: %v", shared, err)
	}
	var files []string
	err := filepath.WalkDir(filepath.Join(shared, "pigsty-conf"), func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && strings.HasSuffix(p, ".yml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(shared, "reference", "pg-test.yml"))
	sort.Strings(files)
	if len(files) < 10 {
		t.Fatalf("only %d corpus files", len(files))
	}
	ctx, root := loadCUEDir(t)
	inv := lookupDef(t, root, "#Inventory")
	vars := lookupDef(t, root, "#Vars")
	known := map[string]bool{}
	it, err := vars.Fields(cue.Optional(true))
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
		known[it.Selector().Unquoted()] = true
	}
	registry := map[string]bool{}
	for _, n := range readRegistry(t) {
		registry[n] = true
	}
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		doc = stringKeys(doc)
		if err := inv.Unify(ctx.Encode(doc)).Validate(cue.Concrete(true)); err != nil {
			t.Errorf("%s: #Inventory: %v", file, err)
		}
		all, _ := doc.(map[string]any)["all"].(map[string]any)
		var layers []map[string]any
		if v, ok := all["vars"].(map[string]any); ok {
			layers = append(layers, v)
		}
		children, _ := all["children"].(map[string]any)
		for _, g := range children {
			gm, _ := g.(map[string]any)
			if v, ok := gm["vars"].(map[string]any); ok {
				layers = append(layers, v)
			}
			hosts, _ := gm["hosts"].(map[string]any)
			for _, h := range hosts {
				if hv, ok := h.(map[string]any); ok {
					layers = append(layers, hv)
				}
			}
		}
		for _, layer := range layers {
			for name, value := range layer {
				if hasRegistryPrefix(name) && !known[name] && !registry[name] {
					t.Errorf("%s: variable %s is not in pigsty_vars.txt", file, name)
				}
				if !known[name] {
					continue
				}
				checked++
				if err := varSchema(t, vars, name).Unify(ctx.Encode(value)).Validate(cue.Concrete(true)); err != nil {
					t.Errorf("%s: %s: %v", file, name, err)
				}
			}
		}
	}
	t.Logf("%d corpus files, %d variable values checked", len(files), checked)
	if checked < 500 {
		t.Errorf("only %d corpus variables checked", checked)
	}
}

// stringKeys turns YAML maps with non-string keys (pg_exporters uses port numbers) into string-keyed
// maps so that cue can encode them.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[strings.TrimSpace(strings.Trim(fmtAny(k), " "))] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
		return x
	}
	return v
}

func fmtAny(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
