package doctor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
)

// fakeQ is a querier without a database: every query fails with err,
// unless rows answers it (matched by a substring of the SQL).
type fakeQ struct {
	err    error
	rows   map[string]*fakeRows
	closed bool // IsClosed's answer
}

func (q *fakeQ) IsClosed() bool { return q.closed }

func (q *fakeQ) answer(sql string) *fakeRows {
	for k, r := range q.rows {
		if strings.Contains(sql, k) {
			return r
		}
	}
	return nil
}

func (q *fakeQ) Query(_ context.Context, sql string, _ ...any) (pgx.Rows, error) {
	if r := q.answer(sql); r != nil {
		return r, nil
	}
	return nil, q.err
}

func (q *fakeQ) QueryRow(_ context.Context, sql string, _ ...any) pgx.Row {
	if r := q.answer(sql); r != nil {
		return fakeRow{r}
	}
	return fakeRow{&fakeRows{err: q.err}}
}

func (q *fakeQ) QueryStrings(_ context.Context, sql string, _ ...any) ([]string, error) {
	if r := q.answer(sql); r != nil {
		var out []string
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, r.Err()
	}
	// db.Conn.QueryStrings wraps its errors with the side.
	return nil, fmt.Errorf("source: %w", q.err)
}

// Redact mimics db.Conn.Redact with one known secret.
func (q *fakeQ) Redact(s string) string {
	return strings.ReplaceAll(config.Redact(s), "s3cret", "********")
}

// fakeRows yields data; a row equal to badRow fails to scan, and err is
// the iteration's error after the last row.
type fakeRows struct {
	pgx.Rows // unused methods
	data     [][]any
	badRow   int // 1-based; 0: none
	err      error
	i        int
	closed   bool
	scanErr  error
}

func (r *fakeRows) Next() bool {
	if r.closed || r.i >= len(r.data) {
		r.closed = true
		return false
	}
	r.i++
	return true
}

func (r *fakeRows) Scan(dest ...any) error {
	if r.i == r.badRow {
		r.scanErr = errors.New("can't scan into dest[0]: cannot scan NULL into *string")
		r.closed = true
		return r.scanErr
	}
	for k, d := range dest {
		reflect.ValueOf(d).Elem().Set(reflect.ValueOf(r.data[r.i-1][k]))
	}
	return nil
}

func (r *fakeRows) Err() error {
	if r.scanErr != nil {
		return r.scanErr
	}
	if r.closed || r.i >= len(r.data) {
		return r.err
	}
	return nil
}

func (r *fakeRows) Close() { r.closed = true }

type fakeRow struct{ r *fakeRows }

func (x fakeRow) Scan(dest ...any) error {
	if !x.r.Next() {
		if err := x.r.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := x.r.Scan(dest...); err != nil {
		return err
	}
	return x.r.Err()
}

func newReader(q querier, side string, out *[]ReadError) *reader {
	return &reader{ctx: context.Background(), q: q, side: side, version: 150020, out: out}
}

func TestReaderRecordsFailures(t *testing.T) {
	denied := &pgconn.PgError{Severity: "ERROR", Code: "42501", Message: "permission denied for view pg_replication_slots"}
	var out []ReadError
	src := newReader(&fakeQ{err: denied}, db.Source, &out)
	dst := newReader(&fakeQ{err: &db.SQLError{Side: db.Destination, PG: &pgconn.PgError{Code: "57014",
		Message: "canceling statement due to statement timeout", Detail: "dialing postgres://u:s3cret@h/db"}}}, db.Destination, &out)

	var n int64
	if src.row("replication slots in use", "SELECT count(*) FROM pg_catalog.pg_replication_slots").Scan(&n) {
		t.Error("a failed row read reported success")
	}
	if got := dst.strings("roles on the destination", "SELECT rolname::text FROM pg_catalog.pg_roles"); got != nil {
		t.Errorf("a failed strings read returned %v", got)
	}
	if src.each("extensions installed", "SELECT extname::text, extversion FROM pg_catalog.pg_extension", nil, func(func(...any) bool) {
		t.Error("fn called for a failed query")
	}) {
		t.Error("a failed each reported success")
	}
	// A plain (non-server) error keeps its text, without db.Conn's side prefix.
	plain := newReader(&fakeQ{err: errors.New("conn closed")}, db.Source, &out)
	plain.strings("long transactions", "SELECT 1")

	want := []ReadError{
		{Side: "source", What: "replication slots in use", Err: "permission denied for view pg_replication_slots (SQLSTATE 42501)"},
		{Side: "destination", What: "roles on the destination", Err: "canceling statement due to statement timeout (SQLSTATE 57014): dialing postgres://u:********@h/db"},
		{Side: "source", What: "extensions installed", Err: "permission denied for view pg_replication_slots (SQLSTATE 42501)"},
		{Side: "source", What: "long transactions", Err: "conn closed"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("read errors:\n%+v\nwant:\n%+v", out, want)
	}
}

// A connection lost halfway is one entry: the first failed read says the
// connection is gone, later reads of that side are not listed one by one.
func TestReaderLostConnection(t *testing.T) {
	var out []ReadError
	q := &fakeQ{err: errors.New("conn closed")}
	r := newReader(q, db.Source, &out)
	r.strings("long transactions", "SELECT 1")
	q.closed = true
	var n int64
	r.row("prepared transactions", "SELECT count(*) FROM pg_catalog.pg_prepared_xacts").Scan(&n)
	r.strings("unlogged tables", "SELECT 2")
	r.each("foreign keys", "SELECT 3", nil, func(func(...any) bool) {})
	want := []ReadError{
		{Side: "source", What: "long transactions", Err: "conn closed"},
		{Side: "source", What: "prepared transactions", Err: "conn closed; the connection is gone, so the facts read after it are missing too"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("read errors:\n%+v\nwant:\n%+v", out, want)
	}
}

func TestReaderRowsAndNoRows(t *testing.T) {
	var out []ReadError
	q := &fakeQ{err: pgx.ErrNoRows, rows: map[string]*fakeRows{
		"FROM good":    {data: [][]any{{"a", "1"}, {"b", "2"}}},
		"FROM badscan": {data: [][]any{{"a", "1"}, {"b", "2"}, {"c", "3"}}, badRow: 2},
		"FROM broken":  {data: [][]any{{"a", "1"}}, err: errors.New("unexpected EOF")},
	}}
	r := newReader(q, db.Source, &out)

	got := map[string]string{}
	collect := func(scan func(...any) bool) {
		var k, v string
		if scan(&k, &v) {
			got[k] = v
		}
	}
	if !r.each("good", "SELECT k, v FROM good", nil, collect) || len(got) != 2 {
		t.Errorf("good read: %v", got)
	}
	calls := 0
	if r.each("bad scan", "SELECT k, v FROM badscan", nil, func(scan func(...any) bool) { calls++; collect(scan) }) {
		t.Error("a read with a failed Scan reported success")
	}
	if calls != 2 {
		t.Errorf("fn called %d times, want 2 (the read stops at the failed Scan)", calls)
	}
	if r.each("iteration", "SELECT k, v FROM broken", nil, collect) {
		t.Error("a read whose rows.Err() is set reported success")
	}
	// No row: a failure for Scan, an answer for ScanFound.
	var b bool
	if r.row("replication user", "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1", "nobody").ScanFound(&b) {
		t.Error("ScanFound found a row that does not exist")
	}
	if r.row("prepared transactions", "SELECT count(*)").Scan(&b) {
		t.Error("Scan succeeded without a row")
	}
	want := []ReadError{
		{Side: "source", What: "bad scan", Err: "can't scan into dest[0]: cannot scan NULL into *string"},
		{Side: "source", What: "iteration", Err: "unexpected EOF"},
		{Side: "source", What: "prepared transactions", Err: "no rows in result set"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("read errors:\n%+v\nwant:\n%+v", out, want)
	}
}

// TestCollectRecordsEveryFailedRead runs the collectors against sides on
// which every query fails: each read must be recorded, in order, none
// dropped.
func TestCollectRecordsEveryFailedRead(t *testing.T) {
	cfg := cfgWith(t, "schema.copy=false")
	f := &Facts{RLSRoleBypass: map[string]bool{}}
	denied := &pgconn.PgError{Code: "42501", Message: "permission denied"}
	src := newReader(&fakeQ{err: denied}, db.Source, &f.ReadErrors)
	dst := newReader(&fakeQ{err: denied}, db.Destination, &f.ReadErrors)
	side(src, &f.Src)
	collectSource(src, cfg, f)
	side(dst, &f.Dst)
	collectDest(dst, cfg, f)
	collectCross(src, dst, cfg, f)

	var got []string
	for _, e := range f.ReadErrors {
		got = append(got, e.Side+": "+e.What)
		if e.Err != "permission denied (SQLSTATE 42501)" {
			t.Errorf("%s %s: err %q", e.Side, e.What, e.Err)
		}
	}
	sideReads := func(s string) []string {
		return []string{s + ": session and database attributes", s + ": system identifier",
			s + ": locale provider and collation version", s + ": server settings", s + ": role memberships",
			s + ": extensions installed", s + ": extensions available", s + ": replication slots in use",
			s + ": walsenders in use", s + ": subscriptions", s + ": logical replication workers running",
			s + ": background workers running", s + ": pgmigrate's slots", s + ": pgmigrate's publications",
			s + ": pgmigrate's subscriptions"}
	}
	want := append(sideReads("source"),
		"source: long transactions", "source: prepared transactions", "source: superuser application sessions",
		"source: candidate tables", "source: table owners, row security and replica identities",
		"source: partitions, sizes and replica identities", "source: tables without a key", "source: unlogged tables",
		"source: foreign tables", "source: large objects", "source: materialized views",
		"source: generated and identity columns", "source: sequences", "source: excluded schemas with tables",
		"source: foreign keys", "source: replication user", "source: roles that can write migrated tables",
		"source: direct grants")
	want = append(want, sideReads("destination")...)
	want = append(want, "destination: migrated tables on the destination", "source: table columns", "destination: table columns",
		"destination: triggers and rules that fire on apply", "source: owners and grantees of migrated tables")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recorded reads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The facts stayed at their zero values, and the report says so.
	r := Evaluate(cfg, f)
	if !r.Failed(false) {
		t.Error("failed reads did not fail the report")
	}
	if c := find(r, "catalog-reads", "replication slots in use"); c == nil || c.Status != Fail || c.Severity != Blocker ||
		c.Evidence != "could not be read on the source: permission denied (SQLSTATE 42501); on the destination: permission denied (SQLSTATE 42501); the checks that use it cannot be trusted" {
		t.Errorf("catalog-reads entry: %+v", c)
	}
}
