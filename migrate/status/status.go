// Package status implements `pgmigrate status` (migrate.md §8): per-table
// state, true lag (source current WAL LSN − slot confirmed_flush_lsn),
// rates, ETA, health; JSON, text with progress bars, Prometheus metrics.
// It never writes and never creates a slot.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// Table states (§12.7), exactly.
const (
	Pending = "pending"
	Copying = "copying"
	Copied  = "copied"
	Syncing = "syncing"
	Ready   = "ready"
	Error   = "error"
)

// Slot is the source slot's view.
type Slot struct {
	Name          string `json:"name"`
	Exists        bool   `json:"exists"`
	Active        bool   `json:"active"`
	LagBytes      *int64 `json:"lag_bytes"`
	RetainedBytes *int64 `json:"retained_bytes"`
	WALStatus     string `json:"wal_status"`
	SafeWALSize   *int64 `json:"safe_wal_size"`
}

// Source is the source side.
type Source struct {
	Up   bool   `json:"up"`
	LSN  string `json:"lsn,omitempty"`
	Slot *Slot  `json:"slot"`
	Err  string `json:"error,omitempty"`
}

// Subscription is the destination's subscription.
type Subscription struct {
	Name            string `json:"name"`
	Exists          bool   `json:"exists"`
	Enabled         bool   `json:"enabled"`
	WorkerPID       *int32 `json:"worker_pid"`
	ReceivedLSN     string `json:"received_lsn,omitempty"`
	LatestEndLSN    string `json:"latest_end_lsn,omitempty"`
	ApplyErrorCount *int64 `json:"apply_error_count"`
	SyncErrorCount  *int64 `json:"sync_error_count"`
}

// Destination is the destination side.
type Destination struct {
	Up           bool          `json:"up"`
	Subscription *Subscription `json:"subscription"`
	Err          string        `json:"error,omitempty"`
}

// Table is one migrated table.
type Table struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	BytesTotal int64  `json:"bytes_total"`
	BytesDone  int64  `json:"bytes_done"`
	RowsDone   int64  `json:"rows_done"`
}

// Rates are EWMAs in bytes/s (null until two samples).
type Rates struct {
	Copy  *float64 `json:"copy"`
	Apply *float64 `json:"apply"`
	WAL   *float64 `json:"wal"`
}

// ETA in seconds (null when unknown or not positive).
type ETA struct {
	Copy    *float64 `json:"copy"`
	Catchup *float64 `json:"catchup"`
}

// Switch is the last cutover (or rollback) as cutover.json (rollback.json)
// recorded it.
type Switch struct {
	Attempt        int                `json:"attempt"`
	Outcome        string             `json:"outcome"`
	Reason         string             `json:"reason,omitempty"`
	Switch         string             `json:"switch"`
	FenceLSN       string             `json:"fence_lsn,omitempty"`
	FenceAcquireMs *float64           `json:"fence_acquire_ms"`
	PauseMs        *float64           `json:"pause_ms"`
	PartsMs        map[string]float64 `json:"parts_ms,omitempty"`
	FenceApplied   string             `json:"fence_applied,omitempty"`
	DstWritable    string             `json:"dst_writable,omitempty"`
	Verify         string             `json:"verify,omitempty"`
	Warnings       []string           `json:"warnings"`
}

// Reverse is reverse replication after a cutover with rollback enabled:
// the slot on the destination, the subscription on the source.
type Reverse struct {
	Slot         *Slot         `json:"slot"`
	Subscription *Subscription `json:"subscription"`
}

// Status is one refresh.
type Status struct {
	Format      int         `json:"format"`
	Migration   string      `json:"migration"`
	Phase       string      `json:"phase"`
	Step        string      `json:"step"`
	Health      []string    `json:"health"`
	Cutover     *Switch     `json:"cutover"`
	Rollback    *Switch     `json:"rollback,omitempty"`
	Source      Source      `json:"source"`
	Destination Destination `json:"destination"`
	Reverse     *Reverse    `json:"reverse,omitempty"`
	Tables      []Table     `json:"tables"`
	Rates       Rates       `json:"rates"`
	ETASeconds  ETA         `json:"eta_seconds"`
	// VerifyMismatched is the mismatched table count of the last
	// verify.json (metrics only).
	VerifyMismatched *int `json:"-"`

	at        time.Time
	walPos    int64 // source WAL position in bytes
	applyPos  int64 // confirmed_flush in bytes
	copyBytes int64
}

// Healthy reports whether the status means exit 0.
func (s *Status) Healthy() bool { return len(s.Health) == 0 }

// Watcher keeps the previous sample for rates (EWMA, 30 s half-life).
type Watcher struct {
	Cfg    *config.Config
	Opener *db.Opener
	Dir    string

	src, dst *db.Conn
	prev     *Status
	rates    Rates
	errBase  *int64
}

// Close closes the sessions.
func (w *Watcher) Close() {
	w.src.Close()
	w.dst.Close()
	w.src, w.dst = nil, nil
}

func (w *Watcher) conn(ctx context.Context, side string) (*db.Conn, error) {
	c := &w.src
	if side == db.Destination {
		c = &w.dst
	}
	if *c != nil && !(*c).IsClosed() {
		return *c, nil
	}
	conn, err := w.Opener.Open(ctx, side, "status")
	if err != nil && w.Opener.Monitor {
		// No monitor credentials that work: fall back to the admin URL.
		o := *w.Opener
		o.Monitor = false
		conn, err = o.Open(ctx, side, "status")
	}
	if err != nil {
		return nil, err
	}
	*c = conn
	return conn, nil
}

// queryRows runs sql and calls each for every row; the first Scan or
// iteration error ends it.
func queryRows(ctx context.Context, c *db.Conn, sql string, args []any, each func(pgx.Rows) error) error {
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// readFailed records a catalog read that failed on an up side: the field
// it feeds stays empty, so status must not look healthy (an unreadable
// slot is not an absent one).
func (s *Status) readFailed(c *db.Conn, what string, err error) {
	msg := "cannot read " + what + " on the " + c.Side + ": " + c.Redact(err.Error())
	s.Health = append(s.Health, msg)
	side := &s.Source.Err
	if c.Side == db.Destination {
		side = &s.Destination.Err
	}
	if *side == "" {
		*side = msg
	}
}

// Sample takes one refresh.
func (w *Watcher) Sample(ctx context.Context) *Status {
	recs, jerr := journal.Read(w.Dir)
	st := journal.Reduce(recs)
	s := &Status{Format: 1, Migration: w.Cfg.Names.ID, Phase: st.Phase, Step: st.LastStep, Health: []string{}, Tables: []Table{}, at: time.Now()}
	if jerr != nil {
		// Without the journal, phase, step and table progress are unknown:
		// that is not a healthy migration.
		s.Health = append(s.Health, "cannot read the journal: "+jerr.Error())
	}
	n := w.Cfg.Names
	src, err := w.conn(ctx, db.Source)
	if err != nil {
		s.Source.Err = err.Error()
		s.Health = append(s.Health, "source down")
	} else {
		s.Source.Up = true
		w.sampleSource(ctx, src, s)
	}
	dst, err := w.conn(ctx, db.Destination)
	if err != nil {
		s.Destination.Err = err.Error()
		s.Health = append(s.Health, "destination down")
	} else {
		s.Destination.Up = true
		w.sampleDest(ctx, dst, s)
	}
	w.tables(ctx, st, dst, s)
	s.Cutover = readSwitch(w.Dir, "cutover.json")
	s.Rollback = readSwitch(w.Dir, "rollback.json")
	s.VerifyMismatched = readVerifyMismatched(w.Dir)
	if w.Cfg.Rollback.Enabled && (st.Phase == "cut-over" || st.Phase == "rollback") && src != nil && dst != nil {
		s.Reverse = w.sampleReverse(ctx, src, dst, s)
		if sub := s.Reverse.Subscription; sub != nil && sub.Exists && sub.Enabled && sub.WorkerPID == nil {
			s.Health = append(s.Health, "no apply worker for "+sub.Name)
		}
		if sl := s.Reverse.Slot; sl != nil && sl.Exists && (sl.WALStatus == "unreserved" || sl.WALStatus == "lost") {
			s.Health = append(s.Health, "slot "+sl.Name+" wal_status "+sl.WALStatus)
		}
	}
	if sl := s.Source.Slot; sl != nil && sl.Exists {
		switch sl.WALStatus {
		case "unreserved", "lost":
			s.Health = append(s.Health, "slot "+n.Slot+" wal_status "+sl.WALStatus)
		}
	}
	if sub := s.Destination.Subscription; sub != nil && sub.Exists {
		if sub.Enabled && sub.WorkerPID == nil {
			s.Health = append(s.Health, "no apply worker for "+n.Sub)
		}
		if sub.ApplyErrorCount != nil {
			total := *sub.ApplyErrorCount
			if sub.SyncErrorCount != nil {
				total += *sub.SyncErrorCount
			}
			if w.errBase != nil && total > *w.errBase {
				s.Health = append(s.Health, "subscription errors rising")
			}
			w.errBase = &total
		}
	}
	if st.LastStep != "" && st.Steps[st.LastStep].Status == "failed" {
		s.Health = append(s.Health, "step "+st.LastStep+" failed: "+st.Steps[st.LastStep].Error)
	}
	w.computeRates(st, s)
	w.prev = s
	return s
}

// readSwitch reads the summary of cutover.json or rollback.json (nil when
// there is none yet).
func readSwitch(dir, name string) *Switch {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil
	}
	var raw struct {
		Switch
		Times map[string]struct {
			TS string `json:"ts"`
		} `json:"times"`
	}
	if json.Unmarshal(data, &raw) != nil {
		return nil
	}
	sw := raw.Switch
	sw.FenceApplied = raw.Times["fence_applied"].TS
	sw.DstWritable = raw.Times["dst_writable"].TS
	if sw.Warnings == nil {
		sw.Warnings = []string{}
	}
	return &sw
}

func readVerifyMismatched(dir string) *int {
	data, err := os.ReadFile(filepath.Join(dir, "verify.json"))
	if err != nil {
		return nil
	}
	var v struct {
		Summary struct {
			Mismatched int `json:"mismatched"`
		} `json:"summary"`
	}
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	return &v.Summary.Mismatched
}

// sampleReverse reads the reverse slot (destination) and subscription
// (source).
func (w *Watcher) sampleReverse(ctx context.Context, src, dst *db.Conn, s *Status) *Reverse {
	n := w.Cfg.Names
	r := &Reverse{Slot: &Slot{Name: n.RSlot}, Subscription: &Subscription{Name: n.RSub}}
	sl := r.Slot
	q := `SELECT active, pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::int8,
		pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::int8, coalesce(wal_status, ''), safe_wal_size
		FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	switch err := dst.QueryRow(ctx, q, sl.Name).Scan(&sl.Active, &sl.LagBytes, &sl.RetainedBytes, &sl.WALStatus, &sl.SafeWALSize); {
	case err == nil:
		sl.Exists = true
	case !errors.Is(err, pgx.ErrNoRows):
		s.readFailed(dst, "slot "+sl.Name, err)
	}
	sub := r.Subscription
	err := src.QueryRow(ctx, `SELECT s.subenabled, st.pid, coalesce(st.received_lsn::text, ''), coalesce(st.latest_end_lsn::text, '')
		FROM pg_catalog.pg_subscription s
		LEFT JOIN pg_catalog.pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
		WHERE s.subname = $1`, sub.Name).Scan(&sub.Enabled, &sub.WorkerPID, &sub.ReceivedLSN, &sub.LatestEndLSN)
	switch {
	case err == nil:
		sub.Exists = true
		if src.Version >= 150000 {
			err := src.QueryRow(ctx, "SELECT apply_error_count, sync_error_count FROM pg_catalog.pg_stat_subscription_stats WHERE subname = $1", sub.Name).
				Scan(&sub.ApplyErrorCount, &sub.SyncErrorCount)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				s.readFailed(src, "pg_stat_subscription_stats", err)
			}
		}
	case !errors.Is(err, pgx.ErrNoRows):
		s.readFailed(src, "subscription "+sub.Name, err)
	}
	return r
}

func (w *Watcher) sampleSource(ctx context.Context, c *db.Conn, s *Status) {
	if err := c.QueryRow(ctx, "SELECT pg_catalog.pg_current_wal_lsn()::text, pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), '0/0')::int8").Scan(&s.Source.LSN, &s.walPos); err != nil {
		s.readFailed(c, "the current WAL position", err)
	}
	sl := &Slot{Name: w.Cfg.Names.Slot}
	q := `SELECT active, pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::int8,
		pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::int8, '', NULL::int8,
		pg_catalog.pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::int8
		FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	if c.Version >= 130000 {
		q = `SELECT active, pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::int8,
			pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::int8, coalesce(wal_status, ''), safe_wal_size,
			pg_catalog.pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::int8
			FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`
	}
	var applied *int64
	err := c.QueryRow(ctx, q, sl.Name).Scan(&sl.Active, &sl.LagBytes, &sl.RetainedBytes, &sl.WALStatus, &sl.SafeWALSize, &applied)
	if err == nil {
		sl.Exists = true
		if applied != nil {
			s.applyPos = *applied
		}
	} else if !errors.Is(err, pgx.ErrNoRows) {
		s.readFailed(c, "slot "+sl.Name, err)
	}
	s.Source.Slot = sl
}

func (w *Watcher) sampleDest(ctx context.Context, c *db.Conn, s *Status) {
	sub := &Subscription{Name: w.Cfg.Names.Sub}
	err := c.QueryRow(ctx, `SELECT s.subenabled, st.pid, coalesce(st.received_lsn::text, ''), coalesce(st.latest_end_lsn::text, '')
		FROM pg_catalog.pg_subscription s
		LEFT JOIN pg_catalog.pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
		WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`, sub.Name).
		Scan(&sub.Enabled, &sub.WorkerPID, &sub.ReceivedLSN, &sub.LatestEndLSN)
	switch {
	case err == nil:
		sub.Exists = true
		if c.Version >= 150000 {
			err := c.QueryRow(ctx, "SELECT apply_error_count, sync_error_count FROM pg_catalog.pg_stat_subscription_stats WHERE subname = $1", sub.Name).
				Scan(&sub.ApplyErrorCount, &sub.SyncErrorCount)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				s.readFailed(c, "pg_stat_subscription_stats", err)
			}
		}
	case !errors.Is(err, pgx.ErrNoRows):
		s.readFailed(c, "subscription "+sub.Name, err)
	}
	s.Destination.Subscription = sub
}

// tables derives per-table states from the journal (snapshot path) or
// pg_subscription_rel (subscription path), plus in-flight COPY progress.
func (w *Watcher) tables(ctx context.Context, st *journal.State, dst *db.Conn, s *Status) {
	names := st.Tables
	prog := map[string]journal.TableProgress{}
	for _, p := range st.Copy {
		prog[p.Table] = p
		if len(names) == 0 {
			names = append(names, p.Table)
		}
	}
	inflight := map[string]int64{}
	subState := map[string]string{}
	if dst != nil {
		if dst.Version >= 140000 {
			err := queryRows(ctx, dst, `SELECT n.nspname::text, c.relname::text, p.bytes_processed
				FROM pg_catalog.pg_stat_progress_copy p JOIN pg_catalog.pg_class c ON c.oid = p.relid
				JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE p.datname = current_database()`, nil, func(rows pgx.Rows) error {
				var ns, rel string
				var b int64
				if err := rows.Scan(&ns, &rel, &b); err != nil {
					return err
				}
				inflight[sqltext.QualifiedIdent(ns, rel)] += b
				return nil
			})
			if err != nil {
				s.readFailed(dst, "pg_stat_progress_copy", err)
			}
		}
		if w.Cfg.Copy.Method == "subscription" {
			err := queryRows(ctx, dst, `SELECT n.nspname::text, c.relname::text, r.srsubstate::text
				FROM pg_catalog.pg_subscription_rel r JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid
				JOIN pg_catalog.pg_class c ON c.oid = r.srrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
				WHERE s.subname = $1`, []any{w.Cfg.Names.Sub}, func(rows pgx.Rows) error {
				var ns, rel, ss string
				if err := rows.Scan(&ns, &rel, &ss); err != nil {
					return err
				}
				t := sqltext.QualifiedIdent(ns, rel)
				subState[t] = ss
				if !slices.Contains(names, t) {
					names = append(names, t)
				}
				return nil
			})
			if err != nil {
				s.readFailed(dst, "pg_subscription_rel", err)
			}
		}
	}
	sort.Strings(names)
	copyFailed := st.Steps[plan.CopyData].Status == "failed"
	synced := st.Done(plan.WaitSync) || st.Done(plan.Streaming)
	for _, name := range names {
		p := prog[name]
		t := Table{Name: name, BytesTotal: p.BytesTotal, BytesDone: p.BytesDone, RowsDone: p.RowsDone}
		if w.Cfg.Copy.Method == "subscription" {
			t.State = map[string]string{"i": Pending, "d": Copying, "f": Copied, "s": Syncing, "r": Ready}[subState[name]]
			if t.State == "" {
				t.State = Pending
			}
			if b, ok := inflight[name]; ok {
				t.BytesDone = b
			}
		} else {
			switch {
			case st.Done(plan.CopyData) && synced:
				t.State = Ready
			case st.Done(plan.CopyData) && st.Steps[plan.CreateSub].Status == "done":
				t.State = Syncing
			case st.Done(plan.CopyData):
				t.State = Copied
			case copyFailed && p.ChunksDone < p.Chunks:
				t.State = Error
			case p.Chunks > 0 && p.ChunksDone >= p.Chunks:
				t.State = Copied
			case p.ChunksDone > 0 || inflight[name] > 0:
				t.State = Copying
				t.BytesDone += inflight[name]
				// COPY stream bytes and on-disk sizes differ: never show more than 99 %.
				if t.BytesDone >= t.BytesTotal && t.BytesTotal > 0 {
					t.BytesDone = t.BytesTotal * 99 / 100
				}
			default:
				t.State = Pending
			}
			if t.State == Copied || t.State == Syncing || t.State == Ready {
				t.BytesDone = t.BytesTotal
			}
		}
		s.copyBytes += t.BytesDone
		s.Tables = append(s.Tables, t)
	}
}

const halfLife = 30 * time.Second

func ewma(prev *float64, sample float64, dt time.Duration) *float64 {
	if prev == nil {
		return &sample
	}
	alpha := 1 - math.Exp2(-dt.Seconds()/halfLife.Seconds())
	v := *prev + alpha*(sample-*prev)
	return &v
}

func (w *Watcher) computeRates(st *journal.State, s *Status) {
	p := w.prev
	if p != nil {
		dt := s.at.Sub(p.at)
		if dt > 0 {
			if s.walPos > 0 && p.walPos > 0 {
				w.rates.WAL = ewma(w.rates.WAL, float64(s.walPos-p.walPos)/dt.Seconds(), dt)
			}
			if s.applyPos > 0 && p.applyPos > 0 {
				w.rates.Apply = ewma(w.rates.Apply, float64(s.applyPos-p.applyPos)/dt.Seconds(), dt)
			}
			w.rates.Copy = ewma(w.rates.Copy, float64(s.copyBytes-p.copyBytes)/dt.Seconds(), dt)
		}
	} else if st.CopyStartTS != "" && !st.Done(plan.CopyData) {
		// One-shot: the copy's average rate from the journal.
		if t0, err := time.Parse("2006-01-02T15:04:05.000Z07:00", st.CopyStartTS); err == nil {
			if secs := s.at.Sub(t0).Seconds(); secs > 0 {
				r := float64(s.copyBytes) / secs
				w.rates.Copy = &r
			}
		}
	}
	s.Rates = w.rates
	var total int64
	for _, t := range s.Tables {
		total += t.BytesTotal
	}
	if r := s.Rates.Copy; r != nil && *r > 0 && !st.Done(plan.CopyData) && total > s.copyBytes {
		v := float64(total-s.copyBytes) / *r
		s.ETASeconds.Copy = &v
	}
	// Catch-up ETA = lag / (apply − WAL rate), null when not positive.
	if sl := s.Source.Slot; sl != nil && sl.LagBytes != nil && s.Rates.Apply != nil && s.Rates.WAL != nil {
		if d := *s.Rates.Apply - *s.Rates.WAL; d > 0 {
			v := float64(*sl.LagBytes) / d
			s.ETASeconds.Catchup = &v
		}
	}
}

// Human renders bytes with binary units.
func Human(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
