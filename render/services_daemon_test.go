package render

// Real-daemon oracles for the pooling and service files (testing.md §4.3,
// §4.4, §4.6): haproxy -c on every instance of the reference and corpus
// inventories, a real PgBouncer 1.18 in front of PostgreSQL 15, pgBackRest
// 2.45 on a scratch server, vip-manager echoing its configuration.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/golden/testenv"
)

// hpCheckSet is one `haproxy -c` invocation: the main file, then the service files sorted.
type hpCheckSet struct {
	name  string
	files []string // bundle paths
}

// haproxyCheckSets groups the rendered HAProxy files as HAProxy loads them:
// per instance (main + its services) and per provider group (the primary's
// main file of a delegating cluster + the group's files).
func haproxyCheckSets(f *compiler.Fleet, files map[string]File) []hpCheckSet {
	var sets []hpCheckSet
	groups := map[string]string{} // provider group → a main file
	for _, cl := range f.Clusters {
		for _, m := range cl.Members {
			dir := path.Join(cl.Name, m.Name, "haproxy")
			main := path.Join(dir, "haproxy.cfg")
			if _, ok := files[main]; !ok {
				continue
			}
			set := hpCheckSet{name: path.Join(cl.Name, m.Name), files: []string{main}}
			var svcs []string
			for p := range files {
				if path.Dir(p) == dir && p != main {
					svcs = append(svcs, p)
				}
			}
			sort.Strings(svcs)
			set.files = append(set.files, svcs...)
			sets = append(sets, set)
			if g := cl.Vars().Str("pg_service_provider"); g != "" && groups[g] == "" {
				groups[g] = main
			}
		}
	}
	for g, main := range groups {
		set := hpCheckSet{name: "haproxy/" + g, files: []string{main}}
		var svcs []string
		for p := range files {
			if path.Dir(p) == "haproxy/"+g {
				svcs = append(svcs, p)
			}
		}
		sort.Strings(svcs)
		set.files = append(set.files, svcs...)
		sets = append(sets, set)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].name < sets[j].name })
	return sets
}

// haproxyCheck writes the files under dir and runs `haproxy -c -dW` on each set,
// two at a time (2 cores), returning the failures.
func haproxyCheck(t *testing.T, dir, caFile string, files map[string]File, sets []hpCheckSet) []string {
	t.Helper()
	for p, file := range files {
		if !strings.Contains(p, "haproxy") {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		// The only change: check-ssl needs a CA file that exists on this machine
		// (haproxy -c loads it); the bundle names the node's /pg/cert/ca.crt.
		data := bytes.ReplaceAll(file.Data, []byte("ca-file /pg/cert/ca.crt"), []byte("ca-file "+caFile))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var fails []string
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, s := range sets {
		wg.Add(1)
		sem <- struct{}{}
		go func(s hpCheckSet) {
			defer wg.Done()
			defer func() { <-sem }()
			args := []string{"-c", "-dW"}
			for _, p := range s.files {
				args = append(args, "-f", filepath.Join(dir, filepath.FromSlash(p)))
			}
			out, err := testenv.Command(dir, nil, "haproxy", args...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Configuration file is valid") {
				mu.Lock()
				fails = append(fails, fmt.Sprintf("%s: %v\n%s", s.name, err, out))
				mu.Unlock()
			}
		}(s)
	}
	wg.Wait()
	sort.Strings(fails)
	return fails
}

// TestHAProxyCheckReference: haproxy -c accepts every instance's directory
// of the reference inventory and of a delegating inventory.
func TestHAProxyCheckReference(t *testing.T) {
	testenv.Need(t, "haproxy")
	t.Parallel()
	dir := t.TempDir()
	ca := testenv.Certs(t, dir).CACert
	f, files := svcReference(t)
	sets := haproxyCheckSets(f, files)
	if len(sets) != 3 {
		t.Fatalf("check sets: %d", len(sets))
	}
	for _, fail := range haproxyCheck(t, filepath.Join(dir, "ref"), ca, files, sets) {
		t.Error(fail)
	}
	f = svcCompile(t, compiler.Options{Names: []string{"delegated.yml"}, Datas: [][]byte{[]byte(delegatedInventory)}})
	files = svcRender(t, f)
	sets = haproxyCheckSets(f, files)
	if len(sets) != 6 { // 5 instances with haproxy + the proxy group
		t.Fatalf("delegated check sets: %d", len(sets))
	}
	for _, fail := range haproxyCheck(t, filepath.Join(dir, "delegated"), ca, files, sets) {
		t.Error(fail)
	}
}

// TestHAProxyCheckCorpus: haproxy -c accepts every instance's directory of
// every corpus inventory (built with node_cpu=4, node_mem_mb=8192, node_disk_gb=100).
func TestHAProxyCheckCorpus(t *testing.T) {
	testenv.Need(t, "haproxy")
	t.Parallel()
	root := filepath.Join(svcShared(t), "testdata", "pigsty-conf")
	var inputs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yml") {
			inputs = append(inputs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := testenv.Certs(t, dir).CACert
	checked := 0
	for i, in := range inputs {
		rel, _ := filepath.Rel(root, in)
		res := compiler.Compile(compiler.Options{Files: []string{in}, Vars: []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}})
		if errs := res.Diags.Errors(); len(errs) > 0 {
			t.Errorf("%s: %s", rel, errs.Error())
			continue
		}
		if len(res.Fleet.Clusters) == 0 {
			continue
		}
		files := svcRender(t, res.Fleet)
		sets := haproxyCheckSets(res.Fleet, files)
		checked += len(sets)
		for _, fail := range haproxyCheck(t, filepath.Join(dir, strconv.Itoa(i)), ca, files, sets) {
			t.Errorf("%s: %s", rel, fail)
		}
	}
	t.Logf("haproxy -c: %d instance directories of %d inventories", checked, len(inputs))
	if len(inputs) < 40 || checked == 0 {
		t.Errorf("haproxy -c checked only %d instance directories of %d inventories", checked, len(inputs))
	}
}

// rewritePaths replaces absolute paths of a rendered file with test paths.
func rewritePaths(data []byte, pairs ...string) []byte {
	return []byte(strings.NewReplacer(pairs...).Replace(string(data)))
}

// TestPgbouncerReal: PgBouncer 1.18 starts from the rendered files (absolute
// paths moved into a temp dir, nothing else) in front of PostgreSQL 15
// provisioned with the rendered roles.sql; a pooled user logs in with the
// inventory's plaintext password through SCRAM pass-through; a non-pooled
// user is refused.
func TestPgbouncerReal(t *testing.T) {
	testenv.Need(t, "postgres", "pgbouncer")
	pg := testenv.StartPostgres(t, testenv.PGOptions{})
	pgbPort := testenv.FreePort(t)
	// pgbouncer_version is quoted: --var parses YAML, and a bare 1.18 is a number.
	f, _ := svcReference(t, "pgbouncer_version='1.18'", "pg_version=15",
		"pg_port="+strconv.Itoa(pg.Port()), "pgbouncer_port="+strconv.Itoa(pgbPort), "pg_listen=127.0.0.1")
	// The whole bundle: roles.sql and pgb_hba.conf come from the other renderers,
	// and the verifiers of roles.sql and userlist.txt must be the same.
	all, _, err := Render(f, Options{Rand: svcRand()})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]File{}
	for _, file := range all {
		files[file.Path] = file
	}
	roles, ok := files["pg-test/sql/roles.sql"]
	if !ok {
		t.Fatal("no roles.sql")
	}
	dir := testenv.TempDir(t)
	rolesPath := filepath.Join(dir, "roles.sql")
	testenv.WriteDaemonFile(t, rolesPath, roles.Data, 0o644)
	if out, err := pg.PsqlFile(t, "", rolesPath); err != nil {
		t.Fatalf("roles.sql: %v\n%s", err, out)
	}
	pg.MustPsql(t, "", `CREATE DATABASE test OWNER test`)
	// The server asks every role but the superuser for SCRAM, so pgbouncer must
	// pass the client's proof through: only a byte-identical verifier works.
	hba := "local all postgres trust\nhost all postgres 127.0.0.1/32 trust\nlocal all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"
	testenv.WriteDaemonFile(t, filepath.Join(pg.DataDir(), "pg_hba.conf"), []byte(hba), 0o600)
	pg.Reload(t)
	if out, err := pg.Psql(t, "", `SELECT rolname FROM pg_authid WHERE rolname = 'test' AND rolpassword LIKE 'SCRAM-SHA-256$%'`); err != nil || out != "test" {
		t.Fatalf("role test has no SCRAM verifier: %q, %v", out, err)
	}

	pgbDir := "pg-test/pg-test-1/pgbouncer/"
	rewrite := func(data []byte) []byte {
		return rewritePaths(data,
			"/etc/pgbouncer/", dir+"/",
			"/run/postgresql", dir,
			"/pg/log/pgbouncer/", dir+"/",
			"/var/run/postgresql", pg.SocketDir(),
		)
	}
	for _, name := range []string{"pgbouncer.ini", "database.txt", "useropts.txt", "userlist.txt", "pgb_hba.conf"} {
		file, ok := files[pgbDir+name]
		if !ok {
			t.Fatalf("no %s", name)
		}
		testenv.WriteDaemonFile(t, filepath.Join(dir, name), rewrite(file.Data), file.Mode)
	}
	b := testenv.StartPgBouncer(t, filepath.Join(dir, "pgbouncer.ini"))
	// SCRAM pass-through needs the client to use SCRAM: pgb_hba's pwd → scram-sha-256.
	conn := func(user, db string) string {
		return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", pgbPort, user, db)
	}
	for _, tc := range []struct{ user, password string }{{"test", "test"}, {"dbuser_test_ro", "DBUser.TestRO"}} {
		out, err := testenv.PsqlConn(t, dir, conn(tc.user, "test"), tc.password, "SELECT current_user || ' ' || current_setting('port')")
		if want := tc.user + " " + strconv.Itoa(pg.Port()); err != nil || out != want {
			t.Errorf("%s through pgbouncer: %q, %v; want %q", tc.user, out, err, want)
		}
	}
	// Per-user pool mode from useropts.txt reaches the admin console.
	if out, err := testenv.PsqlConn(t, dir, conn("dbuser_dba", "pgbouncer"), "DBUser.DBA", "SHOW USERS"); err != nil {
		t.Errorf("admin console: %v", err)
	} else {
		for _, want := range []string{"dbuser_dba|session", "test|session"} {
			if !strings.Contains(out, want) {
				t.Errorf("SHOW USERS lacks %q:\n%s", want, out)
			}
		}
	}
	if out, err := testenv.PsqlConn(t, dir, conn("dbuser_dba", "pgbouncer"), "DBUser.DBA", "SHOW DATABASES"); err != nil || !strings.Contains(out, "test|"+pg.SocketDir()+"|"+strconv.Itoa(pg.Port())+"|test|") {
		t.Errorf("SHOW DATABASES: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "pgbouncer.log")
	logBefore, _ := os.ReadFile(logPath)
	// Wrong password and a user that is not pooled: refused.
	if out, err := testenv.PsqlConn(t, dir, conn("test", "test"), "wrong", "SELECT 1"); err == nil {
		t.Errorf("wrong password accepted: %q", out)
	}
	_, err = testenv.PsqlConn(t, dir, conn("dbuser_etl", "test"), "DBUser.ETL", "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "SASL authentication failed") {
		t.Errorf("non-pooled user dbuser_etl: %v; want a refusal", err)
	}
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), `no such user: dbuser_etl`) {
		t.Errorf("pgbouncer log does not say why dbuser_etl was refused:\n%s", log)
	}
	// The same user logs in directly: the refusal is pgbouncer's.
	if out, err := pg.PsqlAs(t, "dbuser_etl", "DBUser.ETL", "test", "SELECT current_user", ""); err != nil || out != "dbuser_etl" {
		t.Errorf("dbuser_etl directly: %q, %v", out, err)
	}
	if !strings.Contains(string(logBefore), "process up") {
		t.Errorf("pgbouncer log lacks 'process up':\n%s", logBefore)
	}
	for _, l := range strings.Split(string(logBefore), "\n") {
		if strings.Contains(l, "WARNING") || strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL") {
			t.Errorf("pgbouncer log: %s", l)
		}
	}
	b.Stop()
}

// TestPgBackRestReal: the rendered pgbackrest.conf (local repository) is
// accepted by pgBackRest 2.45 — `info` without warnings about unknown
// options — and a full stanza-create / check / backup round trip works on a
// scratch PostgreSQL 15 (testing.md §4.6). Paths under /pg are moved into
// the test dir; the socket directory is given on the command line.
func TestPgBackRestReal(t *testing.T) {
	testenv.Need(t, "postgres", "pgbackrest")
	dir := testenv.TempDir(t)
	conf := filepath.Join(dir, "pgbackrest.conf")
	archive := fmt.Sprintf("pgbackrest --config=%s --stanza=pg-test archive-push %%p", conf)
	pg := testenv.StartPostgres(t, testenv.PGOptions{Settings: []string{"archive_mode=on", "wal_level=replica", "archive_command=" + archive}})
	_, files := svcReference(t, "pg_version=15", "pg_port="+strconv.Itoa(pg.Port()))
	file := files["pg-test/pg-test-1/pgbackrest.conf"]
	for _, d := range []string{"repo", "spool", "log"} {
		testenv.MkdirDaemon(t, filepath.Join(dir, d), 0o750)
	}
	data := rewritePaths(file.Data,
		"pg1-path=/pg/data", "pg1-path="+pg.DataDir(),
		"=/pg/backup", "="+filepath.Join(dir, "repo"),
		"=/pg/spool", "="+filepath.Join(dir, "spool"),
		"=/pg/log/pgbackrest", "="+filepath.Join(dir, "log"),
	)
	testenv.WriteDaemonFile(t, conf, data, 0o600)
	brRun := func(args ...string) (string, error) {
		if args[0] != "info" { // commands that connect to PostgreSQL
			args = append(args, "--pg1-socket-path="+pg.SocketDir())
		}
		args = append([]string{"--config=" + conf, "--stanza=pg-test"}, args...)
		out, err := testenv.DaemonCommand(dir, nil, "pgbackrest", args...).CombinedOutput()
		return string(out), err
	}
	out, err := brRun("info")
	if err != nil {
		t.Fatalf("pgbackrest info: %v\n%s", err, out)
	}
	if strings.Contains(out, "WARN") {
		t.Errorf("pgbackrest info warns:\n%s", out)
	}
	if testing.Short() {
		return
	}
	// Round trip: archive_command of the running server pushes with this config.
	for _, step := range [][]string{{"stanza-create"}, {"check"}, {"backup", "--type=full"}} {
		if out, err := brRun(step...); err != nil {
			t.Fatalf("pgbackrest %s: %v\n%s", step[0], err, out)
		}
	}
	out, err = brRun("info", "--output=json")
	if err != nil {
		t.Fatalf("info --output=json: %v\n%s", err, out)
	}
	var info []struct {
		Status struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		Backup []struct {
			Type string `json:"type"`
		} `json:"backup"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || len(info) != 1 {
		t.Fatalf("info json: %v\n%s", err, out)
	}
	if info[0].Status.Code != 0 || len(info[0].Backup) != 1 || info[0].Backup[0].Type != "full" {
		t.Errorf("stanza status %+v, backups %+v", info[0].Status, info[0].Backup)
	}
}

// TestVIPManagerEcho: vip-manager 1.0.2 reads the rendered file and echoes
// every key with the rendered value (it then fails on the missing CA file:
// no network in tests, testing.md §4.6).
func TestVIPManagerEcho(t *testing.T) {
	testenv.Need(t, "vip-manager")
	t.Parallel()
	_, files := svcReference(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "vip-manager.yml")
	if err := os.WriteFile(p, files["pg-test/pg-test-2/vip-manager.yml"].Data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("timeout", "3", testenv.Bin("vip-manager"), "--config", p).CombinedOutput()
	for _, want := range []string{
		"dcs-endpoints : [https://10.10.10.10:2379]", "dcs-type : etcd", "etcd-ca-file : /pg/cert/ca.crt",
		"etcd-cert-file : /pg/cert/server.crt", "etcd-key-file : /pg/cert/server.key", "etcd-password : *****",
		"etcd-user : pg-test", "hosting-type : basic", "interface : eth1", "interval : 1000", "ip : 10.10.10.3",
		"netmask : 24", "retry-after : 250", "retry-num : 2", "trigger-key : /pg/pg-test/leader",
		"trigger-value : pg-test-2", "verbose : false",
	} {
		if !strings.Contains(string(out), "\t"+want+"\n") {
			t.Errorf("vip-manager does not echo %q:\n%s", want, out)
		}
	}
}
