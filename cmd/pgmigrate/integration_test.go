package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgcc-dev/pgcc/golden/testenv"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
)

// The harness clones every server from one initdb template, so both sides
// share a system identifier: destination databases get other names, or the
// identity check (same system id and database) would block.
//
// The scenarios of migrate.md §10 that belong to part 1 (no cutover), on two
// scratch PostgreSQL 15 servers. Each subtest uses its own databases, so the
// servers are started once; subtests run in order (2 cores, testing.md §7).

type lab struct {
	t        testing.TB
	src, dst *testenv.Postgres
	bin      string // pgmigrate (this test binary, installed in PATH by testscript)
	dir      string
}

var serverSettings = []string{
	"wal_level=logical", "max_wal_senders=20", "max_replication_slots=20",
	"max_logical_replication_workers=8", "max_worker_processes=16", "synchronous_commit=off",
	"wal_retrieve_retry_interval=1s",
}

func newLab(t testing.TB, daemons ...string) *lab {
	testenv.NeedLong(t, append([]string{"postgres"}, daemons...)...)
	bin, err := exec.LookPath("pgmigrate")
	if err != nil {
		t.Fatalf("pgmigrate not in PATH (testscript.Main installs it): %v", err)
	}
	src := testenv.StartPostgres(t, testenv.PGOptions{Settings: append(serverSettings, "track_commit_timestamp=on")})
	dst := testenv.StartPostgres(t, testenv.PGOptions{Settings: serverSettings})
	return &lab{t: t, src: src, dst: dst, bin: bin, dir: t.TempDir()}
}

// migration writes a migration file for databases sdb → ddb.
func (l *lab) migration(name, sdb, ddb, extra string) string {
	l.t.Helper()
	dir := filepath.Join(l.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		l.t.Fatal(err)
	}
	if !strings.Contains(extra, "copy:") {
		extra = "copy: {workers: 2}\n" + extra
	}
	body := fmt.Sprintf(`context_dir: %s
src_cls: pg-src
src_db: %s
src_ip: 127.0.0.1
src_pg: postgres://postgres@127.0.0.1:%d/%s
dst_cls: pg-dst
dst_db: %s
dst_ip: 127.0.0.1
dst_pg: postgres://postgres@127.0.0.1:%d/%s
pg_replication_username: postgres
%s`, filepath.Join(dir, "ctx"), sdb, l.src.Port(), sdb, ddb, l.dst.Port(), ddb, extra)
	f := filepath.Join(dir, "migration.yml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		l.t.Fatal(err)
	}
	return f
}

func (l *lab) ctxDir(file, id string) string {
	return filepath.Join(filepath.Dir(file), "ctx", id)
}

// pgm runs pgmigrate in-process; it returns stdout, stderr and the exit code.
func (l *lab) pgm(args ...string) (string, string, int) {
	l.t.Helper()
	var out, errb bytes.Buffer
	start := time.Now()
	code := Main(args, strings.NewReader(""), &out, &errb)
	l.t.Logf("pgmigrate %s: exit %d in %v", args[0], code, time.Since(start).Round(time.Millisecond))
	return out.String(), errb.String(), code
}

func (l *lab) mustPgm(want int, args ...string) string {
	l.t.Helper()
	out, errs, code := l.pgm(args...)
	if code != want {
		l.t.Fatalf("pgmigrate %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

func (l *lab) psql(pg *testenv.Postgres, dbname, sql string) string {
	l.t.Helper()
	return pg.MustPsql(l.t, dbname, sql)
}

func (l *lab) createDBs(sdb, ddb string) {
	l.psql(l.src, "", "CREATE DATABASE "+sdb)
	l.psql(l.dst, "", "CREATE DATABASE "+ddb)
}

// pgbench -i on the source.
func (l *lab) pgbenchInit(dbname string, scale int) {
	l.t.Helper()
	cmd := testenv.Command(l.src.Dir(), nil, "pgbench", "-i", "-q", "-s", fmt.Sprint(scale), "-h", l.src.Host(), "-p", fmt.Sprint(l.src.Port()), "-U", "postgres", dbname)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
}

func (l *lab) pgbench(dbname string, txns int) {
	l.t.Helper()
	cmd := testenv.Command(l.src.Dir(), nil, "pgbench", "-n", "-c", "2", "-t", fmt.Sprint(txns), "-h", l.src.Host(), "-p", fmt.Sprint(l.src.Port()), "-U", "postgres", dbname)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("pgbench: %v\n%s", err, out)
	}
}

// ourObjects lists pgmigrate's publications, subscriptions and slots left.
func (l *lab) ourObjects() string {
	a := l.psql(l.src, "", "SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots")
	b := l.psql(l.dst, "", "SELECT string_agg(subname, ',' ORDER BY subname) FROM pg_subscription")
	return "slots=" + a + " subs=" + b
}

// fixture is the part-1 subset of §10's fixture: pgbench plus TOAST, a
// unique NOT NULL index without PK, a keyless table, 3 partitions,
// generated and identity ALWAYS columns, bare/descending/shared sequences,
// a matview, an unlogged table, an ENABLE ALWAYS trigger.
const fixture = `
CREATE TABLE toasty (id int PRIMARY KEY, body text);
INSERT INTO toasty SELECT g, repeat(md5(g::text), 400) FROM generate_series(1, 50) g;
CREATE TABLE uniq (a int NOT NULL, b text);
CREATE UNIQUE INDEX uniq_a ON uniq (a);
INSERT INTO uniq SELECT g, 'u' || g FROM generate_series(1, 20) g;
CREATE TABLE keyless (a int, b text);
INSERT INTO keyless SELECT g, 'k' FROM generate_series(1, 10) g;
CREATE TABLE parts (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES FROM (100) TO (200);
CREATE TABLE parts_3 PARTITION OF parts FOR VALUES FROM (200) TO (300);
INSERT INTO parts SELECT g, 'v' || g FROM generate_series(0, 299) g;
CREATE TABLE gen (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED, f float8, r real);
INSERT INTO gen (a, f, r) SELECT g, g / 3.0, g / 7.0 FROM generate_series(1, 100) g;
CREATE SEQUENCE bare_seq; SELECT nextval('bare_seq') FROM generate_series(1, 5);
CREATE SEQUENCE desc_seq INCREMENT -1 MAXVALUE -1 START -1; SELECT nextval('desc_seq') FROM generate_series(1, 3);
CREATE SEQUENCE shared_seq;
CREATE TABLE s1 (id int PRIMARY KEY DEFAULT nextval('shared_seq'));
CREATE TABLE s2 (id int PRIMARY KEY DEFAULT nextval('shared_seq'));
INSERT INTO s1 DEFAULT VALUES; INSERT INTO s2 DEFAULT VALUES;
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM pgbench_accounts;
CREATE UNLOGGED TABLE unl (id int PRIMARY KEY);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER always_touch BEFORE INSERT ON toasty FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE toasty ENABLE ALWAYS TRIGGER always_touch;
`

func TestIntegration(t *testing.T) {
	l := newLab(t)
	t.Setenv("PGMIGRATE_POLL_INTERVAL", "200ms")
	t.Run("end-to-end", l.endToEnd)
	t.Run("no-key", l.noKey)
	t.Run("kill-mid-copy", l.killMidCopy)
	t.Run("fault-injection", l.faultInjection)
	t.Run("concurrency", l.concurrency)
	t.Run("subscription-path", l.subscriptionPath)
	t.Run("existing-schema-freeze", l.existingSchemaFreeze)
	t.Run("kit", l.kit)
}

// endToEnd: plan, doctor, run → streaming, writes, verify equal, status,
// a tampered destination found by key (A10), idempotent re-run, cleanup
// twice (A12); passwords inline, {env:} and .pgpass never leak (A13).
func (l *lab) endToEnd(t *testing.T) {
	l.t = t
	l.createDBs("e2e", "e2e_d")
	l.pgbenchInit("e2e", 1)
	l.psql(l.src, "e2e", fixture)
	const inlinePW, envPW, passfilePW = "Inline.Secret.Repl", "Env.Secret.Admin", "Pgpass.Secret.Mon"
	pass := filepath.Join(l.dir, "pgpass")
	os.WriteFile(pass, []byte(fmt.Sprintf("*:*:*:dbuser_monitor:%s\n", passfilePW)), 0o600)
	t.Setenv("PGPASSFILE", pass)
	t.Setenv("PGM_TEST_ADMIN_PW", envPW)
	f := l.migration("e2e", "e2e", "e2e_d", fmt.Sprintf(`tables: {no_key: apply_fix}
pg_replication_password: %s
pg_admin_username: postgres
pg_admin_password: {env: PGM_TEST_ADMIN_PW}
`, inlinePW))
	dir := l.ctxDir(f, "pg-src.e2e")
	var outputs []string
	capture := func(want int, args ...string) string {
		out, errs, code := l.pgm(args...)
		outputs = append(outputs, out, errs)
		if code != want {
			t.Fatalf("pgmigrate %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, errs)
		}
		return out
	}
	capture(0, "plan", "-f", f)
	doc := capture(0, "doctor", "-f", f, "--format", "json")
	var rep struct {
		Checks []struct {
			ID, Severity, Status string
			Object               *string
		}
		Summary struct{ Blockers, Warnings int }
	}
	if err := json.Unmarshal([]byte(doc), &rep); err != nil {
		t.Fatalf("doctor json: %v", err)
	}
	found := map[string]bool{}
	for _, c := range rep.Checks {
		if c.Object != nil {
			found[c.ID+" "+*c.Object] = true
		}
	}
	for _, w := range []string{`no-key "public"."keyless"`, `no-key "public"."pgbench_history"`, `no-key "public"."uniq"`,
		"unlogged public.unl", "dst-triggers-fire public.toasty: trigger always_touch (ENABLE ALWAYS)"} {
		if w == "dst-triggers-fire public.toasty: trigger always_touch (ENABLE ALWAYS)" {
			continue // the destination is empty before copy-schema
		}
		if !found[w] {
			t.Errorf("doctor did not report %s", w)
		}
	}
	capture(1, "doctor", "-f", f, "--strict") // A1: warnings fail under --strict
	checkDoctorGolden(t, doc)
	out := capture(0, "run", "-f", f, "--log-level", "debug")
	if !strings.Contains(out, "ready for cutover") {
		t.Fatalf("run did not reach streaming:\n%s", out)
	}
	// copy.freeze auto with 2 workers: plain tables were loaded by COPY
	// FREEZE (all-visible after post-data's ANALYZE), a partition through
	// its root was not (existingSchemaFreeze has the reasoning).
	if got := l.psql(l.dst, "e2e_d", "SELECT string_agg(relname || ':' || (relpages > 0 AND relallvisible = relpages)::text, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('pgbench_accounts', 'parts_1')"); got != "parts_1:false,pgbench_accounts:true" {
		t.Errorf("all-visible after the load: %s, want parts_1:false,pgbench_accounts:true", got)
	}
	// uniq got its unique index as replica identity, keyless FULL.
	if got := l.psql(l.src, "e2e", "SELECT string_agg(relname || ':' || relreplident::text, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('uniq', 'keyless')"); got != "keyless:f,uniq:i" {
		t.Errorf("replica identities %s", got)
	}
	l.pgbench("e2e", 100)
	l.psql(l.src, "e2e", "UPDATE uniq SET b = 'changed' WHERE a = 3; DELETE FROM keyless WHERE a = 4; INSERT INTO parts VALUES (150, 'new') ON CONFLICT DO NOTHING; UPDATE gen SET a = a + 1 WHERE id < 10")
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f)
		return code == 0
	})
	vout := capture(0, "verify", "-f", f, "--format", "json")
	if !strings.Contains(vout, `"mismatched": 0`) || !strings.Contains(vout, `"status": "not-yet-synced"`) {
		t.Errorf("verify json:\n%s", vout)
	}
	if got, want := l.psql(l.dst, "e2e_d", "SELECT n FROM mv"), "100000"; got != want {
		t.Errorf("matview on the destination = %s, want %s", got, want)
	}
	if got := l.psql(l.dst, "e2e_d", "SELECT count(*) FROM unl"); got != "0" {
		t.Errorf("unlogged table has %s rows on the destination", got)
	}
	// status JSON: streaming, every table ready, healthy.
	st := capture(0, "status", "-f", f)
	var s struct {
		Phase  string
		Health []string
		Source struct {
			Slot struct {
				LagBytes *int64 `json:"lag_bytes"`
				Active   bool
			}
		}
		Tables []struct{ Name, State string }
	}
	if err := json.Unmarshal([]byte(st), &s); err != nil {
		t.Fatalf("status json: %v\n%s", err, st)
	}
	if s.Phase != "streaming" || len(s.Health) != 0 || s.Source.Slot.LagBytes == nil || !s.Source.Slot.Active || len(s.Tables) < 8 {
		t.Errorf("status: %+v", s)
	}
	for _, tb := range s.Tables {
		if tb.State != "ready" {
			t.Errorf("table %s state %s", tb.Name, tb.State)
		}
	}
	// A10: a deleted, a changed and an added row on the destination.
	l.psql(l.dst, "e2e_d", `SET session_replication_role = replica;
		DELETE FROM pgbench_accounts WHERE aid = 500;
		UPDATE pgbench_accounts SET filler = 'tampered' WHERE aid = 77777;
		INSERT INTO pgbench_accounts VALUES (100001, 1, 0, 'extra')`)
	vout, verrs, code := l.pgm("verify", "-f", f)
	outputs = append(outputs, vout, verrs)
	if code != 1 {
		t.Fatalf("verify after tampering: exit %d\n%s%s", code, vout, verrs)
	}
	for _, w := range []string{"missing on destination: (500)", "different:              (77777)", "extra on destination:   (100001)"} {
		if !strings.Contains(vout, w) {
			t.Errorf("verify output lacks %q:\n%s", w, vout)
		}
	}
	var vj struct {
		Tables []struct {
			Table  string
			Status string
			Ranges []struct {
				RowsSrc int64 `json:"rows_src"`
				RowsDst int64 `json:"rows_dst"`
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "verify.json"))
	if err != nil {
		t.Fatalf("verify.json: %v", err)
	}
	if err := json.Unmarshal(data, &vj); err != nil {
		t.Fatalf("verify.json: %v", err)
	}
	sawAccounts := false
	for _, tb := range vj.Tables {
		if tb.Table == `"public"."pgbench_accounts"` {
			sawAccounts = true
			if tb.Status != "mismatch" || len(tb.Ranges) == 0 {
				t.Errorf("pgbench_accounts: %+v", tb)
			}
			for _, r := range tb.Ranges {
				if r.RowsSrc > 1000 {
					t.Errorf("reported range holds %d rows, more than leaf_rows", r.RowsSrc)
				}
			}
		}
	}
	if !sawAccounts {
		t.Errorf("verify.json has no entry for \"public\".\"pgbench_accounts\": %s", data)
	}
	capture(1, "verify", "--report", "-f", f)
	l.psql(l.dst, "e2e_d", `SET session_replication_role = replica;
		DELETE FROM pgbench_accounts WHERE aid = 100001;
		INSERT INTO pgbench_accounts SELECT 500, bid, abalance, filler FROM pgbench_accounts WHERE aid = 499;
		UPDATE pgbench_accounts SET abalance = 0, filler = (SELECT filler FROM pgbench_accounts WHERE aid = 499) WHERE aid IN (500, 77777)`)
	l.psql(l.src, "e2e", "UPDATE pgbench_accounts SET abalance = 0 WHERE aid IN (500, 77777)")
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f, "--tables", "public.pgbench_accounts")
		return code == 0
	})
	// A16: DDL on a migrated table fails with 55000 while streaming; the
	// subscription stays healthy.
	if msg, err := l.src.Psql(t, "e2e", "\\set VERBOSITY verbose\nALTER TABLE pgbench_branches ADD COLUMN x int"); err == nil || !strings.Contains(err.Error(), "55000") {
		t.Errorf("DDL on the source: %v %s", err, msg)
	}
	l.psql(l.src, "e2e", "INSERT INTO pgbench_branches VALUES (1000, 0, 'after ddl')")
	waitFor(t, 20*time.Second, func() bool {
		return l.psql(l.dst, "e2e_d", "SELECT count(*) FROM pgbench_branches WHERE bid = 1000") == "1"
	})
	// A replica that does not catch up: the recheck still reports the
	// mismatch, and says it may be lag rather than lost rows.
	l.psql(l.dst, "e2e_d", "ALTER SUBSCRIPTION sub_pg_src_e2e DISABLE")
	l.psql(l.src, "e2e", "UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = 1")
	func() {
		// Main runs in this process; the subtests never run in parallel.
		os.Setenv("PGMIGRATE_CATCHUP_TIMEOUT", "300ms")
		defer os.Unsetenv("PGMIGRATE_CATCHUP_TIMEOUT")
		vout, verrs, code := l.pgm("verify", "-f", f, "--tables", "public.pgbench_tellers")
		outputs = append(outputs, vout, verrs)
		if code != 1 || !regexp.MustCompile(`MISMATCH "public"."pgbench_tellers": rows 10/10 \(the replica had not confirmed [0-9A-F]+/[0-9A-F]+ after 300ms: it lags, rows may still arrive\)`).MatchString(vout) {
			t.Errorf("verify with a stopped replica: exit %d\n%s%s", code, vout, verrs)
		}
	}()
	l.psql(l.dst, "e2e_d", "ALTER SUBSCRIPTION sub_pg_src_e2e ENABLE")
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f, "--tables", "public.pgbench_tellers")
		return code == 0
	})
	capture(0, "status", "-f", f)
	// Re-running is idempotent: nothing is applied again.
	before := countEvents(t, dir, "create-pub", journal.EventStart)
	capture(0, "run", "-f", f)
	if after := countEvents(t, dir, "create-pub", journal.EventStart); after != before {
		t.Errorf("re-run started create-pub again")
	}
	// After create-pub a changed structure (filters here) is exit 2.
	_, errs, code := l.pgm("run", "-f", f, "--var", "tables.exclude=['public.toasty']")
	if code != 2 || !strings.Contains(errs, "structure") {
		t.Errorf("changed structure: exit %d: %s", code, errs)
	}
	// A12: cleanup needs --abandon before cutover; twice; nothing left but the seal.
	capture(2, "cleanup", "-f", f)
	capture(0, "cleanup", "-f", f, "--abandon")
	if got := l.ourObjects(); got != "slots= subs=" {
		t.Errorf("after cleanup: %s", got)
	}
	if got := l.psql(l.src, "e2e", "SELECT count(*) FROM pg_publication"); got != "0" {
		t.Errorf("%s publications left", got)
	}
	if got := l.psql(l.src, "e2e", "SELECT to_regclass('pgmigrate.seal') IS NOT NULL, to_regclass('pgmigrate.marker') IS NULL"); got != "t|t" {
		t.Errorf("seal kept, marker dropped: %s", got)
	}
	capture(0, "cleanup", "-f", f, "--abandon")
	capture(0, "kit", "-f", f)
	// A13: no password in any output or any file pgmigrate wrote.
	secrets := []string{inlinePW, envPW, passfilePW}
	for _, o := range outputs {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Errorf("a password appears in pgmigrate's output")
			}
		}
	}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a password", p)
			}
		}
		if info.Mode().Perm()&0o077 != 0 && !strings.HasSuffix(p, "activate") && info.Mode().Perm() != 0o755 {
			t.Errorf("%s has mode %o", p, info.Mode().Perm())
		}
		return nil
	})
}

// checkDoctorGolden compares (id, severity, status, object) of the fixture's
// doctor report with testdata/doctor-e2e.golden; evidence is volatile (system
// ids, ports, WAL rates) and left out. Update with PGCC_UPDATE=1.
func checkDoctorGolden(t *testing.T, doc string) {
	t.Helper()
	var rep struct {
		Checks []struct {
			ID, Severity, Status string
			Object               *string
			FixSQL               *string `json:"fix_sql"`
		}
	}
	if err := json.Unmarshal([]byte(doc), &rep); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range rep.Checks {
		obj, fix := "-", ""
		if c.Object != nil {
			obj = *c.Object
		}
		if c.FixSQL != nil {
			fix = "  fix: " + strings.ReplaceAll(*c.FixSQL, "\n", " | ")
		}
		fmt.Fprintf(&b, "%-22s %-8s %-5s %s%s\n", c.ID, c.Severity, c.Status, obj, fix)
	}
	got := b.String()
	path := filepath.Join("testdata", "doctor-e2e.golden")
	if os.Getenv("PGCC_UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (PGCC_UPDATE=1 to create)", err)
	}
	if got != string(want) {
		t.Errorf("doctor report differs from %s (PGCC_UPDATE=1 to update):\n%s", path, got)
	}
}

func countEvents(t *testing.T, dir, step, event string) int {
	recs, err := journal.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Step == step && r.Event == event {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// noKey (A3): block stops run with SRC writes intact; skip reaches streaming
// without publishing the table.
func (l *lab) noKey(t *testing.T) {
	l.t = t
	l.createDBs("nokey", "nokey_d")
	l.psql(l.src, "nokey", "CREATE TABLE good (id int PRIMARY KEY, v text); INSERT INTO good VALUES (1, 'a'); CREATE TABLE bad (a int, b text); INSERT INTO bad VALUES (1, 'x'), (2, 'y')")
	f := l.migration("nokey", "nokey", "nokey_d", "")
	out, _, code := l.pgm("doctor", "-f", f)
	if code != 1 || !strings.Contains(out, `BLOCKER no-key "public"."bad": no primary key and replica identity default`) ||
		!strings.Contains(out, "fix (source): ALTER TABLE public.bad REPLICA IDENTITY FULL;") {
		t.Fatalf("doctor: exit %d\n%s", code, out)
	}
	l.mustPgm(1, "run", "-f", f)
	l.psql(l.src, "nokey", "UPDATE bad SET b = 'z' WHERE a = 1; DELETE FROM bad WHERE a = 2")
	if got := l.psql(l.src, "nokey", "SELECT count(*) FROM pg_publication"); got != "0" {
		t.Errorf("publication created despite the blocker")
	}
	l.mustPgm(0, "run", "-f", f, "--var", "tables.no_key=skip")
	if got := l.psql(l.src, "nokey", "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables"); got != "good,marker" {
		t.Errorf("published %s", got)
	}
	l.psql(l.src, "nokey", "UPDATE bad SET b = 'w'; DELETE FROM bad")
	l.mustPgm(0, "cleanup", "-f", f, "--abandon")
}

// killMidCopy (A5 subset): SIGKILL while chunks are being copied, and again
// while post-data runs; each rerun reaches streaming with equal data and
// only the expected slot.
func (l *lab) killMidCopy(t *testing.T) {
	l.t = t
	l.createDBs("killed", "killed_d")
	l.pgbenchInit("killed", 3)
	// freeze: off keeps 1 MB chunks (a FREEZE load takes each table in one
	// piece), so the kill lands between chunks.
	f := l.migration("kill", "killed", "killed_d", "copy: {workers: 1, chunk_bytes: 1MB, freeze: off}\ntables: {no_key: skip}\n")
	dir := l.ctxDir(f, "pg-src.killed")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kill := func(ready func() bool) {
		cmd := exec.CommandContext(ctx, l.bin, "run", "-f", f)
		cmd.Env = append(os.Environ(), "PGMIGRATE_POLL_INTERVAL=200ms")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for !ready() {
			select {
			case err := <-done:
				t.Fatalf("run ended before the kill point: %v", err)
			case <-time.After(20 * time.Millisecond):
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
	// Mid-copy: at least 3 chunks journaled.
	kill(func() bool { return countEvents(t, dir, "copy-data", journal.EventExec) >= 5 })
	if n := countEvents(t, dir, "copy-data", journal.EventDone); n != 0 {
		t.Fatalf("copy finished before the kill")
	}
	// The rerun truncates, makes a new slot and copies again; kill it in post-data.
	kill(func() bool { return countEvents(t, dir, "post-data", journal.EventStart) >= 1 })
	out := l.mustPgm(0, "run", "-f", f)
	if !strings.Contains(out, "ready for cutover") {
		t.Fatalf("rerun: %s", out)
	}
	if n := countEvents(t, dir, "create-slot", journal.EventDone); n != 2 {
		t.Errorf("create-slot done %d times, want 2 (the first slot's snapshot died with the kill)", n)
	}
	if got := l.psql(l.src, "", "SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_name LIKE '%killed%'"); got != "sub_pg_src_killed" {
		t.Errorf("slots %q", got)
	}
	l.pgbench("killed", 50)
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f)
		return code == 0
	})
	l.mustPgm(0, "cleanup", "-f", f, "--abandon")
}

// faultInjection (A5 subset, no cutover): a faultinject build SIGKILLs
// itself after every step (and before copy-data and create-sub); each rerun
// resumes, and the last one reaches streaming with equal data, one slot,
// one publication, one subscription.
func (l *lab) faultInjection(t *testing.T) {
	l.t = t
	bin := faultBinary(t)
	l.createDBs("fault", "fault_d")
	l.pgbenchInit("fault", 1)
	f := l.migration("fault", "fault", "fault_d", "tables: {no_key: apply_fix}\n")
	points := []string{"doctor:after", "fix-identity:after", "prepare-source:after", "copy-schema:after",
		"create-pub:after", "create-slot:after", "copy-data:before", "copy-data:after", "post-data:after",
		"create-sub:before", "create-sub:after", "wait-sync:after"}
	for _, p := range points {
		cmd := exec.Command(bin, "run", "-f", f)
		cmd.Env = append(os.Environ(), "PGMIGRATE_FAULT="+p, "PGMIGRATE_POLL_INTERVAL=100ms")
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("fault %s: want SIGKILL, got %v", p, err)
		}
	}
	out := l.mustPgm(0, "run", "-f", f)
	if !strings.Contains(out, "ready for cutover") {
		t.Fatalf("final run: %s", out)
	}
	l.pgbench("fault", 30)
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f)
		return code == 0
	})
	if got := l.psql(l.src, "fault", "SELECT (SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_name LIKE '%fault%'), (SELECT count(*) FROM pg_publication)"); got != "sub_pg_src_fault|1" {
		t.Errorf("slots|publications: %s", got)
	}
	if got := l.psql(l.dst, "fault_d", "SELECT count(*) FROM pg_subscription WHERE subname LIKE '%fault%'"); got != "1" {
		t.Errorf("%s subscriptions", got)
	}
	l.mustPgm(0, "cleanup", "-f", f, "--abandon")
}

// concurrency (A14): a held directory lock and a held advisory lock each
// make a second run exit 1 within a second, writing nothing.
func (l *lab) concurrency(t *testing.T) {
	l.t = t
	l.createDBs("conc", "conc_d")
	l.psql(l.src, "conc", "CREATE TABLE t (id int PRIMARY KEY)")
	f := l.migration("conc", "conc", "conc_d", "")
	dir := l.ctxDir(f, "pg-src.conc")
	if err := journal.EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	lock, err := journal.Acquire(dir, "run")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, errs, code := l.pgm("run", "-f", f)
	if code != 1 || !strings.Contains(errs, "locked by another process: pid ") || time.Since(start) > time.Second {
		t.Errorf("same directory: exit %d after %v: %s", code, time.Since(start), errs)
	}
	if _, err := os.Stat(filepath.Join(dir, journal.FileName)); err == nil {
		t.Errorf("the second run wrote a journal")
	}
	lock.Release()
	// Another directory, same migration id: the advisory lock on the source.
	holder := testenv.Command(l.src.Dir(), nil, "psql", "-X", "-q", "-h", l.src.Host(), "-p", fmt.Sprint(l.src.Port()), "-U", "postgres", "-d", "conc")
	stdin, _ := holder.StdinPipe()
	holder.Stdout = io.Discard
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "SELECT pg_advisory_lock(%d);\n", db.LockKey("pg-src.conc"))
	defer func() { stdin.Close(); holder.Wait() }()
	waitFor(t, 5*time.Second, func() bool {
		return l.psql(l.src, "", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") != "0"
	})
	f2 := l.migration("conc2", "conc", "conc_d", "")
	start = time.Now()
	_, errs, code = l.pgm("run", "-f", f2)
	if code != 1 || !strings.Contains(errs, "is locked on the source by backend") || time.Since(start) > time.Second {
		t.Errorf("other directory: exit %d after %v: %s", code, time.Since(start), errs)
	}
}

// subscriptionPath: copy.method subscription (native copy_data) reaches
// streaming and verifies equal.
func (l *lab) subscriptionPath(t *testing.T) {
	l.t = t
	l.createDBs("subpath", "subpath_d")
	l.pgbenchInit("subpath", 1)
	f := l.migration("subpath", "subpath", "subpath_d", "copy: {method: subscription}\ntables: {no_key: skip}\n")
	out := l.mustPgm(0, "run", "-f", f)
	if !strings.Contains(out, "ready for cutover") {
		t.Fatalf("run: %s", out)
	}
	l.pgbench("subpath", 50)
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f)
		return code == 0
	})
	l.mustPgm(0, "cleanup", "-f", f, "--abandon")
	if got := l.ourObjects(); got != "slots= subs=" {
		t.Errorf("after cleanup: %s", got)
	}
}

// existingSchemaFreeze: schema.copy false into a destination whose tables
// already exist with a foreign key. copy.freeze auto (workers 2) loads the
// referencing table with TRUNCATE + COPY FREEZE, but not the referenced one
// (TRUNCATE ONLY would fail there); the data is equal either way.
// relallvisible = relpages after post-data's ANALYZE is the trace of a
// FREEZE load (COPY FREEZE sets the visibility map; a plain COPY does not);
// autovacuum is off on these tables so nothing else sets it.
func (l *lab) existingSchemaFreeze(t *testing.T) {
	l.t = t
	l.createDBs("exist", "exist_d")
	const ddl = `CREATE TABLE parent (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);
CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent (id), v text) WITH (autovacuum_enabled = false);
`
	l.psql(l.src, "exist", ddl+`INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 5000) g;
INSERT INTO child SELECT g, 1 + g % 5000, repeat('c', 50) FROM generate_series(1, 20000) g;`)
	l.psql(l.dst, "exist_d", ddl)
	f := l.migration("exist", "exist", "exist_d", "schema: {copy: false}\n")
	out := l.mustPgm(0, "run", "-f", f)
	if !strings.Contains(out, "ready for cutover") {
		t.Fatalf("run: %s", out)
	}
	if got := l.psql(l.dst, "exist_d", "SELECT string_agg(relname || ':' || (relpages > 0 AND relallvisible = relpages)::text, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('parent', 'child')"); got != "child:true,parent:false" {
		t.Errorf("all-visible after the load (frozen): %s, want child:true,parent:false", got)
	}
	if got := l.psql(l.dst, "exist_d", "SELECT (SELECT count(*) FROM parent) || '/' || (SELECT count(*) FROM child)"); got != "5000/20000" {
		t.Errorf("destination rows parent/child = %s", got)
	}
	l.psql(l.src, "exist", "UPDATE child SET v = 'x' WHERE id <= 10; DELETE FROM child WHERE id > 19990")
	waitFor(t, 20*time.Second, func() bool {
		_, _, code := l.pgm("verify", "-f", f)
		return code == 0
	})
	l.mustPgm(0, "cleanup", "-f", f, "--abandon")
}

// kit (A15): answering yes to the scripts reaches a synced subscription.
func (l *lab) kit(t *testing.T) {
	l.t = t
	l.createDBs("kitsrc", "kitdst")
	l.pgbenchInit("kitsrc", 1)
	f := l.migration("kit", "kitsrc", "kitdst", "tables: {no_key: skip}\n")
	l.mustPgm(0, "kit", "-f", f)
	dir := l.ctxDir(f, "pg-src.kitsrc")
	script := `set -e
. ./activate >/dev/null
./check-user >/dev/null
./check-repl >/dev/null
./check-misc >/dev/null
yes yes | ./copy-schema >/dev/null
yes yes | ./create-pub >/dev/null
yes yes | ./create-sub >/dev/null
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+testenv.PGBinDir()+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kit scripts: %v\n%s", err, out)
	}
	waitFor(t, 30*time.Second, func() bool {
		return l.psql(l.dst, "kitdst", "SELECT count(*) FILTER (WHERE srsubstate <> 'r') FROM pg_subscription_rel") == "0"
	})
	cmd = exec.Command("bash", "-c", ". ./activate >/dev/null && yes yes | ./copy-seq >/dev/null && ./copy-diff && yes yes | ./drop-sub >/dev/null && yes yes | ./drop-pub >/dev/null")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+testenv.PGBinDir()+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("copy-diff after sync: %v\n%s", err, out)
	}
	if got := l.psql(l.dst, "kitdst", "SELECT count(*) FROM pgbench_accounts"); got != "100000" {
		t.Errorf("destination has %s accounts", got)
	}
}
