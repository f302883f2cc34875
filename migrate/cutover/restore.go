package cutover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// ---- restore and roll forward ----------------------------------------------

// restore undoes an attempt before its point of no return, in §5.3's order:
// the pgbouncer files and RELOAD; seal 0, privileges, connection limit;
// ROLLBACK of the lock; RESUME. It works from the journal (a) alone, so it
// also serves after a crash; live sessions are used when present.
func (e *Engine) restore(ctx context.Context, d direction, a *attemptLog, live *attempt) error {
	var errs []error
	var consoles []*console
	if live != nil {
		consoles = live.consoles
	}
	consoleFor := func(n int) (*console, error) {
		for _, c := range consoles {
			if c.n == n {
				return c, nil
			}
		}
		if n >= len(e.Cfg.Switch.Pgbouncer) {
			return nil, fmt.Errorf("pgbouncer[%d]: no such entry to restore", n)
		}
		c, err := newConsole(e.Opener, n, e.Cfg.Switch.Pgbouncer[n])
		if err != nil {
			return nil, fmt.Errorf("pgbouncer[%d]: %w", n, err)
		}
		consoles = append(consoles, c)
		return c, nil
	}
	// 1. The pgbouncer files, then RELOAD.
	for _, n := range sortedInts(a.Edits) {
		in := a.Edits[n]
		c, err := consoleFor(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		orig, err := loadOrigAs(e.Dir, origName(d.kind, n))
		if err == nil {
			err = restoreLine(ctx, c.entry, orig)
		}
		if err == nil {
			err = c.reload(ctx)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s (%s): %w", c.name(), in.File, err))
		}
	}
	if a.Hook && live != nil {
		if err := live.runHook(live.hookCommand(true), 0); err != nil {
			errs = append(errs, fmt.Errorf("switch revert: %w", err))
		}
	} else if a.Hook {
		t := &attempt{e: e, d: d, op: ctx}
		if err := t.runHook(t.hookCommand(true), 0); err != nil {
			errs = append(errs, fmt.Errorf("switch revert: %w", err))
		}
	}
	// 2. Seal back to 0, then privileges and the connection limit.
	if a.Seal != nil {
		conn := d.oldCtl
		if live != nil && live.seal != nil && !live.seal.IsClosed() {
			conn = live.seal
			_, _ = conn.Exec(ctx, "SET statement_timeout = 0")
		}
		if err := unsealStmts(ctx, conn, a.Seal); err != nil {
			errs = append(errs, fmt.Errorf("unseal the %s: %w", d.old, err))
		}
	}
	if a.UnsealedNew && d.kind == "rollback" {
		prev := lastCompleted(e.Journal.Records(), "cutover")
		if prev != nil && prev.Seal != nil {
			if err := resealStmts(ctx, d.newCtl, prev.Seal); err != nil {
				errs = append(errs, fmt.Errorf("re-seal the %s: %w", d.new, err))
			}
		}
	}
	// 3. ROLLBACK the lock.
	if live != nil && live.lock != nil && live.lockHeld {
		if _, err := live.lock.Exec(ctx, "ROLLBACK"); err != nil {
			live.lock.Close() // closing ends the transaction as well
		}
		live.lockHeld = false
	}
	// 4. RESUME.
	for _, n := range a.Paused {
		c, err := consoleFor(n)
		if err != nil {
			// Not skipped: a pool left paused holds every client.
			errs = append(errs, fmt.Errorf("resume: %w", err))
			continue
		}
		for try := 0; try < 3; try++ {
			if err = c.resume(ctx); err == nil {
				break
			}
			c.close()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if live == nil {
		for _, c := range consoles {
			c.close()
		}
	}
	// The reverse slot of a cutover that did not happen.
	if a.RSlot != "" && d.kind == "cutover" {
		if err := dropSlotIfInactive(ctx, d.newCtl, a.RSlot); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func dropSlotIfInactive(ctx context.Context, c *db.Conn, slot string) error {
	var active bool
	err := c.QueryRow(ctx, "SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if active {
		return fmt.Errorf("slot %s on the %s is active; drop it once its consumer is gone", slot, c.Side)
	}
	_, err = c.Exec(ctx, "SELECT pg_catalog.pg_drop_replication_slot("+sqltext.Literal(slot)+")")
	return err
}

// restoreLine puts a saved [databases] line back.
func restoreLine(ctx context.Context, e config.PgbouncerEntry, orig string) error {
	data, err := readConfig(ctx, e)
	if err != nil {
		return err
	}
	line, ok := findDBLine(data, e.Database)
	if !ok {
		return fmt.Errorf("%s has no line for database %s", e.ConfigFile, e.Database)
	}
	cur := strings.TrimRight(strings.Split(string(data), "\n")[line.index], "\r")
	if cur == orig {
		return nil
	}
	return writeConfig(ctx, e, replaceLine(data, line.index, orig))
}

// saveOrigAs keeps a [databases] line whole in data/<name>.orig (mode 0600:
// it may hold a password, so the journal gets it redacted).
func saveOrigAs(dir, name, line string) error {
	return plan.WriteFileAtomic(filepath.Join(dir, "data", name+".orig"), []byte(line+"\n"), 0o600)
}

func loadOrigAs(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "data", name+".orig"))
	if err != nil {
		return "", err
	}
	s, _, _ := strings.Cut(string(b), "\n")
	return s, nil
}
