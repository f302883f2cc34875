package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgcc-dev/pgcc/cmd/pgcc/cli"
	"github.com/pgcc-dev/pgcc/golden"
	"github.com/pgcc-dev/pgcc/golden/testenv"
)

// scenarioDeadline bounds the whole scenario (testing.md §7: HA 120 s) so a hang
// fails with logs instead of running into go test's timeout.
const scenarioDeadline = 120 * time.Second

const cluster = "pg-test"

// member is one Patroni/PostgreSQL/PgBouncer instance.
type member struct {
	name, ip string
	dir      string // $T/pg-test-N: data, run (socket dir = pg_localhost), home, logs
	data     string
	sock     string
	conf     string // the sandboxed patroni.yml
	pgbIni   string
	env      []string
	patroni  *proc
}

// scenario holds one run.
type scenario struct {
	t        *testing.T
	root     string // $T
	block    string // 127.A.B
	ports    ports
	bundle   string // installed (sandboxed) bundle
	etcd     *testenv.Etcd
	certs    *testenv.CertFiles
	members  []*member
	haproxy  *testenv.HAProxy
	deadline time.Time
	timings  []string
	mu       sync.Mutex // members[i].patroni
	failed   *member    // the member killed by the failover phase
	// rto plan as rendered (patroni.yml dcs and the service default-server line).
	ttl, loopWait    time.Duration
	inter, downinter time.Duration
	rise             int
}

// TestHAScenario is issue 9: the bundle pgcc builds for a loopback inventory runs
// as a real Patroni/etcd cluster behind PgBouncer and HAProxy (testing.md §5).
// README.md in this directory describes every phase and the PGCC_E2E_BREAK mode
// that demonstrates the test fails when a renderer is wrong.
func TestHAScenario(t *testing.T) {
	testenv.NeedLong(t, "postgres", "patroni", "etcd", "pgbouncer", "haproxy", "pgbackrest")
	needIdna(t)
	breaks, err := breakRules(os.Getenv("PGCC_E2E_BREAK"))
	if err != nil {
		t.Fatal(err)
	}
	s := &scenario{t: t, deadline: time.Now().Add(scenarioDeadline)}
	s.root = testenv.TempDir(t)
	s.block = testenv.LoopbackBlock()
	t.Logf("e2e: directory %s, members %s.11-13", s.root, s.block)
	total := time.Now()
	// Registered first, so it runs last: after every daemon's cleanup, before the
	// temp dir is removed. A process whose command line names the test dir is a leak.
	t.Cleanup(func() {
		out, _ := exec.Command("pgrep", "-a", "-f", s.root).Output()
		if len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("leaked processes:\n%s", out)
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if pid, err := strconv.Atoi(strings.Fields(l)[0]); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		t.Logf("e2e: total %.1fs", time.Since(total).Seconds())
	})

	s.phase("etcd (TLS + RBAC)", s.startEtcd)
	s.phase("pgcc build + sandbox + install", func() { s.build(breaks) })
	s.phase("patroni bootstrap (3 members)", s.startPatroni)
	s.phase("provisioning SQL", s.applySQL)
	s.phase("pg_hba.conf + pgbackrest stanza", s.installHBA)
	s.phase("pgbouncer x3 + haproxy settled", s.startProxies)
	leader, replicas := s.members[0], []*member{s.members[1], s.members[2]}
	s.phase("routing through services", func() { s.checkRouting(leader, replicas, true) })
	s.phase("hba enforcement", func() { s.checkHBA(leader) })
	var newLeader *member
	s.phase("switchover", func() { newLeader = s.switchover(leader, s.members[1]) })
	s.phase("failover (kill -9)", func() { newLeader = s.failover(newLeader) })
	s.phase("rejoin (pg_rewind)", s.rejoin)
	s.phase("callbacks", s.checkCallbacks)
	s.phase("wal archiving (pgbackrest)", func() { s.checkArchive(newLeader) })
	t.Logf("e2e: phase timings (s):\n  %s", strings.Join(s.timings, "\n  "))
}

// needIdna: python-etcd (Patroni's etcd client) switches urllib3 to pyOpenSSL
// when python3-openssl is installed, and pyOpenSSL then needs the idna module to
// read a certificate's DNS names (the test certificate has "localhost", as real
// ones have host names): without python3-idna Patroni loops on
// `ModuleNotFoundError("No module named 'idna'")` and never reaches etcd.
// Debian's patroni package does not depend on it.
func needIdna(t *testing.T) {
	t.Helper()
	py := "/usr/bin/python3" // Patroni's shebang (testing.md §1)
	if exec.Command(py, "-c", "import urllib3.contrib.pyopenssl").Run() != nil || exec.Command(py, "-c", "import idna").Run() == nil {
		return
	}
	msg := "real-daemon: python3-idna not found (Patroni's etcd client needs it next to python3-openssl); run scripts/install-test-deps"
	if testenv.RequireDaemons() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// phase runs f and records its duration.
func (s *scenario) phase(name string, f func()) {
	s.t.Helper()
	start := time.Now()
	f()
	d := time.Since(start)
	s.timings = append(s.timings, fmt.Sprintf("%-32s %6.2f", name, d.Seconds()))
	s.t.Logf("e2e: phase %-32s %6.2fs", name, d.Seconds())
}

// waitFor polls f every 100 ms until it returns nil, timeout passes or the
// scenario deadline is reached; then it fails the test with f's last error.
func (s *scenario) waitFor(what string, timeout time.Duration, f func() error) time.Duration {
	s.t.Helper()
	start := time.Now()
	end := start.Add(timeout)
	if end.After(s.deadline) {
		end = s.deadline
	}
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Now().After(end) {
			s.t.Fatalf("%s: not after %.1fs (scenario deadline %s): %v", what, time.Since(start).Seconds(), scenarioDeadline, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *scenario) startEtcd() {
	t := s.t
	ips := []string{s.block + ".11", s.block + ".12", s.block + ".13"}
	s.certs = testenv.Certs(t, s.root, ips...)
	s.etcd = testenv.StartEtcd(t, testenv.EtcdOptions{Certs: s.certs})
	// RBAC as Pigsty sets it up (testing.md §4.5): root, then one role and user per
	// cluster with readwrite on <pg_namespace>/<cluster>/.
	for _, args := range [][]string{
		{"user", "add", "root:Root.E2E.2026"},
		{"user", "grant-role", "root", "root"},
		{"role", "add", cluster},
		{"role", "grant-permission", "--prefix=true", cluster, "readwrite", "/pg/" + cluster + "/"},
		{"user", "add", cluster + ":" + pwEtcd},
		{"user", "grant-role", cluster, cluster},
		{"auth", "enable"},
	} {
		if out, err := s.etcd.Etcdctl(t, args...); err != nil {
			t.Fatalf("etcdctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// build compiles the inventory with `pgcc build`, sandboxes a copy of the bundle
// and installs it under $T/bundle, owned by the daemon user.
func (s *scenario) build(breaks []sandboxRule) {
	t := s.t
	s.ports = ports{Etcd: s.etcd.ClientPort}
	seen := map[int]bool{s.etcd.ClientPort: true, s.etcd.PeerPort: true}
	for _, p := range []*int{&s.ports.PG, &s.ports.Patroni, &s.ports.PgBouncer, &s.ports.Stats,
		&s.ports.Primary, &s.ports.Replica, &s.ports.Default, &s.ports.Offline} {
		for *p == 0 || seen[*p] {
			*p = testenv.FreePort(t)
		}
		seen[*p] = true
	}
	inv := filepath.Join(s.root, "inventory.yml")
	if err := os.WriteFile(inv, []byte(inventoryYAML(s.root, s.block, testenv.PGBinDir(), s.ports)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(s.root, "build")
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"build", "-i", inv, "-o", out}, nil, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("pgcc build: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	t.Logf("pgcc build: %s", strings.TrimSpace(stderr.String()))
	b, err := golden.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	files := b.Files
	if len(breaks) > 0 {
		t.Logf("PGCC_E2E_BREAK=%s: simulating a broken renderer; this run must fail", os.Getenv("PGCC_E2E_BREAK"))
		if files, err = rewrite(files, breaks); err != nil {
			t.Fatal(err)
		}
	}
	s.bundle = filepath.Join(s.root, "bundle")
	paths := sandboxPaths{CertDir: s.certs.Dir, Callback: filepath.Join(s.root, "callback.sh"),
		HAProxyRun: filepath.Join(s.root, "haproxy"), Backup: filepath.Join(s.root, "backup"),
		Root: os.Geteuid() == 0, Inst: map[string]instPaths{}}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("%s-%d", cluster, i)
		d := filepath.Join(s.root, name)
		m := &member{name: name, ip: fmt.Sprintf("%s.1%d", s.block, i), dir: d,
			data: filepath.Join(d, "data"), sock: filepath.Join(d, "run"),
			conf:   filepath.Join(s.bundle, cluster, name, "patroni.yml"),
			pgbIni: filepath.Join(s.bundle, cluster, name, "pgbouncer", "pgbouncer.ini")}
		// pgBackRest reads its config from the env (Pigsty: /etc/pgbackrest/pgbackrest.conf);
		// its default lock-path /tmp/pgbackrest is not in the bundle, so it moves by env too.
		m.env = []string{"PGBACKREST_CONFIG=" + filepath.Join(s.bundle, cluster, name, "pgbackrest.conf"),
			"PGBACKREST_LOCK_PATH=" + filepath.Join(d, "pgbackrest-lock")}
		s.members = append(s.members, m)
		paths.Inst[name] = instPaths{Sock: m.sock, PgbConf: filepath.Dir(m.pgbIni),
			PgbRun: filepath.Join(d, "pgbrun"), Spool: filepath.Join(d, "spool")}
		for _, sub := range []string{"", "run", "pgbrun", "home", "spool", "pgbackrest-lock", "log", "log/patroni", "log/pgbouncer", "log/pgbackrest"} {
			testenv.MkdirDaemon(t, filepath.Join(d, sub), 0o755)
		}
	}
	for _, dir := range []string{"pglog", "backup", "haproxy"} {
		testenv.MkdirDaemon(t, filepath.Join(s.root, dir), 0o750)
	}
	sb, err := sandbox(files, paths)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(sb))
	for k := range sb {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dst := filepath.Join(s.bundle, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		testenv.WriteDaemonFile(t, dst, sb[k].Data, sb[k].Mode)
	}
	uid, gid := testenv.DaemonIDs()
	_ = filepath.Walk(s.bundle, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			err = os.Chown(p, uid, gid)
		}
		return err
	})
	s.readPlan(string(sb[cluster+"/pg-test-1/patroni.yml"].Data), string(sb[cluster+"/pg-test-1/haproxy/pg-test-primary.cfg"].Data))
	// The callback Pigsty's template names; this one records its arguments.
	cb := filepath.Join(s.root, "callback.sh")
	testenv.WriteDaemonFile(t, cb, []byte("#!/bin/sh\necho \"$@\" >> "+filepath.Join(s.root, "callbacks.log")+"\n"), 0o755)
	testenv.WriteDaemonFile(t, filepath.Join(s.root, "callbacks.log"), nil, 0o644)
}

var (
	dcsRe = regexp.MustCompile(`(?m)^    (ttl|loop_wait): (\d+)$`)
	dsRe  = regexp.MustCompile(`default-server inter (\S+) fastinter (\S+) downinter (\S+) rise (\d+) fall (\d+)`)
)

// readPlan takes the rto plan's numbers from the rendered files (patroni.md §2,
// pooling-services.md §3.4), to bound the switchover and failover times.
func (s *scenario) readPlan(patroni, service string) {
	for _, m := range dcsRe.FindAllStringSubmatch(patroni, -1) {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "ttl" {
			s.ttl = time.Duration(n) * time.Second
		} else {
			s.loopWait = time.Duration(n) * time.Second
		}
	}
	m := dsRe.FindStringSubmatch(service)
	if m == nil || s.ttl == 0 || s.loopWait == 0 {
		s.t.Fatalf("rto plan not found in the rendered patroni.yml / service file")
	}
	var err error
	if s.inter, err = time.ParseDuration(m[1]); err == nil {
		s.downinter, err = time.ParseDuration(m[3])
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.rise, _ = strconv.Atoi(m[4])
	s.t.Logf("rto plan as rendered: ttl %s, loop_wait %s, inter %s, downinter %s, rise %d", s.ttl, s.loopWait, s.inter, s.downinter, s.rise)
}

// startMember starts one Patroni (as the daemon user, `/usr/bin/patroni FILE`).
func (s *scenario) startMember(m *member) {
	cmd := testenv.DaemonCommand(m.dir, m.env, "patroni", m.conf)
	p := startProc(s.t, "patroni "+m.name, filepath.Join(m.dir, "log", "patroni.stdout.log"), cmd)
	s.mu.Lock()
	m.patroni = p
	s.mu.Unlock()
}

// killHard SIGKILLs a member's Patroni (process group) and its postmaster, which
// Patroni runs detached so it survives its Patroni.
func (s *scenario) killHard(m *member) {
	pm := postmasterPID(m.data)
	s.mu.Lock()
	p := m.patroni
	s.mu.Unlock()
	p.once.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	if alive(pm) {
		_ = syscall.Kill(pm, syscall.SIGKILL)
	}
	s.waitFor(m.name+" postmaster gone", 10*time.Second, func() error {
		if alive(pm) {
			return fmt.Errorf("pid %d alive", pm)
		}
		return nil
	})
}

func (s *scenario) startPatroni() {
	t := s.t
	// Stop every member's Patroni in parallel (SIGTERM: Patroni stops PostgreSQL
	// itself), then any postmaster a killed Patroni left behind.
	t.Cleanup(func() {
		start := time.Now()
		var wg sync.WaitGroup
		for _, m := range s.members {
			s.mu.Lock()
			p := m.patroni
			s.mu.Unlock()
			if p == nil {
				continue
			}
			wg.Add(1)
			go func(m *member, p *proc) {
				defer wg.Done()
				p.stop(syscall.SIGTERM, testenv.StopTimeout)
				testenv.StopPostmaster(t, m.data)
			}(m, p)
		}
		wg.Wait()
		t.Logf("e2e: teardown of the patroni members %.2fs", time.Since(start).Seconds())
		if t.Failed() {
			for _, m := range s.members {
				t.Logf("--- %s patroni.log (tail)\n%s", m.name, tail(filepath.Join(m.dir, "log", "patroni", "patroni.log"), 120))
				t.Logf("--- %s patroni stdout (tail)\n%s", m.name, tail(filepath.Join(m.dir, "log", "patroni.stdout.log"), 40))
			}
			logs, _ := filepath.Glob(filepath.Join(s.root, "pglog", "*"))
			for _, l := range logs {
				t.Logf("--- postgres log %s (tail)\n%s", filepath.Base(l), tail(l, 120))
			}
		}
	})
	// The primary of the inventory starts first and initializes the cluster, as
	// Pigsty does; the replicas then clone it with pg_basebackup.
	s.startMember(s.members[0])
	s.waitFor("pg-test-1 leader", 30*time.Second, func() error {
		return s.expectCluster(s.members[0], 1, s.members[0])
	})
	s.startMember(s.members[1])
	s.startMember(s.members[2])
	s.waitReady(s.members[0], 45*time.Second)
}

// expectCluster checks GET /cluster on m: leader is leader and `running`, and
// (n > 0) n members are running in all.
func (s *scenario) expectCluster(m *member, n int, leader *member) error {
	var c patroniCluster
	if _, err := httpGetJSON(fmt.Sprintf("http://%s:%d/cluster", m.ip, s.ports.Patroni), &c); err != nil {
		return err
	}
	running, ok := 0, false
	for _, x := range c.Members {
		if x.State == "running" {
			running++
		}
		if x.Role == "leader" && x.Name == leader.name && x.State == "running" {
			ok = true
		}
	}
	if !ok || (n > 0 && running != n) {
		return fmt.Errorf("cluster: %+v", c.Members)
	}
	return nil
}

// waitReady waits for testing.md §3's readiness: 1 leader + 2 running replicas in
// GET /cluster and 2 streaming rows in the leader's pg_stat_replication.
func (s *scenario) waitReady(leader *member, timeout time.Duration) time.Duration {
	return s.waitFor("cluster ready with leader "+leader.name, timeout, func() error {
		if err := s.expectCluster(leader, 3, leader); err != nil {
			return err
		}
		out, err := s.local(leader, "postgres", "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
		if err != nil {
			return err
		}
		if out != "2" {
			return fmt.Errorf("%s streaming replicas on the leader", out)
		}
		return nil
	})
}

// local runs sql on m as pg_dbsu over m's unix socket, as the OS user postgres
// (pg_hba `local … ident`, the way Pigsty's admin tooling connects).
func (s *scenario) local(m *member, db, sql string) (string, error) {
	cmd := testenv.DaemonCommand(m.dir, nil, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", m.sock, "-p", strconv.Itoa(s.ports.PG), "-U", "postgres", "-d", db, "-f", "-")
	cmd.Stdin = strings.NewReader(sql)
	return runTimeout(cmd, 15*time.Second)
}

// applySQL runs the provisioning scripts on the leader in sql.md §1's order, as
// pg_dbsu over the local socket.
func (s *scenario) applySQL() {
	t := s.t
	m := s.members[0]
	dir := filepath.Join(s.bundle, cluster, "sql")
	dbs, _ := filepath.Glob(filepath.Join(dir, "db-*.sql"))
	if len(dbs) != 1 {
		t.Fatalf("db-*.sql: %v, want one (database test)", dbs)
	}
	for _, f := range append([]string{filepath.Join(dir, "roles.sql"), filepath.Join(dir, "template.sql")}, dbs...) {
		cmd := testenv.DaemonCommand(m.dir, nil, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
			"-h", m.sock, "-p", strconv.Itoa(s.ports.PG), "-U", "postgres", "-d", "postgres", "-f", f)
		if out, err := runTimeout(cmd, 60*time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", filepath.Base(f), err, out)
		}
	}
}

// installHBA puts every member's generated pg_hba.conf in place (Pigsty:
// /pg/data/pg_hba.conf), checks PostgreSQL parses it (testing.md §4.2) and reloads.
// From here on replication, pg_rewind, PgBouncer and every check go through it.
// Then the pgBackRest stanza is created so the rendered archive_command succeeds.
func (s *scenario) installHBA() {
	t := s.t
	for _, m := range s.members {
		src := filepath.Join(s.bundle, cluster, m.name, "pg_hba.conf")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		testenv.WriteDaemonFile(t, filepath.Join(m.data, "pg_hba.conf"), data, 0o600)
		out, err := s.local(m, "postgres", "SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL")
		if err != nil || out != "" {
			t.Fatalf("%s: pg_hba.conf errors: %v\n%s", m.name, err, out)
		}
		if _, err := s.local(m, "postgres", "SELECT pg_reload_conf()"); err != nil {
			t.Fatalf("%s: reload: %v", m.name, err)
		}
	}
	// The harness's own TCP login: dbuser_dba with its inventory password over SSL.
	for _, m := range s.members {
		s.waitFor(m.name+" dbuser_dba over ssl", 10*time.Second, func() error {
			out, err := psqlTCP(s.root, conn(m.ip, s.ports.PG, "dbuser_dba", "postgres", "require"), pwAdmin,
				"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
			if err == nil && out != "t" {
				err = fmt.Errorf("ssl = %q", out)
			}
			return err
		})
	}
	m := s.members[0]
	cmd := testenv.DaemonCommand(m.dir, append(m.env, "PGBACKREST_PG1_SOCKET_PATH="+m.sock), "pgbackrest", "--stanza="+cluster, "stanza-create")
	if out, err := runTimeout(cmd, 60*time.Second); err != nil {
		t.Fatalf("pgbackrest stanza-create: %v\n%s", err, out)
	}
}

// startProxies starts the three PgBouncers on their rendered files and one HAProxy
// on member 1's main configuration plus all its service files, then waits until
// HAProxy's health checks agree with Patroni's roles.
func (s *scenario) startProxies() {
	t := s.t
	for _, m := range s.members {
		testenv.StartPgBouncer(t, m.pgbIni)
	}
	hdir := filepath.Join(s.bundle, cluster, "pg-test-1", "haproxy")
	svcs, _ := filepath.Glob(filepath.Join(hdir, cluster+"-*.cfg"))
	sort.Strings(svcs)
	if len(svcs) != 4 {
		t.Fatalf("service files: %v, want 4", svcs)
	}
	s.haproxy = testenv.StartHAProxy(t, append([]string{filepath.Join(hdir, "haproxy.cfg")}, svcs...)...)
	s.waitServices(s.members[0], 30*time.Second)
}

// waitServices waits until HAProxy's view matches: primary and default → only the
// leader UP; replica → every member UP (/read-only; the leader is its backup);
// offline → the replicas UP (/replica), the leader DOWN.
func (s *scenario) waitServices(leader *member, timeout time.Duration) time.Duration {
	url := fmt.Sprintf("http://127.0.0.1:%d/haproxy/pg-test-1/;csv", s.ports.Stats)
	return s.waitFor("haproxy backends settled for leader "+leader.name, timeout, func() error {
		st, err := haproxyStatus(url, "admin", pwHAProxy)
		if err != nil {
			return err
		}
		var bad []string
		for _, svc := range []string{"primary", "default", "replica", "offline"} {
			px := cluster + "-" + svc
			for _, m := range s.members {
				want := "UP"
				switch {
				case (svc == "primary" || svc == "default") && m != leader:
					want = "DOWN"
				case svc == "offline" && m == leader:
					want = "DOWN"
				}
				if svc == "offline" && m.name == "pg-test-1" && st[px][m.name] == "" {
					continue // not in the offline service at all (selector/backup)
				}
				if got := st[px][m.name]; got != want {
					bad = append(bad, fmt.Sprintf("%s/%s=%q want %s", px, m.name, got, want))
				}
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s", strings.Join(bad, ", "))
		}
		return nil
	})
}

func (s *scenario) svc(port int, user, db string) string {
	return conn("127.0.0.1", port, user, db, "disable")
}

// checkRouting checks where each service lands (testing.md §5 step 3), as the
// business user with its inventory password. listen_addresses tells the member
// (pg_listen '${ip}'); inet_server_addr() is NULL through PgBouncer (it reaches
// PostgreSQL over the unix socket) and the member's IP on a direct connection.
func (s *scenario) checkRouting(leader *member, replicas []*member, first bool) {
	t := s.t
	if first {
		if _, err := psqlTCP(s.root, s.svc(s.ports.Primary, "test", "test"), pwTest,
			"CREATE TABLE IF NOT EXISTS e2e (id bigserial PRIMARY KEY, note text NOT NULL, node text NOT NULL DEFAULT current_setting('listen_addresses'))"); err != nil {
			t.Fatalf("primary service: create table as test: %v", err)
		}
	}
	const who = "SELECT current_setting('listen_addresses') || ' ' || pg_is_in_recovery() || ' ' || coalesce(host(inet_server_addr()), 'socket')"
	out, err := psqlTCP(s.root, s.svc(s.ports.Primary, "test", "test"), pwTest,
		"INSERT INTO e2e (note) VALUES ('routing') RETURNING node;\n"+who)
	if want := leader.ip + "\n" + leader.ip + " false socket"; err != nil || out != want {
		t.Fatalf("primary service (write as test via pgbouncer): got %q, %v; want %q", out, err, want)
	}
	if first {
		out, err = psqlTCP(s.root, s.svc(s.ports.Replica, "test", "test"), pwTest, who)
		if err != nil || !strings.HasSuffix(out, " true socket") || !(strings.HasPrefix(out, replicas[0].ip+" ") || strings.HasPrefix(out, replicas[1].ip+" ")) {
			t.Fatalf("replica service: got %q, %v; want a replica (%s, %s) via pgbouncer, in recovery", out, err, replicas[0].ip, replicas[1].ip)
		}
		if _, err := psqlTCP(s.root, s.svc(s.ports.Replica, "test", "test"), pwTest, "INSERT INTO e2e (note) VALUES ('replica')"); err == nil ||
			!strings.Contains(err.Error(), "read-only transaction") {
			t.Fatalf("replica service accepted a write (or failed otherwise): %v", err)
		}
	} else {
		// The rendered replica service names the inventory's primary as its only
		// backup; after a switchover the new leader is a regular server there
		// (/read-only is 200 on a leader too) until the bundle is rebuilt with the
		// new roles — Pigsty's behaviour. It must still answer.
		if _, err := psqlTCP(s.root, s.svc(s.ports.Replica, "test", "test"), pwTest, "SELECT 1"); err != nil {
			t.Fatalf("replica service: %v", err)
		}
	}
	out, err = psqlTCP(s.root, s.svc(s.ports.Default, "test", "test"), pwTest, who)
	if want := leader.ip + " false " + leader.ip; err != nil || out != want {
		t.Fatalf("default service (direct, no pgbouncer): got %q, %v; want %q", out, err, want)
	}
	if !first {
		return
	}
	// The offline member, as the offline user (dbrole_offline).
	off := s.members[2]
	out, err = psqlTCP(s.root, s.svc(s.ports.Offline, "dbuser_etl", "test"), pwETL, who)
	if want := off.ip + " true " + off.ip; err != nil || out != want {
		t.Fatalf("offline service as dbuser_etl: got %q, %v; want %q", out, err, want)
	}
	if out, err := psqlTCP(s.root, s.svc(s.ports.Offline, "dbuser_etl", "test"), pwETL, "SELECT count(*) > 0 FROM e2e"); err != nil || out != "t" {
		t.Fatalf("offline service: dbuser_etl reads e2e: %q, %v", out, err)
	}
	// …and nowhere else: PgBouncer does not know it (pgbouncer: false), and the
	// leader's HBA has no offline rule.
	for _, p := range []struct {
		name string
		port int
		want string
	}{
		{"primary", s.ports.Primary, "SASL authentication failed"}, {"replica", s.ports.Replica, "SASL authentication failed"}, {"default", s.ports.Default, "no pg_hba.conf entry"},
	} {
		_, err := psqlTCP(s.root, s.svc(p.port, "dbuser_etl", "test"), pwETL, "SELECT 1")
		if err == nil || !strings.Contains(err.Error(), p.want) {
			t.Errorf("%s service as dbuser_etl: want an error containing %q, got %v", p.name, p.want, err)
		} else {
			t.Logf("%s service refuses dbuser_etl: %s", p.name, lastLine(err.Error()))
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// checkHBA connects straight to the leader's PostgreSQL and PgBouncer from a
// source address outside the intranet (127.A.B.200) and from one inside
// (127.A.B.100, the control), through relays that bind those addresses.
func (s *scenario) checkHBA(leader *member) {
	t := s.t
	outside, inside := s.block+".200", s.block+".100"
	pgAddr := fmt.Sprintf("%s:%d", leader.ip, s.ports.PG)
	pgbAddr := fmt.Sprintf("%s:%d", leader.ip, s.ports.PgBouncer)
	hostPort := func(a string) (string, int) {
		h, p, _ := strings.Cut(a, ":")
		n, _ := strconv.Atoi(p)
		return h, n
	}
	try := func(src, dst, user, pw, db, sslmode string) (string, error) {
		h, p := hostPort(relay(t, src, dst))
		return psqlTCP(s.root, conn(h, p, user, db, sslmode), pw, "SELECT host(inet_client_addr())")
	}
	cases := []struct {
		what, src, dst, user, pw, db, ssl, wantErr, wantOut string
	}{
		{"biz user from inside, postgres", inside, pgAddr, "test", pwTest, "test", "disable", "", inside},
		{"biz user from outside, postgres", outside, pgAddr, "test", pwTest, "test", "disable", `no pg_hba.conf entry for host "` + outside + `"`, ""},
		{"biz user from inside, pgbouncer", inside, pgbAddr, "test", pwTest, "test", "disable", "", "socket"},
		{"biz user from outside, pgbouncer", outside, pgbAddr, "test", pwTest, "test", "disable", "login rejected", ""},
		{"admin from outside without ssl", outside, pgAddr, "dbuser_dba", pwAdmin, "postgres", "disable", "no pg_hba.conf entry", ""},
		{"admin from outside with ssl", outside, pgAddr, "dbuser_dba", pwAdmin, "postgres", "require", "", outside},
		{"biz user, wrong password", inside, pgAddr, "test", "wrong", "test", "disable", "password authentication failed", ""},
	}
	for _, c := range cases {
		out, err := try(c.src, c.dst, c.user, c.pw, c.db, c.ssl)
		if out == "" && err == nil {
			out = "socket"
		}
		switch {
		case c.wantErr == "" && (err != nil || out != c.wantOut):
			t.Errorf("%s: got %q, %v; want %q", c.what, out, err, c.wantOut)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: want an error containing %q, got %q, %v", c.what, c.wantErr, out, err)
		case c.wantErr != "":
			t.Logf("hba: %s: refused: %s", c.what, lastLine(err.Error()))
		}
	}
}

// writeVia writes one row through the primary service and returns the member
// that stored it.
func (s *scenario) writeVia(note string) (string, error) {
	return psqlTCP(s.root, s.svc(s.ports.Primary, "test", "test"), pwTest,
		"INSERT INTO e2e (note) VALUES ('"+note+"') RETURNING node")
}

func (s *scenario) member(ip string) *member {
	for _, m := range s.members {
		if m.ip == ip {
			return m
		}
	}
	return nil
}

// followBound is how long HAProxy may take to route the primary service to a new
// leader once Patroni reports it: rise checks at downinter, plus one inter for
// the check already scheduled, plus 2 s for process scheduling on 2 cores.
func (s *scenario) followBound() time.Duration {
	return time.Duration(s.rise)*s.downinter + s.inter + 2*time.Second
}

// switchover runs `patronictl switchover` with member 1's rendered file (its ctl,
// etcd3 and restapi sections) and measures how long the primary service takes to
// follow. Bounds: Patroni within ttl; the service within followBound after that.
func (s *scenario) switchover(from, to *member) *member {
	t := s.t
	start := time.Now()
	cmd := testenv.DaemonCommand(from.dir, nil, "patronictl", "-c", from.conf, "switchover", cluster,
		"--leader", from.name, "--candidate", to.name, "--force")
	if out, err := runTimeout(cmd, 30*time.Second); err != nil {
		t.Fatalf("patronictl switchover: %v\n%s", err, out)
	}
	tc := time.Since(start)
	// The whole cluster settling (old leader restarted as a replica) is
	// slower than the leader change itself on a loaded 2-core CI machine:
	// allow 3×ttl for it; the bound that matters is the service's (below).
	s.waitFor("patroni reports "+to.name+" as leader", 3*s.ttl, func() error { return s.expectCluster(to, 0, to) })
	tp := time.Since(start)
	follow := s.waitFor("primary service follows to "+to.name, s.followBound(), func() error {
		node, err := s.writeVia("switchover")
		if err == nil && node != to.ip {
			err = fmt.Errorf("write landed on %s", node)
		}
		return err
	})
	t.Logf("switchover: patronictl returned after %.2fs, new leader running after %.2fs, primary service writes on it %.2fs later (%.2fs in all; bound %s after patroni)",
		tc.Seconds(), tp.Seconds(), follow.Seconds(), time.Since(start).Seconds(), s.followBound())
	d := s.waitReady(to, 30*time.Second)
	t.Logf("switchover: %s streaming from %s %.2fs later", from.name, to.name, d.Seconds())
	s.waitServices(to, s.followBound()+s.ttl)
	s.checkRouting(to, []*member{from, s.members[2]}, false)
	return to
}

// failover writes a marker row, waits until both replicas have replayed it,
// SIGKILLs the leader's Patroni and postmaster, and measures until writes through
// the primary service resume on the new leader. Bound: ttl (leader key expiry) +
// loop_wait (the next HA loop promotes) + followBound.
func (s *scenario) failover(old *member) *member {
	t := s.t
	if node, err := s.writeVia("before-failover"); err != nil || node != old.ip {
		t.Fatalf("marker write: %q, %v", node, err)
	}
	for _, m := range s.members {
		if m == old {
			continue
		}
		s.waitFor(m.name+" replays the marker", 10*time.Second, func() error {
			out, err := s.local(m, "test", "SELECT count(*) FROM e2e WHERE note = 'before-failover'")
			if err == nil && out != "1" {
				err = fmt.Errorf("count %s", out)
			}
			return err
		})
	}
	bound := s.ttl + s.loopWait + s.followBound()
	start := time.Now()
	s.killHard(old)
	t.Logf("failover: killed %s (patroni and postmaster, SIGKILL)", old.name)
	var nl *member
	s.waitFor("a new leader answers /primary", bound, func() error {
		for _, m := range s.members {
			if m == old {
				continue
			}
			code, err := httpGetJSON(fmt.Sprintf("http://%s:%d/primary", m.ip, s.ports.Patroni), nil)
			if err == nil && code == http.StatusOK {
				nl = m
				return nil
			}
		}
		return fmt.Errorf("no /primary 200 yet")
	})
	tp := time.Since(start)
	s.waitFor("writes through the primary service resume", bound-tp, func() error {
		node, err := s.writeVia("after-failover")
		if err == nil && node != nl.ip {
			err = fmt.Errorf("write landed on %s, want %s", node, nl.ip)
		}
		return err
	})
	t.Logf("failover: new leader %s answers /primary after %.2fs, writes through the primary service after %.2fs (bound %s)",
		nl.name, tp.Seconds(), time.Since(start).Seconds(), bound)
	out, err := psqlTCP(s.root, s.svc(s.ports.Primary, "test", "test"), pwTest, "SELECT count(*) FROM e2e WHERE note = 'before-failover'")
	if err != nil || out != "1" {
		t.Fatalf("the row written before the kill: count %q, %v", out, err)
	}
	s.failed = old
	return nl
}

// rejoin restarts the killed member: Patroni rewinds it (pg_rewind) and it streams
// from the new leader again, with its own pg_hba.conf.
func (s *scenario) rejoin() {
	t := s.t
	old := s.failed
	var leader *member
	var c patroniCluster
	for _, m := range s.members {
		if m == old {
			continue
		}
		if _, err := httpGetJSON(fmt.Sprintf("http://%s:%d/cluster", m.ip, s.ports.Patroni), &c); err == nil {
			break
		}
	}
	for _, x := range c.Members {
		if x.Role == "leader" {
			for _, m := range s.members {
				if m.name == x.Name {
					leader = m
				}
			}
		}
	}
	if leader == nil {
		t.Fatalf("no leader in %+v", c.Members)
	}
	s.startMember(old)
	d := s.waitReady(leader, 45*time.Second)
	logData, _ := os.ReadFile(filepath.Join(old.dir, "log", "patroni", "patroni.log"))
	// Success of pg_rewind itself, not just a rejoin: with
	// remove_data_directory_on_rewind_failure a failed rewind would re-clone the
	// member and still rejoin.
	if !bytes.Contains(logData, []byte("pg_rewind exit code=0")) || bytes.Contains(logData, []byte("Failed to rewind")) {
		t.Errorf("%s rejoined without a successful pg_rewind; patroni.log:\n%s", old.name, tail(filepath.Join(old.dir, "log", "patroni", "patroni.log"), 40))
	} else {
		t.Logf("rejoin: %s rewound (pg_rewind exit code=0) and streaming again %.2fs after its restart", old.name, d.Seconds())
	}
	// pg_rewind copies the source's configuration files, pg_hba.conf included, and
	// Patroni 3.0.2 restores its backups only of files that are missing
	// (postgresql/config.py restore_configuration_files): the rejoined member now
	// has the new leader's pg_hba.conf, whose role-specific rules (offline) may
	// differ from its own until the bundle's file is installed again. Pigsty keeps
	// pg_hba.conf in the data directory too. Reported, not failed: it is a
	// deployment property, not a rendering error.
	want, _ := os.ReadFile(filepath.Join(s.bundle, cluster, old.name, "pg_hba.conf"))
	got, _ := os.ReadFile(filepath.Join(old.data, "pg_hba.conf"))
	if !bytes.Equal(got, want) {
		first, _, _ := strings.Cut(string(got), "\n")
		t.Logf("NOTE: %s's pg_hba.conf after pg_rewind is not its own: %q", old.name, first)
	}
	out, err := s.local(old, "test", "SELECT count(*) FROM e2e WHERE note IN ('before-failover', 'after-failover')")
	if err != nil || out != "2" {
		s.waitFor(old.name+" replays the rows written around the failover", 10*time.Second, func() error {
			out, err := s.local(old, "test", "SELECT count(*) FROM e2e WHERE note IN ('before-failover', 'after-failover')")
			if err == nil && out != "2" {
				err = fmt.Errorf("count %s", out)
			}
			return err
		})
	}
}

// checkCallbacks: Patroni called the rendered callback for start, stop and role
// changes (3.0.2 passes role `master`, not `primary`; a demoted leader's on_stop
// carries `demoted`). Then the rendered archive_command works on the leader.
func (s *scenario) checkCallbacks() {
	data, err := os.ReadFile(filepath.Join(s.root, "callbacks.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, want := range []string{"on_start master " + cluster, "on_start replica " + cluster, "on_stop ",
		"on_role_change master " + cluster, "on_role_change replica " + cluster} {
		if !bytes.Contains(data, []byte(want)) {
			s.t.Errorf("callbacks.log has no %q:\n%s", want, data)
		}
	}
}

// checkArchive: the rendered archive_command (pgbackrest archive-push, async)
// archived WAL on the current leader.
func (s *scenario) checkArchive(leader *member) {
	s.waitFor("pg_stat_archiver on "+leader.name, 15*time.Second, func() error {
		out, err := s.local(leader, "postgres", "SELECT archived_count > 0 FROM pg_stat_archiver")
		if err == nil && out != "t" {
			err = fmt.Errorf("nothing archived yet")
		}
		return err
	})
}
