package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrLocked means another process holds the migration lock (exit 1).
var ErrLocked = errors.New("migration is locked by another process")

// LockedError names the holder.
type LockedError struct {
	Holder string // "pid 123 on host h (run)", as the holder wrote it
}

func (e *LockedError) Error() string {
	if e.Holder == "" {
		return ErrLocked.Error()
	}
	return ErrLocked.Error() + ": " + e.Holder
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held flock(LOCK_EX|LOCK_NB) on migration.lock.
type Lock struct {
	f *os.File
}

// Acquire takes the lock without waiting: a busy lock is a *LockedError at
// once (migrate.md §7: exit 1 within 1 s, naming the holder). The file then
// records "pid P on host H (command)". The directory must exist.
func Acquire(dir, command string) (*Lock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d on host %s (%s)\n", os.Getpid(), host, command)), 0)
	_ = f.Sync()
	return &Lock{f: f}, nil
}

// Release drops the lock (closing the file releases the flock too, so a
// killed process never leaves it held).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}

// EnsureDir creates the migration directory layout (0700): data/, log/, sql/.
func EnsureDir(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, "data"), filepath.Join(dir, "log"), filepath.Join(dir, "sql")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create migration directory: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("create migration directory: %w", err)
		}
	}
	return nil
}
