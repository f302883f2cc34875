package plan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// The SQL in this file is the single source of truth for "which tables are
// migrated": the plan files show it, the kit runs it, and the executor runs
// the very same text. It only reads the catalogs and works on PostgreSQL ≥ 10
// (no pg_partition_tree, which is 12+).

// globRegex turns a glob (`*`, `?`) into an anchored POSIX regex.
func globRegex(g string) string {
	var b strings.Builder
	b.WriteByte('^')
	for _, r := range g {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteByte('.')
		default:
			if strings.ContainsRune(`\.^$|()[]{}+`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('$')
	return b.String()
}

// schemaGlob normalizes an exclude_schemas entry: a leading "^" (Pigsty's
// regex prefix notation) means "starts with".
func schemaGlob(e string) string {
	if strings.HasPrefix(e, "^") {
		return strings.TrimPrefix(e, "^") + "*"
	}
	return e
}

var plainGlobRE = regexp.MustCompile(`^[A-Za-z0-9_$-]+$`)
var prefixGlobRE = regexp.MustCompile(`^[A-Za-z0-9_$-]+\*$`)

// SchemaExcludeSQL renders the schema filter on column col, one condition per line.
func SchemaExcludeSQL(cfg *config.Config, col string) []string {
	var exact []string
	var conds []string
	for _, e := range cfg.Schema.ExcludeSchemas {
		g := schemaGlob(e)
		switch {
		case plainGlobRE.MatchString(g):
			exact = append(exact, g)
		case prefixGlobRE.MatchString(g):
			conds = append(conds, fmt.Sprintf("%s !~ %s", col, sqltext.Literal("^"+regexp.QuoteMeta(strings.TrimSuffix(g, "*")))))
		default:
			conds = append(conds, fmt.Sprintf("%s !~ %s", col, sqltext.Literal(globRegex(g))))
		}
	}
	if len(exact) > 0 {
		conds = append(conds, fmt.Sprintf("%s NOT IN (%s)", col, sqltext.LiteralList(exact)))
	}
	return conds
}

// tableGlobSQL matches a schema.table glob against nspname/relname columns.
func tableGlobSQL(g, nsp, rel string) string {
	s, t, ok := strings.Cut(g, ".")
	if !ok {
		s, t = "*", g
	}
	var parts []string
	if s != "*" {
		parts = append(parts, fmt.Sprintf("%s ~ %s", nsp, sqltext.Literal(globRegex(s))))
	}
	if t != "*" {
		parts = append(parts, fmt.Sprintf("%s ~ %s", rel, sqltext.Literal(globRegex(t))))
	}
	if len(parts) == 0 {
		return "true"
	}
	return strings.Join(parts, " AND ")
}

// keyedSQL is true when UPDATE/DELETE on leaf l can be published: a primary
// key under REPLICA IDENTITY DEFAULT, a valid identity index, or FULL.
// (PostgreSQL "Logical Replication › Publication": a published table without
// a replica identity rejects UPDATE and DELETE on the source.)
const keyedSQL = `CASE l.relreplident
           WHEN 'f' THEN true
           WHEN 'd' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indrelid = l.oid AND x.indisprimary AND x.indisvalid)
           WHEN 'i' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_index x WHERE x.indrelid = l.oid AND x.indisreplident AND x.indisvalid)
           ELSE false END`

// TablesCTE is the WITH RECURSIVE prefix every table query uses:
//
//	pgm_top   top-level tables (plain or partitioned roots) that pass the filters
//	pgm_leaf  their leaves (the top itself for a plain table), keyed or not
//	pgm_table the tops with keyed = every leaf keyed
//
// Migrated tables are pgm_table rows with keyed; unlogged and extension-owned
// tables never are.
func TablesCTE(cfg *config.Config) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE pgm_top AS (\n")
	b.WriteString("    SELECT c.oid, n.nspname, c.relname, c.relkind\n")
	b.WriteString("    FROM pg_catalog.pg_class c\n")
	b.WriteString("    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n")
	b.WriteString("    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'\n")
	for _, cond := range SchemaExcludeSQL(cfg, "n.nspname") {
		b.WriteString("      AND " + cond + "\n")
	}
	if len(cfg.Tables.Include) > 0 {
		var ors []string
		for _, g := range cfg.Tables.Include {
			ors = append(ors, "("+tableGlobSQL(g, "n.nspname", "c.relname")+")")
		}
		b.WriteString("      AND (" + strings.Join(ors, " OR ") + ")\n")
	}
	for _, g := range cfg.Tables.Exclude {
		b.WriteString("      AND NOT (" + tableGlobSQL(g, "n.nspname", "c.relname") + ")\n")
	}
	b.WriteString("      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d\n")
	b.WriteString("                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')\n")
	b.WriteString("), pgm_tree AS (\n")
	b.WriteString("    SELECT t.oid AS top, t.oid AS relid FROM pgm_top t\n")
	b.WriteString("    UNION ALL\n")
	b.WriteString("    SELECT r.top, i.inhrelid FROM pgm_tree r\n")
	b.WriteString("    JOIN pg_catalog.pg_inherits i ON i.inhparent = r.relid\n")
	b.WriteString("    JOIN pg_catalog.pg_class p ON p.oid = i.inhrelid AND p.relispartition\n")
	b.WriteString("), pgm_leaf AS (\n")
	b.WriteString("    SELECT r.top, l.oid AS relid, " + keyedSQL + " AS keyed\n")
	b.WriteString("    FROM pgm_tree r JOIN pg_catalog.pg_class l ON l.oid = r.relid\n")
	b.WriteString("    WHERE l.relkind = 'r'\n")
	b.WriteString("), pgm_table AS (\n")
	b.WriteString("    SELECT t.oid, t.nspname, t.relname, t.relkind,\n")
	b.WriteString("           COALESCE((SELECT bool_and(f.keyed) FROM pgm_leaf f WHERE f.top = t.oid), true) AS keyed\n")
	b.WriteString("    FROM pgm_top t\n")
	b.WriteString(")\n")
	return b.String()
}

// MigratedTablesSQL lists the migrated tables: schema, name, relkind, oid,
// sorted by schema then name (byte order).
func MigratedTablesSQL(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT t.nspname, t.relname, t.relkind::text, t.oid::int8 FROM pgm_table t WHERE t.keyed\n" +
		"ORDER BY t.nspname COLLATE \"C\", t.relname COLLATE \"C\""
}

// CandidateTablesSQL lists every table that passes the filters, keyed or
// not, with its keyed flag (doctor).
func CandidateTablesSQL(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT t.nspname, t.relname, t.relkind::text, t.oid::int8, t.keyed FROM pgm_table t\n" +
		"ORDER BY t.nspname COLLATE \"C\", t.relname COLLATE \"C\""
}

// LeavesSQL lists the leaves of migrated tables: leaf schema, name, oid, its
// top's schema and name (the COPY target on the destination).
func LeavesSQL(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT ln.nspname, l.relname, l.oid::int8, t.nspname, t.relname\n" +
		"FROM pgm_leaf f\n" +
		"JOIN pgm_table t ON t.oid = f.top AND t.keyed\n" +
		"JOIN pg_catalog.pg_class l ON l.oid = f.relid\n" +
		"JOIN pg_catalog.pg_namespace ln ON ln.oid = l.relnamespace\n" +
		"ORDER BY ln.nspname COLLATE \"C\", l.relname COLLATE \"C\""
}

// qualifyingIndexSQL picks the first (by name) index that can serve as
// replica identity: unique, valid, immediate, not partial, no expressions,
// only NOT NULL columns (ALTER TABLE … REPLICA IDENTITY USING INDEX rules).
const qualifyingIndexSQL = `LEFT JOIN LATERAL (
    SELECT i.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = l.oid AND x.indisunique AND x.indisvalid AND x.indimmediate
      AND x.indpred IS NULL AND x.indexprs IS NULL
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = l.oid AND a.attnum = ANY (x.indkey) AND NOT a.attnotnull)
    ORDER BY i.relname COLLATE "C" LIMIT 1) ix ON true`

// noKeyLeavesSQL is the FROM … ORDER BY shared by NoKeySQL (doctor) and
// FixIdentityGenerator (step 2), so both propose the same fix for the same
// leaves: the unkeyed leaves with n, l and their qualifying index ix.
const noKeyLeavesSQL = "FROM pgm_leaf f\n" +
	"JOIN pg_catalog.pg_class l ON l.oid = f.relid\n" +
	"JOIN pg_catalog.pg_namespace n ON n.oid = l.relnamespace\n" +
	qualifyingIndexSQL + "\n" +
	"WHERE NOT f.keyed\n" +
	"ORDER BY n.nspname COLLATE \"C\", l.relname COLLATE \"C\""

// NoKeySQL lists the leaves that are not keyed, with their replica identity
// and the fix: schema, name, relreplident, fix SQL.
func NoKeySQL(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT n.nspname, l.relname, l.relreplident::text,\n" +
		"       format('ALTER TABLE %I.%I REPLICA IDENTITY %s;', n.nspname, l.relname,\n" +
		"              COALESCE('USING INDEX ' || quote_ident(ix.relname), 'FULL'))\n" +
		noKeyLeavesSQL
}

// FixIdentityGenerator yields the no-key fixes (step 2), one statement per row.
func FixIdentityGenerator(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT format('ALTER TABLE %I.%I REPLICA IDENTITY %s', n.nspname, l.relname,\n" +
		"              COALESCE('USING INDEX ' || quote_ident(ix.relname), 'FULL'))\n" +
		noKeyLeavesSQL
}

// publishedRelsSQL selects the relations the publication lists: roots on
// PostgreSQL ≥ 13 (publish_via_partition_root), leaves before.
const publishedRelsSQL = `SELECT t.nspname, t.relname FROM pgm_table t
    WHERE t.keyed AND (t.relkind = 'r' OR current_setting('server_version_num')::int >= 130000)
    UNION ALL
    SELECT ln.nspname, l.relname FROM pgm_leaf f
    JOIN pgm_table t ON t.oid = f.top AND t.keyed AND t.relkind = 'p'
    JOIN pg_catalog.pg_class l ON l.oid = f.relid
    JOIN pg_catalog.pg_namespace ln ON ln.oid = l.relnamespace
    WHERE current_setting('server_version_num')::int < 130000`

// PublishedRelsSQL lists what the publication must contain (schema, name).
func PublishedRelsSQL(cfg *config.Config) string {
	return TablesCTE(cfg) + "SELECT p.nspname, p.relname FROM (" + publishedRelsSQL + ") p\n" +
		"ORDER BY p.nspname COLLATE \"C\", p.relname COLLATE \"C\""
}

// CreatePubGenerator yields CREATE PUBLICATION, or ALTER PUBLICATION … SET
// TABLE when the publication exists (converging a journaled one), with the
// explicit table list sorted by schema and name, plus pgmigrate.marker.
func CreatePubGenerator(cfg *config.Config) string {
	pub := sqltext.Literal(cfg.Names.Pub)
	return TablesCTE(cfg) +
		"SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = " + pub + ")\n" +
		"       THEN format('ALTER PUBLICATION %I SET TABLE %s', " + pub + ", concat_ws(', ', string_agg(format('%I.%I', p.nspname, p.relname), ', ' ORDER BY p.nspname COLLATE \"C\", p.relname COLLATE \"C\"), 'pgmigrate.marker'))\n" +
		"       ELSE format('CREATE PUBLICATION %I FOR TABLE %s%s', " + pub + ", concat_ws(', ', string_agg(format('%I.%I', p.nspname, p.relname), ', ' ORDER BY p.nspname COLLATE \"C\", p.relname COLLATE \"C\"), 'pgmigrate.marker'),\n" +
		"                   CASE WHEN current_setting('server_version_num')::int >= 130000 THEN ' WITH (publish_via_partition_root = true)' ELSE '' END)\n" +
		"       END\n" +
		"FROM (" + publishedRelsSQL + ") p"
}

// FenceTriggerGenerator yields one CREATE TRIGGER pgmigrate_fence per
// migrated relation (tops, inner partitions and leaves: statement triggers
// on a partitioned table do not fire for statements on its partitions) that
// does not have it yet.
func FenceTriggerGenerator(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT format('CREATE TRIGGER pgmigrate_fence BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE PROCEDURE pgmigrate.fence_guard()', n.nspname, c.relname)\n" +
		"FROM pgm_tree r\n" +
		"JOIN pgm_table t ON t.oid = r.top AND t.keyed\n" +
		"JOIN pg_catalog.pg_class c ON c.oid = r.relid\n" +
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n" +
		"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'pgmigrate_fence')\n" +
		"ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\""
}

// SequencesSQL lists the sequences of the migrated schemas (serial, identity
// and unowned alike): schema, name, last_value (NULL if never called),
// increment, min, max, cycle. Reads pg_sequences (PostgreSQL ≥ 10).
func SequencesSQL(cfg *config.Config) string {
	var b strings.Builder
	b.WriteString("SELECT s.schemaname::text, s.sequencename::text, s.last_value, s.increment_by, s.min_value, s.max_value, s.cycle\n")
	b.WriteString("FROM pg_catalog.pg_sequences s\n")
	b.WriteString("WHERE true\n")
	for _, cond := range SchemaExcludeSQL(cfg, "s.schemaname") {
		b.WriteString("  AND " + cond + "\n")
	}
	b.WriteString("ORDER BY s.schemaname COLLATE \"C\", s.sequencename COLLATE \"C\"")
	return b.String()
}

// MatviewRefreshGenerator yields REFRESH MATERIALIZED VIEW for every matview
// of the migrated schemas, in dependency-safe name order.
func MatviewRefreshGenerator(cfg *config.Config) string {
	var b strings.Builder
	b.WriteString("SELECT format('REFRESH MATERIALIZED VIEW %I.%I', n.nspname, c.relname)\n")
	b.WriteString("FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n")
	b.WriteString("WHERE c.relkind = 'm'\n")
	for _, cond := range SchemaExcludeSQL(cfg, "n.nspname") {
		b.WriteString("  AND " + cond + "\n")
	}
	b.WriteString("ORDER BY c.oid")
	return b.String()
}

// PgDumpPattern renders a glob as a pg_dump -n/-N/-t/-T pattern: literal runs
// double-quoted (patterns fold unquoted upper case), wildcards bare.
func PgDumpPattern(g string) string {
	var b strings.Builder
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			b.WriteString(`"` + strings.ReplaceAll(lit.String(), `"`, `""`) + `"`)
			lit.Reset()
		}
	}
	for _, r := range g {
		switch r {
		case '*', '?', '.':
			flush()
			b.WriteRune(r)
		default:
			lit.WriteRune(r)
		}
	}
	flush()
	return b.String()
}

// PgDumpArgs are the pg_dump arguments of copy-schema, minus the connection
// and the output file.
func PgDumpArgs(cfg *config.Config) []string {
	args := []string{"--schema-only", "-Fc", "--no-publications", "--no-subscriptions"}
	if !cfg.Schema.KeepOwner {
		args = append(args, "--no-owner")
	}
	if !cfg.Schema.KeepPrivileges {
		args = append(args, "--no-privileges")
	}
	for _, e := range cfg.Schema.ExcludeSchemas {
		args = append(args, "-N", PgDumpPattern(schemaGlob(e)))
	}
	for _, g := range cfg.Tables.Exclude {
		args = append(args, "-T", PgDumpPattern(g))
	}
	return args
}

// MigratedRelsSQL lists every relation of the migrated tables — tops, inner
// partitions and leaves — as schema, name, oid, sorted by schema then name.
// Cutover uses it for privileges (each partition has its own ACL) and to find
// transactions holding write locks (a write on a leaf locks only the leaf and
// its ancestors).
func MigratedRelsSQL(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT n.nspname::text, c.relname::text, c.oid::int8\n" +
		"FROM pgm_tree r\n" +
		"JOIN pgm_table t ON t.oid = r.top AND t.keyed\n" +
		"JOIN pg_catalog.pg_class c ON c.oid = r.relid\n" +
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n" +
		"ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\""
}
