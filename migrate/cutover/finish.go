package cutover

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/migrate/verify"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// release terminates what is left on the old side until a run of quiet
// passes or release_timeout, then ends the lock transaction: anything still
// queued meets the permanent layers.
func (t *attempt) release() error {
	cfg := t.e.Cfg
	conn := t.seal
	if conn == nil || conn.IsClosed() {
		conn = t.d.oldCtl
	}
	if hasMethod(cfg, "terminate") {
		deadline := time.Now().Add(cfg.Fence.ReleaseTimeout.D())
		quiet := 0
		for quiet < cfg.Fence.TerminatePasses {
			n, err := terminatePass(t.op, conn, t.d.oldDB, cfg.Fence.ExemptRoles)
			if err != nil {
				return err
			}
			if n == 0 {
				quiet++
			} else {
				quiet = 0
				t.e.log().Info("release: terminated sessions", "count", n)
			}
			if time.Now().After(deadline) {
				t.warnings = append(t.warnings, fmt.Sprintf("release: sessions kept reconnecting to the %s for %s; the permanent layers hold them", t.d.old, cfg.Fence.ReleaseTimeout.D()))
				break
			}
			if quiet < cfg.Fence.TerminatePasses {
				time.Sleep(cfg.Fence.TerminateInterval.D())
			}
		}
	}
	if t.lock != nil && t.lockHeld {
		if _, err := t.lock.Exec(t.op, "ROLLBACK"); err != nil {
			t.e.log().Warn("release: lock session", "err", err.Error())
		}
		t.lockHeld = false
	}
	for _, c := range []*db.Conn{t.seal, t.marker, t.win} {
		if c != nil && !c.IsClosed() {
			_, _ = c.Exec(t.op, "SET statement_timeout = 0")
		}
	}
	t.clk.mark(EvReleased, time.Now())
	return nil
}

// finish drops the subscription that carried old → new (its DROP drops the
// slot), and after a cutover with rollback enabled creates the reverse
// subscription — only once the forward one is gone: PostgreSQL 15 has no
// origin filter, so both at once would loop changes (§5.4).
func (t *attempt) finish() error {
	if err := dropSubscription(t.op, t.d.newCtl, t.d.sub); err != nil {
		return err
	}
	if err := waitSlotGone(t.op, t.d.oldCtl, t.d.slot, 10*time.Second); err != nil {
		return err
	}
	if t.d.kind == "cutover" {
		if t.e.Cfg.Rollback.Enabled {
			if err := t.createReverse(); err != nil {
				return err
			}
		}
		if t.e.Cfg.Objects.Matviews == "refresh" {
			stmts, err := t.e.Dst.Generate(t.op, plan.MatviewRefreshGenerator(t.e.Cfg))
			if err != nil {
				return err
			}
			for _, s := range stmts {
				if _, err := t.e.Dst.Exec(t.op, s); err != nil {
					return err
				}
			}
		}
	}
	t.clk.mark(EvFinished, time.Now())
	return nil
}

func dropSubscription(ctx context.Context, c *db.Conn, name string) error {
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1
		AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))`, name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return nil
	}
	id := sqltext.Ident(name)
	if _, err := c.Exec(ctx, "ALTER SUBSCRIPTION "+id+" DISABLE"); err != nil {
		return err
	}
	_, err := c.Exec(ctx, "DROP SUBSCRIPTION "+id)
	return err
}

// waitSlotGone waits for DROP SUBSCRIPTION's remote slot drop; an inactive
// leftover is dropped.
func waitSlotGone(ctx context.Context, c *db.Conn, slot string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var active bool
		err := c.QueryRow(ctx, "SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if !active {
			_, err := c.Exec(ctx, "SELECT pg_catalog.pg_drop_replication_slot("+sqltext.Literal(slot)+")")
			if err == nil || db.Code(err) == "42704" {
				return nil
			}
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("slot %s on the %s is still active after %s", slot, c.Side, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noForward proves the forward direction is gone before the reverse one
// exists: no forward subscription on the destination, no forward slot on the
// source.
func noForward(ctx context.Context, cfg *config.Config, src, dst *db.Conn) error {
	var sub, slot bool
	if err := dst.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1)", cfg.Names.Sub).Scan(&sub); err != nil {
		return err
	}
	if err := src.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)", cfg.Names.Slot).Scan(&slot); err != nil {
		return err
	}
	if sub || slot {
		return fmt.Errorf("forward replication still exists (subscription %v, slot %v): refusing to start reverse replication (PostgreSQL 15 has no origin filter; both at once loop changes)", sub, slot)
	}
	return nil
}

// noReverse is the mirror check before anything forward is (re)created.
func noReverse(ctx context.Context, cfg *config.Config, src *db.Conn) error {
	var sub bool
	if err := src.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1)", cfg.Names.RSub).Scan(&sub); err != nil {
		return err
	}
	if sub {
		return fmt.Errorf("reverse subscription %s exists on the source: forward and reverse replication never run at once", cfg.Names.RSub)
	}
	return nil
}

func (t *attempt) createReverse() error {
	cfg := t.e.Cfg
	if err := noForward(t.op, cfg, t.e.Src, t.e.Dst); err != nil {
		return err
	}
	var exists bool
	if err := t.e.Src.QueryRow(t.op, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1)", cfg.Names.RSub).Scan(&exists); err != nil {
		return err
	}
	objs := []journal.ObjectInfo{
		{Kind: "subscription", Name: cfg.Names.RSub, Side: db.Source},
		{Kind: "slot", Name: cfg.Names.RSlot, Side: db.Destination},
	}
	if cfg.DDLGuard == "block" {
		objs = append(objs, journal.ObjectInfo{Kind: "event_trigger", Name: "pgmigrate_ddl_guard", Side: db.Destination})
	}
	if _, err := t.e.Journal.Append(t.d.kind+".finish", journal.EventIntent, db.Source, map[string]any{"objects": objs}); err != nil {
		return err
	}
	if !exists {
		ci, err := config.ParseConninfo(cfg.Rollback.Conn)
		if err != nil {
			return fmt.Errorf("rollback.conn: %w", err)
		}
		if _, ok := ci.Get("password"); !ok && cfg.Subscription.ConninfoPassword {
			if pw := cfg.ReplicationPassword(t.e.Opener.Env); pw != "" {
				ci = append(ci, config.KV{Key: "password", Value: pw})
			}
		}
		stmt := func(conninfo string) string {
			return "CREATE SUBSCRIPTION " + sqltext.Ident(cfg.Names.RSub) + " CONNECTION " + sqltext.Literal(conninfo) +
				" PUBLICATION " + sqltext.Ident(cfg.Names.RPub) + " WITH (create_slot = false, slot_name = " +
				sqltext.Literal(cfg.Names.RSlot) + ", copy_data = false, enabled = true)"
		}
		start := time.Now()
		if _, err := t.e.Src.Exec(t.op, stmt(ci.Secret())); err != nil {
			return err
		}
		_, _ = t.e.Journal.Append(t.d.kind+".finish", journal.EventExec, db.Source, journal.ExecInfo{SQL: stmt(ci.String()), Millis: time.Since(start).Milliseconds()})
	}
	if cfg.DDLGuard == "block" {
		if _, err := t.e.Dst.Exec(t.op, plan.DDLGuardSQL(cfg)); err != nil {
			return err
		}
	}
	return nil
}

// verify compares both sides inside the pinned snapshots.
func (t *attempt) verify() error {
	if t.pinOld == nil || t.snaps.Src == "" {
		if t.rec.Verify == "" {
			t.rec.Verify = "skipped"
		}
		return nil
	}
	v := &verify.Verifier{Cfg: t.e.Cfg, Opener: t.e.Opener, State: t.st, Log: t.e.Log}
	rep, err := v.RunPinned(t.sig, t.snaps, t.pairs)
	for _, c := range []*db.Conn{t.pinOld, t.pinNew} {
		_, _ = c.Exec(t.op, "ROLLBACK")
	}
	t.snaps = verify.Snapshots{} // the pins are gone: a retry cannot repeat it
	if err != nil {
		// The traffic has moved: a verification that could not run is
		// reported (exit 1), never turned into a failed cutover.
		if t.sig.Err() != nil {
			t.rec.Verify = "skipped: interrupted"
			return nil
		}
		t.rec.Verify = "error: " + err.Error()
		t.warnings = append(t.warnings, "pinned verification failed to run: "+err.Error()+"; run pgmigrate verify (with rollback enabled) or compare by hand")
		return nil
	}
	if err := plan.WriteFileAtomic(filepath.Join(t.e.Dir, "verify.json"), rep.JSON(), 0o600); err != nil {
		return err
	}
	if rep.Failed() {
		t.rec.Verify = "mismatch"
		if t.e.Out != nil {
			rep.WriteText(t.e.Out)
		}
		return nil
	}
	t.rec.Verify = "equal"
	return nil
}
