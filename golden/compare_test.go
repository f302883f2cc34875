package golden

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// kinds renders changes as "kind path" lines.
func kinds(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Kind)+" "+c.Path)
	}
	return out
}

func TestCompare(t *testing.T) {
	old := bundleOf(t, map[string]string{"same": "s", "changed": "a", "removed": "r", "mode": "m", "both": "x"},
		map[string]fs.FileMode{"both": 0o600})
	new := bundleOf(t, map[string]string{"same": "s", "changed": "b", "added": "n", "mode": "m", "both": "y"},
		map[string]fs.FileMode{"mode": 0o600})
	want := []string{"added added", "changed both", "changed changed", "mode mode", "removed removed"}
	if got := kinds(Compare(old, new)); !slices.Equal(got, want) {
		t.Errorf("Compare = %q, want %q", got, want)
	}
	if got := Compare(old, old); got != nil {
		t.Errorf("Compare(old, old) = %q", kinds(got))
	}
	if got := kinds(Compare(nil, bundleOf(t, map[string]string{"x": ""}, nil))); !slices.Equal(got, []string{"added x"}) {
		t.Errorf("Compare(nil, x) = %q", got)
	}
	// Added carries New only, Removed Old only.
	for _, c := range Compare(old, new) {
		switch c.Kind {
		case Added:
			if c.Old.Data != nil || string(c.New.Data) != "n" {
				t.Errorf("added: %+v", c)
			}
		case Removed:
			if c.New.Data != nil || string(c.Old.Data) != "r" {
				t.Errorf("removed: %+v", c)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	disk := map[string]string{
		"pg-test/pg-test-1/pg_hba.conf":     "local all all peer\n",
		"pg-test/pg-test-1/patroni.yml":     "ttl: 30\n",
		"pg-test/sql/db-old.sql":            "-- old\n",
		"pg-meta/pg-meta-1/pgbackrest.conf": "[pg-meta]\n",
		"haproxy/infra/pg-test-replica.cfg": "listen pg-test-replica\n",
	}
	must(t, Write(dir, bundleOf(t, disk, map[string]fs.FileMode{"pg-test/pg-test-1/patroni.yml": 0o600}), WriteOptions{NoSync: true}))

	same := bundleOf(t, disk, map[string]fs.FileMode{"pg-test/pg-test-1/patroni.yml": 0o600})
	if cs, err := Check(dir, same); err != nil || cs != nil {
		t.Fatalf("Check identical = %q, %v", kinds(cs), err)
	}

	built := map[string]string{}
	for p, d := range disk {
		built[p] = d
	}
	built["pg-test/pg-test-1/patroni.yml"] = "ttl: 60\n" // changed
	built["pg-test/sql/db-new.sql"] = "-- new\n"         // added
	delete(built, "pg-test/sql/db-old.sql")              // removed
	b := bundleOf(t, built, map[string]fs.FileMode{"pg-test/pg-test-1/patroni.yml": 0o600})
	cs, err := Check(dir, b)
	must(t, err)
	want := []string{
		"changed manifest.json",
		"changed pg-test/pg-test-1/patroni.yml",
		"added pg-test/sql/db-new.sql",
		"removed pg-test/sql/db-old.sql",
	}
	if got := kinds(cs); !slices.Equal(got, want) {
		t.Errorf("Check = %q\nwant %q", got, want)
	}

	// A mode-only change, and a hand-edited manifest.
	must(t, os.Chmod(filepath.Join(dir, "pg-test/pg-test-1/pg_hba.conf"), 0o640))
	cs, err = Check(dir, same)
	must(t, err)
	if got := kinds(cs); !slices.Equal(got, []string{"mode pg-test/pg-test-1/pg_hba.conf"}) {
		t.Errorf("Check after chmod = %q", got)
	}

	// A missing directory: everything is added.
	cs, err = Check(filepath.Join(t.TempDir(), "none"), bundleOf(t, map[string]string{"a": "x"}, nil))
	must(t, err)
	if got := kinds(cs); !slices.Equal(got, []string{"added a", "added manifest.json"}) {
		t.Errorf("Check of missing dir = %q", got)
	}
}

func TestCheckKeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
	notA := func(p string) bool { return !strings.HasPrefix(p, "pg-a/") }
	must(t, Write(dir, newBundle(t), WriteOptions{Keep: notA, NoSync: true}))

	// Checking only pg-a against the merged bundle: no difference.
	cs, err := CheckKeep(dir, newBundle(t), notA)
	if err != nil || cs != nil {
		t.Fatalf("CheckKeep = %q, %v", kinds(cs), err)
	}
	// Without keep, the other clusters' files count as removed.
	cs, err = Check(dir, newBundle(t))
	must(t, err)
	want := []string{
		"removed haproxy/infra/pg-b-extra.cfg",
		"removed manifest-less/readme",
		"changed manifest.json",
		"removed pg-b/pg-b-1/patroni.yml",
	}
	if got := kinds(cs); !slices.Equal(got, want) {
		t.Errorf("Check = %q\nwant %q", got, want)
	}
	// A hand-edited kept file shows up through the manifest only.
	must(t, os.WriteFile(filepath.Join(dir, "pg-b/pg-b-1/patroni.yml"), []byte("edited\n"), 0o600))
	cs, err = CheckKeep(dir, newBundle(t), notA)
	must(t, err)
	if got := kinds(cs); !slices.Equal(got, []string{"changed manifest.json"}) {
		t.Errorf("CheckKeep after edit = %q", got)
	}
}

func TestUnifiedDiff(t *testing.T) {
	conf := func(wm string) []byte {
		return []byte("# pgcc\nport = 5432\nwork_mem = '" + wm + "'\nmax_connections = 100\n")
	}
	tests := []struct {
		name string
		c    Change
		want string
	}{
		{"changed", Change{Path: "c/i/postgresql.auto.conf", Kind: Changed,
			Old: File{Data: conf("64MB"), Mode: 0o644}, New: File{Data: conf("128MB"), Mode: 0o644}}, `diff a/c/i/postgresql.auto.conf b/c/i/postgresql.auto.conf
--- a/c/i/postgresql.auto.conf
+++ b/c/i/postgresql.auto.conf
@@ -1,4 +1,4 @@
 # pgcc
 port = 5432
-work_mem = '64MB'
+work_mem = '128MB'
 max_connections = 100
`},
		{"changed with mode", Change{Path: "x", Kind: Changed,
			Old: File{Data: []byte("a\n"), Mode: 0o644}, New: File{Data: []byte("b\n"), Mode: 0o600}}, `diff a/x b/x
old mode 0644
new mode 0600
--- a/x
+++ b/x
@@ -1,1 +1,1 @@
-a
+b
`},
		{"added", Change{Path: "new.sql", Kind: Added, New: File{Data: []byte("select 1;\nselect 2;\n"), Mode: 0o644}}, `diff a/new.sql b/new.sql
new file mode 0644
--- a/new.sql
+++ b/new.sql
@@ -0,0 +1,2 @@
+select 1;
+select 2;
`},
		{"removed", Change{Path: "old.sql", Kind: Removed, Old: File{Data: []byte("select 1;\n"), Mode: 0o600}}, `diff a/old.sql b/old.sql
deleted file mode 0600
--- a/old.sql
+++ b/old.sql
@@ -1,1 +0,0 @@
-select 1;
`},
		{"added empty", Change{Path: "e", Kind: Added, New: File{Data: []byte{}, Mode: 0o644}}, `diff a/e b/e
new file mode 0644
`},
		{"mode only", Change{Path: "m", Kind: ModeOnly, Old: File{Data: []byte("s"), Mode: 0o644}, New: File{Data: []byte("s"), Mode: 0o600}}, `diff a/m b/m
old mode 0644
new mode 0600
`},
		{"binary", Change{Path: "b", Kind: Changed, Old: File{Data: []byte("text\n"), Mode: 0o644}, New: File{Data: []byte("\xff\xfe"), Mode: 0o644}}, `diff a/b b/b
Binary files a/b and b/b differ
`},
		{"nul byte", Change{Path: "n", Kind: Added, New: File{Data: []byte("a\x00b"), Mode: 0o644}}, `diff a/n b/n
new file mode 0644
Binary files a/n and b/n differ
`},
		{"no newline at end", Change{Path: "t", Kind: Changed, Old: File{Data: []byte("a"), Mode: 0o644}, New: File{Data: []byte("a\n"), Mode: 0o644}}, `diff a/t b/t
--- a/t
+++ b/t
@@ -1,1 +1,1 @@
-a
\ No newline at end of file
+a
`},
		{"no kind", Change{Path: "z"}, ""},
	}
	for _, tt := range tests {
		if got := UnifiedDiff(tt.c); got != tt.want {
			t.Errorf("%s: UnifiedDiff =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestUnifiedDiffContext(t *testing.T) {
	// 20 lines, lines 3 and 17 change: two hunks with 3 lines of context each.
	var a, b strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&a, "line %d\n", i)
		if i == 3 || i == 17 {
			fmt.Fprintf(&b, "LINE %d\n", i)
		} else {
			fmt.Fprintf(&b, "line %d\n", i)
		}
	}
	got := UnifiedDiff(Change{Path: "f", Kind: Changed, Old: File{Data: []byte(a.String()), Mode: 0o644}, New: File{Data: []byte(b.String()), Mode: 0o644}})
	want := `diff a/f b/f
--- a/f
+++ b/f
@@ -1,6 +1,6 @@
 line 1
 line 2
-line 3
+LINE 3
 line 4
 line 5
 line 6
@@ -14,7 +14,7 @@
 line 14
 line 15
 line 16
-line 17
+LINE 17
 line 18
 line 19
 line 20
`
	if got != want {
		t.Errorf("UnifiedDiff =\n%s\nwant\n%s", got, want)
	}
}
