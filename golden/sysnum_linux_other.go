//go:build linux && !amd64 && !386

package golden

import "syscall"

const sysSyncfs = syscall.SYS_SYNCFS
