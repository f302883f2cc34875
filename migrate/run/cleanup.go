package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/cutover"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// CleanupOptions are cleanup's flags.
type CleanupOptions struct {
	Abandon bool // allowed before cutover
	Unseal  bool // also remove the seal (sequence, fence triggers)
	Force   bool // terminate an active slot's walsender after the wait
	// SlotWait is how long an active slot is waited for (10 s).
	SlotWait time.Duration
}

// ErrCleanupBeforeCutover is exit 2: cleanup before cutover needs --abandon.
var ErrCleanupBeforeCutover = fmt.Errorf("%w: cleanup before cutover needs --abandon (it stops the migration)", config.ErrUsage)

// Cleaner drops pgmigrate's objects in the order of migrate.md §7.
type Cleaner struct {
	Cfg      *config.Config
	Journal  *journal.Journal
	Src, Dst *db.Conn // nil when a side is unreachable
	Log      *slog.Logger
	Out      io.Writer
	Opts     CleanupOptions
}

// Allowed reports whether cleanup may run: after cutover, after a previous
// cleanup (a re-run exits 0), or with --abandon.
func Allowed(st *journal.State, abandon bool) error {
	if abandon || st.Done("cutover") || st.Phase == "cleaned" || st.Phase == "cut-over" || st.Phase == "rolled-back" {
		return nil
	}
	return ErrCleanupBeforeCutover
}

func (c *Cleaner) printf(format string, args ...any) {
	if c.Out != nil {
		fmt.Fprintf(c.Out, format, args...)
	}
}

// ours: a name cleanup may touch — journaled, or any of pgmigrate's
// deterministic names with --abandon (a lost directory).
func (c *Cleaner) ours(st *journal.State, kind, name string) bool {
	return c.Opts.Abandon || st.HasObject(kind, name)
}

func (c *Cleaner) exec(ctx context.Context, conn *db.Conn, sql string) error {
	start := time.Now()
	tag, err := conn.Exec(ctx, sql)
	if err != nil {
		return err
	}
	_, _ = c.Journal.Append("cleanup", journal.EventExec, conn.Side, journal.ExecInfo{SQL: conn.Redact(sql), Millis: time.Since(start).Milliseconds(), Rows: tag.RowsAffected()})
	return nil
}

// Run performs the cleanup; a re-run finds nothing and succeeds.
func (c *Cleaner) Run(ctx context.Context) error {
	st := journal.Reduce(c.Journal.Records())
	if _, err := c.Journal.Append("cleanup", journal.EventStart, "", map[string]bool{"abandon": c.Opts.Abandon, "unseal": c.Opts.Unseal}); err != nil {
		return err
	}
	err := c.run(ctx, st)
	if err != nil {
		_, _ = c.Journal.Append("cleanup", journal.EventFail, "", map[string]string{"error": err.Error()})
		_ = c.Journal.WriteState()
		return err
	}
	_, err = c.Journal.Append("cleanup", journal.EventDone, "", nil)
	_ = c.Journal.WriteState()
	return err
}

func (c *Cleaner) run(ctx context.Context, st *journal.State) error {
	n := c.Cfg.Names
	// 1. The forward subscription (its DROP drops the source slot).
	if c.Dst != nil {
		if err := c.dropSubscription(ctx, st, c.Dst, n.Sub, c.Src != nil); err != nil {
			return err
		}
	}
	// 2. The publication.
	if c.Src != nil && c.ours(st, "publication", n.Pub) {
		if err := c.exec(ctx, c.Src, "DROP PUBLICATION IF EXISTS "+sqltext.Ident(n.Pub)); err != nil {
			return err
		}
	}
	// 3. pgmigrate's slots and the reverse objects.
	if c.Src != nil {
		if err := c.dropSubscription(ctx, st, c.Src, n.RSub, c.Dst != nil); err != nil {
			return err
		}
		if c.ours(st, "slot", n.Slot) || st.Done("create-sub") {
			if err := c.dropSlot(ctx, c.Src, n.Slot); err != nil {
				return err
			}
		}
	}
	if c.Dst != nil {
		if c.ours(st, "publication", n.RPub) {
			if err := c.exec(ctx, c.Dst, "DROP PUBLICATION IF EXISTS "+sqltext.Ident(n.RPub)); err != nil {
				return err
			}
		}
		if c.ours(st, "slot", n.RSlot) {
			if err := c.dropSlot(ctx, c.Dst, n.RSlot); err != nil {
				return err
			}
		}
	}
	// 4. DDL guards and pgmigrate's objects; the seal stays unless --unseal,
	// which first gives back what the fence took (privileges, connection
	// limit) as journaled by the cutover (source) or rollback (destination).
	for _, conn := range []*db.Conn{c.Src, c.Dst} {
		if conn == nil || !c.ours(st, "schema", "pgmigrate") {
			continue
		}
		if c.Opts.Unseal {
			for _, s := range cutover.UnsealStatements(c.Journal.Records(), conn.Side) {
				if err := c.exec(ctx, conn, s); err != nil {
					return err
				}
			}
		}
		if err := c.dropObjects(ctx, conn); err != nil {
			return err
		}
	}
	// The pgbouncer backups (data/pgbouncer-<n>.orig): the lines they hold
	// may carry passwords and are not needed once the migration is over.
	if backups, _ := filepath.Glob(filepath.Join(c.Journal.Dir(), "data", "pgbouncer-*.orig")); len(backups) > 0 {
		for _, b := range backups {
			if err := os.Remove(b); err != nil {
				return fmt.Errorf("remove pgbouncer backup: %w", err)
			}
		}
	}
	if c.Src == nil || c.Dst == nil {
		return errors.New("a side is unreachable: the objects on the reachable side were removed; run cleanup again when both answer")
	}
	c.printf("cleanup of %s done\n", n.ID)
	return nil
}

func (c *Cleaner) dropSubscription(ctx context.Context, st *journal.State, conn *db.Conn, name string, remoteUp bool) error {
	if !c.ours(st, "subscription", name) {
		return nil
	}
	var exists bool
	var slot *string
	err := conn.QueryRow(ctx, `SELECT true, subslotname::text FROM pg_catalog.pg_subscription
		WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`, name).Scan(&exists, &slot)
	if err != nil || !exists {
		return nil // no rows: already gone
	}
	id := sqltext.Ident(name)
	if err := c.exec(ctx, conn, "ALTER SUBSCRIPTION "+id+" DISABLE"); err != nil {
		return err
	}
	if !remoteUp && slot != nil {
		// The publisher is unreachable: detach the slot so DROP does not
		// try to connect, and report the slot left behind.
		if err := c.exec(ctx, conn, "ALTER SUBSCRIPTION "+id+" SET (slot_name = NONE)"); err != nil {
			return err
		}
		c.printf("warning: slot %s on the publisher was not dropped (unreachable); run cleanup again or drop it there\n", *slot)
	}
	return c.exec(ctx, conn, "DROP SUBSCRIPTION "+id)
}

// dropSlot waits for an active slot (SlotWait, default 10 s), then fails
// unless --force terminates its walsender.
func (c *Cleaner) dropSlot(ctx context.Context, conn *db.Conn, slot string) error {
	wait := c.Opts.SlotWait
	if wait == 0 {
		wait = 10 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		var active bool
		var pid *int32
		err := conn.QueryRow(ctx, "SELECT active, active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", slot).Scan(&active, &pid)
		if err != nil {
			return nil // gone
		}
		if !active {
			return c.exec(ctx, conn, "SELECT pg_catalog.pg_drop_replication_slot("+sqltext.Literal(slot)+")")
		}
		if time.Now().After(deadline) {
			if !c.Opts.Force || pid == nil {
				return fmt.Errorf("slot %s on the %s is still active (pid %v) after %s; stop its consumer or use --force", slot, conn.Side, derefPID(pid), wait)
			}
			if err := c.exec(ctx, conn, fmt.Sprintf("SELECT pg_catalog.pg_terminate_backend(%d)", *pid)); err != nil {
				return err
			}
			deadline = time.Now().Add(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func derefPID(p *int32) any {
	if p == nil {
		return "?"
	}
	return *p
}

func (c *Cleaner) dropObjects(ctx context.Context, conn *db.Conn) error {
	stmts := []string{
		"DROP EVENT TRIGGER IF EXISTS pgmigrate_ddl_guard",
		"DROP EVENT TRIGGER IF EXISTS pgmigrate_ddl_guard_drop",
		"DROP FUNCTION IF EXISTS pgmigrate.ddl_guard()",
		"DROP TABLE IF EXISTS pgmigrate.marker",
	}
	if c.Opts.Unseal {
		trig, err := conn.Generate(ctx, `SELECT format('DROP TRIGGER IF EXISTS pgmigrate_fence ON %I.%I', n.nspname, c.relname)
			FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE t.tgname = 'pgmigrate_fence' ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`)
		if err != nil {
			return err
		}
		stmts = append(stmts, trig...)
		stmts = append(stmts, "DROP FUNCTION IF EXISTS pgmigrate.fence_guard()", "DROP SEQUENCE IF EXISTS pgmigrate.seal")
	}
	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		// Guessing "not superuser" would skip the event triggers and leave them behind.
		return fmt.Errorf("cleanup: is the %s user a superuser: %s", conn.Side, conn.Redact(err.Error()))
	}
	for _, s := range stmts {
		if !super && (s == stmts[0] || s == stmts[1]) {
			continue // only a superuser has event triggers to drop
		}
		if err := c.exec(ctx, conn, s); err != nil {
			return err
		}
	}
	if c.Opts.Unseal {
		// The schema goes only when empty: RESTRICT keeps anything else.
		var empty bool
		if conn.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_namespace n ON d.refobjid = n.oid
			WHERE n.nspname = 'pgmigrate' AND d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass)`).Scan(&empty) == nil && empty {
			if err := c.exec(ctx, conn, "DROP SCHEMA IF EXISTS pgmigrate"); err != nil {
				return err
			}
		}
	}
	return nil
}
