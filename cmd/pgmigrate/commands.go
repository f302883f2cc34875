package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/cutover"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/doctor"
	"github.com/pgcc-dev/pgcc/migrate/faultinject"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/migrate/run"
)

func cmdPlan(e *env, args []string) error {
	var c common
	fs := newFlags("plan", e, &c)
	out := fs.StringP("output", "o", "", "output directory (default <migration dir>/plan)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := c.load(e, false)
	if err != nil {
		return err
	}
	c.setupLog(e, "")
	p := plan.Build(cfg)
	dir := *out
	if dir == "" {
		dir = filepath.Join(cfg.Dir(), "plan")
	}
	if err := p.Write(dir); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "plan for %s: %d steps written to %s\n", cfg.Names.ID, len(p.Steps), dir)
	return nil
}

func cmdDoctor(e *env, args []string) error {
	var c common
	fs := newFlags("doctor", e, &c)
	format := fs.String("format", "text", "text or json")
	strict := fs.Bool("strict", false, "fail (exit 1) on warnings as well")
	fixSQL := fs.String("fix-sql", "", "write the fixes, grouped by side, to FILE (never run)")
	dstFree := fs.String("dst-free", "", "free space on the destination (e.g. 500GB): disk becomes a blocker below the need")
	noProbe := fs.Bool("no-probe", false, "skip the probe subscriptions (their checks are marked skip)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return &usageError{msg: fmt.Sprintf("--format %q: want text or json", *format)}
	}
	var free int64
	if *dstFree != "" {
		v, err := config.ParseSize(*dstFree)
		if err != nil {
			return &usageError{msg: "--dst-free: " + err.Error()}
		}
		free = v
	}
	cfg, err := c.load(e, true)
	if err != nil {
		return err
	}
	dir := cfg.Dir()
	lock, err := lockDir(dir, "doctor")
	if err != nil {
		return err
	}
	defer lock.Release()
	c.setupLog(e, dir)
	recs, err := journal.Read(dir)
	if err != nil {
		return err
	}
	var st *journal.State
	if len(recs) > 0 {
		st = journal.Reduce(recs)
	}
	ctx, cancel := signalContext()
	defer cancel()
	f := doctor.Collect(ctx, e.opener(cfg), doctor.CollectOptions{NoProbe: *noProbe, DstFree: free, State: st})
	rep := doctor.Evaluate(cfg, f)
	if err := plan.WriteFileAtomic(filepath.Join(dir, "data", "doctor.json"), rep.JSON(), 0o600); err != nil {
		return err
	}
	if *fixSQL != "" {
		if err := os.WriteFile(*fixSQL, rep.FixSQL(), 0o600); err != nil {
			return fmt.Errorf("write --fix-sql: %w", err)
		}
	}
	if *format == "json" {
		e.stdout.Write(rep.JSON())
	} else {
		rep.WriteText(e.stdout)
	}
	if rep.Failed(*strict) {
		return errAnswerNo
	}
	return nil
}

func cmdRun(e *env, args []string) error {
	var c common
	fs := newFlags("run", e, &c)
	until := fs.String("until", plan.Streaming, "stop after this step")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := run.CheckUntil(*until, plan.AllSteps); err != nil {
		return err
	}
	cfg, err := c.load(e, true)
	if err != nil {
		return err
	}
	dir := cfg.Dir()
	lock, err := lockDir(dir, "run")
	if err != nil {
		return err
	}
	defer lock.Release()
	c.setupLog(e, dir)
	p := plan.Build(cfg)
	recs, err := journal.Read(dir)
	if err != nil {
		return err
	}
	st := journal.Reduce(recs)
	// After a cutover, run would re-create the forward subscription while
	// reverse replication may run: PostgreSQL 15 has no origin filter, so
	// both directions never run at once (§5.4).
	switch st.Phase {
	case "cut-over", "rolled-back", "rollback":
		return fmt.Errorf("%wthe migration is %s: run does nothing after a cutover (see pgmigrate status, rollback or cleanup)", errAnswerNo, st.Phase)
	}
	if st.HashLocked && st.StructureHash != "" && st.StructureHash != p.StructureHash {
		return fmt.Errorf("%w: the migration's structure (hosts, databases, names, filters, copy.method, schema, objects) changed after create-pub; restore the file or run cleanup --abandon and start over", config.ErrUsage)
	}
	ctx, cancel := signalContext()
	defer cancel()
	o := e.opener(cfg)
	src, serr := o.Open(ctx, db.Source, "run")
	dst, derr := o.Open(ctx, db.Destination, "run")
	if serr != nil || derr != nil {
		src.Close()
		dst.Close()
		// Doctor explains what is unreachable and how to fix it.
		f := doctor.Collect(ctx, o, doctor.CollectOptions{State: st, NoProbe: true})
		rep := doctor.Evaluate(cfg, f)
		if err := plan.WriteFileAtomic(filepath.Join(dir, "data", "doctor.json"), rep.JSON(), 0o600); err != nil {
			e.log.Warn("cannot write data/doctor.json", "err", err.Error())
		}
		rep.WriteText(e.stdout)
		return errAnswerNo
	}
	defer src.Close()
	defer dst.Close()
	if err := sideLocks(ctx, cfg, src, dst); err != nil {
		return err
	}
	j, err := journal.Open(dir)
	if err != nil {
		return err
	}
	defer j.Close()
	ids := map[string]string{}
	for _, cn := range []*db.Conn{src, dst} {
		var sid string
		if err := cn.QueryRow(ctx, "SELECT system_identifier::text FROM pg_catalog.pg_control_system()").Scan(&sid); err != nil {
			// The journaled system ids are what the identity check compares
			// later runs with: a run must not start without them.
			return fmt.Errorf("%wread the %s system identifier: %s", errAnswerNo, cn.Side, cn.Redact(err.Error()))
		}
		ids[cn.Side] = sid
	}
	if _, err := j.Append("run", journal.EventStart, "", journal.RunInfo{
		Command: "run", StructureHash: p.StructureHash, SystemIDs: ids,
		Versions: map[string]int{db.Source: src.Version, db.Destination: dst.Version},
		Names:    cfg.Names, PID: os.Getpid(), Host: run.Hostname(),
	}); err != nil {
		return err
	}
	ex := &run.Exec{Cfg: cfg, Plan: p, Opener: o, Journal: j, Log: e.log, Out: e.stdout, Dir: dir, Src: src, Dst: dst}
	// Test hooks: shorter wait-sync polling and doctor WAL sampling.
	if v := e.getenv("PGMIGRATE_POLL_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			ex.PollInterval = d
			ex.Doctor.WALSample = d
		}
	}
	defer ex.Close()
	// An interrupted cutover (§5.3): before its point of no return the
	// source is restored here and run goes on; past it, it is finished (the
	// switch, release, finish) exactly as cutover would, and run stops.
	if st.Phase == "cutover" {
		eng := &cutover.Engine{Cfg: cfg, Opener: o, Journal: j, Log: e.log, Out: e.stdout, Dir: dir, Src: src, Dst: dst,
			Opts: cutover.Options{Abort: true}}
		if _, _, err := eng.Cutover(ctx); err != nil {
			return fmt.Errorf("%w%s", errAnswerNo, err.Error())
		}
		if journal.Reduce(j.Records()).Done("cutover") {
			return nil // it had passed its point of no return and was finished
		}
	}
	var steps []string
	for _, s := range p.Steps {
		steps = append(steps, s.ID)
	}
	r := &run.Runner{Steps: steps, Until: *until, Journal: j, Exec: ex, Log: e.log, Side: run.SideOf, Fault: faultinject.Hit}
	err = r.Run(ctx, plan.AllSteps)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%winterrupted; run again to resume", errAnswerNo)
		}
		return fmt.Errorf("%w%s", errAnswerNo, err.Error())
	}
	if _, err := j.Append("run", journal.EventDone, "", map[string]string{"until": *until}); err != nil {
		return err
	}
	return nil
}
