package cutover

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// The fence layers of migrate.md §5.1, one side at a time. Every statement
// here is idempotent or journaled first, so a restore (abort) or a roll
// forward after a crash can repeat it.

func hasMethod(cfg *config.Config, m string) bool {
	for _, x := range cfg.Fence.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// lockSQL takes the lock layer in one round trip: EXCLUSIVE conflicts with
// every writer's ROW EXCLUSIVE (superusers included) and with nothing a
// reader takes, so reads continue while writes queue (PostgreSQL "Explicit
// Locking", table-level lock modes). LOCK on a partitioned table also locks
// its partitions.
func lockSQL(tables []string, timeout time.Duration) string {
	ms := timeout.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	return "BEGIN; SET LOCAL lock_timeout = " + sqltext.Literal(fmt.Sprintf("%dms", ms)) +
		"; LOCK TABLE " + strings.Join(tables, ", ") + " IN EXCLUSIVE MODE"
}

// sealSQL sets the seal: fence_guard() raises 25006 while it is 1. A
// sequence, because sequences are neither transactional nor MVCC: a
// REPEATABLE READ snapshot taken before the seal still sees it (§5.1).
func sealSQL(v int) string {
	return fmt.Sprintf("SELECT pg_catalog.setval('pgmigrate.seal', %d, true)", v)
}

// aclSQL lists the write privileges the revoke layer removes: INSERT,
// UPDATE, DELETE, TRUNCATE on every migrated relation (partitions have their
// own ACLs) and USAGE, UPDATE on the sequences of the migrated schemas, from
// every grantee except the owner and the current (pgmigrate's) role.
func aclSQL(cfg *config.Config) string {
	return `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname),
       CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
       coalesce(r.rolname::text, ''), a.privilege_type, a.is_grantable
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE (c.oid IN (SELECT x.oid FROM (` + plan.MigratedRelsSQL(cfg) + `) x(s, t, oid))
       OR c.oid IN (SELECT pg_catalog.format('%I.%I', q.s, q.n)::regclass::oid FROM (` + plan.SequencesSQL(cfg) + `) q(s, n, l, i, mn, mx, cy)))
  AND a.grantee <> c.relowner
  AND a.grantee <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
  AND ((c.relkind <> 'S' AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'))
       OR (c.relkind = 'S' AND a.privilege_type IN ('USAGE', 'UPDATE')))
ORDER BY 1, 3, 4`
}

func readACLs(ctx context.Context, c *db.Conn, cfg *config.Config) ([]ACL, error) {
	rows, err := c.Query(ctx, aclSQL(cfg))
	if err != nil {
		return nil, fmt.Errorf("%s: read privileges: %w", c.Side, err)
	}
	defer rows.Close()
	var out []ACL
	for rows.Next() {
		var a ACL
		if err := rows.Scan(&a.Rel, &a.Kind, &a.Grantee, &a.Privilege, &a.Grantable); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func grantee(a ACL) string {
	if a.Grantee == "" {
		return "PUBLIC"
	}
	return sqltext.Ident(a.Grantee)
}

// revokeSQL removes the privileges (CASCADE: grants the grantee passed on
// are listed too, and come back with the restore).
func revokeSQL(acls []ACL) []string {
	var out []string
	for _, a := range acls {
		out = append(out, "REVOKE "+a.Privilege+" ON "+a.Kind+" "+a.Rel+" FROM "+grantee(a)+" CASCADE")
	}
	return out
}

// grantSQL puts the privileges back.
func grantSQL(acls []ACL) []string {
	var out []string
	for _, a := range acls {
		s := "GRANT " + a.Privilege + " ON " + a.Kind + " " + a.Rel + " TO " + grantee(a)
		if a.Grantable {
			s += " WITH GRANT OPTION"
		}
		out = append(out, s)
	}
	return out
}

func connLimitSQL(dbname string, n int) string {
	return fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT %d", sqltext.Ident(dbname), n)
}

func readConnLimit(ctx context.Context, c *db.Conn, dbname string) (int, error) {
	var n int
	err := c.QueryRow(ctx, "SELECT datconnlimit FROM pg_catalog.pg_database WHERE datname = $1", dbname).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: read the connection limit of %s: %w", c.Side, dbname, err)
	}
	return n, nil
}

// terminatePass terminates every client session of dbname except this
// process's own (named pgmigrate/…), walsenders and apply workers (not
// client backends), and exempt roles. It returns how many it signalled.
// A writer that borrows the pgmigrate/ name still meets the permanent layers.
func terminatePass(ctx context.Context, c *db.Conn, dbname string, exempt []string) (int, error) {
	if exempt == nil {
		exempt = []string{}
	}
	var n int
	err := c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(a.pid))::int
		FROM pg_catalog.pg_stat_activity a
		WHERE a.datname = $1 AND a.pid <> pg_catalog.pg_backend_pid() AND a.backend_type = 'client backend'
		  AND coalesce(a.application_name, '') NOT LIKE 'pgmigrate/%'
		  AND NOT (coalesce(a.usename::text, '') = ANY ($2::text[]))`, dbname, exempt).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: terminate sessions: %w", c.Side, err)
	}
	return n, nil
}

// longWritersSQL finds transactions that hold a write lock on a migrated
// relation and are older than the given interval (cutover precondition: the
// lock layer would wait for them).
func longWritersSQL(cfg *config.Config) string {
	return `SELECT DISTINCT a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''),
       extract(epoch FROM now() - a.xact_start)::float8
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted
  AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.relation IN (SELECT x.oid FROM (` + plan.MigratedRelsSQL(cfg) + `) x(s, t, oid))
  AND a.pid <> pg_catalog.pg_backend_pid()
  AND a.xact_start < now() - $1::interval
ORDER BY 1`
}

// seqSet is one destination sequence to advance.
type seqSet struct {
	schema, name string
	value, inc   int64
}

// nextSequences computes v = last_value + sign(increment) × offset for every
// sequence the old side has used (§5.2 step 6). A v outside [min, max] of a
// non-cycling sequence is an error; a cycling one wraps.
func nextSequences(ctx context.Context, c *db.Conn, cfg *config.Config, offset int64) ([]seqSet, error) {
	rows, err := c.Query(ctx, plan.SequencesSQL(cfg))
	if err != nil {
		return nil, fmt.Errorf("%s: read sequences: %w", c.Side, err)
	}
	defer rows.Close()
	var out []seqSet
	for rows.Next() {
		var s, n string
		var last *int64
		var inc, mn, mx int64
		var cyc bool
		if err := rows.Scan(&s, &n, &last, &inc, &mn, &mx, &cyc); err != nil {
			return nil, err
		}
		if last == nil {
			continue // never used: nothing to carry over
		}
		v, ok := advance(*last, inc, offset, mn, mx, cyc)
		if !ok {
			return nil, fmt.Errorf("sequence %s: %d %+d leaves [%d, %d] and it does not cycle (doctor check sequence-headroom)",
				sqltext.QualifiedIdent(s, n), *last, sign(inc)*offset, mn, mx)
		}
		out = append(out, seqSet{schema: s, name: n, value: v, inc: inc})
	}
	return out, rows.Err()
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// advance adds sign(inc)·offset to last within [mn, mx], wrapping when the
// sequence cycles.
func advance(last, inc, offset, mn, mx int64, cycle bool) (int64, bool) {
	if inc >= 0 {
		if last <= mx-offset {
			return last + offset, true
		}
		if !cycle {
			return 0, false
		}
		over := offset - (mx - last) // ≥ 1
		span := mx - mn + 1
		return mn + (over-1)%span, true
	}
	if last >= mn+offset {
		return last - offset, true
	}
	if !cycle {
		return 0, false
	}
	over := offset - (last - mn)
	span := mx - mn + 1
	return mx - (over-1)%span, true
}

// setSequencesSQL advances, in one statement, every destination sequence
// that is behind its value in its direction; it returns how many it set.
const setSequencesSQL = `SELECT count(pg_catalog.setval(pg_catalog.format('%I.%I', x.s, x.n)::regclass, x.v, true))::int
FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) AS x(s, n, v, inc)
JOIN pg_catalog.pg_sequences d ON d.schemaname = x.s AND d.sequencename = x.n
WHERE d.last_value IS NULL OR (x.inc >= 0 AND d.last_value < x.v) OR (x.inc < 0 AND d.last_value > x.v)`

func applySequences(ctx context.Context, c *db.Conn, seqs []seqSet) (int, error) {
	var s, n []string
	var v, inc []int64
	for _, q := range seqs {
		s, n, v, inc = append(s, q.schema), append(n, q.name), append(v, q.value), append(inc, q.inc)
	}
	if len(s) == 0 {
		return 0, nil
	}
	var set int
	if err := c.QueryRow(ctx, setSequencesSQL, s, n, v, inc).Scan(&set); err != nil {
		return 0, fmt.Errorf("%s: set sequences: %w", c.Side, err)
	}
	return set, nil
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sortedInts returns the keys of m in order.
func sortedInts[V any](m map[int]V) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// ensureTriggers creates the missing pgmigrate_fence triggers on c (the
// destination before a rollback, in case prepare-reverse predates them):
// lock_timeout 100 ms, retried with backoff 50 ms·2ⁿ up to 2 s.
func ensureTriggers(ctx context.Context, c *db.Conn, cfg *config.Config) error {
	stmts, err := c.Generate(ctx, plan.FenceTriggerGenerator(cfg))
	if err != nil || len(stmts) == 0 {
		return err
	}
	if _, err := c.Exec(ctx, "SET lock_timeout = '100ms'"); err != nil {
		return err
	}
	defer func() { _, _ = c.Exec(context.Background(), "RESET lock_timeout") }()
	for _, s := range stmts {
		for n := 0; ; n++ {
			_, err = c.Exec(ctx, s)
			if err == nil || db.Code(err) != "55P03" || n >= 20 {
				break
			}
			d := 50 * time.Millisecond << n
			if d > 2*time.Second {
				d = 2 * time.Second
			}
			time.Sleep(d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
