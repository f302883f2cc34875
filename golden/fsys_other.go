//go:build !unix

package golden

import (
	"io/fs"
	"os"
)

func createFile(name string, perm fs.FileMode) (writableFile, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

// currentUmask: unknown here, so every create is followed by a chmod.
func currentUmask() (fs.FileMode, bool) { return 0, false }
