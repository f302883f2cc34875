package tuning

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pgcc-dev/pgcc/golden/testenv"

	"github.com/pgcc-dev/pgcc/tuning/refnorm"
)

// Real-daemon oracle (testing.md §4.1): PostgreSQL 15 itself parses the
// rendered parameters. postgres -D d -C name reads postgresql.conf and
// postgresql.auto.conf, exits 1 and logs every bad line, or exits 0 and
// prints the value in internal units.

// oracleFacts are the small facts of testing.md §4.1.
func oracleInput(v int, tmpl string) Input {
	in := NewInput(2, 2048, 20)
	in.PGVersion = v
	in.Template = tmpl
	in.PgBackRest = true
	in.Cluster = "pg-test"
	return in
}

// autoConf writes the parameters as postgresql.auto.conf lines. This is not a
// postgresql.conf quoter (render has the one quoter): it wraps values in
// single quotes and refuses any value that would need escaping, which no
// value tuning computes for these inputs does.
func autoConf(t *testing.T, params []Param, skip map[string]bool) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("# pgcc tuning oracle test\n")
	for _, p := range params {
		if skip[p.Name] {
			continue
		}
		s := p.Value.String()
		if strings.ContainsAny(s, "'\\\n\r") {
			t.Fatalf("%s: value %q needs escaping; use render's quoter", p.Name, s)
		}
		b.WriteString(p.Name + " = '" + s + "'\n")
	}
	return []byte(b.String())
}

// scratch returns a fresh copy of the initdb template data dir.
func scratch(t *testing.T) (home, data string) {
	t.Helper()
	home = testenv.TempDir(t)
	return home, testenv.NewDataDir(t, home)
}

// confCheck runs postgres -D data -C name and returns stdout, the log
// (stderr) and whether it exited 0.
func confCheck(t *testing.T, home, data, name string) (string, string, bool) {
	t.Helper()
	cmd := testenv.DaemonCommand(home, nil, "postgres", "-D", data, "-C", name)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("postgres -C: %v", err)
	}
	return strings.TrimSpace(stdout.String()), stderr.String(), err == nil
}

func writeAutoConf(t *testing.T, data string, conf []byte) {
	t.Helper()
	testenv.WriteDaemonFile(t, filepath.Join(data, "postgresql.auto.conf"), conf, 0o600)
}

// TestOracleAcceptsPG15 renders pg_version 15 for every template and checks
// that PostgreSQL 15 accepts the whole file. For oltp it also reads every
// parameter back with -C and compares PostgreSQL's value (internal units)
// with the reference normalisation of the rendered text: the server and the
// normaliser must agree on units.
func TestOracleAcceptsPG15(t *testing.T) {
	testenv.Need(t, "postgres")
	home, data := scratch(t)
	for _, tmpl := range []string{OLTP, OLAP, Crit, Tiny} {
		t.Run(tmpl, func(t *testing.T) {
			in := oracleInput(15, tmpl)
			in.Libs = "pg_stat_statements, auto_explain, pg_stat_monitor, timescaledb, pgsodium, pg_duckdb"
			r := mustCompute(t, in)
			writeAutoConf(t, data, autoConf(t, r.Params, nil))
			if _, log, ok := confCheck(t, home, data, "shared_buffers"); !ok {
				t.Fatalf("PostgreSQL 15 rejects the %s parameters:\n%s", tmpl, log)
			}
			if tmpl != OLTP {
				return
			}
			for _, p := range r.Params {
				out, log, ok := confCheck(t, home, data, p.Name)
				if !ok {
					t.Errorf("%s: postgres -C failed:\n%s", p.Name, log)
					continue
				}
				want, err := refnorm.Normalize(p.Name, p.Value.String())
				if err != nil {
					t.Fatal(err)
				}
				got, err := refnorm.Normalize(p.Name, out)
				if err != nil {
					t.Errorf("%s: server value %q: %v", p.Name, out, err)
					continue
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s = %q: server reads %q (-rendered +server):\n%s", p.Name, p.Value.String(), out, d)
				}
			}
		})
	}
}

var (
	unknownRE = regexp.MustCompile(`unrecognized configuration parameter "([^"]+)"`)
	badValRE  = regexp.MustCompile(`(?:invalid value for parameter|parameter) "([^"]+)"(?: requires|: )`)
)

// TestOraclePG18RejectedBy15 renders pg_version 18 (oltp) and asserts that
// PostgreSQL 15 rejects exactly the PG 18-only names. Unknown names hide value
// errors, so the check repeats with the reported lines removed until the file
// passes.
//
// testing.md §4.1 lists io_method, io_workers, idle_replication_slot_timeout,
// sync_replication_slots, log_lock_failures (unknown) and log_connections =
// 'authorization' (requires a Boolean value). tuning.md §4.2 and
// reference/tuning.json also emit file_copy_method = clone for PG 18, which
// PostgreSQL 15 does not know either, so it is on the list here.
func TestOraclePG18RejectedBy15(t *testing.T) {
	testenv.Need(t, "postgres")
	home, data := scratch(t)
	r := mustCompute(t, oracleInput(18, OLTP))
	skip := map[string]bool{}
	var unknown, invalid []string
	for round := 0; round < 5; round++ {
		writeAutoConf(t, data, autoConf(t, r.Params, skip))
		_, log, ok := confCheck(t, home, data, "shared_buffers")
		if ok {
			break
		}
		found := false
		for _, m := range unknownRE.FindAllStringSubmatch(log, -1) {
			unknown, skip[m[1]], found = append(unknown, m[1]), true, true
		}
		if !found {
			for _, m := range badValRE.FindAllStringSubmatch(log, -1) {
				invalid, skip[m[1]], found = append(invalid, m[1]), true, true
			}
		}
		if !found {
			t.Fatalf("postgres -C failed without a parameter name:\n%s", log)
		}
	}
	sort.Strings(unknown)
	sort.Strings(invalid)
	wantUnknown := []string{"file_copy_method", "idle_replication_slot_timeout", "io_method", "io_workers",
		"log_lock_failures", "sync_replication_slots"}
	wantInvalid := []string{"log_connections"}
	if !cmp.Equal(unknown, wantUnknown) || !cmp.Equal(invalid, wantInvalid) {
		t.Errorf("PG 15 rejects unknown %v and invalid %v; want unknown %v and invalid %v", unknown, invalid, wantUnknown, wantInvalid)
	}
}
