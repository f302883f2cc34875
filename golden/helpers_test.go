package golden

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// bundleOf builds a bundle through Add from path → content with the given modes (default 0644).
func bundleOf(t testing.TB, files map[string]string, modes map[string]fs.FileMode) *Bundle {
	t.Helper()
	b := New()
	ps := make([]string, 0, len(files))
	for p := range files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	for _, p := range ps {
		if err := b.Add(p, []byte(files[p]), modes[p]); err != nil {
			t.Fatalf("Add(%q): %v", p, err)
		}
	}
	return b
}

// snapshot reads every regular file below dir (manifest included) with its mode.
func snapshot(t testing.TB, dir string) map[string]File {
	t.Helper()
	files, err := readTree(osFS{}, dir)
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return files
}

// diffFiles describes how two snapshots differ ("" when equal).
func diffFiles(got, want map[string]File) string {
	var buf bytes.Buffer
	for _, c := range Compare(&Bundle{Files: want}, &Bundle{Files: got}) {
		buf.WriteString(c.Path + ": " + string(c.Kind) + "\n")
	}
	return buf.String()
}

// entries lists the names in dir.
func entries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// checkGolden compares got with testdata/<name>; PGCC_UPDATE=1 rewrites the file.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if os.Getenv("PGCC_UPDATE") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with PGCC_UPDATE=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (PGCC_UPDATE=1 to accept):\n%s", p, UnifiedDiff(Change{Path: name, Kind: Changed,
			Old: File{Data: want, Mode: 0o644}, New: File{Data: got, Mode: 0o644}}))
	}
}

var errInjected = errors.New("injected failure")

// faultFS is the real file system, except that the operations whose 1-based sequence numbers are in
// failAt fail. A failing Write writes half of its data first (a torn write).
type faultFS struct {
	osFS
	failAt map[int]bool
	n      int
	failed []string // operations that failed
}

func (f *faultFS) hit(op, name string) error {
	f.n++
	if f.failAt[f.n] {
		f.failed = append(f.failed, op+" "+name)
		return errInjected
	}
	return nil
}

func (f *faultFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.hit("lstat", name); err != nil {
		return nil, err
	}
	return f.osFS.Lstat(name)
}

func (f *faultFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.hit("readdir", name); err != nil {
		return nil, err
	}
	return f.osFS.ReadDir(name)
}

func (f *faultFS) ReadFile(name string) ([]byte, error) {
	if err := f.hit("readfile", name); err != nil {
		return nil, err
	}
	return f.osFS.ReadFile(name)
}

func (f *faultFS) MkdirTemp(dir, pattern string) (string, error) {
	if err := f.hit("mkdirtemp", dir); err != nil {
		return "", err
	}
	return f.osFS.MkdirTemp(dir, pattern)
}

func (f *faultFS) Mkdir(name string, perm fs.FileMode) error {
	if err := f.hit("mkdir", name); err != nil {
		return err
	}
	return f.osFS.Mkdir(name, perm)
}

func (f *faultFS) Chmod(name string, mode fs.FileMode) error {
	if err := f.hit("chmod", name); err != nil {
		return err
	}
	return f.osFS.Chmod(name, mode)
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.hit("rename", oldpath); err != nil {
		return err
	}
	return f.osFS.Rename(oldpath, newpath)
}

func (f *faultFS) Remove(name string) error {
	if err := f.hit("remove", name); err != nil {
		return err
	}
	return f.osFS.Remove(name)
}

func (f *faultFS) RemoveAll(name string) error {
	if err := f.hit("removeall", name); err != nil {
		return err
	}
	return f.osFS.RemoveAll(name)
}

func (f *faultFS) SyncDir(name string) error {
	if err := f.hit("syncdir", name); err != nil {
		return err
	}
	return f.osFS.SyncDir(name)
}

func (f *faultFS) SyncFS(name string) error {
	if err := f.hit("syncfs", name); err != nil {
		return err
	}
	return f.osFS.SyncFS(name)
}

func (f *faultFS) Create(name string, perm fs.FileMode) (writableFile, error) {
	if err := f.hit("create", name); err != nil {
		return nil, err
	}
	w, err := f.osFS.Create(name, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{w: w, fs: f, name: name}, nil
}

type faultFile struct {
	w    writableFile
	fs   *faultFS
	name string
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.hit("write", f.name); err != nil {
		n, _ := f.w.Write(p[:len(p)/2])
		return n, err
	}
	return f.w.Write(p)
}

func (f *faultFile) Chmod(mode fs.FileMode) error {
	if err := f.fs.hit("fchmod", f.name); err != nil {
		return err
	}
	return f.w.Chmod(mode)
}

func (f *faultFile) Sync() error {
	if err := f.fs.hit("fsync", f.name); err != nil {
		return err
	}
	return f.w.Sync()
}

func (f *faultFile) Close() error {
	err := f.fs.hit("close", f.name)
	if cerr := f.w.Close(); err == nil {
		err = cerr
	}
	return err
}
