package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/run"
)

func cmdCleanup(e *env, args []string) error {
	var c common
	fs := newFlags("cleanup", e, &c)
	abandon := fs.Bool("abandon", false, "allow cleanup before cutover (stops the migration)")
	unseal := fs.Bool("unseal", false, "also remove the seal (sequence and fence triggers) from the source")
	force := fs.Bool("force", false, "terminate the walsender of a slot still active after 10 s")
	yes := fs.Bool("yes", false, "do not ask for confirmation on a terminal")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := c.load(e, true)
	if err != nil {
		return err
	}
	dir := cfg.Dir()
	lock, err := lockDir(dir, "cleanup")
	if err != nil {
		return err
	}
	defer lock.Release()
	c.setupLog(e, dir)
	j, err := journal.Open(dir)
	if err != nil {
		return err
	}
	defer j.Close()
	st := journal.Reduce(j.Records())
	if err := run.Allowed(st, *abandon); err != nil {
		return err
	}
	if !*yes && isTerminal(e.stdin) {
		fmt.Fprintf(e.stderr, "cleanup drops the subscription, publication and slots of %s.\ntype the migration id to continue: ", cfg.Names.ID)
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(line) != cfg.Names.ID {
			return fmt.Errorf("%wcleanup not confirmed", errAnswerNo)
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	o := e.opener(cfg)
	src, serr := o.Open(ctx, db.Source, "cleanup")
	dst, derr := o.Open(ctx, db.Destination, "cleanup")
	if serr != nil && derr != nil {
		return fmt.Errorf("%wboth sides are unreachable: %v; %v", errAnswerNo, serr, derr)
	}
	var conns []*db.Conn
	cl := &run.Cleaner{Cfg: cfg, Journal: j, Log: e.log, Out: e.stdout, Opts: run.CleanupOptions{Abandon: *abandon, Unseal: *unseal, Force: *force}}
	if serr == nil {
		defer src.Close()
		cl.Src = src
		conns = append(conns, src)
	} else {
		fmt.Fprintf(e.stderr, "pgmigrate: source unreachable: %v\n", serr)
	}
	if derr == nil {
		defer dst.Close()
		cl.Dst = dst
		conns = append(conns, dst)
	} else {
		fmt.Fprintf(e.stderr, "pgmigrate: destination unreachable: %v\n", derr)
	}
	if err := sideLocks(ctx, cfg, conns...); err != nil {
		return err
	}
	if err := cl.Run(ctx); err != nil {
		return fmt.Errorf("%w%s", errAnswerNo, err.Error())
	}
	return nil
}

// isTerminal reports whether r is a terminal: a TCGETS ioctl succeeds
// (/dev/null is a character device too, so the file mode is not enough).
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TCGETS), uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
