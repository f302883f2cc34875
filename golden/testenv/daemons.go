package testenv

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PgBouncer is a running pgbouncer.
type PgBouncer struct {
	*Proc
	Ini       string
	Port      int
	Addr      string // listen_addr (first address)
	SocketDir string // unix_socket_dir ("" when disabled)
}

// StartPgBouncer runs `pgbouncer INI` in the foreground as the daemon user
// (pgbouncer refuses root) with the ini's directory as working dir; ready when the
// socket .s.PGSQL.<listen_port> exists in unix_socket_dir, or, with sockets
// disabled, when listen_addr:listen_port accepts connections (testing.md §3).
// Every file the ini names must be readable by the daemon user; its logfile (if any)
// should be in the test dir. Stopped with SIGTERM.
func StartPgBouncer(t testing.TB, iniPath string) *PgBouncer {
	t.Helper()
	kv, err := readIni(iniPath, "pgbouncer")
	if err != nil {
		t.Fatalf("reading %s: %v", iniPath, err)
	}
	b := &PgBouncer{Ini: iniPath, Port: 6432, SocketDir: "/tmp", Addr: "127.0.0.1"}
	if v, ok := kv["listen_port"]; ok {
		if b.Port, err = strconv.Atoi(v); err != nil {
			t.Fatalf("%s: listen_port %q", iniPath, v)
		}
	}
	if v, ok := kv["unix_socket_dir"]; ok {
		b.SocketDir = v
	}
	if v := kv["listen_addr"]; v != "" && v != "*" {
		b.Addr = strings.TrimSpace(strings.Split(v, ",")[0])
	}
	dir := filepath.Dir(iniPath)
	logPath := filepath.Join(dir, "pgbouncer.stdout.log")
	cmd := DaemonCommand(dir, nil, "pgbouncer", iniPath)
	b.Proc = startProc(t, "pgbouncer", logPath, syscall.SIGTERM, cmd)
	if lf := kv["logfile"]; lf != "" {
		t.Cleanup(func() {
			if t.Failed() {
				LogTail(t, "pgbouncer logfile", lf, 200)
			}
		})
	}
	err = waitFor(b.Proc, 15*time.Second, func() error {
		if b.SocketDir != "" {
			_, err := os.Stat(filepath.Join(b.SocketDir, ".s.PGSQL."+strconv.Itoa(b.Port)))
			return err
		}
		return dialable(net.JoinHostPort(b.Addr, strconv.Itoa(b.Port)))
	})
	if err != nil {
		t.Fatalf("pgbouncer: %v", err)
	}
	return b
}

// Psql runs sql through pgbouncer's socket (or TCP when sockets are off) as user,
// like Postgres.Psql; password "" leaves PGPASSWORD unset.
func (b *PgBouncer) Psql(t testing.TB, user, password, db, sql string) (string, error) {
	t.Helper()
	host := b.SocketDir
	if host == "" {
		host = b.Addr
	}
	var extra []string
	if password != "" {
		extra = append(extra, "PGPASSWORD="+password)
	}
	cmd := Command(filepath.Dir(b.Ini), extra, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", host, "-p", strconv.Itoa(b.Port), "-U", user, "-d", db, "-f", "-")
	cmd.Stdin = strings.NewReader(sql)
	out, err := run(cmd)
	return strings.TrimSuffix(out, "\n"), err
}

// readIni returns the key/values of one section, with %include not followed.
func readIni(path, section string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kv := map[string]string{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == ';' || l[0] == '#':
		case l[0] == '[':
			cur = strings.Trim(l, "[] ")
		case cur == section:
			k, v, ok := strings.Cut(l, "=")
			if ok {
				kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return kv, sc.Err()
}

// HAProxy is a running haproxy.
type HAProxy struct {
	*Proc
	Files []string
	Binds []string // host:port of every bind line, in file order
}

var bindRe = regexp.MustCompile(`^\s*bind\s+(\S+)`)

// StartHAProxy runs `haproxy -db -f F1 -f F2 …` (main file first, then services
// sorted, testing.md §4.3) as the current user (root is fine for haproxy); ready when
// every `bind ADDR:PORT` of the files accepts TCP connections (`*`/empty → 127.0.0.1).
// Backend state is the test's business (poll the stats CSV). Stopped with SIGTERM.
func StartHAProxy(t testing.TB, files ...string) *HAProxy {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("StartHAProxy: no configuration files")
	}
	h := &HAProxy{Files: files}
	args := []string{"-db"}
	for _, f := range files {
		args = append(args, "-f", f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			m := bindRe.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			for _, a := range strings.Split(m[1], ",") {
				i := strings.LastIndexByte(a, ':')
				if i < 0 {
					continue
				}
				host, port := a[:i], a[i+1:]
				if host == "" || host == "*" || host == "0.0.0.0" {
					host = "127.0.0.1"
				}
				if _, err := strconv.Atoi(port); err == nil {
					h.Binds = append(h.Binds, net.JoinHostPort(strings.Trim(host, "[]"), port))
				}
			}
		}
	}
	dir := filepath.Dir(files[0])
	cmd := Command(dir, nil, "haproxy", args...)
	h.Proc = startProc(t, "haproxy", filepath.Join(dir, "haproxy.log"), syscall.SIGTERM, cmd)
	err := waitFor(h.Proc, 15*time.Second, func() error {
		for _, a := range h.Binds {
			if err := dialable(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	return h
}

// EtcdOptions configure StartEtcd.
type EtcdOptions struct {
	Name string // member name, default e1
	// Certs to use for client TLS; nil = a fresh set from Certs in the etcd dir.
	Certs *CertFiles
}

// Etcd is a single-member etcd 3.4 with TLS on the client port (clients present the
// CA; no --client-cert-auth, as Pigsty runs it, testing.md §4.5).
type Etcd struct {
	*Proc
	Dir        string
	ClientPort int
	PeerPort   int
	Certs      *CertFiles
}

// Endpoint is the client URL, https://127.0.0.1:C.
func (e *Etcd) Endpoint() string { return fmt.Sprintf("https://127.0.0.1:%d", e.ClientPort) }

// StartEtcd starts etcd with the command line of testing.md §3; ready when
// GET /health with the client certificate says {"health":"true"}. Stopped with SIGTERM.
func StartEtcd(t testing.TB, opts EtcdOptions) *Etcd {
	t.Helper()
	dir := TempDir(t)
	e := &Etcd{Dir: dir, ClientPort: FreePort(t), PeerPort: FreePort(t), Certs: opts.Certs}
	for e.PeerPort == e.ClientPort {
		e.PeerPort = FreePort(t)
	}
	if e.Certs == nil {
		e.Certs = Certs(t, dir)
	}
	name := opts.Name
	if name == "" {
		name = "e1"
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	peer := fmt.Sprintf("http://127.0.0.1:%d", e.PeerPort)
	args := []string{"--name", name, "--data-dir", data,
		"--listen-client-urls", e.Endpoint(), "--advertise-client-urls", e.Endpoint(),
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", name + "=" + peer, "--initial-cluster-state", "new",
		"--cert-file", e.Certs.ServerCert, "--key-file", e.Certs.ServerKey, "--trusted-ca-file", e.Certs.CACert,
		"--unsafe-no-fsync", "--logger=zap", "--log-level", "warn"}
	cmd := Command(dir, nil, "etcd", args...)
	e.Proc = startProc(t, "etcd", filepath.Join(dir, "etcd.log"), syscall.SIGTERM, cmd)
	client := e.HTTPClient(t)
	err := waitFor(e.Proc, 20*time.Second, func() error {
		resp, err := client.Get(e.Endpoint() + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"health":"true"`) {
			return fmt.Errorf("health: %s", body)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	return e
}

// HTTPClient is an HTTPS client trusting the test CA and presenting the client certificate.
func (e *Etcd) HTTPClient(t testing.TB) *http.Client {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(e.Certs.ClientCert, e.Certs.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: CAPool(t), Certificates: []tls.Certificate{cert}},
	}}
}

// Etcdctl runs etcdctl (v3 API) against this member with the test certificates.
func (e *Etcd) Etcdctl(t testing.TB, args ...string) (string, error) {
	t.Helper()
	base := []string{"--endpoints", e.Endpoint(), "--cacert", e.Certs.CACert,
		"--cert", e.Certs.ClientCert, "--key", e.Certs.ClientKey, "--dial-timeout", "3s"}
	out, err := run(Command(e.Dir, []string{"ETCDCTL_API=3"}, "etcdctl", append(base, args...)...))
	return strings.TrimSuffix(out, "\n"), err
}
