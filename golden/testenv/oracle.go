package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ConfError is a configuration that `postgres -C` refused (testing.md §4.1). Output
// holds PostgreSQL's messages, one per bad line, e.g.
// `invalid value for parameter "work_mem": "64XB"`.
type ConfError struct {
	Name   string // the -C parameter being read
	Output string
}

func (e *ConfError) Error() string {
	return fmt.Sprintf("postgres -C %s: configuration rejected:\n%s", e.Name, e.Output)
}

// Messages returns PostgreSQL's log messages without the timestamp/pid prefix
// ("LOG:  unrecognized configuration parameter …", "FATAL:  configuration file … contains errors").
func (e *ConfError) Messages() []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(e.Output), "\n") {
		for _, lvl := range []string{"LOG:  ", "FATAL:  ", "ERROR:  ", "WARNING:  "} {
			if i := strings.Index(l, lvl); i >= 0 {
				l = l[i:]
				break
			}
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// ConfCheck is the postgresql.conf oracle (testing.md §4.1): it writes autoConf as
// postgresql.auto.conf into a scratch data directory (initdb's postgresql.conf,
// nothing else: `postgres -C` reads only the configuration) and runs
// `postgres -D d -C name` once per name (it prints only the last -C). It returns each
// value in PostgreSQL's internal units (64MB work_mem → "65536"). With no names it
// only checks that the file parses (reads port). A refused file gives *ConfError.
// Call Need(t, "postgres") first.
func ConfCheck(t testing.TB, autoConf string, names ...string) (map[string]string, error) {
	t.Helper()
	tmpl, err := templateDataDir()
	if err != nil {
		t.Fatalf("initdb: %v", err)
	}
	dir := TempDir(t)
	data := filepath.Join(dir, "data")
	MkdirDaemon(t, data, 0o700)
	for _, f := range []string{"postgresql.conf", "PG_VERSION"} {
		b, err := os.ReadFile(filepath.Join(tmpl, f))
		if err != nil {
			t.Fatal(err)
		}
		WriteDaemonFile(t, filepath.Join(data, f), b, 0o600)
	}
	WriteDaemonFile(t, filepath.Join(data, "postgresql.auto.conf"), []byte(autoConf), 0o600)
	if len(names) == 0 {
		names = []string{"port"}
	}
	vals := make(map[string]string, len(names))
	for _, n := range names {
		cmd := DaemonCommand(dir, nil, "postgres", "-D", data, "-C", n)
		out, err := cmd.CombinedOutput()
		if err != nil {
			if _, ok := err.(*exec.ExitError); ok {
				return vals, &ConfError{Name: n, Output: string(out)}
			}
			return vals, err
		}
		vals[n] = strings.TrimSuffix(string(out), "\n")
	}
	return vals, nil
}

// HBARule is one row of pg_hba_file_rules.
type HBARule struct {
	Line       int      `json:"line_number"`
	Type       string   `json:"type"`
	Database   []string `json:"database"`
	UserName   []string `json:"user_name"`
	Address    string   `json:"address"`
	Netmask    string   `json:"netmask"`
	AuthMethod string   `json:"auth_method"`
	Options    []string `json:"options"`
	Error      string   `json:"error"`
}

// HBAError is a pg_hba.conf line PostgreSQL refuses.
type HBAError struct {
	Line  int
	Error string
}

// HBARules copies content over pg's pg_hba.conf, reads every row of
// pg_hba_file_rules (the view parses the file at query time: no reload, the
// harness's trust connection is untouched) and restores the file (testing.md §4.2).
// Use a server started with SSL: true, or every hostssl line is an error.
func HBARules(t testing.TB, pg *Postgres, content string) ([]HBARule, error) {
	t.Helper()
	pg.hbaMu.Lock()
	defer pg.hbaMu.Unlock()
	path := filepath.Join(pg.dataDir, "pg_hba.conf")
	orig, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := writeDaemonFile(path, []byte(content), 0o600); err != nil {
		return nil, err
	}
	defer func() {
		if err := writeDaemonFile(path, orig, 0o600); err != nil {
			t.Errorf("restoring pg_hba.conf: %v", err)
		}
	}()
	out, err := pg.Psql(t, "", `SELECT coalesce(json_agg(r ORDER BY line_number), '[]') FROM
	(SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error FROM pg_hba_file_rules) r`)
	if err != nil {
		return nil, err
	}
	var rules []HBARule
	if err := json.Unmarshal([]byte(out), &rules); err != nil {
		return nil, fmt.Errorf("decoding pg_hba_file_rules: %w", err)
	}
	return rules, nil
}

// HBACheck is HBARules reduced to the refused lines (empty when the file loads).
func HBACheck(t testing.TB, pg *Postgres, content string) ([]HBAError, error) {
	t.Helper()
	rules, err := HBARules(t, pg, content)
	if err != nil {
		return nil, err
	}
	var errs []HBAError
	for _, r := range rules {
		if r.Error != "" {
			errs = append(errs, HBAError{Line: r.Line, Error: r.Error})
		}
	}
	return errs, nil
}
