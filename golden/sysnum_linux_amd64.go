package golden

// sysSyncfs is syncfs(2) on linux/amd64 (arch/x86/entry/syscalls/syscall_64.tbl);
// the syscall package lists it only for the other Linux architectures.
const sysSyncfs = 306
