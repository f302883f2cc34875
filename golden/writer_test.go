package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestWriterStreams: files added concurrently, in any order, give the same
// bundle as Write; Paths and Len describe what was added.
func TestWriterStreams(t *testing.T) {
	b := New()
	for i := 0; i < 300; i++ {
		mode := fs.FileMode(0o644)
		if i%7 == 0 {
			mode = 0o600
		}
		must(t, b.Add(fmt.Sprintf("pg-%02d/pg-%02d-%d/f%03d.conf", i%17, i%17, i%3, i), []byte(fmt.Sprintf("line %d\n", i)), mode))
	}
	parent := t.TempDir()
	want := filepath.Join(parent, "want")
	must(t, Write(want, b, WriteOptions{NoSync: true}))

	got := filepath.Join(parent, "got")
	w, err := NewWriter(got, WriteOptions{NoSync: true})
	must(t, err)
	paths := b.Paths()
	slices.Reverse(paths)
	var wg sync.WaitGroup
	errs := make(chan error, len(paths))
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := i; j < len(paths); j += 8 {
				f := b.Files[paths[j]]
				if err := w.Add(paths[j], f.Data, f.Mode); err != nil {
					errs <- err
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if w.Len() != 300 || !slices.Equal(w.Paths(), b.Paths()) {
		t.Errorf("Len %d, Paths %d: want 300 sorted paths", w.Len(), len(w.Paths()))
	}
	must(t, w.Commit())
	if d := diffFiles(snapshot(t, got), snapshot(t, want)); d != "" {
		t.Errorf("streamed bundle differs from Write's:\n%s", d)
	}
	if err := w.Add("late", []byte("x"), 0); err == nil {
		t.Error("Add after Commit succeeded")
	}
	if ents := entries(t, parent); !slices.Equal(ents, []string{"got", "want"}) {
		t.Errorf("parent holds %q", ents)
	}
}

// TestWriterAddRejects: the path checks of Bundle.Add, nothing written for a
// rejected path, and the Writer still usable.
func TestWriterAddRejects(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	w, err := NewWriter(dir, WriteOptions{NoSync: true})
	must(t, err)
	defer w.Abort()
	must(t, w.Add("a/b", []byte("x"), 0))
	for _, tt := range []struct {
		path string
		want error
	}{
		{"a/b", ErrDuplicatePath},
		{"a", ErrPathConflict},
		{"a/b/c", ErrPathConflict},
		{"../x", ErrInvalidPath},
		{ManifestName, ErrReservedPath},
	} {
		if err := w.Add(tt.path, []byte("y"), 0); !errors.Is(err, tt.want) {
			t.Errorf("Add(%q) = %v, want %v", tt.path, err, tt.want)
		}
	}
	if err := w.Add("m", []byte("y"), fs.ModeDir|0o755); !errors.Is(err, ErrInvalidMode) {
		t.Errorf("Add with ModeDir = %v, want ErrInvalidMode", err)
	}
	must(t, w.Add("c", []byte("z"), 0))
	if got := w.Paths(); !slices.Equal(got, []string{"a/b", "c"}) {
		t.Errorf("Paths = %q", got)
	}
}

// TestWriterAbort: Abort leaves the old bundle and removes everything the
// Writer made (temporary directory, created parents).
func TestWriterAbort(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
	before := snapshot(t, dir)
	w, err := NewWriter(dir, WriteOptions{NoSync: true})
	must(t, err)
	must(t, w.Add("pg-a/new.conf", []byte("new\n"), 0))
	w.Abort()
	w.Abort() // twice is fine
	if d := diffFiles(snapshot(t, dir), before); d != "" {
		t.Errorf("abort changed the bundle:\n%s", d)
	}
	if ents := entries(t, parent); !slices.Equal(ents, []string{"bundle"}) {
		t.Errorf("parent holds %q", ents)
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}

	deep := filepath.Join(parent, "x", "y", "bundle")
	w, err = NewWriter(deep, WriteOptions{NoSync: true})
	must(t, err)
	must(t, w.Add("f", []byte("x"), 0))
	w.Abort()
	if ents := entries(t, parent); !slices.Equal(ents, []string{"bundle"}) {
		t.Errorf("created parents left behind: %q", ents)
	}
}

// TestRemoveAll: the parallel removal removes a tree with files at every
// depth, and removes a symbolic link without touching what it points to
// (at the top and below).
func TestRemoveAll(t *testing.T) {
	tmp := t.TempDir()
	outside := filepath.Join(tmp, "outside")
	must(t, os.MkdirAll(filepath.Join(outside, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "d", "keep"), []byte("keep"), 0o644))

	tree := filepath.Join(tmp, "tree")
	for _, p := range []string{"top", "old/a/1", "old/a/b/2", "old/c", "old/d/e/f/3", "new/x"} {
		must(t, os.MkdirAll(filepath.Join(tree, filepath.Dir(p)), 0o755))
		must(t, os.WriteFile(filepath.Join(tree, p), []byte(p), 0o644))
	}
	must(t, os.MkdirAll(filepath.Join(tree, "old", "empty"), 0o755))
	must(t, os.Symlink(outside, filepath.Join(tree, "old", "link")))
	must(t, os.Symlink(outside, filepath.Join(tree, "link")))
	must(t, removeAll(tree))
	if _, err := os.Lstat(tree); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tree still there: %v", err)
	}

	top := filepath.Join(tmp, "toplink")
	must(t, os.Symlink(outside, top))
	must(t, removeAll(top))
	if _, err := os.Lstat(top); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link still there: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "d", "keep")); err != nil || string(b) != "keep" {
		t.Errorf("removal followed a link: %q %v", b, err)
	}
	must(t, removeAll(filepath.Join(tmp, "missing")))
}

// TestWriterKeep: kept files are written and in the manifest, but Paths and
// Len name only the files added.
func TestWriterKeep(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bundle")
	must(t, Write(dir, oldBundle(t), WriteOptions{NoSync: true}))
	notA := func(p string) bool { return !strings.HasPrefix(p, "pg-a/") }
	w, err := NewWriter(dir, WriteOptions{Keep: notA, NoSync: true})
	must(t, err)
	nb := newBundle(t)
	for _, p := range nb.Paths() {
		must(t, w.Add(p, nb.Files[p].Data, nb.Files[p].Mode))
	}
	must(t, w.Commit())
	if !slices.Equal(w.Paths(), nb.Paths()) || w.Len() != len(nb.Files) {
		t.Errorf("Paths %q Len %d, want the %d added files", w.Paths(), w.Len(), len(nb.Files))
	}
	if d := diffFiles(snapshot(t, dir), withManifest(Merge(oldBundle(t), nb, notA))); d != "" {
		t.Errorf("bundle after keep:\n%s", d)
	}
}
