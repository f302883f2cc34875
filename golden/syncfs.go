//go:build !linux

package golden

import (
	"os"
	"syscall"
)

// syncfs flushes the file system that holds f. Outside Linux there is no
// syncfs(2), so this is sync(2): it flushes every file system, still one call
// instead of one fsync per file.
func syncfs(f *os.File) error {
	_ = f
	syscall.Sync()
	return nil
}
