package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
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
// sibling directory "<dir>.tmp-XXXX" (same parent, so renames stay on one file system), flushes it with one
// syncfs(2) of its file system, then swaps: the old dir is renamed into the temporary directory, the new one is
// renamed to dir, and the temporary directory with the old bundle is removed. A failure before the
// swap completes leaves the old bundle exactly as it was and removes the temporary directory (and any
// parent directories Write created). Readers never see a half-written bundle, though for an instant
// between the two renames dir does not exist (POSIX rename cannot exchange two directories).
//
// File modes are applied with chmod, so the umask does not change them; directories are 0755 and
// the bundle root keeps the mode of the directory it replaces. Write refuses (*NotBundleError) to
// replace a path that is not a directory, or a non-empty directory without manifest.json. If dir is
// a symlink, the directory it points to is replaced and the link is left alone.
//
// Write is NewWriter, Add for every file, Commit; callers that produce files over time use those
// directly so that no more than the files in flight are held in memory.
func Write(dir string, b *Bundle, opts WriteOptions) error {
	if b == nil {
		b = New()
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	w, err := NewWriter(dir, opts)
	if err != nil {
		return err
	}
	if err := w.addAll(b); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// addAll adds the files of b. On the real file system a few workers overlap the create/write/close
// system calls (a bundle of a large fleet has tens of thousands of small files); an injected file
// system (tests) is driven sequentially so its n-th operation is well defined.
func (w *Writer) addAll(b *Bundle) error {
	paths := b.Paths()
	add := func(p string) error {
		f := b.Files[p]
		return w.Add(p, f.Data, f.Mode)
	}
	if _, real := w.fsys.(osFS); !real || len(paths) < 256 {
		for _, p := range paths {
			if err := add(p); err != nil {
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
				if err := add(p); err != nil {
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

// Writer writes a bundle file by file with the guarantees of Write: files go into a temporary
// sibling directory as they are added, and Commit swaps the complete bundle in. It lets `pgcc build`
// write each cluster's files as soon as they are rendered and drop their bytes: a 1000-cluster
// bundle is 180 MB, which a build that first collects every file holds in memory at once.
//
// Add may be called from several goroutines; NewWriter, Commit and Abort may not run concurrently
// with it. After Commit or Abort the Writer is done.
type Writer struct {
	dir      string // as the caller named it, for messages
	abs      string // the directory Commit replaces (symlink resolved)
	parent   string
	exists   bool // abs existed at NewWriter
	isBundle bool // ... and had a manifest.json
	keep     func(string) bool
	fsys     fileSystem
	sync     bool
	// umask is the process umask when it could be read (umaskOK, real file
	// system only): modes it does not narrow need no chmod after create.
	umask   fs.FileMode
	umaskOK bool
	created []string // missing parents of abs made by NewWriter, outermost first
	tmp     string   // <dir>.tmp-XXXX
	root    string   // tmp/new: the bundle being written

	mu    sync.Mutex
	files map[string]written
	kept  int             // how many of files Commit carried over (Keep)
	dirs  map[string]bool // directories made below root (slash paths)
	err   error           // first write failure; the Writer can then only be aborted
	done  bool
}

// written is what the manifest needs of an added file.
type written struct {
	hash string
	mode fs.FileMode
	kept bool // carried over from the existing bundle by Commit
}

// NewWriter prepares writing a bundle to dir (see Write): it checks that dir may be replaced and
// creates the temporary directory. Call Commit or Abort.
func NewWriter(dir string, opts WriteOptions) (*Writer, error) {
	fsys := opts.fsys
	if fsys == nil {
		fsys = osFS{}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	info, err := fsys.Lstat(abs)
	exists := err == nil
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	if exists && info.Mode()&fs.ModeSymlink != 0 {
		if abs, err = filepath.EvalSymlinks(abs); err != nil {
			return nil, fmt.Errorf("write bundle %s: %w", dir, err)
		}
		if info, err = fsys.Lstat(abs); err != nil {
			return nil, fmt.Errorf("write bundle %s: %w", dir, err)
		}
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if parent == abs {
		return nil, fmt.Errorf("write bundle %s: cannot replace the file system root", dir)
	}
	w := &Writer{dir: dir, abs: abs, parent: parent, exists: exists, keep: opts.Keep, fsys: fsys, sync: !opts.NoSync,
		files: map[string]written{}, dirs: map[string]bool{}}
	if _, real := fsys.(osFS); real {
		w.umask, w.umaskOK = currentUmask()
	}
	rootMode := dirMode
	if exists {
		if !info.IsDir() {
			return nil, &NotBundleError{Dir: dir, Reason: "not a directory"}
		}
		rootMode = info.Mode().Perm()
		if w.isBundle, err = replaceable(fsys, abs, dir); err != nil {
			return nil, err
		}
	}
	if w.created, err = w.mkdirParents(parent); err != nil {
		return nil, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	if w.tmp, err = fsys.MkdirTemp(parent, base+".tmp-*"); err != nil {
		w.removeCreated(w.created)
		return nil, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	w.root = filepath.Join(w.tmp, "new")
	if err := w.mkdir(w.root, rootMode); err != nil {
		w.Abort()
		return nil, fmt.Errorf("write bundle %s: %w", dir, err)
	}
	return w, nil
}

// Add writes data at path p with the given permission bits (0 → DefaultMode). Like Bundle.Add it
// rejects (*PathError, nothing written) an invalid or reserved path, a path already added, and a
// path that is a directory of another file or has a file as one of its directories. A failure to
// write breaks the Writer: every later Add and Commit returns that error.
func (w *Writer) Add(p string, data []byte, mode fs.FileMode) error {
	if err := validateAdd(p, mode); err != nil {
		return err
	}
	if mode == 0 {
		mode = DefaultMode
	}
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return err
	}
	if err := w.conflict(p); err != nil {
		w.mu.Unlock()
		return err
	}
	w.files[p] = written{mode: mode} // reserved; the hash follows
	// Directories are made under the lock (a bundle has a few per cluster) so that no file is
	// created before its directory exists.
	for d := range parents(p) {
		if w.dirs[d] {
			continue
		}
		if err := w.mkdir(filepath.Join(w.root, filepath.FromSlash(d)), dirMode); err != nil {
			w.err = fmt.Errorf("write bundle %s: %w", w.dir, err)
			w.mu.Unlock()
			return w.err
		}
		w.dirs[d] = true
	}
	w.mu.Unlock()

	if err := w.writeFile(filepath.Join(w.root, filepath.FromSlash(p)), data, mode); err != nil {
		err = fmt.Errorf("write bundle %s: %w", w.dir, err)
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		return err
	}
	h := fileHash(data)
	w.mu.Lock()
	w.files[p] = written{hash: h, mode: mode}
	w.mu.Unlock()
	return nil
}

func (w *Writer) usable() error {
	if w.done {
		return fmt.Errorf("write bundle %s: writer already committed or aborted", w.dir)
	}
	return w.err
}

// conflict is Bundle.Add's check of p against the paths added so far (w.mu held).
func (w *Writer) conflict(p string) error {
	if _, dup := w.files[p]; dup {
		return &PathError{Path: p, Reason: "already in the bundle", Err: ErrDuplicatePath}
	}
	if w.dirs[p] {
		return &PathError{Path: p, Reason: "is a directory of another file in the bundle", Err: ErrPathConflict}
	}
	for d := range parents(p) {
		if _, isFile := w.files[d]; isFile {
			return &PathError{Path: p, Reason: fmt.Sprintf("its directory %q is a file in the bundle", d), Err: ErrPathConflict}
		}
	}
	return nil
}

// Len is the number of files added (manifest.json and kept files not counted).
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.files) - w.kept
}

// Paths returns the paths added, in byte order (manifest.json and kept files not included).
func (w *Writer) Paths() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ps := make([]string, 0, len(w.files))
	for p, f := range w.files {
		if !f.kept {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	return ps
}

// Abort removes everything the Writer made; dir is left as it was. Aborting a committed or
// aborted Writer does nothing.
func (w *Writer) Abort() {
	w.mu.Lock()
	done := w.done
	w.done = true
	w.mu.Unlock()
	if done {
		return
	}
	_ = w.fsys.RemoveAll(w.tmp)
	w.removeCreated(w.created)
}

// Commit completes the bundle and swaps it in: with WriteOptions.Keep it carries over the selected
// files of the existing bundle (verified against its manifest), writes manifest.json, flushes the
// file system, renames the old bundle aside and the new one into place, and removes the old one.
// Errors after the swap are *CleanupError (the bundle is written). On any other error dir is as it
// was.
func (w *Writer) Commit() (err error) {
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		w.Abort()
		return err
	}
	w.mu.Unlock()
	committed, keepTmp := false, false // keepTmp: the old bundle could not be put back and lives in tmp
	defer func() {
		if !committed {
			w.mu.Lock()
			w.done = true
			w.mu.Unlock()
			if !keepTmp {
				_ = w.fsys.RemoveAll(w.tmp)
			}
			w.removeCreated(w.created)
		}
	}()
	if w.isBundle && w.keep != nil {
		if err := w.addKept(); err != nil {
			return err
		}
	}
	hashes := make(map[string]string, len(w.files))
	for p, f := range w.files {
		hashes[p] = f.hash
	}
	if err := w.writeFile(filepath.Join(w.root, ManifestName), encodeManifest(hashes), DefaultMode); err != nil {
		return fmt.Errorf("write bundle %s: %w", w.dir, err)
	}
	if w.sync {
		// One flush of the file system covers every file and directory
		// written above, before the rename makes them the bundle.
		if err := w.fsys.SyncFS(w.root); err != nil {
			return fmt.Errorf("write bundle %s: %w", w.dir, err)
		}
	}

	dir, abs, fsys := w.dir, w.abs, w.fsys
	if w.exists {
		oldDir := filepath.Join(w.tmp, "old")
		if err := fsys.Rename(abs, oldDir); err != nil {
			return fmt.Errorf("write bundle %s: move previous bundle aside: %w", dir, err)
		}
		if err := fsys.Rename(w.root, abs); err != nil {
			if rerr := fsys.Rename(oldDir, abs); rerr != nil {
				keepTmp = true
				return fmt.Errorf("write bundle %s: %w; restoring the previous bundle also failed (%v), it is in %s", dir, err, rerr, oldDir)
			}
			return fmt.Errorf("write bundle %s: %w", dir, err)
		}
	} else if err := fsys.Rename(w.root, abs); err != nil {
		return fmt.Errorf("write bundle %s: %w", dir, err)
	}
	committed = true
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()

	var errs []error
	if w.sync {
		// The renames are durable only once the parent directory is synced.
		if err := fsys.SyncDir(w.parent); err != nil {
			errs = append(errs, &CleanupError{Op: "sync of", Path: w.parent, Err: err})
		}
	}
	if err := fsys.RemoveAll(w.tmp); err != nil {
		errs = append(errs, &CleanupError{Op: "removing temporary directory", Path: w.tmp, Err: err})
	}
	return errors.Join(errs...)
}

// addKept writes the files of the existing bundle that Keep selects and no Add replaced, after
// checking them against the old manifest (a hand-edited file is not silently blessed) and against
// the added paths (a kept "a" and a new "a/b" cannot both be).
func (w *Writer) addKept() error {
	replaced := func(p string) bool { _, ok := w.files[p]; return ok }
	old, err := readKept(w.fsys, w.abs, w.dir, replaced, w.keep)
	if err != nil {
		return err
	}
	merged := &Bundle{Files: make(map[string]File, len(w.files)+len(old.Files))}
	for p, f := range w.files {
		merged.Files[p] = File{Mode: f.mode}
	}
	var kept []string
	for p, f := range old.Files {
		if !replaced(p) && w.keep(p) {
			merged.Files[p] = f
			kept = append(kept, p)
		}
	}
	if err := merged.Validate(); err != nil {
		return fmt.Errorf("write bundle %s: keeping files of the existing bundle: %w", w.dir, err)
	}
	sort.Strings(kept)
	for _, p := range kept {
		f := old.Files[p]
		if err := w.Add(p, f.Data, f.Mode); err != nil {
			return err
		}
		w.mu.Lock()
		rec := w.files[p]
		rec.kept = true
		w.files[p] = rec
		w.kept++
		w.mu.Unlock()
	}
	return nil
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
func readKept(fsys fileSystem, abs, dir string, replaced, keep func(string) bool) (*Bundle, error) {
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
	kept := func(p string) bool { return !replaced(p) && keep(p) }
	if err := verifyManifest(dir, files, manifest, kept); err != nil {
		return nil, fmt.Errorf("write bundle %s: files to keep: %w", dir, err)
	}
	return &Bundle{Files: files}, nil
}

// mkdirParents creates the missing ancestors of dir (like mkdir -p, umask applies: they are outside
// the bundle) and returns them outermost first.
func (w *Writer) mkdirParents(dir string) ([]string, error) {
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

func (w *Writer) removeCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = w.fsys.Remove(created[i])
	}
}

// exact reports whether creating with mode already gives exactly mode: the
// umask only ever clears bits, so when it clears none of mode's, the chmod
// that undoes it can be skipped (a 1000-cluster bundle is 57,000 fewer
// system calls under the usual umask 022).
func (w *Writer) exact(mode fs.FileMode) bool {
	return w.umaskOK && mode.Perm()&w.umask == 0
}

func (w *Writer) mkdir(name string, mode fs.FileMode) error {
	if err := w.fsys.Mkdir(name, mode); err != nil {
		return err
	}
	if w.exact(mode) {
		return nil
	}
	return w.fsys.Chmod(name, mode) // the umask applied to Mkdir
}

func (w *Writer) writeFile(name string, data []byte, mode fs.FileMode) (err error) {
	f, err := w.fsys.Create(name, mode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	// fchmod before writing when the umask narrowed the create mode. The umask can only narrow, so a
	// secret never sits in a file with wider permissions than asked for (the temporary directory is
	// 0700 as well).
	if !w.exact(mode) {
		if err := f.Chmod(mode); err != nil {
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return nil // flushed together by SyncFS in Commit
}
