package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/cutover"
	"github.com/pgcc-dev/pgcc/migrate/faultinject"
	"github.com/pgcc-dev/pgcc/migrate/journal"
)

func cmdCutover(e *env, args []string) error {
	var c common
	fs := newFlags("cutover", e, &c)
	yes := fs.Bool("yes", false, "do not ask for the migration id on a terminal")
	check := fs.Bool("check", false, "only evaluate the preconditions")
	abort := fs.Bool("abort", false, "only restore the source after an interrupted cutover")
	noVerify := fs.Bool("no-verify", false, "skip the pinned verification")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	return switchCommand(e, &c, "cutover", *yes, cutover.Options{Check: *check, Abort: *abort, NoVerify: *noVerify})
}

func cmdRollback(e *env, args []string) error {
	var c common
	fs := newFlags("rollback", e, &c)
	yes := fs.Bool("yes", false, "do not ask for the migration id on a terminal")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	return switchCommand(e, &c, "rollback", *yes, cutover.Options{})
}

// switchCommand runs cutover or rollback under the migration's locks.
func switchCommand(e *env, c *common, kind string, yes bool, opts cutover.Options) error {
	cfg, err := c.load(e, true)
	if err != nil {
		return err
	}
	if kind == "rollback" && !cfg.Rollback.Enabled {
		return fmt.Errorf("%w: rollback is not enabled for %s (rollback.enabled: false)", config.ErrUsage, cfg.Names.ID)
	}
	dir := cfg.Dir()
	lock, err := lockDir(dir, kind)
	if err != nil {
		return err
	}
	defer lock.Release()
	c.setupLog(e, dir)
	if !yes && !opts.Check && isTerminal(e.stdin) {
		fmt.Fprintf(e.stderr, "%s moves the traffic of %s.\ntype the migration id to continue: ", kind, cfg.Names.ID)
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(line) != cfg.Names.ID {
			return fmt.Errorf("%w%s not confirmed", errAnswerNo, kind)
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	o := e.opener(cfg)
	src, dst, err := openSides(ctx, cfg, o, kind)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()
	j, err := journal.Open(dir)
	if err != nil {
		return err
	}
	defer j.Close()
	if v := e.getenv("PGMIGRATE_POLL_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			opts.DoctorWALSample = d
		}
	}
	eng := &cutover.Engine{Cfg: cfg, Opener: o, Journal: j, Log: e.log, Out: e.stdout, Dir: dir,
		Fault: faultinject.Hit, Opts: opts, Src: src, Dst: dst}
	var checks cutover.Checks
	if kind == "cutover" {
		_, checks, err = eng.Cutover(ctx)
	} else {
		_, checks, err = eng.Rollback(ctx)
	}
	if opts.Check && checks != nil {
		checks.WriteText(e.stdout)
		if err == nil && !checks.OK() {
			return fmt.Errorf("%wnot ready for %s: %s", errAnswerNo, kind, strings.Join(checks.Failed(), ", "))
		}
		if err == nil {
			fmt.Fprintf(e.stdout, "ready for %s\n", kind)
		}
	}
	if err != nil {
		if errors.Is(err, config.ErrUsage) {
			return err
		}
		if errors.Is(err, cutover.ErrNotReady) && checks != nil {
			checks.WriteText(e.stderr)
		}
		return fmt.Errorf("%w%s: %s", errAnswerNo, kind, err.Error())
	}
	return nil
}
