package golden

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func oldBundle(t testing.TB) *Bundle {
	return bundleOf(t, map[string]string{
		"manifest-less/readme":          "old\n",
		"pg-a/pg-a-1/patroni.yml":       "password: old\n",
		"pg-a/pg-a-1/pg_hba.conf":       "local all all peer\n",
		"pg-b/pg-b-1/patroni.yml":       "password: b\n",
		"haproxy/infra/pg-b-extra.cfg":  "listen b\n",
		"pg-a/pg-a-1/pgbouncer/old.txt": "gone in new\n",
	}, map[string]fs.FileMode{"pg-a/pg-a-1/patroni.yml": 0o600, "pg-b/pg-b-1/patroni.yml": 0o600})
}

func newBundle(t testing.TB) *Bundle {
	return bundleOf(t, map[string]string{
		"pg-a/model.json":               "{}\n",
		"pg-a/pg-a-1/patroni.yml":       "password: new\n",
		"pg-a/pg-a-1/pg_hba.conf":       "local all all peer\nhost all all 0.0.0.0/0 scram-sha-256\n",
		"pg-a/pg-a-1/pgbouncer/new.txt": strings.Repeat("a long line\n", 100),
	}, map[string]fs.FileMode{"pg-a/pg-a-1/patroni.yml": 0o600})
}

// withManifest is what Write puts on disk for b.
func withManifest(b *Bundle) map[string]File {
	out := Merge(nil, b, nil).Files
	out[ManifestName] = File{Data: Manifest(b), Mode: 0o644}
	return out
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{}))
	if d := diffFiles(snapshot(t, dir), withManifest(oldBundle(t))); d != "" {
		t.Fatalf("first write:\n%s", d)
	}
	must(t, Write(dir, newBundle(t), WriteOptions{}))
	if d := diffFiles(snapshot(t, dir), withManifest(newBundle(t))); d != "" {
		t.Fatalf("second write:\n%s", d)
	}
	if got := entries(t, parent); !slices.Equal(got, []string{"bundle"}) {
		t.Errorf("parent holds %q, want only the bundle", got)
	}
}

// TestWriteAtomic injects a failure into every file system operation of a Write in turn (a torn
// write for Write calls) and checks that the old bundle is untouched and no temporary directory is
// left, or, for a failure after the swap, that the new bundle is complete.
func TestWriteAtomic(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep func(string) bool
	}{
		{"plain", nil},
		{"keep", func(p string) bool { return !strings.HasPrefix(p, "pg-a/") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "bundle")
			resetOld := func() {
				must(t, os.RemoveAll(dir))
				must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
			}
			resetOld()
			wantOld := snapshot(t, dir)
			wantNew := withManifest(Merge(oldBundle(t), newBundle(t), tc.keep))

			failed, cleanup := 0, 0
			for k := 1; ; k++ {
				if k > 500 {
					t.Fatal("Write never completed")
				}
				f := &faultFS{failAt: map[int]bool{k: true}}
				err := Write(dir, newBundle(t), WriteOptions{Keep: tc.keep, fsys: f})
				if len(f.failed) == 0 {
					// k is past the last operation: the write went through.
					if err != nil {
						t.Fatalf("Write without fault: %v", err)
					}
					if d := diffFiles(snapshot(t, dir), wantNew); d != "" {
						t.Fatalf("final write:\n%s", d)
					}
					break
				}
				if err == nil {
					t.Fatalf("op %d (%s) failed but Write returned nil", k, f.failed[0])
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("op %d (%s): error %v does not wrap the injected failure", k, f.failed[0], err)
				}
				var ce *CleanupError
				if errors.As(err, &ce) {
					cleanup++
					if d := diffFiles(snapshot(t, dir), wantNew); d != "" {
						t.Fatalf("op %d (%s) after the swap: new bundle incomplete:\n%s", k, f.failed[0], d)
					}
					if strings.HasPrefix(f.failed[0], "removeall") {
						// The temporary directory with the old bundle is left and named in the error.
						must(t, os.RemoveAll(ce.Path))
					}
					resetOld()
				} else {
					failed++
					if d := diffFiles(snapshot(t, dir), wantOld); d != "" {
						t.Fatalf("op %d (%s): old bundle changed:\n%s", k, f.failed[0], d)
					}
				}
				if got := entries(t, parent); !slices.Equal(got, []string{"bundle"}) {
					t.Fatalf("op %d (%s): parent holds %q", k, f.failed[0], got)
				}
			}
			// Every file is created, chmodded, written and closed, then one SyncFS: dozens of failure points.
			if failed < 30 || cleanup != 2 {
				t.Errorf("only %d failures before and %d after the swap exercised", failed, cleanup)
			}
			t.Logf("%d failures before the swap, %d after", failed, cleanup)
		})
	}
}

func TestWriteAtomicNewDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "x", "y", "bundle")
	for k := 1; ; k++ {
		f := &faultFS{failAt: map[int]bool{k: true}}
		err := Write(dir, newBundle(t), WriteOptions{fsys: f})
		if len(f.failed) == 0 {
			must(t, err)
			break
		}
		if errors.As(err, new(*CleanupError)) {
			must(t, os.RemoveAll(filepath.Join(parent, "x")))
			continue
		}
		if got := entries(t, parent); len(got) != 0 {
			t.Fatalf("op %d (%s): parent holds %q after a failed write", k, f.failed[0], got)
		}
	}
	if d := diffFiles(snapshot(t, dir), withManifest(newBundle(t))); d != "" {
		t.Fatal(d)
	}
}

// TestWriteRollbackFails: when moving the new bundle in and then moving the old one back both fail,
// the old bundle is kept in the temporary directory and the error says where.
func TestWriteRollbackFails(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
	wantOld := snapshot(t, dir)

	// A successful replace renames twice (old aside, new in); the rollback is the op after the second.
	probe := &renameCounter{}
	must(t, Write(dir, newBundle(t), WriteOptions{fsys: probe}))
	if len(probe.renames) != 2 {
		t.Fatalf("renames at ops %v, want 2", probe.renames)
	}
	must(t, os.RemoveAll(dir))
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))

	f := &faultFS{failAt: map[int]bool{probe.renames[1]: true, probe.renames[1] + 1: true}}
	err := Write(dir, newBundle(t), WriteOptions{fsys: f})
	if err == nil || !strings.Contains(err.Error(), "restoring the previous bundle also failed") {
		t.Fatalf("Write = %v", err)
	}
	tmps := entries(t, parent)
	if len(tmps) != 1 || !strings.HasPrefix(tmps[0], "bundle.tmp-") {
		t.Fatalf("parent holds %q, want one bundle.tmp-*", tmps)
	}
	kept := filepath.Join(parent, tmps[0], "old")
	if !strings.HasSuffix(err.Error(), "it is in "+kept) {
		t.Errorf("error %q does not name %s", err, kept)
	}
	if d := diffFiles(snapshot(t, kept), wantOld); d != "" {
		t.Errorf("old bundle in %s differs:\n%s", kept, d)
	}
}

type renameCounter struct {
	faultFS
	renames []int // op numbers of the renames
}

func (r *renameCounter) Rename(o, n string) error {
	r.renames = append(r.renames, r.n+1)
	return r.faultFS.Rename(o, n)
}

func TestWriteDeterministic(t *testing.T) {
	tmp := t.TempDir()
	b1 := newBundle(t)
	// Same files added in reverse order.
	b2 := New()
	ps := b1.Paths()
	for i := len(ps) - 1; i >= 0; i-- {
		must(t, b2.Add(ps[i], b1.Files[ps[i]].Data, b1.Files[ps[i]].Mode))
	}
	d1, d2 := filepath.Join(tmp, "one"), filepath.Join(tmp, "two")
	must(t, Write(d1, b1, WriteOptions{}))
	first := snapshot(t, d1)
	must(t, Write(d1, b1, WriteOptions{})) // rewrite in place
	must(t, Write(d2, b2, WriteOptions{}))
	for _, d := range []string{d1, d2} {
		if diff := diffFiles(snapshot(t, d), first); diff != "" {
			t.Errorf("%s differs from the first write:\n%s", d, diff)
		}
	}
	if !bytes.Equal(Manifest(b1), Manifest(b2)) {
		t.Error("manifest depends on insertion order")
	}
}

func TestWriteKeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
	notA := func(p string) bool { return !strings.HasPrefix(p, "pg-a/") }
	must(t, Write(dir, newBundle(t), WriteOptions{Keep: notA, NoSync: true}))

	got := snapshot(t, dir)
	var lines []string
	for _, p := range sortedKeys(got) {
		lines = append(lines, fmt.Sprintf("%04o %s %q", got[p].Mode, p, firstLine(got[p].Data)))
	}
	want := []string{
		`0644 haproxy/infra/pg-b-extra.cfg "listen b"`,
		`0644 manifest-less/readme "old"`,
		`0644 manifest.json "{"`,
		`0644 pg-a/model.json "{}"`,
		`0600 pg-a/pg-a-1/patroni.yml "password: new"`,
		`0644 pg-a/pg-a-1/pg_hba.conf "local all all peer"`,
		`0644 pg-a/pg-a-1/pgbouncer/new.txt "a long line"`,
		`0600 pg-b/pg-b-1/patroni.yml "password: b"`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("bundle after keep:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// The manifest covers the merged set.
	if _, err := Read(dir); err != nil {
		t.Errorf("Read after keep: %v", err)
	}
}

func TestWriteKeepEditedFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
	notA := func(p string) bool { return !strings.HasPrefix(p, "pg-a/") }

	// An edited file that is replaced anyway does not matter.
	must(t, os.WriteFile(filepath.Join(dir, "pg-a/pg-a-1/pg_hba.conf"), []byte("edited\n"), 0o644))
	must(t, Write(dir, newBundle(t), WriteOptions{Keep: notA, NoSync: true}))

	// An edited file that would be kept is refused, and nothing is written.
	must(t, os.WriteFile(filepath.Join(dir, "pg-b/pg-b-1/patroni.yml"), []byte("edited\n"), 0o600))
	before := snapshot(t, dir)
	err := Write(dir, newBundle(t), WriteOptions{Keep: notA, NoSync: true})
	want := "write bundle " + dir + ": files to keep: bundle " + dir + " does not match its manifest.json: pg-b/pg-b-1/patroni.yml (hash mismatch)"
	if err == nil || err.Error() != want {
		t.Fatalf("Write = %v\nwant %s", err, want)
	}
	if !errors.As(err, new(*ManifestError)) {
		t.Errorf("%v is not a *ManifestError", err)
	}
	if d := diffFiles(snapshot(t, dir), before); d != "" {
		t.Errorf("refused write changed the bundle:\n%s", d)
	}
}

func TestWriteKeepConflict(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	must(t, Write(dir, bundleOf(t, map[string]string{"a": "file"}, nil), WriteOptions{NoSync: true}))
	err := Write(dir, bundleOf(t, map[string]string{"a/b": "x"}, nil), WriteOptions{Keep: func(string) bool { return true }, NoSync: true})
	want := "write bundle " + dir + `: keeping files of the existing bundle: bundle path "a/b": its directory "a" is a file in the bundle`
	if err == nil || err.Error() != want {
		t.Fatalf("Write = %v\nwant %s", err, want)
	}
}

func TestWriteRefusesNonBundle(t *testing.T) {
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	must(t, os.MkdirAll(home, 0o755))
	must(t, os.WriteFile(filepath.Join(home, ".bashrc"), []byte("keep me"), 0o644))
	file := filepath.Join(tmp, "file")
	must(t, os.WriteFile(file, []byte("keep me"), 0o644))
	for _, tt := range []struct{ dir, want string }{
		{home, home + " is not a pgcc bundle: directory is not empty and has no manifest.json; refusing to replace it"},
		{file, file + " is not a pgcc bundle: not a directory"},
	} {
		err := Write(tt.dir, newBundle(t), WriteOptions{NoSync: true})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Write(%s) = %v\nwant %s", tt.dir, err, tt.want)
		}
		if !errors.As(err, new(*NotBundleError)) {
			t.Errorf("%v is not a *NotBundleError", err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(home, ".bashrc")); string(b) != "keep me" {
		t.Error(".bashrc changed")
	}
	if got := entries(t, tmp); !slices.Equal(got, []string{"file", "home"}) {
		t.Errorf("tmp holds %q", got)
	}

	// An empty directory may be replaced.
	empty := filepath.Join(tmp, "empty")
	must(t, os.Mkdir(empty, 0o755))
	must(t, Write(empty, newBundle(t), WriteOptions{NoSync: true}))
}

func TestWriteInvalidBundle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	b := &Bundle{Files: map[string]File{"../escape": {Data: []byte("x"), Mode: 0o644}}}
	err := Write(dir, b, WriteOptions{})
	if !errors.Is(err, ErrInvalidPath) {
		t.Fatalf("Write = %v, want ErrInvalidPath", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dir was created: %v", err)
	}
}

func TestWriteKeepsRootModeAndSymlink(t *testing.T) {
	tmp := t.TempDir()
	real := filepath.Join(tmp, "real")
	must(t, Write(real, oldBundle(t), WriteOptions{NoSync: true}))
	must(t, os.Chmod(real, 0o700))
	link := filepath.Join(tmp, "link")
	must(t, os.Symlink("real", link))

	must(t, Write(link, newBundle(t), WriteOptions{NoSync: true}))
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v %v", fi, err)
	}
	fi, err := os.Stat(real)
	must(t, err)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("root mode %04o, want 0700", fi.Mode().Perm())
	}
	if d := diffFiles(snapshot(t, real), withManifest(newBundle(t))); d != "" {
		t.Error(d)
	}
	// Read and Check follow the link too.
	if rb, err := Read(link); err != nil || len(rb.Files) != len(newBundle(t).Files) {
		t.Errorf("Read(link) = %v, %v", rb, err)
	}
	if cs, err := Check(link, newBundle(t)); err != nil || cs != nil {
		t.Errorf("Check(link) = %q, %v", kinds(cs), err)
	}
	if got := entries(t, tmp); !slices.Equal(got, []string{"link", "real"}) {
		t.Errorf("tmp holds %q", got)
	}
}

func sortedKeys(m map[string]File) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{100, 1000} {
		bundle := New()
		for i := range n {
			p := fmt.Sprintf("pg-%d/pg-%d-1/postgresql.auto.conf", i/10, i)
			if err := bundle.Add(p, bytes.Repeat([]byte("work_mem = '64MB'\n"), 50), 0); err != nil {
				b.Fatal(err)
			}
		}
		dir := filepath.Join(b.TempDir(), "bundle")
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := Write(dir, bundle, WriteOptions{NoSync: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
