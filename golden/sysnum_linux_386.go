package golden

// sysSyncfs is syncfs(2) on linux/386 (arch/x86/entry/syscalls/syscall_32.tbl);
// the syscall package lists it only for the other Linux architectures.
const sysSyncfs = 344
