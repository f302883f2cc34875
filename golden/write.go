package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
)

// WriteOptions tunes Write. The zero value writes b alone, durably.
type WriteOptions struct {
	// Keep selects files of the bundle already in the directory that are carried over into the new
	// one when the new bundle has no file at that path (`pgcc build --cluster X` keeps the other
	// clusters' files). The manifest then covers the merged set. The kept files must match the old
	// manifest (*ManifestError otherwise): a hand-edited file is not silently blessed.
	Keep func(path string) bool

	// NoSync skips fsync of files and directories. Only for tests and benchmarks: without it a crash
	// shortly after Write returns can leave empty or missing files.
	NoSync bool

	// fsys replaces the real file system in tests (failure injection).
	fsys fileSystem
}

// CleanupError is returned when the new bundle is in place but a step after the swap failed: syncing
// the parent directory or removing the temporary directory (Path) that holds the previous bundle.
// The bundle is written; callers may report this as a warning.
type CleanupError struct {
	Op   string
	Path string
	Err  error
}

func (e *CleanupError) Error() string {
	return fmt.Sprintf("bundle written, but %s %s failed: %v", e.Op, e.Path, e.Err)
}

func (e *CleanupError) Unwrap() error { return e.Err }

// Write writes b (plus manifest.json) to dir atomically: it builds the complete bundle in a temporary
// sibling directory "<dir>.tmp-XXXX" (same parent, so renames stay on one file system), fsyncs every
// file and directory, then swaps: the old dir is renamed into the temporary directory, the new one is
// renamed to dir, and the temporary directory with the old bundle is removed. A failure before the
// swap completes leaves the old bundle exactly as it was and removes the temporary directory (and any
// parent directories Write created). Readers never see a half-written bundle, though for an instant
// between the two renames dir does not exist (POSIX rename cannot exchange two directories).
//
// File modes are applied with chmod, so the umask does not change them; directories are 0755 and
// the bundle root keeps the mode of the directory it replaces. Write refuses (*NotBundleError) to
// replace a path that is not a directory, or a non-empty directory without manifest.json. If dir is
// a symlink, the directory it points to is replaced and the link is left alone.
func Write(dir string, b *Bundle, opts WriteOptions) error {
	fsys := opts.fsys
	if fsys == nil {
		fsys = osFS{}
	}
	if b == nil {
		b = New()
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	info, err := fsys.Lstat(abs)
	exists := err == nil
	if err != nil && !isNotExist(err) {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	if exists && info.Mode()&fs.ModeSymlink != 0 {
		if abs, err = filepath.EvalSymlinks(abs); err != nil {
			return fmt.Errorf("write bundle %s: %w", dir, err)
		}
		if info, err = fsys.Lstat(abs); err != nil {
			return fmt.Errorf("write bundle %s: %w", dir, err)
		}
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if parent == abs {
		return fmt.Errorf("write bundle %s: cannot replace the file system root", dir)
	}

	rootMode := dirMode
	var old *Bundle
	if exists {
		if !info.IsDir() {
			return &NotBundleError{Dir: dir, Reason: "not a directory"}
		}
		rootMode = info.Mode().Perm()
		isBundle, err := replaceable(fsys, abs, dir)
		if err != nil {
			return err
		}
		if isBundle && opts.Keep != nil {
			if old, err = readKept(fsys, abs, dir, b, opts.Keep); err != nil {
				return err
			}
		}
	}
	merged := Merge(old, b, opts.Keep)
	if old != nil {
		// A kept file can collide with a new one ("a" kept, "a/b" new).
		if err := merged.Validate(); err != nil {
			return fmt.Errorf("write bundle %s: keeping files of the existing bundle: %w", dir, err)
		}
	}
	manifest := Manifest(merged)

	w := &writer{fsys: fsys, sync: !opts.NoSync}
	created, err := w.mkdirParents(parent)
	if err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	committed := false
	defer func() {
		if !committed {
			w.removeCreated(created)
		}
	}()

	tmp, err := fsys.MkdirTemp(parent, base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	keepTmp := false // set when the old bundle could not be put back and lives in tmp
	defer func() {
		if !committed && !keepTmp {
			_ = fsys.RemoveAll(tmp)
		}
	}()

	newDir := filepath.Join(tmp, "new")
	if err := w.writeTree(newDir, rootMode, merged, manifest); err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}

	if exists {
		oldDir := filepath.Join(tmp, "old")
		if err := fsys.Rename(abs, oldDir); err != nil {
			return fmt.Errorf("write bundle %s: move previous bundle aside: %w", dir, err)
		}
		if err := fsys.Rename(newDir, abs); err != nil {
			if rerr := fsys.Rename(oldDir, abs); rerr != nil {
				keepTmp = true
				return fmt.Errorf("write bundle %s: %w; restoring the previous bundle also failed (%v), it is in %s", dir, err, rerr, oldDir)
			}
			return fmt.Errorf("write bundle %s: %w", dir, err)
		}
	} else if err := fsys.Rename(newDir, abs); err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	committed = true

	var errs []error
	if w.sync {
		// The renames are durable only once the parent directory is synced.
		if err := fsys.SyncDir(parent); err != nil {
			errs = append(errs, &CleanupError{Op: "sync of", Path: parent, Err: err})
		}
	}
	if err := fsys.RemoveAll(tmp); err != nil {
		errs = append(errs, &CleanupError{Op: "removing temporary directory", Path: tmp, Err: err})
	}
	return errors.Join(errs...)
}

// replaceable reports whether the existing directory abs is a bundle (has manifest.json). A non-empty
// directory without one is a *NotBundleError; an empty one may be replaced.
func replaceable(fsys fileSystem, abs, dir string) (bool, error) {
	mi, err := fsys.Lstat(filepath.Join(abs, ManifestName))
	switch {
	case err == nil && mi.Mode().IsRegular():
		return true, nil
	case err != nil && !isNotExist(err):
		return false, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	ents, err := fsys.ReadDir(abs)
	if err != nil {
		return false, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return false, &NotBundleError{Dir: dir, Reason: "directory is not empty and has no " + ManifestName + "; refusing to replace it"}
	}
	return false, nil
}

// readKept reads the existing bundle and verifies the files that will be kept against its manifest.
func readKept(fsys fileSystem, abs, dir string, b *Bundle, keep func(string) bool) (*Bundle, error) {
	files, err := readTree(fsys, abs)
	if err != nil {
		return nil, err
	}
	mf := files[ManifestName]
	delete(files, ManifestName)
	manifest, err := parseManifest(mf.Data)
	if err != nil {
		return nil, fmt.Errorf("write bundle %s: existing bundle: %w", dir, err)
	}
	kept := func(p string) bool {
		_, replaced := b.Files[p]
		return !replaced && keep(p)
	}
	if err := verifyManifest(dir, files, manifest, kept); err != nil {
		return nil, fmt.Errorf("write bundle %s: files to keep: %w", dir, err)
	}
	return &Bundle{Files: files}, nil
}

type writer struct {
	fsys fileSystem
	sync bool
}

// mkdirParents creates the missing ancestors of dir (like mkdir -p, umask applies: they are outside
// the bundle) and returns them outermost first.
func (w *writer) mkdirParents(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := w.fsys.Lstat(d)
		if err == nil {
			break
		}
		if !isNotExist(err) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := w.fsys.Mkdir(missing[i], dirMode); err != nil {
			w.removeCreated(created)
			return nil, err
		}
		created = append(created, missing[i])
	}
	return created, nil
}

func (w *writer) removeCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = w.fsys.Remove(created[i])
	}
}

// writeTree writes every file of b and the manifest below root, which it creates.
func (w *writer) writeTree(root string, rootMode fs.FileMode, b *Bundle, manifest []byte) error {
	if err := w.mkdir(root, rootMode); err != nil {
		return err
	}
	made := map[string]bool{}
	paths := b.Paths()
	for _, p := range paths {
		for d := range parents(p) {
			if made[d] {
				continue
			}
			full := filepath.Join(root, filepath.FromSlash(d))
			if err := w.mkdir(full, dirMode); err != nil {
				return err
			}
			made[d] = true
		}
	}
	if err := w.writeFiles(root, b, paths); err != nil {
		return err
	}
	if err := w.writeFile(filepath.Join(root, ManifestName), manifest, DefaultMode); err != nil {
		return err
	}
	if w.sync {
		// One flush of the file system covers every file and directory
		// written above, before the rename makes them the bundle.
		if err := w.fsys.SyncFS(root); err != nil {
			return err
		}
	}
	return nil
}

// writeFiles writes the files (directories exist). On the real file system
// a few workers overlap the create/write/close system calls (a bundle of a
// large fleet has tens of thousands of small files); an injected file system
// (tests) is driven sequentially so its n-th operation is well defined.
func (w *writer) writeFiles(root string, b *Bundle, paths []string) error {
	write := func(p string) error {
		f := b.Files[p]
		return w.writeFile(filepath.Join(root, filepath.FromSlash(p)), f.Data, f.Mode)
	}
	if _, real := w.fsys.(osFS); !real || len(paths) < 256 {
		for _, p := range paths {
			if err := write(p); err != nil {
				return err
			}
		}
		return nil
	}
	const workers = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
		next    = make(chan string)
		stopped = make(chan struct{})
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if err := write(p); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						close(stopped)
					}
					mu.Unlock()
				}
			}
		}()
	}
loop:
	for _, p := range paths {
		select {
		case next <- p:
		case <-stopped:
			break loop
		}
	}
	close(next)
	wg.Wait()
	return first
}

func (w *writer) mkdir(name string, mode fs.FileMode) error {
	if err := w.fsys.Mkdir(name, mode); err != nil {
		return err
	}
	return w.fsys.Chmod(name, mode) // the umask applied to Mkdir
}

func (w *writer) writeFile(name string, data []byte, mode fs.FileMode) (err error) {
	f, err := w.fsys.Create(name, mode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	// fchmod before writing: the umask applied at create, and a secret must never sit in a file with
	// wider permissions than asked for (the temporary directory is 0700 as well).
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return nil // flushed together by SyncFS in writeTree
}
