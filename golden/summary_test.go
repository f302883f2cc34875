package golden

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func TestConfSummarizer(t *testing.T) {
	s := ConfSummarizer{Name: "postgresql.auto.conf"}
	tests := []struct {
		name     string
		old, new string
		want     []string
		err      string
	}{
		{
			name: "change, add, remove",
			old:  "# pgcc: postgresql.auto.conf for pg-test-1\nwork_mem = '64MB'\nlog_min_duration_statement = '1s'\n",
			new:  "# pgcc: postgresql.auto.conf for pg-test-1\nwork_mem = '128MB'\nstatement_timeout = '30s'\n",
			want: []string{
				"pg-test-1 log_min_duration_statement: 1s → (unset)",
				"pg-test-1 statement_timeout: (unset) → 30s",
				"pg-test-1 work_mem: 64MB → 128MB",
			},
		},
		{
			name: "syntax variants are equal",
			old:  "Work_Mem = '64MB'\nsearch_path = '\"$user\", public'   # comment\n",
			new:  "work_mem 64MB\nsearch_path='\"$user\", public'\n",
		},
		{
			name: "last setting wins",
			old:  "work_mem = '1MB'\nwork_mem = '2MB'\n",
			new:  "work_mem = '2MB'\n",
		},
		{
			name: "escapes and empty",
			old:  "a = 'it''s'\nb = 'C:\\\\x'\nc = 'x'\nd = 'tab\\tx'\n",
			new:  "a = 'it\\'s!'\nb = 'C:\\\\y'\nc = ''\nd = 'tab\\tx'\n",
			want: []string{
				"pg-test-1 a: it's → it's!",
				`pg-test-1 b: C:\x → C:\y`,
				"pg-test-1 c: x → ''",
			},
		},
		{
			name: "added file",
			old:  "",
			new:  "# header\nwork_mem = '64MB'\n",
			want: []string{"pg-test-1 work_mem: (unset) → 64MB"},
		},
		{name: "bad name", old: "work-mem = 1\n", new: "", err: `old: line 1: "work-mem" is not a parameter name`},
		{name: "qualified name", old: "", new: "pg_stat_statements.max = 5000\r\n", want: []string{"pg-test-1 pg_stat_statements.max: (unset) → 5000"}},
		{name: "unterminated", old: "", new: "a = 'x\n", err: "new: line 1: a: unterminated quoted string"},
		{name: "no value", old: "a\n", new: "", err: `old: line 1: no value for "a"`},
		{name: "missing value", old: "a = # x\n", new: "", err: "old: line 1: a: missing value"},
		{name: "trailing junk", old: "", new: "a = 'x' y\n", err: `new: line 1: a: unexpected "y" after the value`},
	}
	for _, tt := range tests {
		got, err := s.Summarize("pg-test/pg-test-1/postgresql.auto.conf", []byte(tt.old), []byte(tt.new))
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Summarize = %q, %q\nwant %q, %q", tt.name, got, gotErr, tt.want, tt.err)
		}
	}
	if !s.Match("pg-test/pg-test-1/postgresql.auto.conf") || s.Match("pg-test/pg-test-1/postgresql.conf") {
		t.Error("Match")
	}
}

const patroniOld = `# pgcc: patroni.yml for pg-test-1 (cluster pg-test)
name: pg-test-1
bootstrap:
  dcs:
    ttl: 30
    postgresql:
      use_slots: true
      parameters:
        archive_mode: 'on'
        max_connections: 500
        shared_buffers: 8192MB
        unix_socket_permissions: '0770'
        work_mem: 64MB
postgresql:
  authentication:
    superuser:
      password: DBUser.DBA
  parameters:
    unix_socket_directories: '/var/run/postgresql, /tmp'
`

const patroniNew = `# pgcc: patroni.yml for pg-test-1 (cluster pg-test)
name: pg-test-1
bootstrap:
  dcs:
    ttl: 60
    postgresql:
      use_slots: true
      parameters:
        archive_mode: 'on'
        cron.database_name: meta
        max_connections: 1000
        shared_buffers: 8192MB
        unix_socket_permissions: 0770
        work_mem: 128MB
postgresql:
  authentication:
    superuser:
      password: Secret.Changed
  parameters:
    unix_socket_directories: /var/run/postgresql
`

func TestYAMLSummarizer(t *testing.T) {
	var s Summarizer
	for _, d := range DefaultSummarizers() {
		if d.Match("pg-test/pg-test-1/patroni.yml") {
			s = d
		}
	}
	if s == nil {
		t.Fatal("no default summarizer for patroni.yml")
	}
	tests := []struct {
		name     string
		old, new string
		want     []string
		err      string
	}{
		{
			name: "parameters only, no passwords, no other keys",
			old:  patroniOld,
			new:  patroniNew,
			want: []string{
				"pg-test-1 cron.database_name: (unset) → meta",
				"pg-test-1 max_connections: 500 → 1000",
				"pg-test-1 unix_socket_permissions: '0770' → 0770",
				"pg-test-1 work_mem: 64MB → 128MB",
				"pg-test-1 postgresql.parameters.unix_socket_directories: '/var/run/postgresql, /tmp' → /var/run/postgresql",
			},
		},
		{name: "identical", old: patroniOld, new: patroniOld},
		{
			name: "flow style and missing maps",
			old:  "bootstrap: {dcs: {postgresql: {parameters: {a: 1, b: [x, y], c: {k: v}}}}}\n",
			new:  "bootstrap:\n  dcs:\n    postgresql:\n      parameters:\n        a: 1\n        b: [x, z]\n        c: |\n          two\n          lines\n",
			want: []string{
				"pg-test-1 b: [x, y] → [x, z]",
				`pg-test-1 c: {k: v} → "two\nlines\n"`,
			},
		},
		{
			name: "null map and anchors",
			old:  "defaults: &d {work_mem: 64MB}\nbootstrap: {dcs: {postgresql: {parameters: *d}}}\n",
			new:  "bootstrap: {dcs: {postgresql: {parameters: null}}}\n",
			want: []string{"pg-test-1 work_mem: 64MB → (unset)"},
		},
		{name: "control characters in keys", old: "", new: "postgresql: {parameters: {\"a\\nb\": x}}\n", want: []string{`pg-test-1 postgresql.parameters."a\nb": (unset) → x`}},
		{name: "removed file", old: "postgresql: {parameters: {a: x}}\n", new: "", want: []string{"pg-test-1 postgresql.parameters.a: x → (unset)"}},
		{name: "not a mapping", old: "bootstrap: [1]\n", new: "", err: "old: bootstrap is not a mapping"},
		{name: "root not a mapping", old: "", new: "- 1\n", err: "new: the document root is not a mapping"},
		{name: "bad yaml", old: "a: [\n", new: "", err: "old: yaml: line 1: did not find expected node content"},
	}
	for _, tt := range tests {
		got, err := s.Summarize("pg-test/pg-test-1/patroni.yml", []byte(tt.old), []byte(tt.new))
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Summarize =\n%q, %q\nwant\n%q, %q", tt.name, got, gotErr, tt.want, tt.err)
		}
	}
}

// formatCase is a small `pgcc diff`: a parameter change in patroni.yml and postgresql.auto.conf, a new
// database script, a removed service file and a mode change.
func formatCase(t *testing.T) []Change {
	secret := map[string]fs.FileMode{"pg-test/pg-test-1/patroni.yml": 0o600}
	old := bundleOf(t, map[string]string{
		"pg-test/pg-test-1/patroni.yml":          patroniOld,
		"pg-test/pg-test-1/postgresql.auto.conf": "# pgcc: postgresql.auto.conf for pg-test-1 (cluster pg-test)\nlog_min_duration_statement = '1s'\n",
		"pg-test/pg-test-1/pg_hba.conf":          "local all postgres ident\n",
		"haproxy/infra/pg-test-offline.cfg":      "listen pg-test-offline\n    bind *:5438\n",
	}, secret)
	new := bundleOf(t, map[string]string{
		"pg-test/pg-test-1/patroni.yml":          patroniNew,
		"pg-test/pg-test-1/postgresql.auto.conf": "# pgcc: postgresql.auto.conf for pg-test-1 (cluster pg-test)\nlog_min_duration_statement = '500ms'\nstatement_timeout = '30s'\n",
		"pg-test/pg-test-1/pg_hba.conf":          "local all postgres ident\n",
		"pg-test/sql/db-test.sql":                "-- pgcc: database test (cluster pg-test)\nCREATE DATABASE \"test\";\n",
	}, secret)
	old.Files["pg-test/pg-test-1/pg_hba.conf"] = File{Data: old.Files["pg-test/pg-test-1/pg_hba.conf"].Data, Mode: 0o640}
	return Compare(old, new)
}

func TestFormatChanges(t *testing.T) {
	cs := formatCase(t)
	var buf bytes.Buffer
	must(t, FormatChanges(&buf, cs, DiffOptions{Summarizers: DefaultSummarizers()}))
	checkGolden(t, "format_changes.golden", buf.Bytes())

	buf.Reset()
	must(t, FormatChanges(&buf, cs, DiffOptions{Summarizers: DefaultSummarizers(), RedactSecrets: true}))
	checkGolden(t, "format_changes_redacted.golden", buf.Bytes())
	if strings.Contains(buf.String(), "DBUser.DBA") || strings.Contains(buf.String(), "Secret.Changed") {
		t.Error("redacted output shows a password")
	}

	// No summarizers: diffs only, no trailing blank line.
	buf.Reset()
	must(t, FormatChanges(&buf, cs[:1], DiffOptions{}))
	want := `diff a/haproxy/infra/pg-test-offline.cfg b/haproxy/infra/pg-test-offline.cfg
deleted file mode 0644
--- a/haproxy/infra/pg-test-offline.cfg
+++ b/haproxy/infra/pg-test-offline.cfg
@@ -1,2 +0,0 @@
-listen pg-test-offline
-    bind *:5438
`
	if buf.String() != want {
		t.Errorf("FormatChanges =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestFormatChangesSummaryError(t *testing.T) {
	cs := []Change{
		{Path: "a/i/postgresql.auto.conf", Kind: Changed, Old: File{Data: []byte("x = '\n"), Mode: 0o644}, New: File{Data: []byte("x = 1\n"), Mode: 0o644}},
		{Path: "b/j/postgresql.auto.conf", Kind: Added, New: File{Data: []byte("y = 2\n"), Mode: 0o644}},
	}
	var buf bytes.Buffer
	err := FormatChanges(&buf, cs, DiffOptions{Summarizers: DefaultSummarizers()})
	if err == nil || err.Error() != "summarize a/i/postgresql.auto.conf: old: line 1: x: unterminated quoted string" {
		t.Fatalf("FormatChanges error = %v", err)
	}
	if !strings.HasSuffix(buf.String(), "+y = 2\n\nj y: (unset) → 2\n") {
		t.Errorf("the other file's diff and summary are missing:\n%s", buf.String())
	}
}

func FuzzConfSummarizer(f *testing.F) {
	f.Add("work_mem = '64MB'\n", "work_mem = '128MB'\n")
	f.Add("a = 'x''y\\\\z' # c\n", "a b\n")
	f.Add("a = '\\\n", "")
	f.Fuzz(func(t *testing.T, old, new string) {
		lines, err := ConfSummarizer{Name: "x"}.Summarize("c/i/x", []byte(old), []byte(new))
		if err != nil {
			return
		}
		for _, l := range lines {
			if strings.ContainsAny(l, "\n\r") {
				t.Fatalf("summary line spans lines: %q", l)
			}
		}
		if old == new && len(lines) != 0 {
			t.Fatalf("identical input gave %q", lines)
		}
	})
}
