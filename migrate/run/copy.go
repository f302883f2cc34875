package run

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// applyCreateSlot creates the slot on a replication connection with an
// exported snapshot and keeps that connection open: the snapshot dies with
// it (CREATE_REPLICATION_SLOT … EXPORT_SNAPSHOT, PostgreSQL "Streaming
// Replication Protocol"). A leftover slot is dropped first (WAIT).
func (e *Exec) applyCreateSlot(ctx context.Context) (any, error) {
	e.Close()
	repl, err := e.Opener.OpenReplication(ctx, "create-slot")
	if err != nil {
		return nil, err
	}
	slot := e.Cfg.Names.Slot
	exists, active, _, err := e.slotState(ctx)
	if err != nil {
		repl.Close(ctx)
		return nil, err
	}
	if exists {
		if active {
			e.log().Warn("slot is active; waiting for its user to go", "slot", slot)
		}
		if _, err := e.Journal.Append(plan.CreateSlot, journal.EventIntent, db.Source, map[string]string{"drop_slot": slot}); err != nil {
			repl.Close(ctx)
			return nil, err
		}
		if err := pglogrepl.DropReplicationSlot(ctx, repl, slot, pglogrepl.DropReplicationSlotOptions{Wait: true}); err != nil {
			repl.Close(ctx)
			return nil, fmt.Errorf("drop leftover slot %s: %s", slot, e.Src.Redact(err.Error()))
		}
	}
	// The slot name is restricted to [a-z0-9_] (config.SlotName), so the
	// unquoted name pglogrepl sends is safe.
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{
		SnapshotAction: "EXPORT_SNAPSHOT", Mode: pglogrepl.LogicalReplication,
	})
	if err != nil {
		repl.Close(ctx)
		return nil, fmt.Errorf("create slot %s: %s", slot, e.Src.Redact(err.Error()))
	}
	e.repl, e.snapshot = repl, res.SnapshotName
	return map[string]any{
		"slot":             slot,
		"consistent_point": res.ConsistentPoint,
		"snapshot":         res.SnapshotName,
		"objects":          []journal.ObjectInfo{{Kind: "slot", Name: slot, Side: db.Source}},
	}, nil
}

// leaf is one source relation to copy, loaded through its top.
type leaf struct {
	leafName string // "s"."leaf"
	topName  string // "s"."top" (COPY target on the destination)
	oid      int64
	bytes    int64    // pg_relation_size: chunking
	total    int64    // pg_table_size (with TOAST): progress totals
	cols     []string // quoted, generated columns left out
	pk       string   // single integer primary key column (quoted), for < 14 chunking
}

type chunk struct {
	leaf  *leaf
	n     int
	where string
	est   int64
	// freeze: the whole table in this chunk, loaded by TRUNCATE ONLY +
	// COPY … (FREEZE) in one destination transaction (see useFreeze).
	freeze bool
}

func (e *Exec) leaves(ctx context.Context) ([]*leaf, error) {
	rows, err := e.Src.Query(ctx, plan.LeavesSQL(e.Cfg))
	if err != nil {
		return nil, err
	}
	var out []*leaf
	for rows.Next() {
		var ls, ln, ts, tn string
		var oid int64
		if err := rows.Scan(&ls, &ln, &oid, &ts, &tn); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, &leaf{leafName: sqltext.QualifiedIdent(ls, ln), topName: sqltext.QualifiedIdent(ts, tn), oid: oid})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	gen := "true"
	if e.Src.Version >= 120000 {
		gen = "a.attgenerated = ''"
	}
	for _, l := range out {
		if err := e.Src.QueryRow(ctx, "SELECT pg_catalog.pg_relation_size($1::oid), pg_catalog.pg_table_size($1::oid)", l.oid).Scan(&l.bytes, &l.total); err != nil {
			return nil, err
		}
		cols, err := e.Src.QueryStrings(ctx, "SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND "+gen+" ORDER BY a.attnum", l.oid)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			l.cols = append(l.cols, sqltext.Ident(c))
		}
		pk, err := e.Src.QueryStrings(ctx, `SELECT a.attname::text FROM pg_catalog.pg_index i
			JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
			WHERE i.indrelid = $1::oid AND i.indisprimary AND i.indnatts = 1 AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)`, l.oid)
		if err != nil {
			return nil, err
		}
		if len(pk) == 1 {
			l.pk = sqltext.Ident(pk[0])
		}
	}
	return out, nil
}

// chunks splits leaves: CTID page ranges on ≥ 14 (TID range scans), the
// last one open; older servers split a single integer primary key by
// min/max read in the snapshot; anything else is one chunk. Largest first.
func (e *Exec) chunks(ctx context.Context, w *db.Conn, leaves []*leaf) ([]chunk, error) {
	var out []chunk
	cb := e.Cfg.Copy.ChunkBytes
	freezable, err := e.freezable(ctx, leaves)
	if err != nil {
		return nil, err
	}
	for _, l := range leaves {
		n := int((l.bytes + cb - 1) / cb)
		freeze := freezable[l.topName] && e.useFreeze(n)
		if n <= 1 || freeze {
			out = append(out, chunk{leaf: l, where: "", est: l.bytes, freeze: freeze})
			continue
		}
		switch {
		case e.Src.Version >= 140000:
			pages := cb / 8192
			for i := 0; i < n; i++ {
				where := fmt.Sprintf("ctid >= '(%d,0)'::tid", int64(i)*pages)
				if i < n-1 {
					where += fmt.Sprintf(" AND ctid < '(%d,0)'::tid", int64(i+1)*pages)
				}
				out = append(out, chunk{leaf: l, n: i, where: where, est: l.bytes / int64(n)})
			}
		case l.pk != "":
			var lo, hi *int64
			if err := w.QueryRow(ctx, "SELECT min("+l.pk+")::int8, max("+l.pk+")::int8 FROM ONLY "+l.leafName).Scan(&lo, &hi); err != nil {
				return nil, err
			}
			if lo == nil {
				out = append(out, chunk{leaf: l, est: l.bytes})
				continue
			}
			step := (*hi-*lo)/int64(n) + 1
			for i := 0; i < n; i++ {
				a := *lo + int64(i)*step
				var where string
				switch {
				case i == 0:
					where = fmt.Sprintf("%s < %d", l.pk, a+step)
				case i == n-1:
					where = fmt.Sprintf("%s >= %d", l.pk, a)
				default:
					where = fmt.Sprintf("%s >= %d AND %s < %d", l.pk, a, l.pk, a+step)
				}
				out = append(out, chunk{leaf: l, n: i, where: where, est: l.bytes / int64(n)})
			}
		default:
			out = append(out, chunk{leaf: l, est: l.bytes})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].leaf.bytes != out[j].leaf.bytes {
			return out[i].leaf.bytes > out[j].leaf.bytes
		}
		if out[i].leaf.leafName != out[j].leaf.leafName {
			return out[i].leaf.leafName < out[j].leaf.leafName
		}
		return out[i].n < out[j].n
	})
	return out, nil
}

// useFreeze decides whether a table of n chunks (by chunk_bytes) that
// freezable admits is loaded in one stream with COPY FREEZE (copy.freeze):
//
//   - Why: rows loaded with FREEZE into a table truncated in the same
//     transaction arrive frozen and all-visible (PostgreSQL docs, COPY:
//     FREEZE). Without it the first scan after the load (post-data's index
//     builds, ANALYZE, the first VACUUM) sets hint bits on every tuple and
//     dirties, then rewrites, every page: 1.28 GB pgbench_accounts on the
//     2-vCPU lab built its primary key in 1.5 s after a FREEZE load and in
//     1.8–2.6 s after a plain one.
//   - Cost: one destination transaction per table, so a table's chunks no
//     longer load in parallel (tables still do). On a CPU-bound destination
//     with few cores the parallel chunks gained nothing (BenchmarkInitialCopy).
//
// auto freezes tables that fit one chunk anyway (nothing lost) and, when
// copy.workers ≤ 2, larger ones too; on freezes every freezable table; off
// never does.
func (e *Exec) useFreeze(n int) bool {
	switch e.Cfg.Copy.Freeze {
	case "off":
		return false
	case "on":
		return true
	}
	return n <= 1 || e.Cfg.Copy.Workers <= 2
}

// freezable returns the destination tops a FREEZE load can go into: plain
// tables (COPY FREEZE refuses partitioned ones, so leaves loaded through
// their root never freeze) that no foreign key references (TRUNCATE ONLY
// would fail; pg_dump puts foreign keys in post-data, so a copied schema
// has none yet). One catalog query for all tables.
func (e *Exec) freezable(ctx context.Context, leaves []*leaf) (map[string]bool, error) {
	var tops []string
	for _, l := range leaves {
		if l.leafName == l.topName {
			tops = append(tops, l.topName)
		}
	}
	if e.Cfg.Copy.Freeze == "off" || len(tops) == 0 {
		return nil, nil
	}
	rows, err := e.Dst.Query(ctx, `SELECT t.name FROM unnest($1::text[]) AS t(name)
		JOIN pg_catalog.pg_class c ON c.oid = t.name::regclass
		WHERE c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.oid)`, tops)
	if err != nil {
		return nil, fmt.Errorf("destination tables for copy.freeze: %s", e.Dst.Redact(err.Error()))
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, rows.Err()
}

// snapshotConn opens a source session inside the exported snapshot.
func (e *Exec) snapshotConn(ctx context.Context) (*db.Conn, error) {
	c, err := e.Opener.Open(ctx, db.Source, "copy")
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Exec(ctx, "SET TRANSACTION SNAPSHOT "+sqltext.Literal(e.snapshot)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (e *Exec) binaryFormat(ctx context.Context) bool {
	switch e.Cfg.Copy.Format {
	case "binary":
		return true
	case "text":
		return false
	}
	return e.Src.Version/10000 == e.Dst.Version/10000
}

// copyChunk pipes one chunk in-process from source COPY TO to destination
// COPY FROM, in one destination transaction with synchronous_commit off.
func (e *Exec) copyChunk(ctx context.Context, src, dst *db.Conn, ch chunk, binary bool) (rows, bytes int64, err error) {
	l := ch.leaf
	cols := strings.Join(l.cols, ", ")
	where := ""
	if ch.where != "" {
		where = " WHERE " + ch.where
	}
	var opts []string
	if binary {
		opts = append(opts, "FORMAT binary")
	}
	outOpt := ""
	if len(opts) > 0 {
		outOpt = " (" + strings.Join(opts, ", ") + ")"
	}
	if ch.freeze {
		opts = append(opts, "FREEZE")
	}
	inOpt := ""
	if len(opts) > 0 {
		inOpt = " (" + strings.Join(opts, ", ") + ")"
	}
	out := "COPY (SELECT " + cols + " FROM ONLY " + l.leafName + where + ") TO STDOUT" + outOpt
	in := "COPY " + l.topName + " (" + cols + ") FROM STDIN" + inOpt
	if _, err := dst.Exec(ctx, "BEGIN"); err != nil {
		return 0, 0, err
	}
	rollback := func() { _, _ = dst.Exec(context.Background(), "ROLLBACK") }
	if _, err := dst.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		rollback()
		return 0, 0, err
	}
	if !e.Cfg.Schema.Copy {
		// The schema pre-existed: its triggers and FKs must not fire on copied rows.
		if _, err := dst.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			rollback()
			return 0, 0, err
		}
	}
	if ch.freeze {
		// FREEZE needs the table truncated in this very transaction; a
		// retry's rollback restores nothing but the empty table.
		if _, err := dst.Exec(ctx, "TRUNCATE ONLY "+l.topName); err != nil {
			rollback()
			return 0, 0, err
		}
	}
	// The source stream feeds CopyFrom directly (db.CopyOut's doc): no
	// goroutine, pipe or per-row hand-off in between. CopyFrom sends each
	// Read (up to 64 kB) as one CopyData message.
	rd, err := src.CopyOut(ctx, out)
	if err != nil {
		rollback()
		return 0, 0, fmt.Errorf("source %s: %s", l.leafName, src.Redact(err.Error()))
	}
	tag, dstErr := dst.PgConn().CopyFrom(ctx, rd, in)
	if srcErr := rd.Err(); srcErr != nil {
		// CopyFrom sent CopyFail; the destination's error only echoes this.
		rollback()
		return 0, 0, fmt.Errorf("source %s: %s", l.leafName, src.Redact(srcErr.Error()))
	}
	if dstErr != nil {
		rollback()
		return 0, 0, fmt.Errorf("destination %s: %s", l.topName, dst.Redact(dstErr.Error()))
	}
	if _, err := dst.Exec(ctx, "COMMIT"); err != nil {
		return 0, 0, err
	}
	return tag.RowsAffected(), rd.Bytes(), nil
}

func (e *Exec) applyCopyData(ctx context.Context) (any, error) {
	if e.repl == nil || e.snapshot == "" {
		return nil, errors.New("no exported snapshot in this process: copy-data must follow create-slot (re-run to start from create-slot)")
	}
	defer e.Close() // the snapshot is no longer needed afterwards
	tables, err := e.migratedTables(ctx)
	if err != nil {
		return nil, err
	}
	leaves, err := e.leaves(ctx)
	if err != nil {
		return nil, err
	}
	// Truncate first: a resumed copy, or copy.truncate_target (doctor
	// blocked any other non-empty table).
	if len(tables) > 0 {
		if err := e.exec(ctx, plan.CopyData, e.Dst, "TRUNCATE "+strings.Join(tables, ", ")); err != nil {
			return nil, err
		}
	}
	first, err := e.snapshotConn(ctx)
	if err != nil {
		return nil, err
	}
	chunks, err := e.chunks(ctx, first, leaves)
	if err != nil {
		first.Close()
		return nil, err
	}
	perTop := map[string]*journal.CopyTablePlan{}
	for _, ch := range chunks {
		p := perTop[ch.leaf.topName]
		if p == nil {
			p = &journal.CopyTablePlan{Table: ch.leaf.topName}
			perTop[ch.leaf.topName] = p
		}
		p.Chunks++
	}
	for _, l := range leaves {
		perTop[l.topName].Bytes += l.total
	}
	cp := journal.CopyPlan{Attempt: e.state().CopyAttempts, Format: map[bool]string{true: "binary", false: "text"}[e.binaryFormat(ctx)]}
	for _, t := range tables {
		if p := perTop[t]; p != nil {
			cp.Tables = append(cp.Tables, *p)
		} else {
			cp.Tables = append(cp.Tables, journal.CopyTablePlan{Table: t})
		}
	}
	if _, err := e.Journal.Append(plan.CopyData, journal.EventExec, "", map[string]any{"plan": cp}); err != nil {
		first.Close()
		return nil, err
	}
	// copy-data's start record carries no plan (the Runner wrote it); the
	// reducer reads table totals from this exec record.
	_ = e.Journal.WriteState()

	binary := e.binaryFormat(ctx)
	workers := e.Cfg.Copy.Workers
	if workers > len(chunks) {
		workers = len(chunks)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan chunk)
	errs := make(chan error, workers+2)
	var totalRows, totalBytes atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		var src *db.Conn
		if w == 0 {
			src = first
		}
		go func(src *db.Conn) {
			defer wg.Done()
			var dst *db.Conn
			defer func() { src.Close(); dst.Close() }()
			for ch := range work {
				var lastErr error
				for attempt := 0; attempt < 4; attempt++ { // 1 try + 3 retries while the snapshot lives
					if ctx.Err() != nil {
						return
					}
					var err error
					if src == nil {
						if src, err = e.snapshotConn(ctx); err != nil {
							lastErr = err
							continue
						}
					}
					if dst == nil {
						if dst, err = e.Opener.Open(ctx, db.Destination, "copy"); err != nil {
							lastErr = err
							continue
						}
					}
					start := time.Now()
					rows, n, err := e.copyChunk(ctx, src, dst, ch, binary)
					if err != nil {
						lastErr = err
						e.log().Warn("chunk failed", "table", ch.leaf.leafName, "chunk", ch.n, "attempt", attempt+1, "err", err.Error())
						src.Close()
						dst.Close()
						src, dst = nil, nil
						continue
					}
					totalRows.Add(rows)
					totalBytes.Add(n)
					_, _ = e.Journal.Append(plan.CopyData, journal.EventExec, "", journal.ChunkDone{
						Table: ch.leaf.topName, Leaf: ch.leaf.leafName, Chunk: ch.n, Rows: rows, Bytes: n, Millis: time.Since(start).Milliseconds()})
					lastErr = nil
					break
				}
				if lastErr != nil {
					errs <- lastErr
					cancel()
					return
				}
			}
		}(src)
	}
	if workers == 0 {
		first.Close()
	}
	go func() {
		defer close(work)
		for _, ch := range chunks {
			select {
			case work <- ch:
			case <-ctx.Done():
				return
			}
		}
	}()
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()
	// Slot safety: sample the slot while the copy runs.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); e.watchSlot(watchCtx, errs, cancel) }()
	<-workersDone
	stopWatch()
	<-watchDone
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.printf("copied %d rows, %d MB in %d chunks\n", totalRows.Load(), totalBytes.Load()>>20, len(chunks))
	return map[string]int64{"rows": totalRows.Load(), "bytes": totalBytes.Load(), "chunks": int64(len(chunks))}, nil
}

// watchSlot samples the slot every SlotSampleInterval: wal_status lost
// fails the copy ("slot invalidated"); unreserved is logged.
func (e *Exec) watchSlot(ctx context.Context, errs chan<- error, cancel func()) {
	iv := e.SlotSampleInterval
	if iv == 0 {
		iv = 10 * time.Second
	}
	if e.Src.Version < 130000 {
		return
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ws string
		c, err := e.Opener.Open(ctx, db.Source, "slot-watch")
		if err != nil {
			continue
		}
		err = c.QueryRow(ctx, "SELECT coalesce(wal_status, '') FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", e.Cfg.Names.Slot).Scan(&ws)
		c.Close()
		if err != nil {
			continue
		}
		switch ws {
		case "lost":
			errs <- fmt.Errorf("%w: slot %s lost its WAL during the copy; re-run to start again from create-slot", ErrSlotInvalidated, e.Cfg.Names.Slot)
			cancel()
			return
		case "unreserved":
			e.log().Warn("slot retention is beyond max_slot_wal_keep_size", "slot", e.Cfg.Names.Slot)
		}
	}
}
