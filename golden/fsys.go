package golden

import (
	"io"
	"io/fs"
	"os"
)

// fileSystem is the set of operations Write, Read and Check perform. The real one is osFS; tests swap
// in one that fails the n-th operation to prove that a failure at any point leaves the old bundle
// untouched and no temporary directory behind.
type fileSystem interface {
	Lstat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	ReadFile(name string) ([]byte, error)
	MkdirTemp(dir, pattern string) (string, error)
	Mkdir(name string, perm fs.FileMode) error
	Chmod(name string, mode fs.FileMode) error
	// Create creates a new file (O_EXCL) for writing.
	Create(name string, perm fs.FileMode) (writableFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	RemoveAll(name string) error
	// SyncDir fsyncs a directory so that the entries created or renamed in it are durable.
	SyncDir(name string) error
	// SyncFS flushes the file system holding name (sync(2)): one
	// call instead of an fsync per file, which costs ~1 ms each on common
	// disks and made a 46,000-file bundle take two minutes to write.
	SyncFS(name string) error
}

type writableFile interface {
	io.Writer
	Chmod(mode fs.FileMode) error
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) Lstat(name string) (fs.FileInfo, error)        { return os.Lstat(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)    { return os.ReadDir(name) }
func (osFS) ReadFile(name string) ([]byte, error)          { return os.ReadFile(name) }
func (osFS) MkdirTemp(dir, pattern string) (string, error) { return os.MkdirTemp(dir, pattern) }
func (osFS) Mkdir(name string, perm fs.FileMode) error     { return os.Mkdir(name, perm) }
func (osFS) Chmod(name string, mode fs.FileMode) error     { return os.Chmod(name, mode) }
func (osFS) Rename(oldpath, newpath string) error          { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                      { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                   { return os.RemoveAll(name) }

func (osFS) Create(name string, perm fs.FileMode) (writableFile, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

func (osFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) SyncFS(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return syncfs(d)
}
