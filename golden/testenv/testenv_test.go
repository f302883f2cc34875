package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recTB records what Need does instead of really skipping or failing, so
// this test itself never shows up as a skip (CI fails on any skip under
// PGCC_REQUIRE_DAEMONS=1).
type recTB struct {
	testing.TB
	skipped, fatal string
}

type stopNeed struct{}

func (r *recTB) Helper()           {}
func (r *recTB) Skip(args ...any)  { r.skipped = fmt.Sprint(args...); panic(stopNeed{}) }
func (r *recTB) Fatal(args ...any) { r.fatal = fmt.Sprint(args...); panic(stopNeed{}) }

func TestNeedSkipsMissing(t *testing.T) {
	const want = "real-daemon: no-such-daemon-pgcc not found; run scripts/install-test-deps"
	for _, c := range []struct {
		require          string
		wantSkip, wantFa string
	}{
		{"", want, ""},
		{"1", "", want},
	} {
		t.Setenv("PGCC_REQUIRE_DAEMONS", c.require)
		r := &recTB{TB: t}
		func() {
			defer func() {
				if v := recover(); v != nil {
					if _, ok := v.(stopNeed); !ok {
						panic(v)
					}
				}
			}()
			Need(r, "no-such-daemon-pgcc")
		}()
		if r.skipped != c.wantSkip || r.fatal != c.wantFa {
			t.Errorf("PGCC_REQUIRE_DAEMONS=%q: skip %q, fatal %q; want skip %q, fatal %q", c.require, r.skipped, r.fatal, c.wantSkip, c.wantFa)
		}
	}
}

func TestBin(t *testing.T) {
	Need(t, "postgres")
	if got := Bin("psql"); got != filepath.Join(PGBinDir(), "psql") {
		t.Errorf("Bin(psql) = %q, want the server's bindir psql", got)
	}
	if Bin("no-such-binary-pgcc") != "" {
		t.Error("Bin found a missing binary")
	}
}

func TestLoopbackBlock(t *testing.T) {
	a, b := LoopbackBlock(), LoopbackBlock()
	if a == b || !strings.HasPrefix(a, "127.") || strings.Count(a, ".") != 2 {
		t.Errorf("LoopbackBlock: %q, %q", a, b)
	}
}

func TestStartPostgres(t *testing.T) {
	Need(t, "postgres")
	pg := StartPostgres(t, PGOptions{Settings: []string{"wal_level=logical"}, AutoConf: "work_mem = '7MB'\n"})
	out, err := pg.Psql(t, "", "SHOW wal_level; SELECT current_user; SHOW unix_socket_directories; SHOW work_mem")
	if err != nil {
		t.Fatal(err)
	}
	want := "logical\npostgres\n" + pg.SocketDir() + "\n7MB"
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if _, err := pg.Psql(t, "", "SELECT 1/0"); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("error not reported: %v", err)
	}
	f := filepath.Join(pg.Dir(), "x.sql")
	if err := os.WriteFile(f, []byte("SELECT :'v' || 'b';\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := pg.PsqlFile(t, "template1", f, "-v", "v=a"); err != nil || out != "ab" {
		t.Errorf("PsqlFile: %q, %v", out, err)
	}
	if out, err := PsqlConn(t, pg.Dir(), pg.DSN(), "", "SELECT 2"); err != nil || out != "2" {
		t.Errorf("PsqlConn(DSN): %q, %v", out, err)
	}
	pg.Stop()
	if !pg.Exited() {
		t.Error("still running after Stop")
	}
}

func TestStartPostgresSSL(t *testing.T) {
	Need(t, "postgres")
	pg := StartPostgres(t, PGOptions{SSL: true})
	c := pg.Certs()
	conn := fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=verify-full sslrootcert=%s", pg.Host(), pg.Port(), c.CACert)
	out, err := PsqlConn(t, pg.Dir(), conn, "", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
	if err != nil || out != "t" {
		t.Errorf("verify-full TLS connection: %q, %v", out, err)
	}
	conn = strings.Replace(conn, "host=127.0.0.1", "host=localhost", 1)
	if out, err := PsqlConn(t, pg.Dir(), conn, "", "SELECT 1"); err != nil || out != "1" {
		t.Errorf("verify-full via localhost: %q, %v", out, err)
	}
	st, err := os.Stat(c.ServerKey)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("server key mode: %v %v", st, err)
	}
}

func TestConfCheck(t *testing.T) {
	Need(t, "postgres")
	vals, err := ConfCheck(t, "work_mem = '64MB'\nshared_buffers = 4096MB\nauto_explain.log_min_duration = '1s'\n",
		"work_mem", "shared_buffers", "auto_explain.log_min_duration")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"work_mem": "65536", "shared_buffers": "524288", "auto_explain.log_min_duration": "1s"}
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("%s = %q, want %q", k, vals[k], v)
		}
	}
	// One case per message: an unknown name hides value errors (testing.md §4.1).
	for conf, want := range map[string]string{
		"work_mem = '64XB'\n":  `invalid value for parameter "work_mem": "64XB"`,
		"io_method = worker\n": `unrecognized configuration parameter "io_method"`,
	} {
		_, err = ConfCheck(t, conf, "work_mem")
		var ce *ConfError
		if !errors.As(err, &ce) {
			t.Fatalf("%q accepted: %v", conf, err)
		}
		msgs := strings.Join(ce.Messages(), "\n")
		for _, w := range []string{want, "contains errors"} {
			if !strings.Contains(msgs, w) {
				t.Errorf("messages lack %q:\n%s", w, msgs)
			}
		}
	}
}

func TestHBACheck(t *testing.T) {
	Need(t, "postgres")
	pg := StartPostgres(t, PGOptions{SSL: true})
	good := "# test\nlocal all postgres trust\nhostssl all all 0.0.0.0/0 scram-sha-256\nhost all +dbrole_readonly 10.0.0.0/8 md5\n"
	rules, err := HBARules(t, pg, good)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 || rules[1].Type != "hostssl" || rules[2].UserName[0] != "+dbrole_readonly" || rules[0].Error != "" {
		t.Errorf("rules: %+v", rules)
	}
	errs, err := HBACheck(t, pg, "host all all 10.0.0.0/33 md5\nhost all all 10.0.0.0/8 bogus\nlocal all all trust\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 || errs[0].Line != 1 || errs[1].Line != 2 {
		t.Errorf("errors: %+v", errs)
	}
	// The original file is back and the trust connection still works.
	if out, err := pg.Psql(t, "", "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"); err != nil || out != "0" {
		t.Errorf("after restore: %q, %v", out, err)
	}
}

func TestStartPgBouncer(t *testing.T) {
	Need(t, "postgres", "pgbouncer")
	pg := StartPostgres(t, PGOptions{})
	dir := TempDir(t)
	port := FreePort(t)
	WriteDaemonFile(t, filepath.Join(dir, "userlist.txt"), []byte(`"postgres" ""`+"\n"), 0o600)
	ini := fmt.Sprintf(`[databases]
postgres = host=127.0.0.1 port=%d
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
pidfile = %s/pgbouncer.pid
logfile = %s/pgbouncer.log
auth_type = trust
auth_file = %s/userlist.txt
admin_users = postgres
`, pg.Port(), port, dir, dir, dir, dir)
	iniPath := filepath.Join(dir, "pgbouncer.ini")
	WriteDaemonFile(t, iniPath, []byte(ini), 0o644)
	b := StartPgBouncer(t, iniPath)
	if out, err := b.Psql(t, "postgres", "", "postgres", "SELECT current_setting('port')"); err != nil || out != fmt.Sprint(pg.Port()) {
		t.Errorf("through pgbouncer: %q, %v", out, err)
	}
	if out, err := b.Psql(t, "postgres", "", "pgbouncer", "SHOW DATABASES"); err != nil || !strings.Contains(out, "postgres|127.0.0.1") {
		t.Errorf("admin console: %q, %v", out, err)
	}
	b.Stop()
	if !b.Exited() {
		t.Error("pgbouncer still running")
	}
	log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
	if !strings.Contains(string(log), "process up") {
		t.Errorf("log lacks 'process up':\n%s", log)
	}
}

func TestStartHAProxy(t *testing.T) {
	Need(t, "postgres", "haproxy")
	pg := StartPostgres(t, PGOptions{})
	dir := TempDir(t)
	port, stats := FreePort(t), FreePort(t)
	main := fmt.Sprintf(`global
    pidfile %s/haproxy.pid
    maxconn 256
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
listen stats
    mode http
    bind 127.0.0.1:%d
    stats enable
    stats uri /stats
`, dir, stats)
	svc := fmt.Sprintf(`listen pg
    bind 127.0.0.1:%d
    server pg1 127.0.0.1:%d check inter 200ms
`, port, pg.Port())
	mainPath, svcPath := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "pg.cfg")
	WriteDaemonFile(t, mainPath, []byte(main), 0o644)
	WriteDaemonFile(t, svcPath, []byte(svc), 0o644)
	h := StartHAProxy(t, mainPath, svcPath)
	if len(h.Binds) != 2 {
		t.Errorf("binds %v", h.Binds)
	}
	conn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
	if out, err := PsqlConn(t, dir, conn, "", "SELECT current_setting('port')"); err != nil || out != fmt.Sprint(pg.Port()) {
		t.Errorf("through haproxy: %q, %v", out, err)
	}
}

func TestStartEtcd(t *testing.T) {
	Need(t, "etcd")
	e := StartEtcd(t, EtcdOptions{})
	if _, err := e.Etcdctl(t, "put", "/pg/test/leader", "pg-test-1"); err != nil {
		t.Fatal(err)
	}
	out, err := e.Etcdctl(t, "get", "--print-value-only", "/pg/test/leader")
	if err != nil || out != "pg-test-1" {
		t.Errorf("get: %q, %v", out, err)
	}
}

func TestTempDirTraversable(t *testing.T) {
	Need(t, "postgres")
	d := TempDir(t)
	// The daemon user can create files in it.
	f := filepath.Join(d, "w")
	if out, err := DaemonCommand(d, nil, "touch", f).CombinedOutput(); err != nil {
		t.Fatalf("touch as %s in %s: %v %s", DaemonUser, d, err, out)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := DaemonIDs()
	if got := st.Sys().(*syscall.Stat_t).Uid; int(got) != uid {
		t.Errorf("file owner %d, want %d", got, uid)
	}
}

func TestStopPostmaster(t *testing.T) {
	Need(t, "postgres")
	dir := TempDir(t)
	data := NewDataDir(t, dir)
	port := FreePort(t)
	// Started outside startProc, as Patroni would.
	cmd := DaemonCommand(dir, nil, "postgres", "-D", data, "-c", fmt.Sprintf("port=%d", port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	err := waitFor(nil, 30*time.Second, func() error {
		_, err := os.Stat(filepath.Join(data, "postmaster.pid"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	StopPostmaster(t, data)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("postmaster still running")
	}
}
