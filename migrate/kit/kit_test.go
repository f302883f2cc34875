package kit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/migrate/config"
)

const base = `src_cls: pg-meta
src_db: meta
src_ip: 10.10.10.10
dst_cls: pg-test
dst_db: test
dst_ip: 10.10.10.11
pg_replication_password: DBUser.Replicator
pg_admin_password: "S3cret'quote"
src_pg: postgres://dbuser_dba:UrlSecret@10.10.10.10:5433/meta
`

var variants = map[string][]string{
	"none":      nil,
	"command":   {"switch={mechanism: command, command: {run: '/usr/local/bin/switch --to dst', timeout: 3s}}"},
	"pgbouncer": {"switch={mechanism: pgbouncer, pgbouncer: [{config_file: /etc/pgbouncer/database.txt}, {ssh: 'admin@10.10.10.12', database: meta}]}"},
	"odd names": {"src_cls=\"pg-o'dd $x\"", "dst_db=\"t\\\\'\"", "tables.exclude=['*.spatial_ref_sys', 'x.we$ird']", "seq_offset=7"},
}

func load(t *testing.T, vars []string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("m.yml", []byte(base), config.LoadOptions{Vars: vars})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func write(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestShellcheck runs /usr/bin/shellcheck (and bash -n) on every script of
// every variant: the kit must be clean.
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("PGCC_REQUIRE_DAEMONS") == "1" {
			t.Fatal("shellcheck not found")
		}
		t.Skip("shellcheck not found; run scripts/install-test-deps")
	}
	for name, vars := range variants {
		t.Run(name, func(t *testing.T) {
			files := Files(load(t, vars))
			dir := write(t, files)
			var names []string
			for n := range files {
				// Switch variants differ only in re-routing.
				if name == "command" || name == "pgbouncer" {
					if n != "re-routing" {
						continue
					}
				}
				names = append(names, filepath.Join(dir, n))
			}
			sort.Strings(names)
			out, err := exec.Command(sc, append([]string{"-s", "bash", "-S", "style"}, names...)...).CombinedOutput()
			if err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out)
			}
			for _, n := range names {
				if out, err := exec.Command("bash", "-n", n).CombinedOutput(); err != nil {
					t.Errorf("bash -n %s: %v\n%s", filepath.Base(n), err, out)
				}
			}
		})
	}
}

func TestDeterministicNoSecrets(t *testing.T) {
	for name, vars := range variants {
		a, b := Files(load(t, vars)), Files(load(t, vars))
		if len(a) != len(Scripts) {
			t.Errorf("%s: %d scripts, want %d", name, len(a), len(Scripts))
		}
		for n, data := range a {
			if !bytes.Equal(data, b[n]) {
				t.Errorf("%s/%s differs between two runs", name, n)
			}
			for _, secret := range []string{"DBUser.Replicator", "S3cret", "UrlSecret"} {
				if bytes.Contains(data, []byte(secret)) {
					t.Errorf("%s/%s contains a password", name, n)
				}
			}
			if bytes.Contains(data, []byte("strftime")) || bytes.Contains(data, []byte("date +")) {
				t.Errorf("%s/%s has a timestamp", name, n)
			}
		}
	}
}

// TestPigstyBugsFixed pins each fix of migrate.md §3 kit.
func TestPigstyBugsFixed(t *testing.T) {
	f := Files(load(t, []string{"seq_offset=250"}))
	has := func(script, s string) {
		t.Helper()
		if !strings.Contains(string(f[script]), s) {
			t.Errorf("%s lacks %q", script, s)
		}
	}
	hasNot := func(script, s string) {
		t.Helper()
		if strings.Contains(string(f[script]), s) {
			t.Errorf("%s still has %q", script, s)
		}
	}
	has("check-user", "cardinality(roles) > 0")
	hasNot("check-user", "array_length(roles, 0)")
	has("check-user", `'dbuser_dba', 'dbuser_monitor', 'postgres', 'replicator'`)
	has("copy-diff", "pg_catalog.pg_sequences")
	hasNot("copy-diff", "currval")
	has("copy-diff", "(( inc >= 0 && res2 >= last )) || (( inc < 0 && res2 <= last ))")
	hasNot("copy-schema", "-Oscx")
	has("copy-schema", "DUMP_ARGS=(--schema-only -Fc --no-publications --no-subscriptions --no-owner --no-privileges")
	has("copy-schema", "-v ON_ERROR_STOP=1 --single-transaction")
	has("create-pub", "WHERE t.keyed AND")
	has("check-repl", "x.indisunique AND x.indisvalid AND x.indimmediate")
	has("copy-seq", `SEQ_SHIFT="${1:-250}"`)
	has("copy-seq", "sign(s.increment_by)")
	has("create-sub", "PGMIGRATE_REPL_PASSWORD")
	for _, n := range Scripts {
		if n == "activate" {
			continue
		}
		has(n, `if [[ "${MIGRATION_CONTEXT:-}" != "${EXPECTED_CONTEXT}" ]]; then`)
	}
	has("activate", `export SRCPG=postgres://dbuser_dba@10.10.10.10:5433/meta`)
	has("activate", `export SUBCONN='host=10.10.10.10 dbname=meta user=replicator port=5433'`)
}
