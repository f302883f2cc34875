package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
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
	"github.com/pgcc-dev/pgcc/migrate/writer"
)

// The cutover scenarios of migrate.md §10 (A4 pgbouncer switch, A5 kill -9
// in cutover.*, A7 abort at the budget, A8 fence probes, A9 sequences, A11
// rollback), on two PostgreSQL 15 servers with a PgBouncer 1.18 in
// transaction mode in front of the source. Every scenario uses its own
// databases and PgBouncer; cutover and rollback run as subprocesses under a
// 90 s deadline so a hang fails with logs (testing.md §7).

const cutoverDeadline = 90 * time.Second

const roleSQL = `DO $$BEGIN
IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_owner') THEN CREATE ROLE app_owner LOGIN; END IF;
IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_rw') THEN CREATE ROLE app_rw LOGIN; END IF;
END$$;`

// appSQL: the writer's tables; probe belongs to app_owner (the owner
// defeats REVOKE); app_rw is an ordinary app role.
const appSQL = writer.Schema + `
CREATE SEQUENCE desc_seq INCREMENT -1 MAXVALUE -1 START -1;
SELECT nextval('desc_seq') FROM generate_series(1, 3);
CREATE SEQUENCE shared_seq;
CREATE TABLE s1 (id int PRIMARY KEY DEFAULT nextval('shared_seq'));
CREATE TABLE s2 (id int PRIMARY KEY DEFAULT nextval('shared_seq'));
INSERT INTO s1 DEFAULT VALUES; INSERT INTO s2 DEFAULT VALUES;
CREATE TABLE gen (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a int);
INSERT INTO gen (a) SELECT g FROM generate_series(1, 10) g;
ALTER TABLE probe OWNER TO app_owner;
GRANT SELECT, INSERT ON probe TO app_rw;
GRANT SELECT, INSERT, UPDATE ON ledger, accounts TO app_rw;
GRANT USAGE ON SEQUENCE ledger_n_seq, writer_seq TO app_rw;
`

type cutEnv struct {
	l        *lab
	t        testing.TB
	ctx      context.Context
	sdb, ddb string
	file     string
	dir      string // the migration directory
	pgb      *testenv.PgBouncer
	dbTxt    string
	origLine string
}

func TestCutover(t *testing.T) {
	l := newLab(t, "pgbouncer")
	t.Setenv("PGMIGRATE_POLL_INTERVAL", "100ms")
	l.psql(l.src, "", roleSQL)
	l.psql(l.dst, "", roleSQL)
	t.Run("pgbouncer-fence", l.cutoverPgbouncer)
	t.Run("abort-at-budget", l.cutoverAbort)
	t.Run("kill-and-resume", l.cutoverKill)
	t.Run("rollback", l.cutoverRollback)
	t.Run("command-switch", l.cutoverCommand)
	t.Run("walsender-killed", l.cutoverWalsenderKilled)
	t.Run("rollback-killed", l.rollbackKilled)
}

// cutSetup creates the databases, the app schema, a PgBouncer in front of
// the source and the migration file, and runs the migration to streaming.
func (l *lab) cutSetup(t testing.TB, name, sdb, ddb, extra string) *cutEnv {
	t.Helper()
	return l.cutSetupSwitch(t, name, sdb, ddb, extra, true)
}

// cutSetupSwitch is cutSetup; without pgbouncer, extra must configure the switch.
func (l *lab) cutSetupSwitch(t testing.TB, name, sdb, ddb, extra string, pgbouncer bool) *cutEnv {
	t.Helper()
	return l.cutSetupFull(t, name, sdb, ddb, extra, pgbouncer, nil)
}

// cutSetupPrepared is cutSetup with more data loaded (fill) before run.
func (l *lab) cutSetupPrepared(t testing.TB, name, sdb, ddb, extra string, fill func()) *cutEnv {
	t.Helper()
	return l.cutSetupFull(t, name, sdb, ddb, extra, true, fill)
}

func (l *lab) cutSetupFull(t testing.TB, name, sdb, ddb, extra string, pgbouncer bool, fill func()) *cutEnv {
	t.Helper()
	l.t = t
	ctx, cancel := context.WithTimeout(context.Background(), cutoverDeadline)
	t.Cleanup(cancel)
	l.createDBs(sdb, ddb)
	l.psql(l.src, sdb, appSQL)
	if fill != nil {
		fill()
	}
	pdir := testenv.TempDir(t)
	port := testenv.FreePort(t)
	dbTxt := filepath.Join(pdir, "database.txt")
	orig := fmt.Sprintf("%s = host=127.0.0.1 port=%d dbname=%s", sdb, l.src.Port(), sdb)
	testenv.WriteDaemonFile(t, dbTxt, []byte("; the migrated database\n"+orig+"\n"), 0o644)
	testenv.WriteDaemonFile(t, filepath.Join(pdir, "userlist.txt"), []byte("\"postgres\" \"\"\n\"app_rw\" \"\"\n"), 0o600)
	ini := fmt.Sprintf(`[databases]
%%include %s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
auth_type = trust
auth_file = %s/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
logfile = %s/pgbouncer.log
pidfile = %s/pgbouncer.pid
`, dbTxt, port, pdir, pdir, pdir, pdir)
	iniPath := filepath.Join(pdir, "pgbouncer.ini")
	testenv.WriteDaemonFile(t, iniPath, []byte(ini), 0o644)
	if !pgbouncer {
		file := l.migration(name, sdb, ddb, extra)
		if out := l.mustPgm(0, "run", "-f", file); !strings.Contains(out, "ready for cutover") {
			t.Fatalf("run: %s", out)
		}
		return &cutEnv{l: l, t: t, ctx: ctx, sdb: sdb, ddb: ddb, file: file, dir: l.ctxDir(file, "pg-src."+sdb)}
	}
	pgb := testenv.StartPgBouncer(t, iniPath)
	sw := fmt.Sprintf(`switch:
  mechanism: pgbouncer
  pgbouncer:
    - admin_url: postgres://postgres@127.0.0.1:%d/pgbouncer?sslmode=disable
      config_file: %s
      database: %s
`, port, dbTxt, sdb)
	file := l.migration(name, sdb, ddb, extra+sw)
	out := l.mustPgm(0, "run", "-f", file)
	if !strings.Contains(out, "ready for cutover") {
		t.Fatalf("run: %s", out)
	}
	return &cutEnv{l: l, t: t, ctx: ctx, sdb: sdb, ddb: ddb, file: file, dir: l.ctxDir(file, "pg-src."+sdb), pgb: pgb, dbTxt: dbTxt, origLine: orig}
}

func (e *cutEnv) viaPgbouncer() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", e.pgb.Port, e.sdb)
}

func (e *cutEnv) direct(pg *testenv.Postgres, user, dbname string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", pg.Port(), user, dbname)
}

// pgm runs pgmigrate as a subprocess (it can be SIGKILLed, and the
// deadline kills a hang); bin "" is the test binary.
func (e *cutEnv) pgm(bin string, env []string, args ...string) (string, string, int, bool) {
	e.t.Helper()
	if bin == "" {
		bin = e.l.bin
	}
	cmd := exec.CommandContext(e.ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	if e.ctx.Err() != nil {
		e.t.Fatalf("pgmigrate %s: deadline of %s exceeded\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), cutoverDeadline, out.String(), errb.String())
	}
	code, killed := 0, false
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed = ws.Signal() == syscall.SIGKILL
		}
	} else if err != nil {
		e.t.Fatal(err)
	}
	e.t.Logf("pgmigrate %s: exit %d in %v", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond))
	return out.String(), errb.String(), code, killed
}

func (e *cutEnv) mustPgm(want int, args ...string) string {
	e.t.Helper()
	out, errs, code, _ := e.pgm("", nil, args...)
	if code != want {
		e.t.Fatalf("pgmigrate %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

// record is the part of cutover.json the tests read.
type record struct {
	Attempt        int
	Outcome        string
	Reason         string
	FenceLSN       string             `json:"fence_lsn"`
	FenceAcquireMs *float64           `json:"fence_acquire_ms"`
	PauseMs        *float64           `json:"pause_ms"`
	PartsMs        map[string]float64 `json:"parts_ms"`
	Verify         string
	Warnings       []string
	Times          map[string]struct {
		TMs    float64 `json:"t_ms"`
		TS     string  `json:"ts"`
		UnixUs int64   `json:"unix_us"`
	}
}

func (e *cutEnv) record(name string) record {
	e.t.Helper()
	var r record
	data, err := os.ReadFile(filepath.Join(e.dir, name))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	return r
}

func (r record) at(name string) time.Time { return time.UnixMicro(r.Times[name].UnixUs) }

// committedAfter counts the rows of tables on pg whose commit timestamp is
// after at (the source has track_commit_timestamp = on): I2.
func (e *cutEnv) committedAfter(pg *testenv.Postgres, dbname string, at time.Time, where string, tables ...string) string {
	e.t.Helper()
	var parts []string
	for _, tb := range tables {
		parts = append(parts, fmt.Sprintf("(SELECT count(*) FROM %s WHERE pg_xact_commit_timestamp(xmin) > to_timestamp(%d / 1e6)%s)", tb, at.UnixMicro(), where))
	}
	return e.l.psql(pg, dbname, "SELECT "+strings.Join(parts, " + "))
}

// checkMissing: every acknowledged id is on pg (I1).
func (e *cutEnv) checkMissing(pg *testenv.Postgres, dbname, table string, ids []string, what string) {
	e.t.Helper()
	missing, err := writer.Missing(e.ctx, e.direct(pg, "postgres", dbname), table, ids)
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	if len(missing) > 0 {
		n := len(missing)
		if n > 5 {
			missing = missing[:5]
		}
		e.t.Errorf("%s: %d of %d acknowledged ids missing from %s, e.g. %v", what, n, len(ids), table, missing)
	}
}

// checkSequences: every destination sequence is ≥ the source's last_value +
// seq_offset in its direction (I3).
func (e *cutEnv) checkSequences(from, to *testenv.Postgres, fromDB, toDB string) {
	e.t.Helper()
	q := "SELECT schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, 'null') || ' ' || increment_by FROM pg_sequences WHERE schemaname <> 'pgmigrate' ORDER BY 1"
	read := func(pg *testenv.Postgres, dbname string) map[string][2]int64 {
		m := map[string][2]int64{}
		for _, line := range strings.Split(e.l.psql(pg, dbname, q), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 || f[1] == "null" {
				continue
			}
			v, _ := strconv.ParseInt(f[1], 10, 64)
			inc, _ := strconv.ParseInt(f[2], 10, 64)
			m[f[0]] = [2]int64{v, inc}
		}
		return m
	}
	src, dst := read(from, fromDB), read(to, toDB)
	if len(src) == 0 {
		e.t.Fatalf("no sequences read")
	}
	for name, s := range src {
		d, ok := dst[name]
		switch {
		case !ok:
			e.t.Errorf("sequence %s: missing or never used on the new side", name)
		case s[1] > 0 && d[0] < s[0]+1000, s[1] < 0 && d[0] > s[0]-1000:
			e.t.Errorf("sequence %s: new side %d, old side %d: not ahead by seq_offset 1000", name, d[0], s[0])
		}
	}
}

// probes are the writers that defeat weaker fences (A8); all bypass pgbouncer.
// app_owner is in fence.exempt_roles, so its sessions are never terminated:
// their writes queue on the lock and then meet the seal, which shows the
// permanent layer alone holds against the owner (REVOKE does not stop it)
// and a REPEATABLE READ snapshot taken before the seal.
var probeKinds = []struct{ name, kind, user string }{
	{"pre-fence-session", writer.PreFenceSession, "app_rw"},
	{"repeatable-read", writer.RepeatableRead, "app_owner"},
	{"begin-read-write", writer.BeginReadWrite, "app_owner"},
	{"read-only-off", writer.ReadOnlyOff, "app_rw"},
	{"table-owner", writer.Persistent, "app_owner"},
	{"superuser", writer.Persistent, "postgres"},
	{"reconnect-loop", writer.Reconnect, "app_rw"},
}

// scrape fetches /metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(b), "pgmigrate_phase") {
				return string(b)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics from %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cutoverPgbouncer (A4, A8, A9): a writer through PgBouncer and seven fence
// probes straight to the source during a cutover with the pgbouncer switch;
// status JSON and the metrics endpoint before and after.
func (l *lab) cutoverPgbouncer(t *testing.T) {
	e := l.cutSetup(t, "cut", "cut", "cut_d", `fence: {methods: [lock, trigger, revoke, connlimit, terminate], release_timeout: 1s, exempt_roles: [app_owner]}
lag: {sample_interval: 50ms}
`)
	// status before: streaming, no cutover yet.
	var st struct {
		Phase   string
		Health  []string
		Cutover *struct {
			Outcome string
			PauseMs *float64 `json:"pause_ms"`
		}
	}
	out := l.mustPgm(0, "status", "-f", e.file)
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Phase != "streaming" || st.Cutover != nil {
		t.Fatalf("status before cutover: %v\n%s", err, out)
	}
	mport := testenv.FreePort(t)
	maddr := fmt.Sprintf("127.0.0.1:%d", mport)
	watch := exec.Command(l.bin, "status", "-f", e.file, "--watch", "--interval", "250ms", "--metrics-listen", maddr)
	watch.Stdout, watch.Stderr = io.Discard, io.Discard
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = watch.Process.Signal(syscall.SIGTERM); _ = watch.Wait() }()
	m := scrape(t, maddr)
	for _, want := range []string{`pgmigrate_phase{phase="streaming"} 1`, "pgmigrate_lag_bytes ", `pgmigrate_up{side="source"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics before cutover lack %q:\n%s", want, m)
		}
	}

	w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 400, Conns: 8, LogPath: filepath.Join(l.dir, "cut-acks.log")})
	if err != nil {
		t.Fatal(err)
	}
	var probes []*writer.Probe
	for _, p := range probeKinds {
		pr, err := writer.StartProbe(e.ctx, p.name, p.kind, e.direct(l.src, p.user, e.sdb), 15*time.Millisecond)
		if err != nil {
			t.Fatalf("probe %s: %v", p.name, err)
		}
		probes = append(probes, pr)
	}
	time.Sleep(time.Second)
	out = e.mustPgm(0, "cutover", "--yes", "-f", e.file)
	if !strings.Contains(out, "write pause ") || !strings.Contains(out, "cutover of pg-src.cut completed") {
		t.Errorf("cutover output:\n%s", out)
	}
	time.Sleep(500 * time.Millisecond) // writes flow on the destination
	res := w.Stop()
	atts := map[string][]writer.Attempt{}
	for _, p := range probes {
		atts[p.Name] = p.Stop()
	}
	rec := e.record("cutover.json")
	fence := rec.at("fence_applied")
	if rec.Outcome != "completed" || rec.PauseMs == nil || rec.FenceAcquireMs == nil || rec.FenceLSN == "" || rec.Verify != "equal" {
		t.Fatalf("cutover.json: %+v", rec)
	}
	t.Logf("measured: write pause %.1f ms (fence %.1f ms; parts %v); writer: %d acked, %.0f TPS, max gap %v, max latency %v, %d failed, %d unknown",
		*rec.PauseMs, *rec.FenceAcquireMs, rec.PartsMs, len(res.Acked), res.TPS(), res.MaxGap().Round(time.Millisecond),
		res.MaxLatency().Round(time.Millisecond), len(res.Failed), len(res.Unknown))
	if *rec.PauseMs > 5000 {
		t.Errorf("pause %.0f ms exceeds pause_budget", *rec.PauseMs)
	}
	// The writer through pgbouncer: queued, then on the destination.
	if len(res.Failed) > 0 || len(res.Unknown) > 0 {
		t.Errorf("writer through pgbouncer: %d failed, %d unknown; first: %+v", len(res.Failed), len(res.Unknown), res.Failed[0])
	}
	if n := res.AckedAfter(rec.at("dst_writable")); n == 0 {
		t.Errorf("no acknowledged commit after the switch")
	}
	e.checkMissing(l.dst, e.ddb, "ledger", res.IDs(), "writer (I1)")
	// I2: nothing committed on the source after the fence.
	if got := e.committedAfter(l.src, e.sdb, fence, "", "ledger", "accounts", "probe"); got != "0" {
		t.Errorf("%s rows committed on the source after fence_applied", got)
	}
	// A8: every probe's write either failed or committed before the fence.
	for _, p := range probeKinds {
		t.Run("probe-"+p.name, func(t *testing.T) {
			var acked []string
			intoFence := 0
			for _, a := range atts[p.name] {
				if a.Acked {
					acked = append(acked, a.ID)
					if a.Start.After(fence) {
						t.Errorf("write %s started %v after the fence and was acknowledged", a.ID, a.Start.Sub(fence))
					}
				} else if a.End.After(fence) {
					intoFence++
				}
			}
			if intoFence == 0 {
				t.Errorf("no write ran into the fence (%d attempts): the probe did not test it", len(atts[p.name]))
			}
			codes := map[string]int{}
			for _, a := range atts[p.name] {
				if !a.Acked && a.End.After(fence) {
					c := a.Code
					if c == "" {
						c = "conn"
					}
					codes[c]++
				}
			}
			t.Logf("%d attempts, %d acknowledged (all before the fence), refused after it: %v", len(atts[p.name]), len(acked), codes)
			if got := e.committedAfter(l.src, e.sdb, fence, " AND kind = '"+p.name+"'", "probe"); got != "0" {
				t.Errorf("%s probe rows committed on the source after the fence", got)
			}
			e.checkMissing(l.dst, e.ddb, "probe", acked, "probe "+p.name)
		})
	}
	// I3 (bare, descending, shared, serial and identity sequences), then
	// DEFAULT inserts on the destination right after the switch (the writer
	// above had none fail on ledger's bigserial) and an identity insert.
	e.checkSequences(l.src, l.dst, e.sdb, e.ddb)
	l.psql(l.dst, e.ddb, "INSERT INTO s1 DEFAULT VALUES; INSERT INTO s2 DEFAULT VALUES; INSERT INTO gen (a) VALUES (11)")
	// I4: an independent checksum of tables not written after the cutover.
	sum := "SELECT md5(string_agg(id::text || kind, ',' ORDER BY id)), count(*) FROM probe"
	if a, b := l.psql(l.src, e.sdb, sum), l.psql(l.dst, e.ddb, sum); a != b {
		t.Errorf("probe checksum: source %s, destination %s", a, b)
	}
	if got := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), (SELECT datconnlimit FROM pg_database WHERE datname = current_database()), has_table_privilege('app_rw', 'ledger', 'INSERT')"); got != "1|0|f" {
		t.Errorf("source seal|connlimit|app_rw INSERT = %s, want 1|0|f", got)
	}
	data, _ := os.ReadFile(e.dbTxt)
	if want := fmt.Sprintf("%s = host=127.0.0.1 port=%d dbname=%s", e.sdb, l.dst.Port(), e.ddb); !strings.Contains(string(data), want+"\n") || !strings.HasPrefix(string(data), "; the migrated database\n") {
		t.Errorf("database.txt after the switch:\n%s", data)
	}
	if b, err := os.ReadFile(filepath.Join(e.dir, "data", "pgbouncer-0.orig")); err != nil || string(b) != e.origLine+"\n" {
		t.Errorf("pgbouncer-0.orig = %q, %v", b, err)
	}
	if got := l.ourObjects(); strings.Contains(got, "cut") {
		t.Errorf("forward replication left after cutover: %s", got)
	}
	// status and metrics after.
	out = l.mustPgm(0, "status", "-f", e.file)
	st.Cutover = nil
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Phase != "cut-over" || st.Cutover == nil || st.Cutover.Outcome != "completed" || st.Cutover.PauseMs == nil || len(st.Health) != 0 {
		t.Errorf("status after cutover: %v\n%s", err, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m = scrape(t, maddr)
		if strings.Contains(m, `pgmigrate_phase{phase="cut-over"} 1`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{`pgmigrate_phase{phase="cut-over"} 1`, "pgmigrate_cutover_pause_seconds ", "pgmigrate_verify_mismatched_tables 0",
		`pgmigrate_cutover_attempt{outcome="completed"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics after cutover lack %q:\n%s", want, m)
		}
	}
	// After the cutover run refuses (it would re-create forward replication),
	// a second cutover is a no-op, and cleanup works twice; the seal stays.
	_, errs, code := l.pgm("run", "-f", e.file)
	if code != 1 || !strings.Contains(errs, "cut-over") {
		t.Errorf("run after cutover: exit %d: %s", code, errs)
	}
	if out := e.mustPgm(0, "cutover", "--yes", "-f", e.file); !strings.Contains(out, "already cut over") {
		t.Errorf("second cutover: %s", out)
	}
	l.mustPgm(0, "cleanup", "-f", e.file)
	l.mustPgm(0, "cleanup", "-f", e.file)
	if got := l.psql(l.src, e.sdb, "SELECT last_value FROM pgmigrate.seal"); got != "1" {
		t.Errorf("seal after cleanup: %s", got)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "data", "pgbouncer-0.orig")); err == nil {
		t.Errorf("cleanup left the pgbouncer backup")
	}
}

// holdLock keeps a psql session on pg holding sql's lock until release.
func holdLock(t *testing.T, pg *testenv.Postgres, dbname, sql, mode string) (release func()) {
	t.Helper()
	cmd := testenv.Command(pg.Dir(), nil, "psql", "-X", "-q", "-h", pg.Host(), "-p", strconv.Itoa(pg.Port()), "-U", "postgres", "-d", dbname)
	stdin, _ := cmd.StdinPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "SET application_name = 'test-lock-holder';\nBEGIN;\n%s;\n", sql)
	var once sync.Once
	release = func() {
		once.Do(func() {
			fmt.Fprintln(stdin, "ROLLBACK;")
			stdin.Close()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(release)
	deadline := time.Now().Add(10 * time.Second)
	for pg.MustPsql(t, dbname, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'test-lock-holder' AND l.granted AND l.mode = '"+mode+"'") == "0" {
		if time.Now().After(deadline) {
			t.Fatal("lock not taken")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return release
}

// cutoverAbort (A7): a destination table locked against writes stalls the
// apply; the cutover aborts at the pause budget, the source is writable again
// at once (privileges, connection limit, seal as before), pgbouncer still
// points at it, and a later cutover succeeds.
func (l *lab) cutoverAbort(t *testing.T) {
	e := l.cutSetup(t, "abort", "ab", "ab_d", `fence: {methods: [lock, trigger, revoke, connlimit, terminate], release_timeout: 1s}
pause_budget: 1s
lag: {ready_bytes: 64MB, enter_bytes: 64MB, sample_interval: 50ms}
`)
	before := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), (SELECT datconnlimit FROM pg_database WHERE datname = current_database()), has_table_privilege('app_rw', 'ledger', 'INSERT'), has_sequence_privilege('app_rw', 'writer_seq', 'USAGE')")
	w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 200, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	// EXCLUSIVE stalls the apply worker (it writes accounts) like ACCESS
	// EXCLUSIVE would, but lets the preconditions read the catalogs and sizes.
	release := holdLock(t, l.dst, e.ddb, "LOCK TABLE accounts IN EXCLUSIVE MODE", "ExclusiveLock")
	time.Sleep(200 * time.Millisecond)
	out, errs, code, _ := e.pgm("", nil, "cutover", "--yes", "-f", e.file)
	if code != 1 || !strings.Contains(errs, "aborted") {
		t.Fatalf("cutover with a locked destination table: exit %d\n%s\n%s", code, out, errs)
	}
	rec := e.record("cutover.json")
	if rec.Outcome != "aborted" || !strings.Contains(rec.Reason, "budget") {
		t.Errorf("cutover.json: %+v", rec)
	}
	aborted := rec.at("aborted")
	if d := aborted.Sub(rec.at("fence_applied")); d < time.Second || d > 2*time.Second {
		t.Errorf("aborted %v after fence_applied, want the 1s budget", d)
	}
	time.Sleep(500 * time.Millisecond)
	res := w.Stop()
	first, ok := res.FirstAckAfter(aborted)
	if !ok || first.Sub(aborted) > 250*time.Millisecond {
		t.Errorf("first writer ack after the abort: %v (ok %v), want ≤ 250ms", first.Sub(aborted), ok)
	}
	t.Logf("abort: first ack %v after the restore; writer %d acked, %d failed, max gap %v",
		first.Sub(aborted).Round(time.Millisecond), len(res.Acked), len(res.Failed), res.MaxGap().Round(time.Millisecond))
	if len(res.Failed) > 0 {
		t.Errorf("writer through pgbouncer failed %d times across the abort: %+v", len(res.Failed), res.Failed[0])
	}
	if got := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), (SELECT datconnlimit FROM pg_database WHERE datname = current_database()), has_table_privilege('app_rw', 'ledger', 'INSERT'), has_sequence_privilege('app_rw', 'writer_seq', 'USAGE')"); got != before || before != "0|-1|t|t" {
		t.Errorf("source after abort: seal|connlimit|privileges = %s, before %s", got, before)
	}
	if data, _ := os.ReadFile(e.dbTxt); !strings.Contains(string(data), e.origLine+"\n") {
		t.Errorf("database.txt after abort:\n%s", data)
	}
	if got := l.psql(l.dst, "", "SELECT count(*) FROM pg_subscription WHERE subname = 'sub_pg_src_ab' AND subenabled"); got != "1" {
		t.Errorf("forward subscription after abort: %s", got)
	}
	out = l.mustPgm(0, "status", "-f", e.file)
	if !strings.Contains(out, `"phase": "streaming"`) || !strings.Contains(out, `"outcome": "aborted"`) {
		t.Errorf("status after abort:\n%s", out)
	}
	// Unlocked, a second attempt completes.
	release()
	w, err = writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 200, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	out = e.mustPgm(0, "cutover", "--yes", "-f", e.file)
	time.Sleep(300 * time.Millisecond)
	res2 := w.Stop()
	if rec := e.record("cutover.json"); rec.Attempt != 2 || rec.Outcome != "completed" {
		t.Errorf("second attempt: %+v\n%s", rec, out)
	}
	e.checkMissing(l.dst, e.ddb, "ledger", append(res.IDs(), res2.IDs()...), "writer (I1)")
	if len(res2.Failed) > 0 {
		t.Errorf("writer failed %d times in the second cutover: %+v", len(res2.Failed), res2.Failed[0])
	}
}

var (
	faultOnce sync.Once
	faultBin  string
	faultErr  error
)

// faultBinary builds pgmigrate with the faultinject tag once per test
// binary, into a directory TestMain removes.
func faultBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not in PATH: cannot build the faultinject binary")
	}
	faultOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pgmigrate-fi")
		if err != nil {
			faultErr = err
			return
		}
		faultBin = filepath.Join(dir, "pgmigrate-fi")
		if out, err := exec.Command(gobin, "build", "-tags", "faultinject", "-o", faultBin, ".").CombinedOutput(); err != nil {
			faultErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if faultErr != nil {
		t.Fatalf("build faultinject binary: %v", faultErr)
	}
	return faultBin
}

// cutoverKill (A5 for cutover.*): SIGKILL after catch-up (sealed, paused,
// before the point of no return) → run restores the source and the paused
// writer resumes there; SIGKILL after the fence → cutover --abort does the
// same; SIGKILL after the switch (past the point of no return) → the next
// cutover finishes it, verification skipped. Catch-up here is catchup: slot.
func (l *lab) cutoverKill(t *testing.T) {
	bin := faultBinary(t)
	e := l.cutSetup(t, "kill", "kl", "kl_d", "catchup: slot\nlag: {sample_interval: 50ms}\n")
	w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 200, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// --check evaluates the preconditions only.
	out := e.mustPgm(0, "cutover", "--check", "-f", e.file)
	if !strings.Contains(out, "ready for cutover") || !strings.Contains(out, "ok   lag") || strings.Contains(string(must(os.ReadFile(filepath.Join(e.dir, "journal.jsonl")))), `"step":"cutover"`) {
		t.Errorf("cutover --check:\n%s", out)
	}
	_, errs, _, killed := e.pgm(bin, []string{"PGMIGRATE_FAULT=cutover.catchup:after"}, "cutover", "--yes", "-f", e.file)
	if !killed {
		t.Fatalf("fault cutover.catchup:after: not killed: %s", errs)
	}
	if got := l.psql(l.src, e.sdb, "SELECT last_value FROM pgmigrate.seal"); got != "1" {
		t.Errorf("seal after the kill: %s (the permanent layer holds the queue)", got)
	}
	if lines, err := os.ReadFile(filepath.Join(e.dir, "journal.jsonl")); err == nil {
		for _, ln := range strings.Split(string(lines), "\n") {
			if strings.Contains(ln, `"step":"cutover.catchup","event":"done"`) {
				t.Logf("slot catch-up before the kill: %s", ln)
			}
		}
	}
	stalled := time.Now()
	time.Sleep(300 * time.Millisecond)
	if n := w.AckedSince(stalled.Add(50 * time.Millisecond)); n != 0 {
		t.Errorf("%d commits acknowledged while pgbouncer should still pause", n)
	}
	// run reads the journal too: it restores the source and goes on.
	out = l.mustPgm(0, "run", "-f", e.file)
	if !strings.Contains(out, "restoring the source after interrupted cutover attempt 1") || !strings.Contains(out, "ready for cutover") {
		t.Errorf("run after the kill:\n%s", out)
	}
	restored := time.Now()
	unsealed := func(what string) {
		if got := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), (SELECT datconnlimit FROM pg_database WHERE datname = current_database())"); got != "0|-1" {
			t.Errorf("source after %s: %s", what, got)
		}
		time.Sleep(300 * time.Millisecond)
		if n := w.AckedSince(restored); n == 0 {
			t.Errorf("no commit acknowledged after %s", what)
		}
	}
	unsealed("run")
	// Killed with the lock and the pause in place, before the seal: --abort.
	_, errs, _, killed = e.pgm(bin, []string{"PGMIGRATE_FAULT=cutover.fence:after"}, "cutover", "--yes", "-f", e.file)
	if !killed {
		t.Fatalf("fault cutover.fence:after: not killed: %s", errs)
	}
	out = e.mustPgm(0, "cutover", "--abort", "--yes", "-f", e.file)
	if !strings.Contains(out, "restored") {
		t.Errorf("--abort: %s", out)
	}
	restored = time.Now()
	unsealed("--abort")
	// Killed past the point of no return: the next cutover finishes it.
	_, errs, _, killed = e.pgm(bin, []string{"PGMIGRATE_FAULT=cutover.switch:after"}, "cutover", "--yes", "-f", e.file)
	if !killed {
		t.Fatalf("fault cutover.switch:after: not killed: %s", errs)
	}
	out = e.mustPgm(0, "cutover", "--yes", "-f", e.file)
	if !strings.Contains(out, "finishing interrupted cutover attempt 3") || !strings.Contains(out, "verification skipped") {
		t.Errorf("resumed cutover:\n%s", out)
	}
	time.Sleep(300 * time.Millisecond)
	res := w.Stop()
	rec := e.record("cutover.json")
	if rec.Outcome != "completed" || rec.Attempt != 3 || !strings.HasPrefix(rec.Verify, "skipped") {
		t.Errorf("cutover.json: %+v", rec)
	}
	if got := l.ourObjects(); strings.Contains(got, "kl") {
		t.Errorf("forward replication left: %s", got)
	}
	e.checkMissing(l.dst, e.ddb, "ledger", res.IDs(), "writer (I1)")
	if len(res.Failed) > 0 {
		t.Errorf("writer through pgbouncer failed %d times: %+v", len(res.Failed), res.Failed[0])
	}
	var vj struct {
		Tables []struct{ Status, Reason string }
	}
	data, _ := os.ReadFile(filepath.Join(e.dir, "verify.json"))
	if json.Unmarshal(data, &vj) != nil || len(vj.Tables) == 0 || vj.Tables[0].Reason != "snapshots lost" {
		t.Errorf("verify.json after a roll forward:\n%s", data)
	}
}

// cutoverRollback (A11): rollback enabled; the writer keeps committing
// through PgBouncer across cutover and rollback; forward and reverse
// replication are never both present; every acknowledged id ends on the
// source.
func (l *lab) cutoverRollback(t *testing.T) {
	e := l.cutSetup(t, "rb", "rb", "rb_d", fmt.Sprintf(`rollback: {enabled: true, conn: 'host=127.0.0.1 port=%d dbname=rb_d user=postgres'}
lag: {sample_interval: 50ms}
fence: {release_timeout: 1s}
`, l.dst.Port()))
	mon, err := writer.StartWatch(e.ctx, e.direct(l.src, "postgres", e.sdb), "SELECT EXISTS (SELECT 1 FROM pg_subscription WHERE subname = 'rsub_pg_src_rb')",
		e.direct(l.dst, "postgres", e.ddb), "SELECT EXISTS (SELECT 1 FROM pg_subscription WHERE subname = 'sub_pg_src_rb')", 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 300, Conns: 8})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	e.mustPgm(0, "cutover", "--yes", "-f", e.file)
	if got := l.psql(l.src, "", "SELECT string_agg(subname || ':' || subenabled, ',') FROM pg_subscription"); got != "rsub_pg_src_rb:true" {
		t.Errorf("reverse subscription on the source: %q", got)
	}
	// run refuses to re-create forward replication while reverse runs.
	if _, errs, code := l.pgm("run", "-f", e.file); code != 1 || !strings.Contains(errs, "cut-over") {
		t.Errorf("run after cutover: exit %d: %s", code, errs)
	}
	time.Sleep(1500 * time.Millisecond) // writes on the destination, replicated back
	out := l.mustPgm(0, "status", "-f", e.file)
	if !strings.Contains(out, `"reverse": {`) || !strings.Contains(out, `"phase": "cut-over"`) {
		t.Errorf("status with reverse replication:\n%s", out)
	}
	out = e.mustPgm(0, "rollback", "--yes", "-f", e.file)
	if !strings.Contains(out, "rollback of pg-src.rb completed") || !strings.Contains(out, "write pause") {
		t.Errorf("rollback:\n%s", out)
	}
	time.Sleep(500 * time.Millisecond)
	res := w.Stop()
	both, samples := mon.Stop()
	if both != 0 || samples < 10 {
		t.Errorf("forward and reverse subscriptions both present in %d of %d samples", both, samples)
	}
	rb := e.record("rollback.json")
	t.Logf("rollback: write pause %v ms; writer %d acked, %d failed, max gap %v", derefF(rb.PauseMs), len(res.Acked), len(res.Failed), res.MaxGap().Round(time.Millisecond))
	if rb.Outcome != "rolled-back" {
		t.Errorf("rollback.json: %+v", rb)
	}
	if len(res.Failed) > 0 || len(res.Unknown) > 0 {
		t.Errorf("writer: %d failed, %d unknown: %+v", len(res.Failed), len(res.Unknown), res.Failed)
	}
	// I1 toward the source, the source unsealed, the destination sealed.
	e.checkMissing(l.src, e.sdb, "ledger", res.IDs(), "writer toward the source (I1)")
	if got := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), (SELECT datconnlimit FROM pg_database WHERE datname = current_database())"); got != "0|-1" {
		t.Errorf("source after rollback: %s", got)
	}
	if got := l.psql(l.dst, e.ddb, "SELECT last_value FROM pgmigrate.seal"); got != "1" {
		t.Errorf("destination seal after rollback: %s", got)
	}
	e.checkSequences(l.dst, l.src, e.ddb, e.sdb)
	if data, _ := os.ReadFile(e.dbTxt); !strings.Contains(string(data), e.origLine+"\n") {
		t.Errorf("database.txt after rollback:\n%s", data)
	}
	if got := l.psql(l.src, "", "SELECT count(*) FROM pg_subscription"); got != "0" {
		t.Errorf("%s subscriptions left on the source", got)
	}
	if got := l.psql(l.dst, "", "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '%rb'"); got != "0" {
		t.Errorf("%s reverse slots left on the destination", got)
	}
	if out := l.mustPgm(0, "status", "-f", e.file); !strings.Contains(out, `"phase": "rolled-back"`) {
		t.Errorf("status after rollback:\n%s", out)
	}
	// cleanup --unseal gives the destination back what the rollback's fence
	// took and removes pgmigrate's objects on both sides.
	l.mustPgm(0, "cleanup", "-f", e.file, "--unseal")
	if got := l.psql(l.dst, e.ddb, "SELECT (SELECT datconnlimit FROM pg_database WHERE datname = current_database()), to_regnamespace('pgmigrate') IS NULL, (SELECT count(*) FROM pg_trigger WHERE tgname = 'pgmigrate_fence')"); got != "-1|t|0" {
		t.Errorf("destination after cleanup --unseal: connlimit|schema gone|fence triggers = %s", got)
	}
	if got := l.psql(l.src, e.sdb, "SELECT to_regnamespace('pgmigrate') IS NULL, (SELECT count(*) FROM pg_event_trigger)"); got != "t|0" {
		t.Errorf("source after cleanup --unseal: schema gone|event triggers = %s", got)
	}
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// proxy is a TCP proxy for the command switch: the hook writes the target
// ("host:port/dbname") to a file; the proxy then closes its connections (the
// clients reconnect) and sends new ones there, rewriting the database of the
// startup message.
type proxy struct {
	ln     net.Listener
	file   string
	mu     sync.Mutex
	target string
	conns  map[net.Conn]bool
	done   chan struct{}
}

func startProxy(t *testing.T, file, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(target+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, file: file, target: target, conns: map[net.Conn]bool{}, done: make(chan struct{})}
	t.Cleanup(func() { close(p.done); ln.Close(); p.closeAll() })
	go p.watch()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *proxy) watch() {
	for {
		select {
		case <-p.done:
			return
		case <-time.After(5 * time.Millisecond):
		}
		b, err := os.ReadFile(p.file)
		cur := strings.TrimSpace(string(b))
		p.mu.Lock()
		changed := err == nil && cur != "" && cur != p.target
		if changed {
			p.target = cur
		}
		p.mu.Unlock()
		if changed {
			p.closeAll()
		}
	}
}

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	target := p.target
	p.conns[c] = true
	p.mu.Unlock()
	defer c.Close()
	addr, dbname, _ := strings.Cut(target, "/")
	// StartupMessage: int32 length, int32 protocol, key\0value\0 … \0.
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	n := int(binary.BigEndian.Uint32(hdr[:4]))
	body := make([]byte, n-8)
	if _, err := io.ReadFull(c, body); err != nil {
		return
	}
	parts := strings.Split(string(body), "\x00")
	var out []byte
	out = append(out, hdr[4:8]...)
	for i := 0; i+1 < len(parts) && parts[i] != ""; i += 2 {
		v := parts[i+1]
		if parts[i] == "database" {
			v = dbname
		}
		out = append(out, parts[i]...)
		out = append(out, 0)
		out = append(out, v...)
		out = append(out, 0)
	}
	out = append(out, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(out)+4))
	msg = append(msg, out...)
	s, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	defer s.Close()
	if _, err := s.Write(msg); err != nil {
		return
	}
	go func() { _, _ = io.Copy(c, s); c.Close() }()
	_, _ = io.Copy(s, c)
}

// cutoverCommand (A4, command switch): the writer connects through a TCP
// proxy that the switch.command hook re-points; sessions caught by the
// fence fail (no pooler queues them), but nothing acknowledged is lost and
// nothing commits on the source after the fence.
func (l *lab) cutoverCommand(t *testing.T) {
	target := filepath.Join(l.dir, "proxy-target")
	hookLog := filepath.Join(l.dir, "hook.log")
	hook := fmt.Sprintf(`echo "$PGMIGRATE_ID $PGMIGRATE_KIND $PGMIGRATE_DST_DB" >> %s && echo "$PGMIGRATE_TARGET_HOST:$PGMIGRATE_TARGET_PORT/$PGMIGRATE_TARGET_DB" > %s.tmp && mv %s.tmp %s`, hookLog, target, target, target)
	e := l.cutSetupSwitch(t, "cmd", "cmdb", "cmdb_d", fmt.Sprintf(`switch: {mechanism: command, command: {run: '%s', timeout: 2s}}
lag: {sample_interval: 50ms}
fence: {release_timeout: 1s}
`, hook), false)
	px := startProxy(t, target, fmt.Sprintf("127.0.0.1:%d/%s", l.src.Port(), e.sdb))
	w, err := writer.Start(e.ctx, writer.Options{ConnString: fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", px.port(), e.sdb), Rate: 300, Conns: 8})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	out := e.mustPgm(0, "cutover", "--yes", "-f", e.file)
	time.Sleep(500 * time.Millisecond)
	res := w.Stop()
	rec := e.record("cutover.json")
	t.Logf("command switch: write pause %v ms; writer %d acked, %d failed, %d unknown, max gap %v", derefF(rec.PauseMs), len(res.Acked), len(res.Failed), len(res.Unknown), res.MaxGap().Round(time.Millisecond))
	if rec.Outcome != "completed" || rec.Verify != "equal" || !strings.Contains(out, "write pause") {
		t.Errorf("cutover.json %+v\n%s", rec, out)
	}
	if b, _ := os.ReadFile(hookLog); string(b) != "pg-src.cmdb cutover cmdb_d\n" {
		t.Errorf("hook ran with %q", b)
	}
	if n := res.AckedAfter(rec.at("dst_writable")); n == 0 {
		t.Errorf("no commit acknowledged after the switch")
	}
	e.checkMissing(l.dst, e.ddb, "ledger", res.IDs(), "writer through the proxy (I1)")
	if got := e.committedAfter(l.src, e.sdb, rec.at("fence_applied"), "", "ledger", "accounts"); got != "0" {
		t.Errorf("%s rows committed on the source after the fence", got)
	}
	e.checkSequences(l.src, l.dst, e.sdb, e.ddb)
}

// cutoverWalsenderKilled (A6): the source walsender serving the forward
// slot is killed while cutover.catchup waits. catchup: slot waits for the
// slot's confirmed_flush_lsn, which only the subscriber's feedback through
// that walsender moves, and the apply worker is held back by a lock on the
// destination so catch-up cannot finish before the kill. Once the lock goes,
// the worker applies, fails to report on the dead connection and exits;
// the launcher starts a new one (the destination's log shows the apply
// worker starting twice), which reconnects and confirms. The cutover then completes
// within the 5 s pause budget, or aborts with the source writable and a
// second attempt completes. I1–I4 hold either way.
func (l *lab) cutoverWalsenderKilled(t *testing.T) {
	e := l.cutSetup(t, "wsk", "wsk", "wsk_d", "catchup: slot\nlag: {sample_interval: 50ms}\n")
	w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 200, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	release := holdLock(t, l.dst, e.ddb, "LOCK TABLE accounts IN EXCLUSIVE MODE", "ExclusiveLock")
	type result struct {
		out, errs string
		code      int
	}
	done := make(chan result, 1)
	go func() { // no t.* here: only the test goroutine may fail the test
		cmd := exec.CommandContext(e.ctx, l.bin, "cutover", "--yes", "-f", e.file)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
			errb.WriteString(err.Error())
		}
		done <- result{out.String(), errb.String(), code}
	}()
	waitFor(t, 20*time.Second, func() bool { return countEvents(t, e.dir, "cutover.catchup", "start") > 0 })
	time.Sleep(200 * time.Millisecond) // inside catch-up, waiting on the held-back apply
	if got := l.psql(l.src, "", "SELECT count(*) FILTER (WHERE pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = 'sub_pg_src_wsk' AND active_pid IS NOT NULL"); got != "1" {
		t.Fatalf("terminated %s walsenders, want 1", got)
	}
	release()
	r := <-done
	t.Logf("cutover after the walsender kill: exit %d\n%s%s", r.code, r.out, r.errs)
	res1, res2 := &writer.Result{}, &writer.Result{}
	switch r.code {
	case 0:
	case 1:
		rec := e.record("cutover.json")
		if rec.Outcome != "aborted" {
			t.Fatalf("exit 1 but cutover.json outcome %q: %+v", rec.Outcome, rec)
		}
		if got := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), has_table_privilege('app_rw', 'ledger', 'INSERT')"); got != "0|t" {
			t.Errorf("source after the abort: seal|insert = %s, want writable", got)
		}
		time.Sleep(300 * time.Millisecond)
		res1 = w.Stop()
		if w, err = writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 200, Conns: 4}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		e.mustPgm(0, "cutover", "--yes", "-f", e.file)
	default:
		t.Fatalf("cutover after the walsender kill: exit %d\n%s%s", r.code, r.out, r.errs)
	}
	time.Sleep(300 * time.Millisecond)
	res2 = w.Stop()
	rec := e.record("cutover.json")
	if rec.Outcome != "completed" || rec.Verify != "equal" {
		t.Errorf("cutover.json: %+v", rec)
	}
	if r.code == 0 && (rec.PauseMs == nil || *rec.PauseMs > 5000) {
		t.Errorf("pause %v ms, want within the 5 s budget", derefF(rec.PauseMs))
	}
	// The kill really cost the apply worker its connection.
	log, err := os.ReadFile(filepath.Join(l.dst.Dir(), "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), `logical replication apply worker for subscription "sub_pg_src_wsk" has started`); n < 2 {
		t.Errorf("the apply worker started %d times, want a restart after the walsender kill", n)
	}
	ids := append(res1.IDs(), res2.IDs()...)
	e.checkMissing(l.dst, e.ddb, "ledger", ids, "writer (I1)")
	if got := e.committedAfter(l.src, e.sdb, rec.at("fence_applied"), "", "ledger", "accounts"); got != "0" {
		t.Errorf("%s rows committed on the source after the fence (I2)", got)
	}
	e.checkSequences(l.src, l.dst, e.sdb, e.ddb)
	if n := len(res1.Failed) + len(res2.Failed); n > 0 {
		t.Errorf("writer through pgbouncer failed %d times", n)
	}
}

// rollbackKilled (A5 for rollback.*): SIGKILL during a rollback, once
// before its point of no return and once past it, each on its own
// migration. The next rollback reads the journal: before the point of no
// return it restores the destination and makes a new attempt, past it it
// finishes the switch back (§5.3 with the sides swapped). Either way: I1
// toward the source, the source unsealed and writable, pgbouncer back on
// the source, no subscription left on the source.
func (l *lab) rollbackKilled(t *testing.T) {
	for _, tc := range []struct{ name, fault, want string }{
		{"rbk", "rollback.catchup:after", "restoring the destination after interrupted rollback attempt 1"},
		{"rbp", "rollback.switch:after", "finishing interrupted rollback attempt 1"},
	} {
		e := l.cutSetup(t, tc.name, tc.name, tc.name+"_d", fmt.Sprintf(`rollback: {enabled: true, conn: 'host=127.0.0.1 port=%d dbname=%s_d user=postgres'}
lag: {sample_interval: 50ms}
fence: {release_timeout: 1s}
`, l.dst.Port(), tc.name))
		w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: 200, Conns: 4})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		e.mustPgm(0, "cutover", "--yes", "-f", e.file)
		time.Sleep(500 * time.Millisecond) // writes on the destination, replicated back
		_, errs, _, killed := e.pgm(faultBinary(t), []string{"PGMIGRATE_FAULT=" + tc.fault}, "rollback", "--yes", "-f", e.file)
		if !killed {
			t.Fatalf("fault %s: not killed: %s", tc.fault, errs)
		}
		out := e.mustPgm(0, "rollback", "--yes", "-f", e.file)
		if !strings.Contains(out, tc.want) || !strings.Contains(out, "rollback of pg-src."+tc.name+" completed") {
			t.Errorf("%s: rollback after the kill:\n%s", tc.fault, out)
		}
		time.Sleep(300 * time.Millisecond)
		res := w.Stop()
		if rb := e.record("rollback.json"); rb.Outcome != "rolled-back" {
			t.Errorf("%s: rollback.json: %+v", tc.fault, rb)
		}
		e.checkMissing(l.src, e.sdb, "ledger", res.IDs(), "writer toward the source (I1)")
		if len(res.Failed) > 0 {
			t.Errorf("%s: writer through pgbouncer failed %d times: %+v", tc.fault, len(res.Failed), res.Failed[0])
		}
		if n := res.AckedAfter(time.Now().Add(-250 * time.Millisecond)); n == 0 {
			t.Errorf("%s: no commit acknowledged at the end: the source is not taking writes", tc.fault)
		}
		if got := l.psql(l.src, e.sdb, "SELECT (SELECT last_value FROM pgmigrate.seal), (SELECT datconnlimit FROM pg_database WHERE datname = current_database())"); got != "0|-1" {
			t.Errorf("%s: source after the rollback: seal|connlimit = %s", tc.fault, got)
		}
		if got := l.psql(l.src, e.sdb, "SELECT count(*) FROM pg_subscription WHERE subname LIKE '%"+tc.name+"'"); got != "0" {
			t.Errorf("%s: %s subscriptions left on the source", tc.fault, got)
		}
		if data, _ := os.ReadFile(e.dbTxt); !strings.Contains(string(data), e.origLine+"\n") {
			t.Errorf("%s: database.txt after the rollback:\n%s", tc.fault, data)
		}
		e.checkSequences(l.dst, l.src, e.ddb, e.sdb)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
