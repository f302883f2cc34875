package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/doctor"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// ErrBlocked means doctor found blockers (exit 1).
var ErrBlocked = errors.New("doctor found blockers")

// ErrNoKey means create-pub found a table without replica identity right
// before publishing it (exit 1; publishing would break its UPDATE/DELETE).
var ErrNoKey = errors.New("refusing to publish a table without primary key or replica identity")

// ErrSlotInvalidated means the slot's WAL was removed (wal_status lost).
var ErrSlotInvalidated = errors.New("slot invalidated")

// Exec is the real Executor: it talks to both sides.
type Exec struct {
	Cfg     *config.Config
	Plan    *plan.Plan
	Opener  *db.Opener
	Journal *journal.Journal
	Log     *slog.Logger
	Out     io.Writer // progress and the "ready for cutover" line
	Dir     string    // migration directory (expanded)
	Doctor  doctor.CollectOptions

	Src, Dst *db.Conn

	repl     *pgconn.PgConn // holds the exported snapshot until copy-data ends
	snapshot string

	// PollInterval is wait-sync's sampling period (1 s; tests shorten it).
	PollInterval time.Duration
	// SlotSampleInterval is the slot safety sampling during copy (10 s).
	SlotSampleInterval time.Duration
}

// Close releases the replication connection.
func (e *Exec) Close() {
	if e.repl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = e.repl.Close(ctx)
		cancel()
		e.repl = nil
	}
}

// SideOf names the side a step acts on, for journal records.
func SideOf(step string) string {
	switch step {
	case plan.FixIdentity, plan.PrepareSource, plan.CreatePub, plan.CreateSlot:
		return db.Source
	case plan.CopySchema, plan.PostData, plan.CreateSub, plan.PrepareReverse:
		return db.Destination
	}
	return ""
}

func (e *Exec) state() *journal.State { return journal.Reduce(e.Journal.Records()) }

func (e *Exec) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

func (e *Exec) printf(format string, args ...any) {
	if e.Out != nil {
		fmt.Fprintf(e.Out, format, args...)
	}
}

// exec runs one statement on c and journals it (redacted) as "exec".
func (e *Exec) exec(ctx context.Context, step string, c *db.Conn, sql string) error {
	start := time.Now()
	tag, err := c.Exec(ctx, sql)
	if err != nil {
		return err
	}
	_, jerr := e.Journal.Append(step, journal.EventExec, c.Side, journal.ExecInfo{SQL: c.Redact(sql), Millis: time.Since(start).Milliseconds(), Rows: tag.RowsAffected()})
	return jerr
}

// execRetry runs a DDL statement under lock_timeout, retrying lock
// timeouts (55P03) with backoff base·2ⁿ capped at 2 s.
func (e *Exec) execRetry(ctx context.Context, step string, c *db.Conn, sql string, lockTimeout time.Duration, retries int, base time.Duration) error {
	if _, err := c.Exec(ctx, "SET lock_timeout = "+sqltext.Literal(fmt.Sprintf("%dms", lockTimeout.Milliseconds()))); err != nil {
		return err
	}
	defer func() { _, _ = c.Exec(context.Background(), "RESET lock_timeout") }()
	var err error
	for n := 0; n <= retries; n++ {
		err = e.exec(ctx, step, c, sql)
		if err == nil || db.Code(err) != "55P03" {
			return err
		}
		d := base << n
		if d > 2*time.Second {
			d = 2 * time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return err
}

// Check implements Executor.
func (e *Exec) Check(ctx context.Context, step string) (bool, any, error) {
	switch step {
	case plan.Doctor, plan.WaitSync, plan.Streaming:
		return false, nil, nil // run on every invocation
	case plan.FixIdentity:
		rows, err := e.Src.Generate(ctx, plan.FixIdentityGenerator(e.Cfg))
		return err == nil && len(rows) == 0, nil, err
	case plan.PrepareSource:
		return e.checkPrepare(ctx, e.Src, true)
	case plan.CopySchema:
		return e.checkCopySchema(ctx)
	case plan.CreatePub:
		return e.checkCreatePub(ctx)
	case plan.CreateSlot:
		return e.checkCreateSlot(ctx)
	case plan.CopyData:
		st := e.state()
		return st.Done(plan.CopyData) && st.Steps[plan.CopyData].Seq > st.Steps[plan.CreateSlot].Seq, nil, nil
	case plan.PostData:
		return e.state().Done(plan.PostData), nil, nil
	case plan.CreateSub:
		return e.checkCreateSub(ctx)
	case plan.PrepareReverse:
		done, _, err := e.checkPrepare(ctx, e.Dst, false)
		if err != nil || !done {
			return false, nil, err
		}
		if hasMethod(e.Cfg, "trigger") {
			missing, err := e.Dst.Generate(ctx, plan.FenceTriggerGenerator(e.Cfg))
			if err != nil || len(missing) > 0 {
				return false, nil, err
			}
		}
		var n int
		err = e.Dst.QueryRow(ctx, "SELECT count(*) FROM pg_catalog.pg_publication WHERE pubname = $1", e.Cfg.Names.RPub).Scan(&n)
		return n == 1, nil, err
	}
	return false, nil, fmt.Errorf("unknown step %s", step)
}

// Apply implements Executor.
func (e *Exec) Apply(ctx context.Context, step string) (any, error) {
	switch step {
	case plan.Doctor:
		return e.applyDoctor(ctx)
	case plan.FixIdentity:
		return e.applyFixIdentity(ctx)
	case plan.PrepareSource:
		return e.applyPrepare(ctx, step, e.Src, true)
	case plan.CopySchema:
		return e.applyCopySchema(ctx)
	case plan.CreatePub:
		return e.applyCreatePub(ctx)
	case plan.CreateSlot:
		return e.applyCreateSlot(ctx)
	case plan.CopyData:
		return e.applyCopyData(ctx)
	case plan.PostData:
		return e.applyPostData(ctx)
	case plan.CreateSub:
		return e.applyCreateSub(ctx)
	case plan.PrepareReverse:
		return e.applyPrepareReverse(ctx)
	case plan.WaitSync:
		return e.applyWaitSync(ctx)
	case plan.Streaming:
		e.printf("ready for cutover: %s is streaming to %s.%s\n", e.Cfg.Names.ID, e.Cfg.DstCls, e.Cfg.DstDB)
		return nil, nil
	}
	return nil, fmt.Errorf("unknown step %s", step)
}

func (e *Exec) applyDoctor(ctx context.Context) (any, error) {
	opts := e.Doctor
	opts.State = e.state()
	f := doctor.Collect(ctx, e.Opener, opts)
	rep := doctor.Evaluate(e.Cfg, f)
	if err := plan.WriteFileAtomic(filepath.Join(e.Dir, "data", "doctor.json"), rep.JSON(), 0o600); err != nil {
		return nil, err
	}
	if rep.Failed(false) {
		if e.Out != nil {
			rep.WriteText(e.Out)
		}
		return nil, fmt.Errorf("%w: %d (see data/doctor.json or run pgmigrate doctor)", ErrBlocked, rep.Summary.Blockers)
	}
	return rep.Summary, nil
}

func (e *Exec) applyFixIdentity(ctx context.Context) (any, error) {
	stmts, err := e.Src.Generate(ctx, plan.FixIdentityGenerator(e.Cfg))
	if err != nil {
		return nil, err
	}
	var file strings.Builder
	for _, s := range stmts {
		file.WriteString(s + ";\n")
	}
	if err := plan.WriteFileAtomic(filepath.Join(e.Dir, "data", "fix-replica-identity.sql"), []byte(file.String()), 0o600); err != nil {
		return nil, err
	}
	for _, s := range stmts {
		if err := e.execRetry(ctx, plan.FixIdentity, e.Src, s, e.Cfg.Fence.LockTimeout.D(), 20, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return map[string]int{"fixed": len(stmts)}, nil
}

// checkPrepare: schema objects present, DDL guard (if possible), and no
// missing fence trigger.
func (e *Exec) checkPrepare(ctx context.Context, c *db.Conn, full bool) (bool, any, error) {
	var ok bool
	err := c.QueryRow(ctx, `SELECT pg_catalog.to_regclass('pgmigrate.marker') IS NOT NULL
		AND pg_catalog.to_regclass('pgmigrate.seal') IS NOT NULL
		AND EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		            WHERE n.nspname = 'pgmigrate' AND p.proname = 'fence_guard')`).Scan(&ok)
	if err != nil || !ok || !full {
		return ok, nil, err
	}
	if e.Cfg.DDLGuard == "block" {
		var super bool
		var n int
		if err := c.QueryRow(ctx, `SELECT rolsuper, (SELECT count(*) FROM pg_catalog.pg_event_trigger WHERE evtname IN ('pgmigrate_ddl_guard', 'pgmigrate_ddl_guard_drop'))
			FROM pg_catalog.pg_roles WHERE rolname = current_user`).Scan(&super, &n); err != nil {
			return false, nil, err
		}
		if super && n < 2 {
			return false, nil, nil
		}
	}
	if hasMethod(e.Cfg, "trigger") {
		missing, err := c.Generate(ctx, plan.FenceTriggerGenerator(e.Cfg))
		if err != nil || len(missing) > 0 {
			return false, nil, err
		}
	}
	return true, nil, nil
}

func hasMethod(cfg *config.Config, m string) bool {
	for _, x := range cfg.Fence.Methods {
		if x == m {
			return true
		}
	}
	return false
}

func (e *Exec) applyPrepare(ctx context.Context, step string, c *db.Conn, full bool) (any, error) {
	// The marker, the seal and the function and the guard come from the same text the plan shows.
	text := plan.PrepareSourceSQL(e.Cfg, false)
	if err := e.exec(ctx, step, c, text); err != nil {
		return nil, err
	}
	if full && e.Cfg.DDLGuard == "block" {
		if err := e.exec(ctx, step, c, plan.DDLGuardSQL(e.Cfg)); err != nil {
			return nil, err
		}
	}
	if full && hasMethod(e.Cfg, "trigger") {
		stmts, err := c.Generate(ctx, plan.FenceTriggerGenerator(e.Cfg))
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			// Triggers need a SHARE ROW EXCLUSIVE lock: wait at most 100 ms,
			// then back off (50 ms·2ⁿ, ≤ 2 s), at most 20 retries (§4.1 step 3).
			if err := e.execRetry(ctx, step, c, s, 100*time.Millisecond, 20, 50*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	objs := []journal.ObjectInfo{{Kind: "schema", Name: "pgmigrate", Side: c.Side}}
	if full && e.Cfg.DDLGuard == "block" {
		objs = append(objs, journal.ObjectInfo{Kind: "event_trigger", Name: "pgmigrate_ddl_guard", Side: c.Side})
	}
	return map[string]any{"objects": objs}, nil
}

func (e *Exec) applyPrepareReverse(ctx context.Context) (any, error) {
	if _, err := e.applyPrepare(ctx, plan.PrepareReverse, e.Dst, false); err != nil {
		return nil, err
	}
	// The destination gets the trigger layer too: rollback fences it. The
	// triggers fire for ordinary sessions only (ENABLE ORIGIN), never for
	// the apply worker, and do nothing while its seal is 0.
	if hasMethod(e.Cfg, "trigger") {
		stmts, err := e.Dst.Generate(ctx, plan.FenceTriggerGenerator(e.Cfg))
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			if err := e.execRetry(ctx, plan.PrepareReverse, e.Dst, s, 100*time.Millisecond, 20, 50*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	stmts, err := e.Dst.Generate(ctx, plan.ReversePubGenerator(e.Cfg))
	if err != nil {
		return nil, err
	}
	for _, s := range stmts {
		if err := e.exec(ctx, plan.PrepareReverse, e.Dst, s); err != nil {
			return nil, err
		}
	}
	return map[string]any{"objects": []journal.ObjectInfo{
		{Kind: "schema", Name: "pgmigrate", Side: db.Destination},
		{Kind: "publication", Name: e.Cfg.Names.RPub, Side: db.Destination},
	}}, nil
}

// migratedTables returns the migrated tables as quoted qualified names.
func (e *Exec) migratedTables(ctx context.Context) ([]string, error) {
	rows, err := e.Src.Query(ctx, plan.MigratedTablesSQL(e.Cfg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s, t, k string
		var oid int64
		if err := rows.Scan(&s, &t, &k, &oid); err != nil {
			return nil, err
		}
		out = append(out, sqltext.QualifiedIdent(s, t))
	}
	return out, rows.Err()
}

// tablesForDst returns the journaled table list, or the live one.
func (e *Exec) tablesForDst(ctx context.Context) ([]string, error) {
	if st := e.state(); len(st.Tables) > 0 {
		return st.Tables, nil
	}
	return e.migratedTables(ctx)
}

// dstExisting counts which of the tables exist on the destination.
func (e *Exec) dstExisting(ctx context.Context, tables []string) (int, error) {
	var n int
	err := e.Dst.QueryRow(ctx, "SELECT count(*) FROM unnest($1::text[]) t WHERE pg_catalog.to_regclass(t) IS NOT NULL", tables).Scan(&n)
	return n, err
}

func (e *Exec) checkCopySchema(ctx context.Context) (bool, any, error) {
	tables, err := e.migratedTables(ctx)
	if err != nil {
		return false, nil, err
	}
	n, err := e.dstExisting(ctx, tables)
	if err != nil {
		return false, nil, err
	}
	var marker bool
	if err := e.Dst.QueryRow(ctx, "SELECT pg_catalog.to_regclass('pgmigrate.marker') IS NOT NULL").Scan(&marker); err != nil {
		return false, nil, err
	}
	st := e.state()
	if !e.Cfg.Schema.Copy {
		return marker && st.Done(plan.CopySchema), nil, nil
	}
	if st.Done(plan.CopySchema) {
		if n == len(tables) && marker {
			return true, nil, nil
		}
		if n == 0 {
			return false, nil, nil // vanished: re-create
		}
		return false, nil, fmt.Errorf("copy-schema is journaled but only %d of %d migrated tables exist on the destination (blocker dst-schema)", n, len(tables))
	}
	if n == 0 {
		return false, nil, nil
	}
	if st.Started(plan.CopySchema) && n == len(tables) && marker {
		return true, nil, nil // crash between psql's commit and the done record
	}
	if st.Started(plan.CopySchema) && n == len(tables) {
		return false, nil, nil // only the marker is missing: re-applying fails on existing objects, so create it alone below
	}
	return false, nil, fmt.Errorf("%d of %d migrated tables already exist on the destination but copy-schema is not journaled (blocker dst-schema)", n, len(tables))
}

func (e *Exec) checkCreatePub(ctx context.Context) (bool, any, error) {
	var n int
	if err := e.Src.QueryRow(ctx, "SELECT count(*) FROM pg_catalog.pg_publication WHERE pubname = $1", e.Cfg.Names.Pub).Scan(&n); err != nil || n == 0 {
		return false, nil, err
	}
	if !e.state().Done(plan.CreatePub) {
		return false, nil, nil // converge with ALTER PUBLICATION … SET TABLE
	}
	want, err := e.Src.QueryStrings(ctx, "SELECT format('%I.%I', p.nspname, p.relname) FROM ("+plan.PublishedRelsSQL(e.Cfg)+") p")
	if err != nil {
		return false, nil, err
	}
	have, err := e.Src.QueryStrings(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_publication_rel r
		JOIN pg_catalog.pg_publication p ON p.oid = r.prpubid JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE p.pubname = $1 AND NOT (n.nspname = 'pgmigrate' AND c.relname = 'marker')
		ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`, e.Cfg.Names.Pub)
	if err != nil {
		return false, nil, err
	}
	sort.Strings(want)
	sort.Strings(have)
	return strings.Join(want, ",") == strings.Join(have, ","), nil, nil
}

func (e *Exec) applyCreatePub(ctx context.Context) (any, error) {
	// Re-check every replica identity immediately before publishing: a
	// published table without one rejects UPDATE and DELETE on the source.
	if e.Cfg.Tables.NoKey != "skip" {
		rows, err := e.Src.Query(ctx, plan.NoKeySQL(e.Cfg))
		if err != nil {
			return nil, err
		}
		var bad []string
		for rows.Next() {
			var s, t, ri, fix string
			if rows.Scan(&s, &t, &ri, &fix) == nil {
				bad = append(bad, sqltext.QualifiedIdent(s, t))
			}
		}
		rows.Close()
		if len(bad) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrNoKey, strings.Join(bad, ", "))
		}
	}
	stmts, err := e.Src.Generate(ctx, plan.CreatePubGenerator(e.Cfg))
	if err != nil {
		return nil, err
	}
	for _, s := range stmts {
		if err := e.exec(ctx, plan.CreatePub, e.Src, s); err != nil {
			return nil, err
		}
	}
	tables, err := e.migratedTables(ctx)
	if err != nil {
		return nil, err
	}
	published, err := e.Src.QueryStrings(ctx, "SELECT format('%I.%I', p.nspname, p.relname) FROM ("+plan.PublishedRelsSQL(e.Cfg)+") p")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"publication": e.Cfg.Names.Pub,
		"tables":      tables,
		"published":   published,
		"objects":     []journal.ObjectInfo{{Kind: "publication", Name: e.Cfg.Names.Pub, Side: db.Source}},
	}, nil
}

func (e *Exec) slotState(ctx context.Context) (exists, active bool, walStatus string, err error) {
	q := "SELECT active, '' FROM pg_catalog.pg_replication_slots WHERE slot_name = $1"
	if e.Src.Version >= 130000 {
		q = "SELECT active, coalesce(wal_status, '') FROM pg_catalog.pg_replication_slots WHERE slot_name = $1"
	}
	err = e.Src.QueryRow(ctx, q, e.Cfg.Names.Slot).Scan(&active, &walStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, "", nil
	}
	return err == nil, active, walStatus, err
}

func (e *Exec) checkCreateSlot(ctx context.Context) (bool, any, error) {
	st := e.state()
	if !st.Done(plan.CreateSlot) || !st.Done(plan.CopyData) || st.Steps[plan.CopyData].Seq < st.Steps[plan.CreateSlot].Seq {
		return false, nil, nil // a slot without a finished copy is useless: its snapshot is gone
	}
	exists, _, ws, err := e.slotState(ctx)
	if err != nil {
		return false, nil, err
	}
	if ws == "lost" {
		return false, nil, fmt.Errorf("%w: slot %s has wal_status lost; drop the subscription and re-run from create-slot", ErrSlotInvalidated, e.Cfg.Names.Slot)
	}
	if !exists {
		return false, nil, fmt.Errorf("slot %s vanished after the copy: the destination misses changes; run cleanup --abandon and start over", e.Cfg.Names.Slot)
	}
	return true, nil, nil
}
