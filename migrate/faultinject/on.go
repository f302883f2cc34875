//go:build faultinject

package faultinject

import (
	"os"
	"syscall"
)

// Enabled reports whether this is a faultinject build.
const Enabled = true

// Hit SIGKILLs the process when PGMIGRATE_FAULT names this boundary.
func Hit(step, when string) {
	if os.Getenv(Env) == step+":"+when {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
