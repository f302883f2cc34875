package cutover

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgcc-dev/pgcc/golden/testenv"
	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
)

func TestParseConnString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []KV
		err  bool
	}{
		{"host=10.0.0.1 port=5432 dbname=meta", []KV{{"host", "10.0.0.1"}, {"port", "5432"}, {"dbname", "meta"}}, false},
		{"  host = /var/run/postgresql   dbname='my db'", []KV{{"host", "/var/run/postgresql"}, {"dbname", "my db"}}, false},
		{"application_name='it''s' pool_size=20", []KV{{"application_name", "it's"}, {"pool_size", "20"}}, false},
		{"host=h\tport=6432", []KV{{"host", "h"}, {"port", "6432"}}, false},
		{"", nil, false},
		{"host", nil, true},
		{"host=", nil, true},
		{"dbname='open", nil, true},
		{"=x", nil, true},
	} {
		got, err := ParseConnString(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseConnString(%q): error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseConnString(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRetarget(t *testing.T) {
	target := config.Conninfo{{Key: "host", Value: "10.10.10.12"}, {Key: "port", Value: "5433"}, {Key: "dbname", Value: "meta_new"}}
	for _, tc := range []struct{ in, want string }{
		{"host=10.10.10.11 port=5432 dbname=meta", "host=10.10.10.12 port=5433 dbname=meta_new"},
		{"host=10.10.10.11 dbname=meta user=dbuser_meta pool_size=20", "host=10.10.10.12 dbname=meta_new user=dbuser_meta pool_size=20 port=5433"},
		{"dbname=meta application_name='a b'", "dbname=meta_new application_name='a b' host=10.10.10.12 port=5433"},
	} {
		got, err := retarget(tc.in, target)
		if err != nil || got != tc.want {
			t.Errorf("retarget(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestFindDBLine(t *testing.T) {
	data := []byte("; comment meta = x\n[databases]\nmetadb = host=a\nmeta  =  host=b port=1  \n%include other\nmeta = host=c\n")
	l, ok := findDBLine(data, "meta")
	if !ok || l.index != 3 || l.prefix != "meta  =  " || l.value != "host=b port=1" {
		t.Fatalf("findDBLine = %+v, %v", l, ok)
	}
	got := string(replaceLine(data, l.index, "meta = host=z"))
	want := "; comment meta = x\n[databases]\nmetadb = host=a\nmeta = host=z\n%include other\nmeta = host=c\n"
	if got != want {
		t.Errorf("replaceLine:\n%s\nwant:\n%s", got, want)
	}
	if _, ok := findDBLine(data, "nope"); ok {
		t.Errorf("found a line for a missing database")
	}
}

func TestDBArg(t *testing.T) {
	for in, want := range map[string]string{"meta": "meta", "meta_2": "meta_2", "Meta": `"Meta"`, "pg-meta": `"pg-meta"`, `a"b`: `"a""b"`} {
		if got := dbArg(in); got != want {
			t.Errorf("dbArg(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzConnString: whatever values inifmt's quoter writes, pgbouncer's
// reading (ParseConnString) gives them back, and nothing spills into another
// key or line.
func FuzzConnString(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "my db", "it's", "''", "a=b", " lead", "x\ty"} {
		f.Add("host", s, "dbname", "meta")
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := []KV{{k1, v1}, {k2, v2}}
		s, err := FormatConnString(in)
		if err != nil {
			return // refused by the quoter: nothing written
		}
		if strings.ContainsAny(s, "\n\r") {
			t.Fatalf("%q spans lines", s)
		}
		got, err := ParseConnString(s)
		if err != nil {
			t.Fatalf("ParseConnString(%q): %v", s, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(in) {
			t.Fatalf("round trip of %v: %q → %v", in, s, got)
		}
	})
}

func TestAdvance(t *testing.T) {
	for _, tc := range []struct {
		last, inc, off, mn, mx int64
		cycle                  bool
		want                   int64
		ok                     bool
	}{
		{5, 1, 1000, 1, 9223372036854775807, false, 1005, true},
		{-3, -1, 1000, -9223372036854775808, -1, false, -1003, true},
		{90, 1, 20, 1, 100, false, 0, false},
		{90, 1, 20, 1, 100, true, 10, true},
		{100, 1, 1, 1, 100, true, 1, true},
		{-95, -1, 10, -100, -1, true, -5, true},
		{-95, -1, 10, -100, -1, false, 0, false},
		{95, 5, 5, 1, 100, false, 100, true},
	} {
		got, ok := advance(tc.last, tc.inc, tc.off, tc.mn, tc.mx, tc.cycle)
		if got != tc.want || ok != tc.ok {
			t.Errorf("advance(%d, %d, %d, [%d, %d], cycle %v) = %d, %v; want %d, %v", tc.last, tc.inc, tc.off, tc.mn, tc.mx, tc.cycle, got, ok, tc.want, tc.ok)
		}
	}
}

// TestConsoleOracle drives a real PgBouncer 1.18 console: PAUSE, RESUME
// (twice: a repeated RESUME is fine), the atomic rewrite of database.txt,
// RELOAD, and SHOW DATABASES showing the new target; also a database name
// that needs quoting.
func TestConsoleOracle(t *testing.T) {
	testenv.Need(t, "postgres", "pgbouncer")
	pg := testenv.StartPostgres(t, testenv.PGOptions{})
	pg.MustPsql(t, "", `CREATE DATABASE "Pg-Meta"`)
	dir := testenv.TempDir(t)
	port := testenv.FreePort(t)
	dbTxt := filepath.Join(dir, "database.txt")
	testenv.WriteDaemonFile(t, dbTxt, []byte(fmt.Sprintf("meta = host=127.0.0.1 port=%d dbname=postgres\nPg-Meta = host=127.0.0.1 port=%d dbname=Pg-Meta\n", pg.Port(), pg.Port())), 0o644)
	testenv.WriteDaemonFile(t, filepath.Join(dir, "userlist.txt"), []byte("\"postgres\" \"\"\n"), 0o600)
	ini := fmt.Sprintf("[databases]\n%%include %s\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %d\nunix_socket_dir = %s\nauth_type = trust\nauth_file = %s/userlist.txt\nadmin_users = postgres\npool_mode = transaction\nlogfile = %s/pgbouncer.log\n",
		dbTxt, port, dir, dir, dir)
	testenv.WriteDaemonFile(t, filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644)
	testenv.StartPgBouncer(t, filepath.Join(dir, "pgbouncer.ini"))

	cfg := &config.Config{}
	o := &db.Opener{Cfg: cfg, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"meta", "Pg-Meta"} {
		entry := config.PgbouncerEntry{AdminURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pgbouncer?sslmode=disable", port),
			Database: name, ConfigFile: dbTxt, Target: fmt.Sprintf("host=localhost port=%d dbname=template1", pg.Port())}
		c, err := newConsole(o, 0, entry)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		if err := c.pause(ctx); err != nil {
			t.Fatalf("%s: PAUSE: %v", name, err)
		}
		row, err := c.database(ctx)
		if err != nil || row["paused"] != "1" {
			t.Fatalf("%s: SHOW DATABASES after PAUSE: %v %v", name, row, err)
		}
		data, _ := os.ReadFile(dbTxt)
		line, ok := findDBLine(data, name)
		if !ok {
			t.Fatalf("no line for %s", name)
		}
		target, _ := config.ParseConninfo(entry.Target)
		v, err := retarget(line.value, target)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeConfig(ctx, entry, replaceLine(data, line.index, line.prefix+v)); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(dbTxt); st.Mode().Perm() != 0o644 {
			t.Errorf("database.txt mode %o after the rewrite", st.Mode().Perm())
		}
		if err := c.reload(ctx); err != nil {
			t.Fatal(err)
		}
		row, err = c.database(ctx)
		if err != nil || !pointsAt(row, "localhost", pg.Port(), "template1") {
			t.Fatalf("%s: SHOW DATABASES after RELOAD: %v %v", name, row, err)
		}
		if err := c.resume(ctx); err != nil {
			t.Fatalf("%s: RESUME: %v", name, err)
		}
		if err := c.resume(ctx); err != nil {
			t.Fatalf("%s: second RESUME: %v", name, err)
		}
	}
}
