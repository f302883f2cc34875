package cutover

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/migrate/verify"
)

// Cutover runs `pgmigrate cutover` (§5): an interrupted attempt is restored
// (before its point of no return) or finished (after it); then the
// preconditions; then one attempt. Checks are returned for --check.
func (e *Engine) Cutover(ctx context.Context) (*Record, Checks, error) {
	recs := e.Journal.Records()
	st := journal.Reduce(recs)
	if st.Done("rollback") {
		return nil, nil, fmt.Errorf("%w: the migration was rolled back; start a new one with cleanup and an empty destination", ErrState)
	}
	d := e.forward()
	if last := lastAttempt(recs, d.kind); last != nil && last.Open && e.Opts.Check {
		// --check changes nothing, not even an interrupted attempt.
		what := "before its point of no return: cutover --abort restores the source"
		if last.PONR || last.Hook {
			what = "past its point of no return: cutover finishes it"
		}
		return nil, Checks{{Name: "state", OK: false, Detail: fmt.Sprintf("cutover attempt %d was interrupted %s", last.Attempt, what)}}, nil
	} else if last != nil && last.Open {
		if last.PONR || last.Hook {
			rec, err := e.rollForward(ctx, d, last, nil)
			return rec, nil, err
		}
		if err := e.recoverRestore(ctx, d, last); err != nil {
			return nil, nil, err
		}
		if e.Opts.Abort {
			e.printf("interrupted cutover attempt %d restored: the source is writable, traffic stays there\n", last.Attempt)
			return nil, nil, nil
		}
		recs = e.Journal.Records()
		st = journal.Reduce(recs)
	} else if e.Opts.Abort {
		e.printf("no interrupted cutover to restore\n")
		return nil, nil, nil
	}
	if st.Done(d.kind) {
		e.printf("%s is already cut over\n", e.Cfg.Names.ID)
		return nil, nil, nil
	}
	// Forward and reverse never run at once: no reverse subscription may
	// exist while the forward one streams.
	if err := noReverse(ctx, e.Cfg, e.Src); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	checks := e.preconditions(ctx, d, st, true)
	if e.Opts.Check {
		return nil, checks, nil
	}
	_, _ = e.Journal.Append(d.kind+".check", journal.EventExec, "", map[string]any{"checks": checks, "ok": checks.OK()})
	if !checks.OK() {
		return nil, checks, fmt.Errorf("%w for cutover: %s", ErrNotReady, strings.Join(checks.Failed(), ", "))
	}
	rec, err := e.attempt(ctx, d, st, nil)
	return rec, checks, err
}

// Rollback runs `pgmigrate rollback` (§5.4): §5 with the sides swapped.
func (e *Engine) Rollback(ctx context.Context) (*Record, Checks, error) {
	if !e.Cfg.Rollback.Enabled {
		return nil, nil, fmt.Errorf("%w: rollback is not enabled (rollback.enabled: false)", config.ErrUsage)
	}
	recs := e.Journal.Records()
	st := journal.Reduce(recs)
	if !st.Done("cutover") {
		return nil, nil, fmt.Errorf("%w: nothing to roll back: no completed cutover", ErrState)
	}
	d := e.backward()
	prev := lastCompleted(recs, "cutover")
	if last := lastAttempt(recs, d.kind); last != nil && last.Open {
		if last.PONR || last.Hook {
			rec, err := e.rollForward(ctx, d, last, prev)
			return rec, nil, err
		}
		if err := e.recoverRestore(ctx, d, last); err != nil {
			return nil, nil, err
		}
		recs = e.Journal.Records()
		st = journal.Reduce(recs)
	}
	if st.Done(d.kind) {
		e.printf("%s is already rolled back\n", e.Cfg.Names.ID)
		return nil, nil, nil
	}
	if err := noForward(ctx, e.Cfg, e.Src, e.Dst); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	checks := e.preconditions(ctx, d, st, false)
	if e.Opts.Check {
		return nil, checks, nil
	}
	_, _ = e.Journal.Append(d.kind+".check", journal.EventExec, "", map[string]any{"checks": checks, "ok": checks.OK()})
	if !checks.OK() {
		return nil, checks, fmt.Errorf("%w for rollback: %s", ErrNotReady, strings.Join(checks.Failed(), ", "))
	}
	rec, err := e.attempt(ctx, d, st, prev)
	return rec, checks, err
}

// recoverRestore restores the old side after an attempt that died before
// its point of no return (kill -9: its lock session is gone and its queue met
// the permanent layers; pgbouncer still pauses).
func (e *Engine) recoverRestore(ctx context.Context, d direction, last *attemptLog) error {
	op := context.WithoutCancel(ctx)
	e.printf("restoring the %s after interrupted %s attempt %d\n", d.old, d.kind, last.Attempt)
	if err := e.restore(op, d, last, nil); err != nil {
		_, _ = e.Journal.Append(d.kind, journal.EventFail, "", map[string]any{"attempt": last.Attempt, "error": "restore failed: " + err.Error()})
		_ = e.Journal.WriteState()
		return fmt.Errorf("%w: restoring interrupted %s attempt %d: %v", ErrFailed, d.kind, last.Attempt, err)
	}
	reason := "interrupted before the point of no return; restored"
	_, err := e.Journal.Append(d.kind, journal.EventAbort, "", map[string]any{"attempt": last.Attempt, "reason": reason})
	_ = e.Journal.WriteState()
	rec := &Record{Format: 1, Migration: e.Cfg.Names.ID, Kind: d.kind, Attempt: last.Attempt, Outcome: Aborted, Reason: reason,
		Switch: e.Cfg.Switch.Mechanism, Catchup: e.Cfg.Catchup, Times: map[string]Instant{}, Warnings: []string{}}
	_ = rec.write(e.Dir)
	return err
}

// attempt runs the sub-steps once.
func (e *Engine) attempt(ctx context.Context, d direction, st *journal.State, prev *attemptLog) (*Record, error) {
	cfg := e.Cfg
	if len(st.Tables) == 0 {
		return nil, fmt.Errorf("%w: the journal lists no migrated tables (create-pub)", ErrState)
	}
	n := attempts(e.Journal.Records(), d.kind) + 1
	t := &attempt{
		e: e, d: d, sig: ctx, op: context.WithoutCancel(ctx),
		a:      &attemptLog{Attempt: n, Open: true, Edits: map[int]Intent{}, Steps: map[string]bool{}},
		clk:    newClock(),
		st:     st,
		tables: st.Tables,
		budget: cfg.PauseBudget.D(),
		prev:   prev,
	}
	t.rec = &Record{Format: 1, Migration: cfg.Names.ID, Kind: d.kind, Attempt: n, Outcome: Running,
		Switch: cfg.Switch.Mechanism, Catchup: cfg.Catchup, Times: map[string]Instant{}, Warnings: []string{}}
	defer t.closeAll()
	if _, err := e.Journal.Append(d.kind, journal.EventStart, "", Start{Attempt: n, Switch: cfg.Switch.Mechanism}); err != nil {
		return nil, err
	}
	_ = e.Journal.WriteState()
	_ = t.rec.write(e.Dir)
	if err := t.step("prepare", t.prepare); err != nil {
		return t.abort(err)
	}
	before := []struct {
		name string
		fn   func() error
	}{
		{"fence", t.fence},
		{"seal", func() error {
			if t.lockHeld {
				return t.sealLayers()
			}
			return nil // without the lock layer the seal was the fence
		}},
		{"catchup", t.catchup},
		{"isolate", t.isolate},
		{"sequences", t.sequences},
		{"pin", t.pin},
		{"switch", t.switchTraffic},
	}
	for _, s := range before {
		if s.name == "pin" && d.kind != "cutover" {
			continue
		}
		if err := t.guard(); err != nil {
			return t.abort(err)
		}
		if err := t.step(s.name, s.fn); err != nil {
			if t.a.PONR {
				return t.failed(err)
			}
			return t.abort(err)
		}
	}
	t.rec.fill(t.clk)
	if s := t.rec.Summary(); s != "" {
		e.printf("%s\n", s)
	}
	return t.forward([]string{"release", "finish", "verify"})
}

// forward runs the steps after the point of no return, retrying each: from
// here pgmigrate only rolls forward and ignores signals until release is done.
func (t *attempt) forward(steps []string) (*Record, error) {
	e := t.e
	fns := map[string]func() error{"release": t.release, "finish": t.finish, "verify": t.verify}
	for _, name := range steps {
		if name == "verify" && t.d.kind != "cutover" {
			continue
		}
		var err error
		for try := 0; try < 3; try++ {
			if err = t.step(name, fns[name]); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond << try)
		}
		if err != nil {
			return t.failed(err)
		}
	}
	t.rec.fill(t.clk)
	t.rec.Outcome = Completed
	if t.d.kind == "rollback" {
		t.rec.Outcome = RolledBack
	}
	t.rec.Warnings = append(t.rec.Warnings, t.warnings...)
	summary := map[string]any{"attempt": t.a.Attempt, "outcome": t.rec.Outcome, "fence_lsn": t.rec.FenceLSN,
		"pause_ms": t.rec.PauseMs, "fence_acquire_ms": t.rec.FenceAcquireMs, "verify": t.rec.Verify, "times": t.rec.Times}
	if _, err := e.Journal.Append(t.d.kind, journal.EventDone, "", summary); err != nil {
		return t.rec, err
	}
	_ = e.Journal.WriteState()
	if err := t.rec.write(e.Dir); err != nil {
		return t.rec, err
	}
	for _, w := range t.rec.Warnings {
		e.printf("warning: %s\n", w)
	}
	if t.d.kind == "cutover" {
		e.printf("cutover of %s completed: traffic is on %s.%s\n", e.Cfg.Names.ID, e.Cfg.DstCls, e.Cfg.DstDB)
	} else {
		e.printf("rollback of %s completed: traffic is back on %s.%s\n", e.Cfg.Names.ID, e.Cfg.SrcCls, e.Cfg.SrcDB)
	}
	if t.rec.Verify == "mismatch" || strings.HasPrefix(t.rec.Verify, "error") {
		return t.rec, fmt.Errorf("%w (%s): see verify.json (pgmigrate verify --report)", ErrVerify, t.rec.Verify)
	}
	return t.rec, nil
}

// failed ends an attempt that failed after its point of no return: the
// attempt stays open in the journal, so the next run rolls it forward.
func (t *attempt) failed(err error) (*Record, error) {
	e := t.e
	t.rec.fill(t.clk)
	t.rec.Outcome = Failed
	t.rec.Reason = err.Error()
	t.rec.Warnings = append(t.rec.Warnings, t.warnings...)
	_, _ = e.Journal.Append(t.d.kind, journal.EventFail, "", map[string]any{"attempt": t.a.Attempt, "error": err.Error()})
	_ = e.Journal.WriteState()
	_ = t.rec.write(e.Dir)
	return t.rec, fmt.Errorf("%w after the point of no return: %v; traffic is on the %s; run pgmigrate %s again to finish", ErrFailed, err, t.d.new, t.d.kind)
}

// abort restores the old side before the point of no return (§5.3) and
// records the outcome.
func (t *attempt) abort(cause error) (*Record, error) {
	e := t.e
	e.log().Warn("aborting", "kind", t.d.kind, "cause", cause.Error())
	err := e.restore(t.op, t.d, t.a, t)
	t.clk.mark(EvAborted, time.Now())
	t.rec.fill(t.clk)
	t.rec.Reason = cause.Error()
	if err != nil {
		t.rec.Outcome = Failed
		t.rec.Reason += "; restore failed: " + err.Error()
		_, _ = e.Journal.Append(t.d.kind, journal.EventFail, "", map[string]any{"attempt": t.a.Attempt, "error": t.rec.Reason})
		_ = e.Journal.WriteState()
		_ = t.rec.write(e.Dir)
		return t.rec, fmt.Errorf("%w: %s aborted (%v) but the restore failed: %v; run pgmigrate %s --abort", ErrFailed, t.d.kind, cause, err, t.d.kind)
	}
	t.rec.Outcome = Aborted
	_, _ = e.Journal.Append(t.d.kind, journal.EventAbort, "", map[string]any{"attempt": t.a.Attempt, "reason": cause.Error(), "times": t.rec.Times})
	_ = e.Journal.WriteState()
	_ = t.rec.write(e.Dir)
	return t.rec, fmt.Errorf("%w: %v; the %s is writable again and traffic stays there", ErrAborted, cause, t.d.old)
}

// rollForward finishes an attempt that died after its point of no return:
// the switch again (idempotent RELOAD/RESUME, or the hook), release, finish.
// The pinned snapshots died with the process: verification is skipped.
func (e *Engine) rollForward(ctx context.Context, d direction, last *attemptLog, prev *attemptLog) (*Record, error) {
	cfg := e.Cfg
	st := journal.Reduce(e.Journal.Records())
	e.printf("finishing interrupted %s attempt %d (it had passed its point of no return)\n", d.kind, last.Attempt)
	t := &attempt{e: e, d: d, sig: ctx, op: context.WithoutCancel(ctx), a: last, clk: newClock(), st: st,
		tables: st.Tables, budget: cfg.PauseBudget.D(), prev: prev}
	t.rec = &Record{Format: 1, Migration: cfg.Names.ID, Kind: d.kind, Attempt: last.Attempt, Outcome: Running,
		Switch: cfg.Switch.Mechanism, Catchup: cfg.Catchup, Times: map[string]Instant{}, Warnings: []string{}}
	defer t.closeAll()
	err := t.step("switch", func() error {
		switch cfg.Switch.Mechanism {
		case "pgbouncer":
			for i, en := range cfg.Switch.Pgbouncer {
				c, err := newConsole(e.Opener, i, en)
				if err != nil {
					return err
				}
				t.consoles = append(t.consoles, c)
				if err := t.ensureLine(c); err != nil {
					return err
				}
			}
			if d.kind == "rollback" && prev != nil && prev.Seal != nil {
				if err := unsealStmts(t.op, d.newCtl, prev.Seal); err != nil {
					return err
				}
			}
			if errs := t.resumeAll(true); len(errs) > 0 {
				return errors.Join(errs...)
			}
		case "command":
			if d.kind == "rollback" && prev != nil && prev.Seal != nil {
				if err := unsealStmts(t.op, d.newCtl, prev.Seal); err != nil {
					return err
				}
			}
			if err := t.runHook(t.hookCommand(false), 0); err != nil {
				return err
			}
		default:
			if d.kind == "rollback" && prev != nil && prev.Seal != nil {
				if err := unsealStmts(t.op, d.newCtl, prev.Seal); err != nil {
					return err
				}
			}
			u := d.newURL
			e.printf("SWITCH TRAFFIC TO %s:%d/%s NOW\n", u.Host(), u.Port(), t.newDB())
		}
		t.clk.mark(EvWritable, time.Now())
		return nil
	})
	if err != nil {
		_, _ = e.Journal.Append(d.kind, journal.EventFail, "", map[string]any{"attempt": last.Attempt, "error": err.Error()})
		return nil, fmt.Errorf("%w: finishing the switch: %v; run pgmigrate %s again", ErrFailed, err, d.kind)
	}
	if d.kind == "cutover" {
		t.rec.Verify = "skipped: snapshots lost"
		t.warnings = append(t.warnings, "verification skipped: the pinned snapshots were lost with the interrupted process")
		rep := &verify.Report{Format: 1, Mode: "pinned", Hash: cfg.Verify.Mode, Migration: cfg.Names.ID, Tables: []verify.TableResult{}, Sequences: []verify.SeqResult{}}
		for _, tb := range st.Tables {
			rep.Tables = append(rep.Tables, verify.TableResult{Table: tb, Status: verify.Skipped, Reason: "snapshots lost", Ranges: []verify.Range{}})
		}
		rep.Summary = verify.Summary{Tables: len(rep.Tables), Skipped: len(rep.Tables)}
		if err := plan.WriteFileAtomic(filepath.Join(e.Dir, "verify.json"), rep.JSON(), 0o600); err != nil {
			// An older verify.json would otherwise pass for this cutover's report.
			t.warnings = append(t.warnings, "cannot write verify.json: "+err.Error())
		}
	}
	return t.forward([]string{"release", "finish"})
}

// ensureLine makes the entry's line point where the attempt switched it,
// RELOADs, and checks SHOW DATABASES.
func (t *attempt) ensureLine(c *console) error {
	data, err := readConfig(t.op, c.entry)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name(), err)
	}
	line, ok := findDBLine(data, c.entry.Database)
	if !ok {
		return fmt.Errorf("%s: %s has no line for database %s", c.name(), c.entry.ConfigFile, c.entry.Database)
	}
	want, err := t.targetLine(c, line)
	if err != nil {
		return err
	}
	cur := strings.TrimRight(strings.Split(string(data), "\n")[line.index], "\r")
	if cur != want {
		if err := writeConfig(t.op, c.entry, replaceLine(data, line.index, want)); err != nil {
			return fmt.Errorf("%s: %w", c.name(), err)
		}
	}
	return t.reloadAndConfirm(c, want, "")
}
