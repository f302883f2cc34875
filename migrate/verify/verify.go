// Package verify compares the migrated tables on both sides (migrate.md §6):
// row counts and order-independent checksums per table, drill-down by
// primary-key ranges on a mismatch, sequences compared; verify.json.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// Table statuses.
const (
	Equal    = "equal"
	Mismatch = "mismatch"
	Unstable = "unstable"
	Skipped  = "skipped"
)

// Range is one drilled-down key range.
type Range struct {
	From      *string  `json:"from"` // ROW(key)::text, null = open
	To        *string  `json:"to"`
	RowsSrc   int64    `json:"rows_src"`
	RowsDst   int64    `json:"rows_dst"`
	Missing   []string `json:"missing"`   // keys only on the source
	Extra     []string `json:"extra"`     // keys only on the destination
	Different []string `json:"different"` // keys whose row differs
}

// TableResult is one table of verify.json.
type TableResult struct {
	Table   string  `json:"table"`
	RowsSrc int64   `json:"rows_src"`
	RowsDst int64   `json:"rows_dst"`
	SumSrc  string  `json:"sum_src"`
	SumDst  string  `json:"sum_dst"`
	Status  string  `json:"status"`
	Reason  string  `json:"reason,omitempty"`
	Ranges  []Range `json:"ranges"`
}

// SeqResult is one sequence.
type SeqResult struct {
	Name   string `json:"name"`
	Src    *int64 `json:"src"`
	Dst    *int64 `json:"dst"`
	OK     bool   `json:"ok"`
	Status string `json:"status"` // ok, behind, not-yet-synced, missing
}

// Summary counts the outcome.
type Summary struct {
	Tables          int  `json:"tables"`
	Equal           int  `json:"equal"`
	Mismatched      int  `json:"mismatched"`
	Unstable        int  `json:"unstable"`
	Skipped         int  `json:"skipped"`
	SequencesBehind int  `json:"sequences_behind"`
	OK              bool `json:"ok"`
}

// Report is verify.json.
type Report struct {
	Format    int           `json:"format"`
	Mode      string        `json:"mode"` // live | pinned
	Hash      string        `json:"hash"` // hash | count
	Migration string        `json:"migration"`
	Tables    []TableResult `json:"tables"`
	Sequences []SeqResult   `json:"sequences"`
	Summary   Summary       `json:"summary"`
}

// Failed reports exit 1: a mismatch or a lagging sequence.
func (r *Report) Failed() bool { return !r.Summary.OK }

// JSON renders verify.json.
func (r *Report) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// WriteText prints one line per table that is not equal, then a summary.
func (r *Report) WriteText(w io.Writer) {
	for _, t := range r.Tables {
		if t.Status == Equal {
			continue
		}
		fmt.Fprintf(w, "%-8s %s: rows %d/%d", strings.ToUpper(t.Status), t.Table, t.RowsSrc, t.RowsDst)
		if t.Reason != "" {
			fmt.Fprintf(w, " (%s)", t.Reason)
		}
		fmt.Fprintln(w)
		for _, rg := range t.Ranges {
			for _, k := range rg.Missing {
				fmt.Fprintf(w, "         missing on destination: %s\n", k)
			}
			for _, k := range rg.Extra {
				fmt.Fprintf(w, "         extra on destination:   %s\n", k)
			}
			for _, k := range rg.Different {
				fmt.Fprintf(w, "         different:              %s\n", k)
			}
		}
	}
	for _, s := range r.Sequences {
		if s.Status == "behind" || s.Status == "missing" {
			fmt.Fprintf(w, "SEQUENCE %s %s: source %s, destination %s\n", s.Status, s.Name, ptr(s.Src), ptr(s.Dst))
		}
	}
	s := r.Summary
	fmt.Fprintf(w, "verify (%s, %s): %d tables, %d equal, %d mismatched, %d unstable, %d skipped; %d sequences behind\n",
		r.Mode, r.Hash, s.Tables, s.Equal, s.Mismatched, s.Unstable, s.Skipped, s.SequencesBehind)
}

func ptr(p *int64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// Options tune a verification.
type Options struct {
	Tables []string // globs on schema.table (unquoted); empty = all
	// CatchupTimeout bounds the wait for the replica to confirm an LSN.
	CatchupTimeout time.Duration
}

// Verifier runs live verification.
type Verifier struct {
	Cfg    *config.Config
	Opener *db.Opener
	State  *journal.State
	Log    *slog.Logger
	Opts   Options
}

// sessionSQL makes every type's text form identical on both sides (§6).
const sessionSQL = `SET DateStyle = 'ISO, YMD'; SET IntervalStyle = postgres; SET TimeZone = 'UTC';
SET extra_float_digits = 3; SET bytea_output = hex; SET lc_monetary = 'C'; SET search_path = ''`

func (v *Verifier) open(ctx context.Context, side string) (*db.Conn, error) {
	c, err := v.Opener.Open(ctx, side, "verify")
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, sessionSQL); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

type tableMeta struct {
	name    string // "s"."t"
	plain   string // s.t for glob matching
	kind    string
	cols    []column
	keyCols []column
}

type column struct {
	name string // quoted
	typ  string // format_type
}

// rowExpr is ROW(<columns in source attnum order>)::text, floats as their
// binary send form so text rounding cannot differ (§6).
func rowExpr(cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		switch c.typ {
		case "real":
			parts[i] = "pg_catalog.float4send(" + c.name + ")"
		case "double precision":
			parts[i] = "pg_catalog.float8send(" + c.name + ")"
		default:
			parts[i] = c.name
		}
	}
	return "ROW(" + strings.Join(parts, ", ") + ")::text"
}

func hashExpr(rowText string, newHash bool) string {
	if newHash {
		return "pg_catalog.hashtextextended(" + rowText + ", 0)"
	}
	return "('x' || left(pg_catalog.md5(" + rowText + "), 16))::bit(64)::int8"
}

func keyExpr(keys []column) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return "ROW(" + strings.Join(names, ", ") + ")"
}

func (v *Verifier) tables(ctx context.Context, src *db.Conn) ([]tableMeta, error) {
	var list []string
	if v.State != nil && len(v.State.Tables) > 0 {
		list = v.State.Tables
	} else {
		rows, err := src.Query(ctx, plan.MigratedTablesSQL(v.Cfg))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s, t, k string
			var oid int64
			if err := rows.Scan(&s, &t, &k, &oid); err != nil {
				rows.Close()
				return nil, err
			}
			list = append(list, sqltext.QualifiedIdent(s, t))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []tableMeta
	for _, name := range list {
		var nsp, rel, kind string
		err := src.QueryRow(ctx, "SELECT n.nspname::text, c.relname::text, c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = pg_catalog.to_regclass($1)", name).Scan(&nsp, &rel, &kind)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // vanished from the source since it was listed
		}
		if err != nil {
			return nil, err
		}
		m := tableMeta{name: name, plain: nsp + "." + rel, kind: kind}
		if !v.selected(m.plain) {
			continue
		}
		if m.cols, err = queryColumns(ctx, src, `SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
			WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, name); err != nil {
			return nil, err
		}
		// Key: the primary key, else the replica identity index (first leaf for a partitioned root).
		if m.keyCols, err = queryColumns(ctx, src, `SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
			FROM (SELECT i.indrelid, i.indkey FROM pg_catalog.pg_index i WHERE i.indrelid = pg_catalog.to_regclass($1) AND (i.indisprimary OR i.indisreplident)
			      ORDER BY i.indisprimary DESC LIMIT 1) x
			CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
			JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.ord`, name); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// queryColumns reads (name, type) rows for table name; names come back
// quoted. A row that cannot be read is an error: a column left out would
// change the row hash or the key without a word.
func queryColumns(ctx context.Context, c *db.Conn, sql, name string) ([]column, error) {
	rows, err := c.Query(ctx, sql, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var col column
		if err := rows.Scan(&col.name, &col.typ); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", name, err)
		}
		col.name = sqltext.Ident(col.name)
		cols = append(cols, col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", name, err)
	}
	return cols, nil
}

func (v *Verifier) selected(plain string) bool {
	if len(v.Opts.Tables) == 0 {
		return true
	}
	for _, g := range v.Opts.Tables {
		if ok, _ := path.Match(g, plain); ok {
			return true
		}
	}
	return false
}

type agg struct {
	rows int64
	sum  string
}

func (v *Verifier) aggregate(ctx context.Context, c *db.Conn, m tableMeta, where string, newHash bool) (agg, error) {
	from := m.name
	if m.kind == "r" {
		from = "ONLY " + m.name
	}
	sum := "'0'"
	if v.Cfg.Verify.Mode != "count" {
		sum = "coalesce(sum(" + hashExpr(rowExpr(m.cols), newHash) + "::numeric), 0)::text"
	}
	q := "SELECT count(*), " + sum + " FROM " + from
	if where != "" {
		q += " WHERE " + where
	}
	var a agg
	err := c.QueryRow(ctx, q).Scan(&a.rows, &a.sum)
	if err != nil {
		return a, fmt.Errorf("%s %s: %s", c.Side, m.name, c.Redact(err.Error()))
	}
	return a, nil
}

// pair is one worker's sessions.
type pair struct{ src, dst *db.Conn }

// Run verifies live (unpinned): tables while streaming.
func (v *Verifier) Run(ctx context.Context) (*Report, error) {
	src, err := v.open(ctx, db.Source)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := v.open(ctx, db.Destination)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	metas, err := v.tables(ctx, src)
	if err != nil {
		return nil, err
	}
	jobs := v.Cfg.Verify.Jobs
	if jobs > len(metas) {
		jobs = len(metas)
	}
	pairs := []pair{{src, dst}}
	for i := 1; i < jobs; i++ {
		s, err := v.open(ctx, db.Source)
		if err != nil {
			return nil, err
		}
		d, err := v.open(ctx, db.Destination)
		if err != nil {
			s.Close()
			return nil, err
		}
		defer s.Close()
		defer d.Close()
		pairs = append(pairs, pair{s, d})
	}
	return v.compare(ctx, pairs, metas, false)
}

// Snapshots are the snapshots cutover's pin step exported (§5.2 step 7).
type Snapshots struct {
	Src, Dst string
}

// Pair is one worker's sessions, opened with Session.
type Pair struct {
	Src, Dst *db.Conn
}

// Session opens a verification session on side with §6's session settings.
// Cutover opens its pinned workers before the fence: once the source's
// connection limit is 0 it refuses new non-superuser sessions.
func (v *Verifier) Session(ctx context.Context, side string) (*db.Conn, error) {
	return v.open(ctx, side)
}

// RunPinned verifies inside the pin snapshots (pinned mode, §6): each pair
// imports them with SET TRANSACTION SNAPSHOT, so both sides are compared at
// the fence whatever is written afterwards; there is no recheck. Sequences
// must be at or past the source by seq_offset. The pairs are left open, their
// transactions ended.
func (v *Verifier) RunPinned(ctx context.Context, snaps Snapshots, in []Pair) (*Report, error) {
	if len(in) == 0 {
		return nil, errors.New("pinned verification needs at least one pair of sessions")
	}
	var pairs []pair
	for _, p := range in {
		for _, s := range []struct {
			c    *db.Conn
			snap string
		}{{p.Src, snaps.Src}, {p.Dst, snaps.Dst}} {
			if _, err := s.c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
				return nil, err
			}
			defer func(c *db.Conn) { _, _ = c.Exec(context.Background(), "ROLLBACK") }(s.c)
			if _, err := s.c.Exec(ctx, "SET TRANSACTION SNAPSHOT "+sqltext.Literal(s.snap)); err != nil {
				return nil, err
			}
		}
		pairs = append(pairs, pair{p.Src, p.Dst})
	}
	metas, err := v.tables(ctx, pairs[0].src)
	if err != nil {
		return nil, err
	}
	return v.compare(ctx, pairs, metas, true)
}

func (v *Verifier) compare(ctx context.Context, pairs []pair, metas []tableMeta, pinned bool) (*Report, error) {
	mode := "live"
	if pinned {
		mode = "pinned"
	}
	rep := &Report{Format: 1, Mode: mode, Hash: v.Cfg.Verify.Mode, Migration: v.Cfg.Names.ID, Tables: []TableResult{}, Sequences: []SeqResult{}}
	src, dst := pairs[0].src, pairs[0].dst
	newHash := src.Version >= 110000 && dst.Version >= 110000
	if len(pairs) > len(metas) && len(metas) > 0 {
		pairs = pairs[:len(metas)]
	}
	results := make([]TableResult, len(metas))
	work := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for _, p := range pairs {
		wg.Add(1)
		go func(p pair) {
			defer wg.Done()
			for i := range work {
				r, err := v.table(ctx, p, metas[i], newHash, pinned)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					r = TableResult{Table: metas[i].name, Status: Skipped, Reason: err.Error(), Ranges: []Range{}}
				}
				results[i] = r
			}
		}(p)
	}
	for i := range metas {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep.Tables = results
	var err error
	rep.Sequences, err = v.sequences(ctx, src, dst, pinned)
	if err != nil {
		return nil, err
	}
	rep.summarize()
	return rep, nil
}

func (r *Report) summarize() {
	s := Summary{Tables: len(r.Tables)}
	for _, t := range r.Tables {
		switch t.Status {
		case Equal:
			s.Equal++
		case Mismatch:
			s.Mismatched++
		case Unstable:
			s.Unstable++
		case Skipped:
			s.Skipped++
		}
	}
	for _, q := range r.Sequences {
		if !q.OK {
			s.SequencesBehind++
		}
	}
	s.OK = s.Mismatched == 0 && s.SequencesBehind == 0 && s.Skipped == 0
	r.Summary = s
}

// table compares one table; on a mismatch it waits for the replica to
// confirm the source's LSN and recomputes, up to verify.recheck times.
func (v *Verifier) table(ctx context.Context, p pair, m tableMeta, newHash, pinned bool) (TableResult, error) {
	r := TableResult{Table: m.name, Ranges: []Range{}}
	var lastSrc agg
	changes := 0
	lagging := "" // set when a recheck ran before the replica caught up
	// The primary is the source while streaming, the destination while
	// reverse replication runs after a cutover.
	primary, slot := p.src, v.Cfg.Names.Slot
	if v.State != nil && v.State.Done("cutover") {
		primary, slot = p.dst, v.Cfg.Names.RSlot
	}
	for attempt := 0; ; attempt++ {
		var lsn string
		if err := primary.QueryRow(ctx, "SELECT pg_catalog.pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
			return r, err
		}
		if attempt > 0 && !pinned {
			ok, err := v.waitConfirmed(ctx, primary, slot, lsn)
			if err != nil {
				return r, err
			}
			lagging = ""
			if !ok {
				lagging = "the replica had not confirmed " + lsn + " after " + v.catchupTimeout().String() + ": it lags, rows may still arrive"
			}
		}
		a, err := v.aggregate(ctx, p.src, m, "", newHash)
		if err != nil {
			return r, err
		}
		b, err := v.aggregate(ctx, p.dst, m, "", newHash)
		if err != nil {
			if db.Code(err) == "42P01" {
				r.RowsSrc, r.SumSrc, r.Status, r.Reason = a.rows, a.sum, Mismatch, "missing on the destination"
				return r, nil
			}
			return r, err
		}
		if attempt > 0 && a != lastSrc {
			changes++
		}
		lastSrc = a
		r.RowsSrc, r.SumSrc, r.RowsDst, r.SumDst = a.rows, a.sum, b.rows, b.sum
		if a == b {
			r.Status = Equal
			return r, nil
		}
		if pinned || attempt >= v.Cfg.Verify.Recheck {
			// Pinned snapshots cannot change: a recheck would see the same.
			break
		}
	}
	if !pinned && v.Cfg.Verify.Recheck > 0 && changes == v.Cfg.Verify.Recheck {
		r.Status, r.Reason = Unstable, "the source changed on every pass"
		return r, nil
	}
	r.Status = Mismatch
	r.Reason = lagging
	if len(m.keyCols) == 0 {
		r.Reason = joinReasons("no key: compared at table level only", lagging)
		return r, nil
	}
	ranges, err := v.drill(ctx, p, m, newHash)
	if err != nil {
		return r, err
	}
	r.Ranges = ranges
	return r, nil
}

func (v *Verifier) catchupTimeout() time.Duration {
	if v.Opts.CatchupTimeout > 0 {
		return v.Opts.CatchupTimeout
	}
	return 30 * time.Second
}

func joinReasons(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// waitConfirmed waits until the slot confirms lsn (the replica applied
// everything the source had written when the pass began). It reports
// false when the catch-up timeout passed first: the recheck still runs, but
// a mismatch it finds may be lag, and the table's reason says so.
func (v *Verifier) waitConfirmed(ctx context.Context, src *db.Conn, slot, lsn string) (bool, error) {
	deadline := time.Now().Add(v.catchupTimeout())
	for {
		var ok bool
		err := src.QueryRow(ctx, "SELECT confirmed_flush_lsn >= $1::text::pg_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $2", lsn, slot).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return true, nil // no slot (after cutover): nothing to wait for
		}
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// bound is a key as text per column, for literals.
type bound []string

func (m tableMeta) boundSQL(b bound) string {
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = sqltext.Literal(v) + "::" + m.keyCols[i].typ
	}
	return "ROW(" + strings.Join(parts, ", ") + ")"
}

func (m tableMeta) boundText(b bound) *string {
	if b == nil {
		return nil
	}
	s := "(" + strings.Join(b, ",") + ")"
	return &s
}

func (m tableMeta) rangeWhere(from, to bound) string {
	var c []string
	k := keyExpr(m.keyCols)
	if from != nil {
		c = append(c, k+" >= "+m.boundSQL(from))
	}
	if to != nil {
		c = append(c, k+" < "+m.boundSQL(to))
	}
	return strings.Join(c, " AND ")
}

// bounds returns every n-th key (as text) of the side's rows in [from, to).
func (v *Verifier) bounds(ctx context.Context, c *db.Conn, m tableMeta, from, to bound, every int64) ([]bound, error) {
	if every < 1 {
		every = 1
	}
	sel := make([]string, len(m.keyCols))
	names := make([]string, len(m.keyCols))
	for i, k := range m.keyCols {
		sel[i] = k.name + "::text"
		names[i] = k.name
	}
	where := m.rangeWhere(from, to)
	if where != "" {
		where = " WHERE " + where
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM (SELECT " + strings.Join(names, ", ") + ", row_number() OVER (ORDER BY " + strings.Join(names, ", ") + ") AS pgm_rn FROM " + m.name + where + ") s WHERE (pgm_rn - 1) % " + fmt.Sprint(every) + " = 0 AND pgm_rn > 1 ORDER BY pgm_rn"
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", c.Side, m.name, c.Redact(err.Error()))
	}
	defer rows.Close()
	var out []bound
	for rows.Next() {
		vals := make([]*string, len(m.keyCols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		b := make(bound, len(vals))
		for i, p := range vals {
			if p != nil {
				b[i] = *p
			}
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

type span struct{ from, to bound }

// drill splits the table on its key into verify.chunk_rows ranges (bounded
// on the source), then splits each mismatching range 16-way until it holds
// ≤ verify.leaf_rows rows, and finally merges (key, hash) lists.
func (v *Verifier) drill(ctx context.Context, p pair, m tableMeta, newHash bool) ([]Range, error) {
	cfg := v.Cfg.Verify
	bs, err := v.bounds(ctx, p.src, m, nil, nil, cfg.ChunkRows)
	if err != nil {
		return nil, err
	}
	var spans []span
	var prev bound
	for _, b := range bs {
		spans = append(spans, span{prev, b})
		prev = b
	}
	spans = append(spans, span{prev, nil})
	var out []Range
	reported := 0
	for len(spans) > 0 && reported < cfg.MaxReportRows {
		sp := spans[0]
		spans = spans[1:]
		where := m.rangeWhere(sp.from, sp.to)
		a, err := v.aggregate(ctx, p.src, m, where, newHash)
		if err != nil {
			return nil, err
		}
		b, err := v.aggregate(ctx, p.dst, m, where, newHash)
		if err != nil {
			return nil, err
		}
		if a == b {
			continue
		}
		big := a.rows
		side := p.src
		if b.rows > big {
			big, side = b.rows, p.dst
		}
		if big > cfg.LeafRows {
			sub, err := v.bounds(ctx, side, m, sp.from, sp.to, (big+15)/16)
			if err != nil {
				return nil, err
			}
			var parts []span
			prev := sp.from
			for _, x := range sub {
				parts = append(parts, span{prev, x})
				prev = x
			}
			parts = append(parts, span{prev, sp.to})
			if len(parts) > 1 {
				spans = append(parts, spans...)
				continue
			}
		}
		rg := Range{From: m.boundText(sp.from), To: m.boundText(sp.to), RowsSrc: a.rows, RowsDst: b.rows, Missing: []string{}, Extra: []string{}, Different: []string{}}
		sk, err := v.keyHashes(ctx, p.src, m, where, newHash)
		if err != nil {
			return nil, err
		}
		dk, err := v.keyHashes(ctx, p.dst, m, where, newHash)
		if err != nil {
			return nil, err
		}
		var keys []string
		for k := range sk {
			keys = append(keys, k)
		}
		for k := range dk {
			if _, ok := sk[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if reported >= cfg.MaxReportRows {
				break
			}
			sh, inS := sk[k]
			dh, inD := dk[k]
			switch {
			case inS && !inD:
				rg.Missing = append(rg.Missing, k)
			case !inS && inD:
				rg.Extra = append(rg.Extra, k)
			case sh != dh:
				rg.Different = append(rg.Different, k)
			default:
				continue
			}
			reported++
		}
		out = append(out, rg)
	}
	return out, nil
}

func (v *Verifier) keyHashes(ctx context.Context, c *db.Conn, m tableMeta, where string, newHash bool) (map[string]string, error) {
	q := "SELECT " + keyExpr(m.keyCols) + "::text, " + hashExpr(rowExpr(m.cols), newHash) + "::text FROM " + m.name
	if where != "" {
		q += " WHERE " + where
	}
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", c.Side, m.name, c.Redact(err.Error()))
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, h string
		if err := rows.Scan(&k, &h); err != nil {
			return nil, err
		}
		out[k] = h
	}
	return out, rows.Err()
}

// sequences compares last_value; before the cutover's sequence step they
// are only reported as not-yet-synced (§12.1). Pinned (inside cutover, after
// the sequence step) the destination must be ahead by seq_offset in each
// sequence's direction (I3). Sequences are not MVCC: the snapshots do not pin
// them, so the values read are the current ones.
func (v *Verifier) sequences(ctx context.Context, src, dst *db.Conn, pinned bool) ([]SeqResult, error) {
	synced := pinned || v.State != nil && (v.State.Done("cutover.sequences") || v.State.Done("cutover"))
	var offset int64
	if pinned {
		offset = v.Cfg.SeqOffset
	}
	read := func(c *db.Conn) (map[string]*int64, map[string]int64, error) {
		rows, err := c.Query(ctx, plan.SequencesSQL(v.Cfg))
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		vals, incs := map[string]*int64{}, map[string]int64{}
		for rows.Next() {
			var s, n string
			var last *int64
			var inc, mn, mx int64
			var cyc bool
			if err := rows.Scan(&s, &n, &last, &inc, &mn, &mx, &cyc); err != nil {
				return nil, nil, err
			}
			k := sqltext.QualifiedIdent(s, n)
			vals[k], incs[k] = last, inc
		}
		return vals, incs, rows.Err()
	}
	sv, inc, err := read(src)
	if err != nil {
		return nil, err
	}
	dv, _, err := read(dst)
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range sv {
		names = append(names, k)
	}
	sort.Strings(names)
	out := []SeqResult{}
	for _, n := range names {
		r := SeqResult{Name: n, Src: sv[n], OK: true}
		d, present := dv[n]
		r.Dst = d
		switch {
		case !present:
			r.Status = "missing"
			r.OK = !synced
			if !synced {
				r.Status = "not-yet-synced"
			}
		case !synced:
			r.Status = "not-yet-synced"
		case r.Src == nil:
			r.Status = "ok"
		case d == nil:
			r.Status, r.OK = "behind", false
		case inc[n] >= 0 && *d < *r.Src+offset, inc[n] < 0 && *d > *r.Src-offset:
			r.Status, r.OK = "behind", false
		default:
			r.Status = "ok"
		}
		out = append(out, r)
	}
	return out, nil
}
