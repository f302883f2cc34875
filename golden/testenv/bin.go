// Package testenv is the real-daemon test harness (testing.md §3, §7): it finds the
// installed PostgreSQL, PgBouncer, HAProxy and etcd binaries, starts them on free
// ports in per-test temporary directories as the right OS user, waits until they are
// ready, and stops them (and their process groups) when the test ends.
//
// It is imported only by _test.go files. Every daemon gets its temporary directory on
// its command line, so a leaked process shows in `pgrep -f "$TMPDIR"`.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// DefaultPGBinDir is where Debian's postgresql-15 puts the server binaries (not in PATH).
const DefaultPGBinDir = "/usr/lib/postgresql/15/bin"

// DaemonUser is the OS user that runs postgres, initdb, pgbouncer, patroni and
// pgbackrest when the tests run as root (postgres and pgbouncer refuse to run as root).
const DaemonUser = "postgres"

// RequireDaemons reports whether PGCC_REQUIRE_DAEMONS=1: missing daemons fail the test
// instead of skipping it (CI, testing.md §7).
func RequireDaemons() bool { return os.Getenv("PGCC_REQUIRE_DAEMONS") == "1" }

// needGroups lists the binaries a Need name implies.
var needGroups = map[string][]string{
	"postgres":    {"postgres", "initdb", "psql", "pg_isready"},
	"pgbouncer":   {"pgbouncer"},
	"haproxy":     {"haproxy"},
	"etcd":        {"etcd", "etcdctl"},
	"patroni":     {"patroni", "patronictl"},
	"pgbackrest":  {"pgbackrest"},
	"vip-manager": {"vip-manager"},
}

var (
	pgBinDirOnce sync.Once
	pgBinDir     string

	binMu    sync.Mutex
	binCache = map[string]string{}

	versionOnce sync.Map // name -> *sync.Once
)

// PGBinDir returns the PostgreSQL server binary directory: $PGCC_PG_BINDIR, else
// /usr/lib/postgresql/15/bin, else `pg_config --bindir`; "" when none has postgres.
func PGBinDir() string {
	pgBinDirOnce.Do(func() {
		cands := []string{os.Getenv("PGCC_PG_BINDIR"), DefaultPGBinDir}
		if pc, err := lookPath("pg_config"); err == nil {
			if out, err := exec.Command(pc, "--bindir").Output(); err == nil {
				cands = append(cands, strings.TrimSpace(string(out)))
			}
		}
		for _, d := range cands {
			if d != "" && isExec(filepath.Join(d, "postgres")) {
				pgBinDir = d
				return
			}
		}
	})
	return pgBinDir
}

// searchPath is the explicit PATH daemons get and binaries are looked up in (after
// the test's own PATH).
const searchPath = "/usr/sbin:/usr/bin:/sbin:/bin"

func lookPath(name string) (string, error) {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	dirs = append(dirs, filepath.SplitList(searchPath)...)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		if isExec(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Bin returns the absolute path of a binary, "" when it is not installed.
// PostgreSQL's binaries (psql, pg_isready, pgbench… too) come from PGBinDir so the
// client matches the server and Debian's /usr/bin/psql wrapper is bypassed; the rest
// from PATH plus /usr/sbin.
func Bin(name string) string {
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binCache[name]; ok {
		return p
	}
	p := ""
	if d := PGBinDir(); d != "" && isExec(filepath.Join(d, name)) {
		p = filepath.Join(d, name)
	} else if lp, err := lookPath(name); err == nil {
		p = lp
	}
	binCache[name] = p
	return p
}

// Need skips the test (or fails it under PGCC_REQUIRE_DAEMONS=1) unless every named
// daemon is installed; "postgres" also needs initdb, psql and pg_isready, "etcd" also
// etcdctl. As root it also needs the OS user "postgres". The version of each binary
// is logged once per test binary.
func Need(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		bins := needGroups[n]
		if bins == nil {
			bins = []string{n}
		}
		for _, b := range bins {
			if Bin(b) == "" {
				missing = append(missing, b)
			}
		}
	}
	if len(missing) == 0 && os.Geteuid() == 0 {
		if _, err := daemonCredential(); err != nil {
			missing = append(missing, "OS user "+DaemonUser)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("real-daemon: %s not found; run scripts/install-test-deps", strings.Join(missing, ", "))
		if RequireDaemons() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, n := range names {
		logVersion(t, n)
	}
}

// NeedLong is Need for slow scenarios (testing.md §7): they skip under -short, and
// fail under -short when PGCC_REQUIRE_DAEMONS=1.
func NeedLong(t testing.TB, names ...string) {
	t.Helper()
	if testing.Short() {
		msg := "real-daemon: slow scenario skipped under -short"
		if RequireDaemons() {
			t.Fatal(msg + " (PGCC_REQUIRE_DAEMONS=1)")
		}
		t.Skip(msg)
	}
	Need(t, names...)
}

func logVersion(t testing.TB, name string) {
	o, _ := versionOnce.LoadOrStore(name, new(sync.Once))
	o.(*sync.Once).Do(func() {
		bin := Bin(name)
		flag := "--version"
		switch name {
		case "haproxy":
			flag = "-v"
		case "pgbackrest":
			flag = "version"
		}
		out, _ := exec.Command(bin, flag).CombinedOutput()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		t.Logf("real-daemon: %s: %s", bin, line)
	})
}

var (
	credOnce sync.Once
	cred     *syscall.Credential
	credErr  error
)

// daemonCredential returns the uid/gid of DaemonUser (only meaningful as root).
func daemonCredential() (*syscall.Credential, error) {
	credOnce.Do(func() {
		u, err := user.Lookup(DaemonUser)
		if err != nil {
			credErr = fmt.Errorf("looking up OS user %s: %w", DaemonUser, err)
			return
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	})
	return cred, credErr
}

// DaemonIDs returns the uid and gid daemons run as: DaemonUser's as root, else the
// current user's.
func DaemonIDs() (uid, gid int) {
	if os.Geteuid() == 0 {
		if c, err := daemonCredential(); err == nil {
			return int(c.Uid), int(c.Gid)
		}
	}
	return os.Geteuid(), os.Getegid()
}

// Env returns the explicit environment every child gets (testing.md §3): nothing is
// inherited (an inherited PGPASSWORD once broke Patroni's pg_rewind).
func Env(home string, extra ...string) []string {
	env := []string{"PATH=" + searchPath, "LANG=C.UTF-8", "TZ=UTC", "HOME=" + home}
	return append(env, extra...)
}

// Command builds a command for a client tool (psql, etcdctl, haproxy -c …) that runs
// as the current user in its own process group with Env(home, extra...).
func Command(home string, extra []string, name string, args ...string) *exec.Cmd {
	bin := Bin(name)
	if bin == "" {
		bin = name
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = Env(home, extra...)
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// DaemonCommand is Command for programs that must not run as root (initdb, postgres,
// pgbouncer, patroni, pgbackrest): as root they run as DaemonUser.
func DaemonCommand(home string, extra []string, name string, args ...string) *exec.Cmd {
	cmd := Command(home, extra, name, args...)
	if os.Geteuid() == 0 {
		if c, err := daemonCredential(); err == nil {
			cmd.SysProcAttr.Credential = c
		}
	}
	return cmd
}

// run runs cmd and returns its stdout; the error includes stderr.
func run(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
