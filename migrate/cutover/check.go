package cutover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/doctor"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
)

// Check is one precondition (cutover.check, §5).
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Checks are the evaluated preconditions.
type Checks []Check

// OK reports whether every precondition holds.
func (cs Checks) OK() bool {
	for _, c := range cs {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed lists the names of failed preconditions.
func (cs Checks) Failed() []string {
	var out []string
	for _, c := range cs {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// WriteText prints one line per precondition.
func (cs Checks) WriteText(w io.Writer) {
	for _, c := range cs {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %-13s %s\n", mark, c.Name, c.Detail)
	}
}

type subState struct {
	exists, enabled bool
	pid             *int32
	errors          *int64
}

func readSub(ctx context.Context, c *db.Conn, name string) (subState, error) {
	var s subState
	err := c.QueryRow(ctx, `SELECT s.subenabled, st.pid
		FROM pg_catalog.pg_subscription s
		LEFT JOIN pg_catalog.pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
		WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`, name).Scan(&s.enabled, &s.pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	s.exists = true
	if c.Version >= 150000 {
		var a, b int64
		if c.QueryRow(ctx, "SELECT apply_error_count, sync_error_count FROM pg_catalog.pg_stat_subscription_stats WHERE subname = $1", name).Scan(&a, &b) == nil {
			v := a + b
			s.errors = &v
		}
	}
	return s, nil
}

// preconditions evaluates §5's list for direction d. Cheap checks come
// first; the lag samples last.
func (e *Engine) preconditions(ctx context.Context, d direction, st *journal.State, withDoctor bool) Checks {
	cfg := e.Cfg
	var cs Checks
	add := func(name string, ok bool, format string, args ...any) {
		cs = append(cs, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	// State.
	if d.kind == "cutover" {
		add("state", st.Done(plan.Streaming) && !st.Done("cutover"), "phase %s", st.Phase)
	} else {
		add("state", st.Done("cutover") && !st.Done("rollback"), "phase %s", st.Phase)
	}
	// The subscription that carries old → new.
	sub, err := readSub(ctx, d.newCtl, d.sub)
	switch {
	case err != nil:
		add("subscription", false, "%s: %v", d.sub, err)
	case !sub.exists:
		add("subscription", false, "%s does not exist on the %s", d.sub, d.new)
	case !sub.enabled:
		add("subscription", false, "%s is disabled", d.sub)
	case sub.pid == nil:
		add("subscription", false, "%s has no apply worker", d.sub)
	default:
		add("subscription", true, "%s enabled, apply worker %d", d.sub, *sub.pid)
	}
	// The slot.
	lag, active, ws, err := slotLag(ctx, d.oldCtl, d.slot)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		add("slot", false, "%s does not exist on the %s", d.slot, d.old)
	case err != nil:
		add("slot", false, "%s: %v", d.slot, err)
	case !active:
		add("slot", false, "%s is not active", d.slot)
	case ws != "" && ws != "reserved" && ws != "extended":
		add("slot", false, "%s has wal_status %s", d.slot, ws)
	default:
		add("slot", true, "%s active, wal_status %s, lag %d bytes", d.slot, orDash(ws), lag)
	}
	// The consoles.
	if cfg.Switch.Mechanism == "pgbouncer" {
		for i, en := range cfg.Switch.Pgbouncer {
			c, err := newConsole(e.Opener, i, en)
			if err != nil {
				add("pgbouncer", false, "%v", err)
				continue
			}
			row, err := c.database(ctx)
			c.close()
			if err != nil {
				add("pgbouncer", false, "%v", err)
				continue
			}
			ok, want := e.entryOnOld(d, en, row)
			add("pgbouncer", ok, "%s: %s → %s:%s/%s (want the %s: %s)", c.name(), en.Database, row["host"], row["port"], row["database"], d.old, want)
		}
	}
	// No old write-lock holder: the lock layer would wait for it.
	half := cfg.PauseBudget.D() / 2
	rows, err := d.oldCtl.Query(ctx, longWritersSQL(cfg), fmt.Sprintf("%d milliseconds", half.Milliseconds()))
	if err != nil {
		add("long-writers", false, "%v", err)
	} else {
		var found []string
		for rows.Next() {
			var pid int32
			var user, app string
			var age float64
			if rows.Scan(&pid, &user, &app, &age) == nil {
				found = append(found, fmt.Sprintf("pid %d (%s, %s) for %.1fs", pid, user, app, age))
			}
		}
		rows.Close()
		if len(found) > 0 {
			add("long-writers", false, "transactions hold write locks on migrated tables for more than pause_budget/2 (%s): %s", half, strings.Join(found, "; "))
		} else {
			add("long-writers", true, "no write lock older than %s", half)
		}
	}
	// Doctor (no probes: they would create subscriptions).
	if withDoctor {
		// Bounded: a catalog read blocked by a lock must not hang the command.
		dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		f := doctor.Collect(dctx, e.Opener, doctor.CollectOptions{NoProbe: true, State: st, WALSample: e.Opts.DoctorWALSample})
		cancel()
		rep := doctor.Evaluate(cfg, f)
		var blockers []string
		for _, c := range rep.Checks {
			if c.Status == "fail" && c.Severity == "blocker" {
				s := c.ID
				if c.Object != nil {
					s += " " + *c.Object
				}
				blockers = append(blockers, s)
			}
		}
		sort.Strings(blockers)
		if len(blockers) > 0 {
			add("doctor", false, "blockers: %s", strings.Join(blockers, ", "))
		} else {
			add("doctor", true, "no blockers (%d warnings)", rep.Summary.Warnings)
		}
	}
	if !cs.OK() {
		return cs
	}
	// Lag ≤ enter_bytes for stable_samples samples in a row, within enter_timeout.
	deadline := time.Now().Add(cfg.Lag.EnterTimeout.D())
	good := 0
	var last int64 = -1
	for good < cfg.Lag.StableSamples {
		l, _, _, err := slotLag(ctx, d.oldCtl, d.slot)
		if err != nil {
			add("lag", false, "%v", err)
			return cs
		}
		last = l
		if l >= 0 && l <= cfg.Lag.EnterBytes {
			good++
		} else {
			good = 0
		}
		if good >= cfg.Lag.StableSamples {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			add("lag", false, "lag %d bytes > enter_bytes %d after enter_timeout %s", last, cfg.Lag.EnterBytes, cfg.Lag.EnterTimeout.D())
			return cs
		}
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Lag.SampleInterval.D()):
		}
	}
	add("lag", true, "%d bytes ≤ enter_bytes %d for %d samples", last, cfg.Lag.EnterBytes, cfg.Lag.StableSamples)
	// Errors must not have risen while sampling.
	if sub.errors != nil {
		again, err := readSub(ctx, d.newCtl, d.sub)
		if err == nil && again.errors != nil && *again.errors > *sub.errors {
			add("apply-errors", false, "%s: apply/sync errors rose from %d to %d", d.sub, *sub.errors, *again.errors)
		} else if err == nil && again.errors != nil {
			add("apply-errors", true, "%s: %d, unchanged", d.sub, *again.errors)
		}
	}
	return cs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// slotLag is migrate.md §5's lag: the side's current WAL LSN minus the
// slot's confirmed_flush_lsn (never sent_lsn, which hid 172 kB at 1.5k TPS).
func slotLag(ctx context.Context, c *db.Conn, slot string) (lag int64, active bool, walStatus string, err error) {
	q := `SELECT coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn), -1)::int8, active, '' FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	if c.Version >= 130000 {
		q = `SELECT coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn), -1)::int8, active, coalesce(wal_status, '') FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	}
	err = c.QueryRow(ctx, q, slot).Scan(&lag, &active, &walStatus)
	return
}

// entryOnOld reports whether a SHOW DATABASES row sends the entry's traffic
// to the old side. Before a cutover that is the source: its URL host or
// src_ip, or a local address (pgbouncer runs on the source's node, often on
// the unix socket), with its port and database. Before a rollback it is
// exactly what the cutover wrote: the entry's target.
func (e *Engine) entryOnOld(d direction, en config.PgbouncerEntry, row map[string]string) (bool, string) {
	if d.kind == "rollback" {
		ci, err := config.ParseConninfo(en.Target)
		if err != nil {
			return false, "a valid target"
		}
		host, _ := ci.Get("host")
		port := 5432
		if p, ok := ci.Get("port"); ok {
			port, _ = strconv.Atoi(p)
		}
		dbname, ok := ci.Get("dbname")
		if !ok {
			dbname = en.Database
		}
		return pointsAt(row, host, port, dbname), fmt.Sprintf("%s:%d/%s", host, port, dbname)
	}
	u := d.oldURL
	want := fmt.Sprintf("%s (or %s, or local):%d/%s", u.Host(), e.Cfg.SrcIP, u.Port(), d.oldDB)
	h := row["host"]
	local := h == "" || strings.HasPrefix(h, "/") || h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
	if h != u.Host() && h != e.Cfg.SrcIP && !local {
		return false, want
	}
	p := row["port"]
	if p == "" {
		p = "5432"
	}
	d2 := row["database"]
	if d2 == "" {
		d2 = row["name"]
	}
	return p == strconv.Itoa(u.Port()) && d2 == d.oldDB, want
}
