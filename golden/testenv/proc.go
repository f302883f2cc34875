package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// StopTimeout is how long a daemon gets after its stop signal before the harness
// SIGKILLs its process group (testing.md §3).
const StopTimeout = 15 * time.Second

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago (never a fixed
// port: jobs share machines).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var blockCounter atomic.Uint32

// LoopbackBlock returns a fresh "127.A.B" prefix for an HA test's members
// (.11 .12 .13), A and B derived from the PID and a counter (testing.md §3). All of
// 127/8 is local on Linux.
func LoopbackBlock() string {
	n := uint32(os.Getpid())*64 + blockCounter.Add(1)
	a := 1 + n/250%250
	b := 1 + n%250
	return fmt.Sprintf("127.%d.%d", a, b)
}

// TempDir returns a fresh directory that the daemon user can traverse and owns: the
// test's temporary directory and its parents up to os.TempDir() get o+rx (t.TempDir
// and mktemp -d make them 0700), and the directory is chowned to the daemon user.
func TempDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	openParents(t, d)
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, gid := DaemonIDs()
	if err := os.Chown(d, uid, gid); err != nil {
		t.Fatal(err)
	}
	return d
}

func openParents(t testing.TB, d string) {
	top := filepath.Clean(os.TempDir())
	for p := filepath.Dir(d); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o005 != 0o005 {
			if err := os.Chmod(p, st.Mode().Perm()|0o055); err != nil {
				t.Fatalf("making %s traversable for %s: %v", p, DaemonUser, err)
			}
		}
		if p == top || p == "/" || !strings.HasPrefix(p, top) {
			return
		}
	}
}

// MkdirDaemon creates dir (mode perm) owned by the daemon user.
func MkdirDaemon(t testing.TB, dir string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
	uid, gid := DaemonIDs()
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// WriteDaemonFile writes a file owned by the daemon user with the given mode.
func WriteDaemonFile(t testing.TB, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := writeDaemonFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
}

func writeDaemonFile(path string, data []byte, perm os.FileMode) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return err
	}
	if err := os.Chmod(path, perm); err != nil {
		return err
	}
	uid, gid := DaemonIDs()
	return os.Chown(path, uid, gid)
}

// Proc is a running daemon started by the harness.
type Proc struct {
	Name    string // for messages: "postgres", "pgbouncer"…
	LogPath string // combined stdout/stderr (and the daemon's own log when it writes there)
	stopSig syscall.Signal

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	once    sync.Once
}

// startProc starts cmd with its output appended to logPath and registers the
// cleanup (stop, then log tail on failure) right away, before readiness.
func startProc(t testing.TB, name, logPath string, stopSig syscall.Signal, cmd *exec.Cmd) *Proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	uid, gid := DaemonIDs()
	_ = os.Chown(logPath, uid, gid)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	// If the test binary dies, take the daemon with it.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p := &Proc{Name: name, LogPath: logPath, stopSig: stopSig, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			LogTail(t, name, logPath, 200)
		}
	})
	return p
}

// Pid is the daemon's process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stop sends the stop signal to the process group, waits up to StopTimeout, then
// SIGKILLs the group. Idempotent.
func (p *Proc) Stop() {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		if !p.Exited() {
			_ = syscall.Kill(-pgid, p.stopSig)
			select {
			case <-p.done:
			case <-time.After(StopTimeout):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-p.done
			}
		}
		// Children that outlived the leader (same group): kill them too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// Kill SIGKILLs the process group at once (failover tests).
func (p *Proc) Kill() {
	p.once.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
}

// LogTail logs the last n lines of a log file.
func LogTail(t testing.TB, name, path string, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s log %s: %v", name, path, err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("last %d lines of %s log %s:\n%s", len(lines), name, path, strings.Join(lines, "\n"))
}

// errExited is returned by waitFor when the process died before becoming ready.
var errExited = errors.New("exited before it was ready")

// waitFor polls ready every 25 ms until it returns nil, the process exits or the
// deadline passes.
func waitFor(p *Proc, timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if p != nil && p.Exited() {
			return fmt.Errorf("%s %w (%v)", p.Name, errExited, p.waitErr)
		}
		if last = ready(); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", timeout, last)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// dialable reports whether a TCP connection to addr succeeds.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	return c.Close()
}
