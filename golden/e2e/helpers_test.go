package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgcc-dev/pgcc/golden/testenv"
)

// proc is a daemon the scenario starts itself (Patroni: testenv has no starter for
// it). Like testenv's daemons it runs in its own process group with its output in a
// log file, dies with the test binary (Pdeathsig), and is stopped by a cleanup
// registered right after the start.
type proc struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{}
	once          sync.Once
}

func startProc(t *testing.T, name, logPath string, cmd *exec.Cmd) *proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the group, SIGKILLs it after timeout. Idempotent.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		if !p.exited() {
			_ = syscall.Kill(-pgid, sig)
			select {
			case <-p.done:
			case <-time.After(timeout):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-p.done
			}
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// postmasterPID reads the first line of dataDir/postmaster.pid (0 when absent).
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

func alive(pid int) bool { return pid > 1 && syscall.Kill(pid, 0) == nil }

// tail returns the last n lines of a file ("" when unreadable).
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runTimeout runs cmd, killing its process group after d; it returns stdout and an
// error carrying stderr.
func runTimeout(cmd *exec.Cmd, d time.Duration) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(d, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	timer.Stop()
	out := strings.TrimSuffix(stdout.String(), "\n")
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// psqlTCP runs sql with psql over a libpq connection string as the current user;
// password goes to PGPASSWORD in the child's explicit environment only.
func psqlTCP(home, conninfo, password, sql string) (string, error) {
	var extra []string
	if password != "" {
		extra = append(extra, "PGPASSWORD="+password)
	}
	cmd := testenv.Command(home, extra, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", "-")
	cmd.Stdin = strings.NewReader(sql)
	return runTimeout(cmd, 15*time.Second)
}

// conn is a libpq connection string with a short connect timeout.
func conn(host string, port int, user, db, sslmode string) string {
	if sslmode == "" {
		sslmode = "disable"
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=%s connect_timeout=3 application_name=pgcc-e2e", host, port, user, db, sslmode)
}

// httpGetJSON GETs url and decodes the JSON body into v; status must be 200 unless
// anyStatus.
func httpGetJSON(url string, v any) (int, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %w: %s", url, err, body)
		}
	}
	return resp.StatusCode, nil
}

// patroniCluster is GET /cluster (Patroni 3.0.2).
type patroniCluster struct {
	Members []struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		State    string `json:"state"`
		Host     string `json:"host"`
		Timeline int    `json:"timeline"`
	} `json:"members"`
}

// haproxyStatus reads HAProxy's stats CSV: proxy → server → status (UP, DOWN, …).
func haproxyStatus(url, user, password string) (map[string]map[string]string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user, password)
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("stats: HTTP %d: %s", resp.StatusCode, body)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("# "))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) < 1 {
		return nil, fmt.Errorf("stats csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	px, sv, st := col["pxname"], col["svname"], col["status"]
	out := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		if len(rec) <= st || rec[sv] == "FRONTEND" || rec[sv] == "BACKEND" {
			continue
		}
		if out[rec[px]] == nil {
			out[rec[px]] = map[string]string{}
		}
		out[rec[px]][rec[sv]] = rec[st]
	}
	return out, nil
}

// relay listens on 127.0.0.1:0 and forwards every connection to dst from the local
// source address src. psql cannot choose its source address, and connections to
// 127.A.B.x otherwise arrive from 127.0.0.1 (testing.md §3); this is how the test
// connects "from" an address the inventory does not allow.
func relay(t *testing.T, src, dst string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); l.Close(); wg.Wait() })
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s, err := d.DialContext(ctx, "tcp", dst)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { <-ctx.Done(); c.Close(); s.Close() }()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return l.Addr().String()
}
