package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

type subInfo struct {
	exists   bool
	enabled  bool
	conninfo string // "" when unreadable (not a superuser)
	slot     string
}

func (e *Exec) subscription(ctx context.Context) (subInfo, error) {
	var s subInfo
	var ci, slot *string
	err := e.Dst.QueryRow(ctx, `SELECT subenabled,
			CASE WHEN pg_catalog.has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT') THEN subconninfo END,
			subslotname::text
		FROM pg_catalog.pg_subscription
		WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`, e.Cfg.Names.Sub).Scan(&s.enabled, &ci, &slot)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	s.exists = true
	if ci != nil {
		s.conninfo = *ci
	}
	if slot != nil {
		s.slot = *slot
	}
	return s, nil
}

// conninfoDrift compares the subscription's conninfo with sub_conn, the
// password aside.
func (e *Exec) conninfoDrift(have string) error {
	if have == "" {
		return nil
	}
	h, err := config.ParseConninfo(have)
	if err != nil {
		// Unreadable is not "no drift": the subscription may point elsewhere.
		return fmt.Errorf("subscription %s: its connection string cannot be compared with sub_conn (%v): check it by hand or run cleanup", e.Cfg.Names.Sub, err)
	}
	want := e.Cfg.SubConninfo().Without("password").Secret()
	if got := h.Without("password").Secret(); got != want {
		return fmt.Errorf("subscription %s connects with %q, but sub_conn is %q: fix sub_conn or run cleanup", e.Cfg.Names.Sub, h.String(), e.Cfg.SubConninfo().String())
	}
	return nil
}

func (e *Exec) checkCreateSub(ctx context.Context) (bool, any, error) {
	s, err := e.subscription(ctx)
	if err != nil || !s.exists {
		return false, nil, err
	}
	if err := e.conninfoDrift(s.conninfo); err != nil {
		return false, nil, err
	}
	return s.enabled, nil, nil
}

func (e *Exec) streaming() bool {
	switch e.Cfg.Subscription.Streaming {
	case "on":
		return true
	case "off":
		return false
	}
	return e.Src.Version >= 140000 && e.Dst.Version >= 140000
}

func (e *Exec) applyCreateSub(ctx context.Context) (any, error) {
	s, err := e.subscription(ctx)
	if err != nil {
		return nil, err
	}
	objs := []journal.ObjectInfo{{Kind: "subscription", Name: e.Cfg.Names.Sub, Side: db.Destination}}
	if e.Cfg.Copy.Method == "subscription" {
		objs = append(objs, journal.ObjectInfo{Kind: "slot", Name: e.Cfg.Names.Slot, Side: db.Source})
	}
	if s.exists {
		if !e.state().HasObject("subscription", e.Cfg.Names.Sub) {
			return nil, fmt.Errorf("subscription %s exists on the destination but is not journaled (foreign-objects): run cleanup --abandon", e.Cfg.Names.Sub)
		}
		if err := e.exec(ctx, plan.CreateSub, e.Dst, "ALTER SUBSCRIPTION "+sqltext.Ident(e.Cfg.Names.Sub)+" ENABLE"); err != nil {
			return nil, err
		}
		return map[string]any{"objects": objs, "enabled": true}, nil
	}
	ci := e.Cfg.SubscriptionConninfo(e.Opener.Env)
	secret := plan.CreateSubSQL(e.Cfg, ci.Secret(), e.streaming())
	redacted := plan.CreateSubSQL(e.Cfg, ci.String(), e.streaming())
	// Journal the intent first: a crash right after CREATE SUBSCRIPTION must
	// still let cleanup find it.
	if _, err := e.Journal.Append(plan.CreateSub, journal.EventIntent, db.Destination, map[string]any{"objects": objs}); err != nil {
		return nil, err
	}
	start := time.Now()
	tag, err := e.Dst.Exec(ctx, secret)
	if err != nil {
		return nil, err
	}
	if _, err := e.Journal.Append(plan.CreateSub, journal.EventExec, db.Destination, journal.ExecInfo{SQL: redacted, Millis: time.Since(start).Milliseconds(), Rows: tag.RowsAffected()}); err != nil {
		return nil, err
	}
	return map[string]any{"objects": objs, "conninfo": ci.String()}, nil
}

// Lag reads the slot's lag in bytes: the source's current WAL LSN minus the
// slot's confirmed_flush_lsn (migrate.md §5: never sent_lsn).
func Lag(ctx context.Context, src *db.Conn, slot string) (lag int64, active bool, walStatus string, err error) {
	q := `SELECT coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn), -1)::int8, active, '' FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	if src.Version >= 130000 {
		q = `SELECT coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn), -1)::int8, active, coalesce(wal_status, '') FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	}
	err = src.QueryRow(ctx, q, slot).Scan(&lag, &active, &walStatus)
	return
}

func (e *Exec) applyWaitSync(ctx context.Context) (any, error) {
	iv := e.PollInterval
	if iv == 0 {
		iv = time.Second
	}
	need := e.Cfg.Lag.StableSamples
	good := 0
	var lastLag int64
	for good < need {
		lag, _, ws, err := Lag(ctx, e.Src, e.Cfg.Names.Slot)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("slot %s does not exist on the source", e.Cfg.Names.Slot)
		}
		if err != nil {
			return nil, err
		}
		if ws == "lost" {
			return nil, fmt.Errorf("%w: slot %s has wal_status lost", ErrSlotInvalidated, e.Cfg.Names.Slot)
		}
		notReady := 0
		if e.Cfg.Copy.Method == "subscription" {
			if err := e.Dst.QueryRow(ctx, `SELECT count(*) FILTER (WHERE r.srsubstate <> 'r') FROM pg_catalog.pg_subscription_rel r
				JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid WHERE s.subname = $1`, e.Cfg.Names.Sub).Scan(&notReady); err != nil {
				return nil, err
			}
		}
		lastLag = lag
		if lag >= 0 && lag <= e.Cfg.Lag.ReadyBytes && notReady == 0 {
			good++
		} else {
			good = 0
		}
		e.log().Debug("wait-sync", "lag_bytes", lag, "tables_not_ready", notReady, "stable", good)
		if good >= need {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(iv):
		}
	}
	if e.Cfg.Objects.Matviews == "refresh" {
		stmts, err := e.Dst.Generate(ctx, plan.MatviewRefreshGenerator(e.Cfg))
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			if err := e.exec(ctx, plan.WaitSync, e.Dst, s); err != nil {
				return nil, err
			}
		}
	}
	if e.Cfg.Copy.Method == "subscription" {
		if err := e.analyze(ctx, plan.WaitSync); err != nil {
			return nil, err
		}
	}
	return map[string]int64{"lag_bytes": lastLag}, nil
}
