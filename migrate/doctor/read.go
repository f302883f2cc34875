package doctor

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what the collector needs of a *db.Conn; tests fake it.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	QueryStrings(ctx context.Context, sql string, args ...any) ([]string, error)
	Redact(s string) string
	IsClosed() bool
}

// reader runs one side's catalog reads and records every failure in out,
// so a fact that could not be read is never mistaken for its zero value.
// Each read is named by a short, stable, lowercase label of the fact.
type reader struct {
	ctx     context.Context
	q       querier
	side    string // source or destination
	version int    // server_version_num
	out     *[]ReadError
	lost    bool // the connection died: later failures are that, not news
}

// fail records a failed read; the text is the server's message (without
// the side prefix that db.Conn adds to some errors), redacted.
//
// Once the connection itself is gone, every later read of the side fails
// the same way: the first failure says so and the rest are not recorded,
// so a connection lost halfway is one entry, not forty.
func (r *reader) fail(what string, err error) {
	if r.lost {
		return
	}
	msg := strings.TrimPrefix(err.Error(), r.side+": ")
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg = pe.Message + " (SQLSTATE " + pe.Code + ")"
		if pe.Detail != "" {
			msg += ": " + pe.Detail
		}
	}
	if r.q.IsClosed() {
		r.lost = true
		msg += "; the connection is gone, so the facts read after it are missing too"
	}
	*r.out = append(*r.out, ReadError{Side: r.side, What: what, Err: r.q.Redact(msg)})
}

// row is one single-row read; see rowRead.Scan.
func (r *reader) row(what, sql string, args ...any) rowRead {
	return rowRead{r: r, what: what, row: r.q.QueryRow(r.ctx, sql, args...)}
}

type rowRead struct {
	r    *reader
	what string
	row  pgx.Row
}

// Scan scans the row, reporting whether it succeeded; a failure, no row
// included, is recorded.
func (x rowRead) Scan(dest ...any) bool {
	if err := x.row.Scan(dest...); err != nil {
		x.r.fail(x.what, err)
		return false
	}
	return true
}

// ScanFound is Scan for a lookup whose answer may be "no row": it reports
// whether a row was found, and records only real failures.
func (x rowRead) ScanFound(dest ...any) bool {
	err := x.row.Scan(dest...)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		x.r.fail(x.what, err)
	}
	return err == nil
}

// strings reads one text column; nil when the read failed (recorded).
func (r *reader) strings(what, sql string, args ...any) []string {
	out, err := r.q.QueryStrings(r.ctx, sql, args...)
	if err != nil {
		r.fail(what, err)
		return nil
	}
	return out
}

// each runs a query and calls fn once per row with the row's Scan. A
// failed query, Scan or iteration (rows.Err) is recorded once, ends the
// read and makes each return false; fn must use the scanned values only
// when scan reports true.
func (r *reader) each(what, sql string, args []any, fn func(scan func(dest ...any) bool)) bool {
	rows, err := r.q.Query(r.ctx, sql, args...)
	if err != nil {
		r.fail(what, err)
		return false
	}
	failed := false
	scan := func(dest ...any) bool {
		if err := rows.Scan(dest...); err != nil {
			r.fail(what, err)
			failed = true
			return false
		}
		return true
	}
	for !failed && rows.Next() {
		fn(scan)
	}
	rows.Close()
	if err := rows.Err(); err != nil && !failed {
		r.fail(what, err)
		failed = true
	}
	return !failed
}
