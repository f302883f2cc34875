// Package db opens pgmigrate's connections (pgx v5) with the migration
// file's credentials, names every session "pgmigrate/<purpose>" (exempt
// from the DDL guard and the terminate layer), logs statements redacted and
// builds the environment of pg_dump / pg_restore / psql.
package db

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgcc-dev/pgcc/migrate/config"
)

// Sides.
const (
	Source      = "source"
	Destination = "destination"
)

// ErrUnreachable wraps connection failures (a side down: exit 1).
var ErrUnreachable = errors.New("unreachable")

// Conn is one session on one side.
type Conn struct {
	*pgx.Conn
	Side    string
	Version int // server_version_num
	log     *slog.Logger
	secrets []string
}

// Opener opens connections for one migration.
type Opener struct {
	Cfg *config.Config
	Env config.Env
	Log *slog.Logger
	// Monitor makes Open use the monitor URLs (status).
	Monitor bool
}

// URL returns the side's URL (admin, or monitor role when o.Monitor and a
// monitor password is known).
func (o *Opener) URL(side string) config.URL {
	u := o.Cfg.Src()
	if side == Destination {
		u = o.Cfg.Dst()
	}
	if o.Monitor {
		// The caller (status) falls back to the admin URL when the monitor
		// role cannot connect.
		return o.Cfg.MonitorURL(u)
	}
	return u
}

// Password resolves the password for u (migrate.md §2 order).
func (o *Opener) Password(u config.URL) string {
	pw, _ := u.Password()
	return o.Cfg.PasswordFor(o.Env, pw, u.Host(), u.Port(), u.DBName(), u.User())
}

// Open connects to side as "pgmigrate/<purpose>".
func (o *Opener) Open(ctx context.Context, side, purpose string) (*Conn, error) {
	return o.OpenURL(ctx, side, o.URL(side), purpose, false)
}

// OpenReplication opens a replication=database connection to the source.
func (o *Opener) OpenReplication(ctx context.Context, purpose string) (*pgconn.PgConn, error) {
	u := o.URL(Source)
	pc, err := o.pgxConfig(u, purpose)
	if err != nil {
		return nil, err
	}
	pc.Config.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, &pc.Config)
	if err != nil {
		return nil, fmt.Errorf("replication connection to source: %w: %s", ErrUnreachable, o.redact(err.Error()))
	}
	return conn, nil
}

func (o *Opener) pgxConfig(u config.URL, purpose string) (*pgx.ConnConfig, error) {
	pc, err := pgx.ParseConfig(u.WithoutPassword().Secret())
	if err != nil {
		return nil, fmt.Errorf("parse connection URL %s: %s", u.String(), o.redact(err.Error()))
	}
	// Our resolver decides (URL, field, PGPASSWORD, passfile with the mode
	// check); overwrite whatever pgx found on its own.
	pc.Password = o.Password(u)
	pc.RuntimeParams["application_name"] = "pgmigrate/" + purpose
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = 10 * time.Second
	}
	return pc, nil
}

// OpenURL connects to u.
func (o *Opener) OpenURL(ctx context.Context, side string, u config.URL, purpose string, _ bool) (*Conn, error) {
	pc, err := o.pgxConfig(u, purpose)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %w: %s", side, u.WithoutPassword().String(), ErrUnreachable, o.redact(err.Error()))
	}
	c := &Conn{Conn: conn, Side: side, log: o.logger(), secrets: o.Cfg.Secrets(o.Env)}
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&c.Version); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("%s: read server version: %w", side, err)
	}
	return c, nil
}

func (o *Opener) logger() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

func (o *Opener) redact(s string) string {
	s = config.Redact(s)
	for _, sec := range o.Cfg.Secrets(o.Env) {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}

// Redact hides passwords in s (URLs, conninfo and known secret values).
func (c *Conn) Redact(s string) string {
	s = config.Redact(s)
	for _, sec := range c.secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}

// Exec runs one statement and logs it at debug with side, duration and
// redacted text; the error is redacted too.
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	start := time.Now()
	tag, err := c.Conn.Exec(ctx, sql, args...)
	c.log.Debug("sql", "side", c.Side, "ms", time.Since(start).Milliseconds(), "sql", c.Redact(sql), "err", errText(err, c))
	if err != nil {
		return tag, c.wrap(err)
	}
	return tag, nil
}

func errText(err error, c *Conn) string {
	if err == nil {
		return ""
	}
	return c.Redact(err.Error())
}

// wrap redacts an error's text but keeps *pgconn.PgError reachable.
func (c *Conn) wrap(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return &SQLError{Side: c.Side, PG: pe, msg: c.Redact(pe.Message)}
	}
	return fmt.Errorf("%s: %s", c.Side, c.Redact(err.Error()))
}

// SQLError is a server error on one side; Code is the SQLSTATE.
type SQLError struct {
	Side string
	PG   *pgconn.PgError
	msg  string
}

func (e *SQLError) Error() string {
	s := e.Side + ": " + e.msg + " (SQLSTATE " + e.PG.Code + ")"
	if e.PG.Detail != "" {
		s += ": " + config.Redact(e.PG.Detail)
	}
	return s
}

func (e *SQLError) Unwrap() error { return e.PG }

// Code returns the SQLSTATE of err, "" if none.
func Code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// QueryStrings runs a query returning one text column.
func (c *Conn) QueryStrings(ctx context.Context, sql string, args ...any) ([]string, error) {
	start := time.Now()
	rows, err := c.Conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, c.wrap(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	c.log.Debug("sql", "side", c.Side, "ms", time.Since(start).Milliseconds(), "sql", c.Redact(sql), "rows", len(out), "err", errText(err, c))
	if err != nil {
		return nil, c.wrap(err)
	}
	return out, nil
}

// Generate runs a read-only generator (the plan's "\gexec" SQL) and
// returns the statements it yields, NULL rows dropped.
func (c *Conn) Generate(ctx context.Context, sql string) ([]string, error) {
	rows, err := c.Conn.Query(ctx, sql)
	if err != nil {
		return nil, c.wrap(err)
	}
	vals, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	if err != nil {
		return nil, c.wrap(err)
	}
	var out []string
	for _, v := range vals {
		if v != nil && *v != "" {
			out = append(out, *v)
		}
	}
	return out, nil
}

// Close closes the session, ignoring errors (best effort at shutdown).
func (c *Conn) Close() {
	if c == nil || c.Conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.Conn.Close(ctx)
}

// LockKey is the advisory lock key of a migration: the first 8 bytes of
// sha256("pgmigrate:"+id) as a signed int64 (migrate.md §7).
func LockKey(id string) int64 {
	sum := sha256.Sum256([]byte("pgmigrate:" + id))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// TryAdvisoryLock takes the session-level advisory lock of the migration.
func (c *Conn) TryAdvisoryLock(ctx context.Context, id string) (bool, error) {
	var ok bool
	if err := c.Conn.QueryRow(ctx, "SELECT pg_catalog.pg_try_advisory_lock($1)", LockKey(id)).Scan(&ok); err != nil {
		return false, c.wrap(err)
	}
	return ok, nil
}

// AdvisoryLockHolder describes the backend holding the migration's lock.
func (c *Conn) AdvisoryLockHolder(ctx context.Context, id string) string {
	k := uint64(LockKey(id))
	var pid int
	var app, addr string
	err := c.Conn.QueryRow(ctx, `SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local')
		FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid::int8 = $1 AND l.objid::int8 = $2 LIMIT 1`,
		int64(k>>32), int64(k&0xffffffff)).Scan(&pid, &app, &addr)
	if err != nil {
		return "another session"
	}
	return fmt.Sprintf("backend %d (%s from %s)", pid, app, addr)
}

// ToolEnv returns the environment for pg_dump, pg_restore and psql on side:
// the password travels in PGPASSWORD (never on the command line), the
// session is named pgmigrate/<purpose>.
func (o *Opener) ToolEnv(side, purpose string, base []string) (url string, env []string) {
	u := o.URL(side)
	env = make([]string, 0, len(base)+3)
	for _, kv := range base {
		if strings.HasPrefix(kv, "PGPASSWORD=") || strings.HasPrefix(kv, "PGAPPNAME=") {
			continue
		}
		env = append(env, kv)
	}
	if pw := o.Password(u); pw != "" {
		env = append(env, "PGPASSWORD="+pw)
	}
	env = append(env, "PGAPPNAME=pgmigrate/"+purpose)
	return u.WithoutPassword().Secret(), env
}
