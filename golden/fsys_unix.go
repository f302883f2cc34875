//go:build unix

package golden

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// currentUmask reads the process umask from /proc/self/status (Linux ≥ 4.7)
// without changing it: syscall.Umask can only read it by setting it, which
// would race with files other goroutines create. ok is false elsewhere,
// and then every create is followed by a chmod.
func currentUmask() (fs.FileMode, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(data) {
		if v, found := bytes.CutPrefix(line, []byte("Umask:")); found {
			m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			if err != nil || m > 0o777 {
				return 0, false
			}
			return fs.FileMode(m), true
		}
	}
	return 0, false
}

// createFile creates name (O_EXCL) for writing with plain system calls. os.OpenFile registers each
// file with the runtime poller (four fcntl calls and an epoll_ctl that fails for a regular file) and
// attaches a cleanup to it; for the 46,000 small files of a 1000-cluster bundle that more than
// doubled the system calls per file (open, close, fchmod and write are what is needed).
func createFile(name string, perm fs.FileMode) (writableFile, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &rawFile{fd: fd, name: name}, nil
	}
}

type rawFile struct {
	fd   int
	name string
}

func (f *rawFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Write(f.fd, p[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "write", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, &fs.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
		n += m
	}
	return n, nil
}

func (f *rawFile) Chmod(mode fs.FileMode) error {
	for {
		err := syscall.Fchmod(f.fd, uint32(mode.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "chmod", Path: f.name, Err: err}
		}
		return nil
	}
}

func (f *rawFile) Sync() error {
	for {
		err := syscall.Fsync(f.fd)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "sync", Path: f.name, Err: err}
		}
		return nil
	}
}

// Close closes the descriptor once; close(2) is not retried on EINTR (on Linux the descriptor is
// released anyway).
func (f *rawFile) Close() error {
	if f.fd < 0 {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
