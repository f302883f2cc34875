package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// PGOptions configure StartPostgres.
type PGOptions struct {
	// Settings are extra `-c name=value` server settings, e.g. "wal_level=logical".
	Settings []string
	// SSL turns ssl=on with the harness's test certificates (Certs).
	SSL bool
	// ListenAddr is listen_addresses (default 127.0.0.1).
	ListenAddr string
	// StartTimeout bounds readiness (default 30 s).
	StartTimeout time.Duration
	// AutoConf, when set, is written as postgresql.auto.conf before the start (the
	// boot test of testing.md §4.1); -c settings still override it.
	AutoConf string
}

// Postgres is a scratch PostgreSQL server owned by one test.
type Postgres struct {
	*Proc
	dir     string // instance dir: sockets, log, home
	dataDir string
	port    int
	host    string
	certs   *CertFiles

	hbaMu sync.Mutex
}

// Dir is the instance directory (socket dir, HOME, log).
func (pg *Postgres) Dir() string { return pg.dir }

// DataDir is the data directory.
func (pg *Postgres) DataDir() string { return pg.dataDir }

// Port is the TCP port.
func (pg *Postgres) Port() int { return pg.port }

// Host is the TCP address the server listens on.
func (pg *Postgres) Host() string { return pg.host }

// SocketDir is the unix socket directory (the instance dir, never /tmp).
func (pg *Postgres) SocketDir() string { return pg.dir }

// Certs is the certificate set the server uses when started with SSL (else nil).
func (pg *Postgres) Certs() *CertFiles { return pg.certs }

// DSN is a libpq keyword/value connection string for the superuser over TCP.
func (pg *Postgres) DSN() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", pg.host, pg.port)
}

// URL is DSN as a postgres:// URL for database db.
func (pg *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", pg.host, pg.port, db)
}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// templateDataDir returns a data directory made by initdb once (testing.md §3:
// initdb once per test binary, cp -a per server). It lives in os.TempDir() keyed
// by the server version and uid so concurrent test binaries share it; it is created
// under a temporary name and renamed into place, so a reader never sees a half-made one.
func templateDataDir() (string, error) {
	templateOnce.Do(func() {
		templateDir, templateErr = makeTemplate()
	})
	return templateDir, templateErr
}

func makeTemplate() (string, error) {
	out, err := exec.Command(Bin("postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("postgres --version: %w", err)
	}
	// "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → "15.20"
	ver := "unknown"
	if f := strings.Fields(string(out)); len(f) >= 3 {
		ver = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == '.' {
				return r
			}
			return '_'
		}, f[2])
	}
	uid, _ := DaemonIDs()
	final := filepath.Join(os.TempDir(), fmt.Sprintf("pgcc-testenv-initdb-%s-%d", ver, uid))
	if _, err := os.Stat(filepath.Join(final, "data", "PG_VERSION")); err == nil {
		return filepath.Join(final, "data"), nil
	}
	// os.TempDir() must be traversable by the daemon user (mktemp -d makes it 0700).
	if st, err := os.Stat(os.TempDir()); err == nil && st.Mode().Perm()&0o005 != 0o005 {
		if err := os.Chmod(os.TempDir(), st.Mode().Perm()|0o055); err != nil {
			return "", err
		}
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "pgcc-testenv-initdb-tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	uidD, gidD := DaemonIDs()
	if err := os.Chown(tmp, uidD, gidD); err != nil {
		return "", err
	}
	data := filepath.Join(tmp, "data")
	cmd := DaemonCommand(tmp, nil, "initdb", "-D", data, "-U", "postgres", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	if _, err := run(cmd); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another test binary won the race: use its copy.
		if _, err2 := os.Stat(filepath.Join(final, "data", "PG_VERSION")); err2 == nil {
			return filepath.Join(final, "data"), nil
		}
		return "", err
	}
	return filepath.Join(final, "data"), nil
}

// NewDataDir copies the initdb template into dir/data (owned by the daemon user,
// mode 0700) and returns its path; for tests that start postgres themselves.
func NewDataDir(t testing.TB, dir string) string {
	t.Helper()
	tmpl, err := templateDataDir()
	if err != nil {
		t.Fatalf("initdb: %v", err)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command("cp", "-a", tmpl, data).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v: %s", tmpl, data, err, out)
	}
	return data
}

// StartPostgres starts a scratch server: its own instance dir (TempDir), a copy of
// the initdb template, a free port on 127.0.0.1, sockets in the instance dir,
// fsync off. Ready when pg_isready answers. Stopped with SIGINT (fast shutdown) when
// the test ends. Call Need(t, "postgres") first.
func StartPostgres(t testing.TB, opts PGOptions) *Postgres {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		pg, err := startPostgres(t, opts)
		if err == nil {
			return pg
		}
		lastErr = err
		// A port taken between FreePort and bind is retried; anything else fails.
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("start postgres: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("port already in use")

func startPostgres(t testing.TB, opts PGOptions) (*Postgres, error) {
	t.Helper()
	dir := TempDir(t)
	data := NewDataDir(t, dir)
	pg := &Postgres{dir: dir, dataDir: data, port: FreePort(t), host: "127.0.0.1"}
	if opts.AutoConf != "" {
		WriteDaemonFile(t, filepath.Join(data, "postgresql.auto.conf"), []byte(opts.AutoConf), 0o600)
	}
	listen := opts.ListenAddr
	if listen == "" {
		listen = "127.0.0.1"
	}
	args := []string{"-D", data,
		"-c", "port=" + strconv.Itoa(pg.port),
		"-c", "listen_addresses=" + listen,
		"-c", "unix_socket_directories=" + dir,
		"-c", "fsync=off",
		"-c", "logging_collector=off",
	}
	if opts.SSL {
		pg.certs = Certs(t, dir)
		args = append(args, "-c", "ssl=on",
			"-c", "ssl_cert_file="+pg.certs.ServerCert,
			"-c", "ssl_key_file="+pg.certs.ServerKey,
			"-c", "ssl_ca_file="+pg.certs.CACert)
	}
	for _, s := range opts.Settings {
		args = append(args, "-c", s)
	}
	logPath := filepath.Join(dir, "postgres.log")
	cmd := DaemonCommand(dir, nil, "postgres", args...)
	pg.Proc = startProc(t, "postgres", logPath, syscall.SIGINT, cmd)
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	err := waitFor(pg.Proc, timeout, func() error {
		_, err := run(Command(dir, nil, "pg_isready", "-q", "-U", "postgres", "-h", pg.host, "-p", strconv.Itoa(pg.port), "-t", "1"))
		return err
	})
	if err != nil {
		pg.Stop()
		log, _ := os.ReadFile(logPath)
		if strings.Contains(string(log), "could not bind") || strings.Contains(string(log), "Address already in use") {
			return nil, fmt.Errorf("%w: %v", errPortTaken, err)
		}
		LogTail(t, "postgres", logPath, 200)
		return nil, err
	}
	return pg, nil
}

// psqlArgs are the fixed psql flags: no psqlrc, quiet, unaligned tuples only, stop at
// the first error.
func (pg *Postgres) psqlArgs(db string) []string {
	if db == "" {
		db = "postgres"
	}
	return []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", pg.host, "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", db}
}

// Psql runs sql (one or more statements, fed on stdin) as the superuser in database
// db ("" = postgres) with psql -X -q -At -v ON_ERROR_STOP=1 and returns stdout
// without its final newline; the error carries psql's stderr.
func (pg *Postgres) Psql(t testing.TB, db, sql string) (string, error) {
	t.Helper()
	cmd := Command(pg.dir, nil, "psql", append(pg.psqlArgs(db), "-f", "-")...)
	cmd.Stdin = strings.NewReader(sql)
	out, err := run(cmd)
	return strings.TrimSuffix(out, "\n"), err
}

// MustPsql is Psql that fails the test on error.
func (pg *Postgres) MustPsql(t testing.TB, db, sql string) string {
	t.Helper()
	out, err := pg.Psql(t, db, sql)
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	return out
}

// PsqlFile runs a psql script file (psql -f FILE) like Psql; extra are additional
// psql arguments (e.g. "-v", "x=1").
func (pg *Postgres) PsqlFile(t testing.TB, db, path string, extra ...string) (string, error) {
	t.Helper()
	args := append(pg.psqlArgs(db), extra...)
	args = append(args, "-f", path)
	out, err := run(Command(pg.dir, nil, "psql", args...))
	return strings.TrimSuffix(out, "\n"), err
}

// PsqlAs runs sql over TCP as user with password (PGPASSWORD in the child's
// explicit environment only) and the given sslmode ("" = disable); for login tests.
func (pg *Postgres) PsqlAs(t testing.TB, user, password, db, sql, sslmode string) (string, error) {
	t.Helper()
	if db == "" {
		db = "postgres"
	}
	if sslmode == "" {
		sslmode = "disable"
	}
	conn := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=%s", pg.host, pg.port, user, db, sslmode)
	return PsqlConn(t, pg.dir, conn, password, sql)
}

// PsqlConn runs sql with psql -X -q -At -v ON_ERROR_STOP=1 on any libpq connection
// string; password "" leaves PGPASSWORD unset. home is the child's HOME and cwd.
func PsqlConn(t testing.TB, home, conninfo, password, sql string) (string, error) {
	t.Helper()
	var extra []string
	if password != "" {
		extra = append(extra, "PGPASSWORD="+password)
	}
	cmd := Command(home, extra, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", "-")
	cmd.Stdin = strings.NewReader(sql)
	out, err := run(cmd)
	return strings.TrimSuffix(out, "\n"), err
}

// Reload runs pg_reload_conf().
func (pg *Postgres) Reload(t testing.TB) {
	t.Helper()
	pg.MustPsql(t, "", "SELECT pg_reload_conf()")
}

// StopPostmaster stops a postmaster the harness did not start itself (a SIGKILLed
// Patroni leaves its postmaster running, testing.md §3): it reads the pid from
// dataDir/postmaster.pid, sends SIGINT, and SIGKILLs it after StopTimeout. A missing
// pid file or a dead process is not an error.
func StopPostmaster(t testing.TB, dataDir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 1 {
		return
	}
	if syscall.Kill(pid, syscall.SIGINT) != nil {
		return
	}
	deadline := time.Now().Add(StopTimeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
