// Package cutover moves the traffic of a streaming migration from the source
// to the destination with a measured write pause (migrate.md §5), and back
// again with rollback (§5.4).
//
// The write fence is layered (§5.1): pgbouncer PAUSE queues pooled clients;
// an EXCLUSIVE lock on every migrated table queues every other writer,
// superusers included; the seal (a sequence read by the fence_guard()
// statement triggers) and optionally REVOKE make the source permanently
// read-only for writers before any traffic moves; CONNECTION LIMIT 0 and
// pg_terminate_backend clear what remains. Queued writers are only ever
// released onto the permanent layers or, through pgbouncer, to the
// destination — never back to an unsealed source after the switch.
//
// Every step journals its intent (fsynced) before acting, so an abort
// restores exactly what was changed, and a crash (kill -9) is restored (before
// the point of no return) or rolled forward (after it) by the next run.
package cutover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/verify"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// Errors callers branch on (all exit 1).
var (
	// ErrNotReady: a precondition failed; nothing was changed.
	ErrNotReady = errors.New("not ready")
	// ErrAborted: the attempt was aborted before the point of no return and
	// the old side restored; traffic stays there.
	ErrAborted = errors.New("aborted")
	// ErrFailed: the attempt failed in a way that needs attention (the
	// journal says why); run the command again to finish or restore.
	ErrFailed = errors.New("failed")
	// ErrVerify: the traffic moved, but the pinned verification found a
	// difference (see verify.json).
	ErrVerify = errors.New("verification failed")
	// ErrState: the journal does not allow the command (exit 1).
	ErrState = errors.New("wrong state")
)

// Options are the command's flags.
type Options struct {
	Check    bool // only evaluate the preconditions
	Abort    bool // only restore after an interrupted attempt
	NoVerify bool
	// DoctorWALSample shortens doctor's WAL sampling in the preconditions
	// (tests; default 1 s).
	DoctorWALSample time.Duration
}

// Engine runs a cutover or a rollback for one migration.
type Engine struct {
	Cfg     *config.Config
	Opener  *db.Opener
	Journal *journal.Journal
	Log     *slog.Logger
	Out     io.Writer
	Dir     string
	// Fault is called at every sub-step boundary ("before", "after"); the
	// faultinject build SIGKILLs itself there (migrate.md §7).
	Fault func(step, when string)
	Opts  Options
	// Src and Dst are the control sessions; they hold the advisory locks.
	Src, Dst *db.Conn
}

func (e *Engine) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

func (e *Engine) printf(format string, args ...any) {
	if e.Out != nil {
		fmt.Fprintf(e.Out, format, args...)
	}
}

func (e *Engine) fault(step, when string) {
	if e.Fault != nil {
		e.Fault(step, when)
	}
}

// direction is cutover (source → destination) or rollback (the reverse).
type direction struct {
	kind           string // "cutover" | "rollback"
	old, new       string // sides: old is fenced, new takes the traffic
	oldDB          string
	slot           string // carries old → new, on the old side
	sub            string // on the new side
	oldCtl, newCtl *db.Conn
	oldURL, newURL config.URL
}

func (e *Engine) forward() direction {
	return direction{kind: "cutover", old: db.Source, new: db.Destination, oldDB: e.Cfg.SrcDB,
		slot: e.Cfg.Names.Slot, sub: e.Cfg.Names.Sub, oldCtl: e.Src, newCtl: e.Dst, oldURL: e.Cfg.Src(), newURL: e.Cfg.Dst()}
}

func (e *Engine) backward() direction {
	return direction{kind: "rollback", old: db.Destination, new: db.Source, oldDB: e.Cfg.DstDB,
		slot: e.Cfg.Names.RSlot, sub: e.Cfg.Names.RSub, oldCtl: e.Dst, newCtl: e.Src, oldURL: e.Cfg.Dst(), newURL: e.Cfg.Src()}
}

// attempt is one run of the sub-steps.
type attempt struct {
	e   *Engine
	d   direction
	sig context.Context // cancelled by SIGINT/SIGTERM: checked, never passed to a statement
	op  context.Context // statements: never cut off mid-way (a cut lock session would release its queue)
	a   *attemptLog     // what has been journaled, mirrored
	clk *clock
	rec *Record
	st  *journal.State

	tables []string
	budget time.Duration

	lock, seal, marker, win *db.Conn
	pinOld, pinNew          *db.Conn
	pairs                   []verify.Pair
	consoles                []*console
	lockHeld                bool
	snaps                   verify.Snapshots
	prev                    *attemptLog // rollback: the completed cutover
	warnings                []string
}

// journalIntent appends an intent (fsynced) and mirrors it.
func (t *attempt) intent(sub string, in Intent) error {
	if _, err := t.e.Journal.Append(t.d.kind+"."+sub, journal.EventIntent, in.Side, in); err != nil {
		return err
	}
	t.a.apply(in)
	return nil
}

func (a *attemptLog) apply(in Intent) {
	switch in.Kind {
	case IntentPause:
		a.Paused = append(a.Paused, in.Entries...)
	case IntentSeal:
		x := in
		a.Seal = &x
	case IntentPGB:
		a.Edits[in.Entry] = in
	case IntentHook:
		a.Hook = true
	case IntentPONR:
		a.PONR = true
	case IntentRSlot:
		a.RSlot = in.Slot
	case IntentUnsealNew:
		a.UnsealedNew = true
	}
}

// errBudget and errInterrupted trigger an abort before the point of no
// return; errPastPONR is a failure after it (the next run rolls forward).
var (
	errBudget      = errors.New("the pause budget is exhausted")
	errInterrupted = errors.New("interrupted by a signal")
	errPastPONR    = errors.New("failed after the point of no return")
)

// deadline bounds the current wait: pause_budget from fence_applied, or from
// t0 while the fence is being acquired.
func (t *attempt) deadline() time.Time {
	if at, ok := t.clk.times[EvFenceApplied]; ok {
		return at.Add(t.budget)
	}
	if at, ok := t.clk.times[EvFenceStart]; ok {
		return at.Add(t.budget)
	}
	return time.Now().Add(t.budget)
}

// guard is checked between sub-steps before the point of no return.
func (t *attempt) guard() error {
	if t.sig.Err() != nil {
		return errInterrupted
	}
	if t.clk.has(EvFenceStart) && !time.Now().Before(t.deadline()) {
		return fmt.Errorf("%w (pause_budget %s)", errBudget, t.budget)
	}
	return nil
}

// sleep waits d, or until the deadline or a signal.
func (t *attempt) sleep(d time.Duration) error {
	if rest := time.Until(t.deadline()); rest < d {
		d = rest
	}
	if d <= 0 {
		return t.guard()
	}
	select {
	case <-t.sig.Done():
		return errInterrupted
	case <-time.After(d):
	}
	return t.guard()
}

// step runs one sub-step between journal records and fault points.
func (t *attempt) step(name string, fn func() error) error {
	full := t.d.kind + "." + name
	t.e.fault(full, "before")
	if _, err := t.e.Journal.Append(full, journal.EventStart, "", nil); err != nil {
		return err
	}
	start := time.Now()
	if err := fn(); err != nil {
		_, _ = t.e.Journal.Append(full, journal.EventFail, "", map[string]string{"error": err.Error()})
		t.e.log().Error("sub-step failed", "step", full, "err", err.Error())
		return fmt.Errorf("%s: %w", full, err)
	}
	if _, err := t.e.Journal.Append(full, journal.EventDone, "", map[string]float64{"ms": ms(time.Since(start))}); err != nil {
		return err
	}
	t.a.Steps[name] = true
	t.e.log().Debug("sub-step done", "step", full, "ms", ms(time.Since(start)))
	t.e.fault(full, "after")
	return nil
}

func (t *attempt) open(side, purpose string) (*db.Conn, error) {
	c, err := t.e.Opener.Open(t.op, side, purpose)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (t *attempt) closeAll() {
	for _, c := range []*db.Conn{t.lock, t.seal, t.marker, t.win, t.pinOld, t.pinNew} {
		c.Close()
	}
	for _, p := range t.pairs {
		p.Src.Close()
		p.Dst.Close()
	}
	for _, c := range t.consoles {
		c.close()
	}
}

func (t *attempt) verifyEnabled() bool {
	return t.d.kind == "cutover" && !t.e.Opts.NoVerify && t.e.Cfg.Verify.Mode != "off" && t.e.Cfg.Verify.AfterCutover
}

// ---- sub-steps -------------------------------------------------------------

// prepare opens every session before the fence: once the old side's
// connection limit is 0 it refuses new non-superuser sessions.
func (t *attempt) prepare() error {
	cfg := t.e.Cfg
	var err error
	if t.lock, err = t.open(t.d.old, t.d.kind+"-lock"); err != nil {
		return err
	}
	if t.seal, err = t.open(t.d.old, t.d.kind+"-seal"); err != nil {
		return err
	}
	if t.marker, err = t.open(t.d.old, t.d.kind+"-marker"); err != nil {
		return err
	}
	if t.win, err = t.open(t.d.new, t.d.kind+"-control"); err != nil {
		return err
	}
	// The marker and the seal must reach the walsender at once: with
	// synchronous_commit off their commits would wait for the WAL writer
	// (wal_writer_delay), and the walsender sends only flushed WAL.
	for _, c := range []*db.Conn{t.marker, t.seal} {
		if _, err := c.Exec(t.op, "SET synchronous_commit = on"); err != nil {
			return err
		}
	}
	if t.d.kind == "rollback" && hasMethod(cfg, "trigger") {
		if err := ensureTriggers(t.op, t.seal, cfg); err != nil {
			return err
		}
	}
	// No statement inside the pause may outlive the budget.
	to := sqltext.Literal(fmt.Sprintf("%dms", t.budget.Milliseconds()+1))
	for _, c := range []*db.Conn{t.seal, t.marker, t.win} {
		if _, err := c.Exec(t.op, "SET statement_timeout = "+to); err != nil {
			return err
		}
	}
	if t.verifyEnabled() {
		if t.pinOld, err = t.open(t.d.old, t.d.kind+"-pin"); err != nil {
			return err
		}
		if t.pinNew, err = t.open(t.d.new, t.d.kind+"-pin"); err != nil {
			return err
		}
		v := &verify.Verifier{Cfg: cfg, Opener: t.e.Opener, Log: t.e.Log}
		jobs := cfg.Verify.Jobs
		if jobs > len(t.tables) {
			jobs = len(t.tables)
		}
		for i := 0; i < jobs; i++ {
			s, err := v.Session(t.op, db.Source)
			if err != nil {
				return err
			}
			d, err := v.Session(t.op, db.Destination)
			if err != nil {
				s.Close()
				return err
			}
			t.pairs = append(t.pairs, verify.Pair{Src: s, Dst: d})
		}
	}
	if cfg.Switch.Mechanism == "pgbouncer" {
		for i, en := range cfg.Switch.Pgbouncer {
			c, err := newConsole(t.e.Opener, i, en)
			if err != nil {
				return err
			}
			t.consoles = append(t.consoles, c)
			if err := c.connect(t.op); err != nil {
				return err
			}
		}
	}
	return nil
}

// fence: PAUSE every entry at once, then the lock layer → fence_applied.
func (t *attempt) fence() error {
	cfg := t.e.Cfg
	if len(t.consoles) > 0 {
		var ns []int
		for _, c := range t.consoles {
			ns = append(ns, c.n)
		}
		if err := t.intent("fence", Intent{Kind: IntentPause, Entries: ns}); err != nil {
			return err
		}
		t.clk.mark(EvFenceStart, time.Now())
		if err := t.pauseAll(); err != nil {
			return err
		}
	}
	if hasMethod(cfg, "lock") {
		if !t.clk.has(EvFenceStart) {
			t.clk.mark(EvFenceStart, time.Now())
		}
		if err := t.takeLock(); err != nil {
			return err
		}
	} else {
		// Without the lock layer the permanent layers are the fence.
		if !t.clk.has(EvFenceStart) {
			t.clk.mark(EvFenceStart, time.Now())
		}
		if err := t.sealLayers(); err != nil {
			return err
		}
	}
	t.clk.mark(EvFenceApplied, time.Now())
	return nil
}

// pauseAll sends PAUSE to every console concurrently; pgbouncer answers once
// the database's server connections are released (in-flight transactions
// done), so the wait is bounded by the budget.
func (t *attempt) pauseAll() error {
	type res struct {
		c   *console
		err error
	}
	ch := make(chan res, len(t.consoles))
	for _, c := range t.consoles {
		go func(c *console) { ch <- res{c, c.pause(t.op)} }(c)
	}
	pending := map[*console]bool{}
	for _, c := range t.consoles {
		pending[c] = true
	}
	timer := time.NewTimer(time.Until(t.deadline()))
	defer timer.Stop()
	var firstErr error
	for len(pending) > 0 {
		select {
		case r := <-ch:
			delete(pending, r.c)
			if r.err != nil && firstErr == nil {
				firstErr = r.err
			}
		case <-timer.C:
			for c := range pending {
				c.abandon() // stuck in PAUSE: the restore RESUMEs over a new session
			}
			return fmt.Errorf("%w: PAUSE did not return in time", errBudget)
		case <-t.sig.Done():
			for c := range pending {
				c.abandon()
			}
			return errInterrupted
		}
	}
	return firstErr
}

// takeLock: BEGIN; SET LOCAL lock_timeout; LOCK TABLE … IN EXCLUSIVE MODE,
// retried after 50 ms·2ⁿ on lock timeouts, within the budget.
func (t *attempt) takeLock() error {
	cfg := t.e.Cfg
	var err error
	for n := 0; n <= cfg.Fence.LockRetries; n++ {
		timeout := cfg.Fence.LockTimeout.D()
		if rest := time.Until(t.deadline()); rest < timeout {
			timeout = rest
		}
		if timeout <= 0 {
			break
		}
		_, err = t.lock.Exec(t.op, lockSQL(t.tables, timeout))
		if err == nil {
			t.lockHeld = true
			return nil
		}
		_, _ = t.lock.Exec(t.op, "ROLLBACK")
		if db.Code(err) != "55P03" {
			return err
		}
		t.e.log().Info("fence lock timed out, retrying", "attempt", n+1)
		if n < cfg.Fence.LockRetries {
			if err := t.sleep(50 * time.Millisecond << n); err != nil {
				return err
			}
		}
	}
	if err == nil {
		err = errBudget
	}
	return fmt.Errorf("could not lock the migrated tables within %d tries: %w", cfg.Fence.LockRetries+1, err)
}

// sealLayers applies trigger, revoke and connlimit in one transaction after
// one intent that records the old ACLs and limit.
func (t *attempt) sealLayers() error {
	cfg := t.e.Cfg
	in := Intent{Kind: IntentSeal, Side: t.d.old, Database: t.d.oldDB}
	var stmts []string
	if hasMethod(cfg, "trigger") {
		in.Layers = append(in.Layers, "trigger")
		stmts = append(stmts, sealSQL(1))
	}
	if hasMethod(cfg, "revoke") {
		acls, err := readACLs(t.op, t.seal, cfg)
		if err != nil {
			return err
		}
		in.Layers = append(in.Layers, "revoke")
		in.ACLs = acls
		stmts = append(stmts, revokeSQL(acls)...)
	}
	if hasMethod(cfg, "connlimit") {
		n, err := readConnLimit(t.op, t.seal, t.d.oldDB)
		if err != nil {
			return err
		}
		in.Layers = append(in.Layers, "connlimit")
		in.ConnLimit = &n
		stmts = append(stmts, connLimitSQL(t.d.oldDB, 0))
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := t.intent("seal", in); err != nil {
		return err
	}
	if _, err := t.seal.Exec(t.op, strings.Join(stmts, ";\n")); err != nil {
		return err
	}
	t.clk.mark(EvSealed, time.Now())
	return nil
}

// catchup reads fence_lsn in the fence's session and waits until the new
// side has everything up to it: a marker row committed after the fence is
// visible there (apply follows commit order), or the slot confirms it.
func (t *attempt) catchup() error {
	c := t.seal
	if t.lockHeld {
		c = t.lock
	}
	var lsn string
	if err := c.QueryRow(t.op, "SELECT pg_catalog.pg_current_wal_insert_lsn()::text").Scan(&lsn); err != nil {
		return err
	}
	t.rec.FenceLSN = lsn
	if t.e.Cfg.Catchup == "slot" {
		for {
			var ok bool
			err := t.seal.QueryRow(t.op, "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $2", lsn, t.d.slot).Scan(&ok)
			if err != nil {
				return fmt.Errorf("slot %s: %w", t.d.slot, err)
			}
			if ok {
				break
			}
			if err := t.sleep(10 * time.Millisecond); err != nil {
				return fmt.Errorf("slot %s did not confirm %s: %w", t.d.slot, lsn, err)
			}
		}
	} else {
		id := randomID()
		if _, err := t.marker.Exec(t.op, "INSERT INTO pgmigrate.marker (id, kind) VALUES ("+sqltext.Literal(id)+", "+sqltext.Literal(t.d.kind)+")"); err != nil {
			return err
		}
		for {
			var ok bool
			if err := t.win.QueryRow(t.op, "SELECT EXISTS (SELECT 1 FROM pgmigrate.marker WHERE id = $1)", id).Scan(&ok); err != nil {
				return err
			}
			if ok {
				break
			}
			if err := t.sleep(10 * time.Millisecond); err != nil {
				return fmt.Errorf("marker %s not applied on the %s: %w", id, t.d.new, err)
			}
		}
	}
	t.clk.mark(EvCaughtUp, time.Now())
	return nil
}

// isolate: one terminate pass kills the queued writers and every session
// older than the seal.
func (t *attempt) isolate() error {
	if hasMethod(t.e.Cfg, "terminate") {
		n, err := terminatePass(t.op, t.seal, t.d.oldDB, t.e.Cfg.Fence.ExemptRoles)
		if err != nil {
			return err
		}
		t.e.log().Info("isolate: terminated sessions", "count", n)
	}
	t.clk.mark(EvIsolated, time.Now())
	return nil
}

// sequences copies every sequence to the new side, + seq_offset.
func (t *attempt) sequences() error {
	seqs, err := nextSequences(t.op, t.seal, t.e.Cfg, t.e.Cfg.SeqOffset)
	if err != nil {
		return err
	}
	n, err := applySequences(t.op, t.win, seqs)
	if err != nil {
		return err
	}
	t.e.log().Info("sequences synced", "set", n, "read", len(seqs))
	t.clk.mark(EvSeqSynced, time.Now())
	return nil
}

// pin exports a snapshot on each side for the pinned verification, and
// creates the reverse slot when rollback is enabled: the new side holds
// exactly the old side's data now, so the slot starts at the right point.
func (t *attempt) pin() error {
	if t.pinOld != nil {
		for _, p := range []struct {
			c    *db.Conn
			snap *string
		}{{t.pinOld, &t.snaps.Src}, {t.pinNew, &t.snaps.Dst}} {
			if _, err := p.c.Exec(t.op, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
				return err
			}
			if err := p.c.QueryRow(t.op, "SELECT pg_catalog.pg_export_snapshot()").Scan(p.snap); err != nil {
				return err
			}
		}
	}
	if t.d.kind == "cutover" && t.e.Cfg.Rollback.Enabled {
		slot := t.e.Cfg.Names.RSlot
		if err := t.intent("pin", Intent{Kind: IntentRSlot, Side: db.Destination, Slot: slot}); err != nil {
			return err
		}
		var exists bool
		if err := t.win.QueryRow(t.op, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)", slot).Scan(&exists); err != nil {
			return err
		}
		if exists { // left by an attempt that died: its start point is stale
			if _, err := t.win.Exec(t.op, "SELECT pg_catalog.pg_drop_replication_slot("+sqltext.Literal(slot)+")"); err != nil {
				return err
			}
		}
		if _, err := t.win.Exec(t.op, "SELECT pg_catalog.pg_create_logical_replication_slot("+sqltext.Literal(slot)+", 'pgoutput')"); err != nil {
			return err
		}
	}
	t.clk.mark(EvPinned, time.Now())
	return nil
}
