package render

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	q "github.com/pgcc-dev/pgcc/render/sqltext"
)

// Provisioning SQL (sql.md): <cluster>/sql/roles.sql, template.sql and one
// db-<name>.sql per pg_databases entry. They are psql scripts run as pg_dbsu
// on the primary with `psql -X -v ON_ERROR_STOP=1 -d postgres -f FILE`, each
// idempotent on its own. Every identifier, literal and DO body goes through
// render/sqltext; nothing here quotes by hand.
func init() {
	RegisterCluster(ClusterRenderer{Name: "sql", Render: renderSQL})
}

func renderSQL(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	g, err := newSQLGen(ctx, cl)
	if err != nil || g == nil {
		return nil, err
	}
	roles, err := g.roles()
	if err != nil {
		return nil, err
	}
	files := []File{
		{Path: cl.Name + "/sql/roles.sql", Data: roles, Mode: ModePublic},
		{Path: cl.Name + "/sql/template.sql", Data: g.template(), Mode: ModePublic},
	}
	for _, d := range cl.Databases {
		files = append(files, File{Path: cl.Name + "/sql/db-" + d.Name + ".sql", Data: g.database(d), Mode: ModePublic})
	}
	return files, nil
}

// sqlGen holds what every script of a cluster needs, computed once.
type sqlGen struct {
	ctx     *Context
	cl      *compiler.Cluster
	ref     *compiler.Instance
	version int
	dbsu    string
	repl    string
	admin   string
	monitor string
	defined map[string]*compiler.User
	// privs: pg_default_privileges parsed; ownerPrivs: the same, or Pigsty's
	// 17 built-in items when the list is empty (db files only, sql.md §5 B).
	privs      []compiler.DefaultPrivilege
	ownerPrivs []compiler.DefaultPrivilege
}

func newSQLGen(ctx *Context, cl *compiler.Cluster) (*sqlGen, error) {
	ref := cl.Vars()
	if !ref.Bool("pg_provision") {
		return nil, nil
	}
	g := &sqlGen{ctx: ctx, cl: cl, ref: ref, version: ref.Int("pg_version"),
		dbsu: ref.Str("pg_dbsu"), repl: ref.Str("pg_replication_username"),
		admin: ref.Str("pg_admin_username"), monitor: ref.Str("pg_monitor_username"),
		defined: cl.DefinedRoles()}
	parse := func(items []string) ([]compiler.DefaultPrivilege, error) {
		var out []compiler.DefaultPrivilege
		for _, s := range items {
			p, err := compiler.ParseDefaultPrivilege(s, g.version)
			if err != nil {
				// Stage 4 reports this with a position; reaching it is a bug.
				return nil, fmt.Errorf("pg_default_privileges item %q: %w", s, err)
			}
			out = append(out, p)
		}
		return out, nil
	}
	var err error
	if g.privs, err = parse(ref.Strings("pg_default_privileges")); err != nil {
		return nil, err
	}
	g.ownerPrivs = g.privs
	if len(g.privs) == 0 {
		if g.ownerPrivs, err = parse(compiler.PigstyDefaultPrivileges); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// sqlScript is a psql script under construction.
type sqlScript struct{ b bytes.Buffer }

// l writes one line made of parts.
func (s *sqlScript) l(parts ...string) {
	for _, p := range parts {
		s.b.WriteString(p)
	}
	s.b.WriteByte('\n')
}

// c writes a comment line (sanitized: a value cannot leave the comment).
func (s *sqlScript) c(format string, args ...any) { s.l(q.Comment(fmt.Sprintf(format, args...))) }

// blank writes an empty line.
func (s *sqlScript) blank() { s.b.WriteByte('\n') }

// section writes a blank line and a section comment.
func (s *sqlScript) section(format string, args ...any) {
	s.blank()
	s.c(format, args...)
}

// start writes the file header: the pgcc comment, ON_ERROR_STOP and the
// settings every session begins with (sql.md §1).
func (s *sqlScript) start(cluster, file, what string) {
	s.c("pgcc: cluster %s, sql/%s: %s; run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f %s", cluster, file, what, file)
	s.l(`\set ON_ERROR_STOP on`)
	s.session()
}

// session writes the settings each session begins with: warnings only (a
// re-grant's NOTICE is noise) and standard strings (literals never depend on
// the server's default).
func (s *sqlScript) session() {
	s.l("SET client_min_messages = warning;")
	s.l("SET standard_conforming_strings = on;")
}

// connect opens a session on db and starts it.
func (s *sqlScript) connect(db string) {
	// psql reads \connect's argument like an SQL identifier (double quotes
	// kept case, "" is a quote); database names match ^[A-Za-z_][A-Za-z0-9_-]*$.
	s.l(`\connect `, q.Ident(db))
	s.session()
}

// do writes a DO block with a dollar-quoted body.
func (s *sqlScript) do(body string) { s.l("DO ", q.DollarQuote(body), ";") }

// ifDatabase opens a \if block that runs only when database db exists and
// accepts connections (the caller writes \endif).
func (s *sqlScript) ifDatabase(db string) {
	s.l("SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ", q.Literal(db), " AND datallowconn) AS pgcc_ok \\gset")
	s.l(`\if :pgcc_ok`)
}

// sqlRoleExists is the guard condition for role r.
func sqlRoleExists(r string) string {
	return "EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = " + q.Literal(r) + ")"
}

// sqlListParams are the parameters whose value is a list (sql.md §2 step 5):
// written as a literal list so each item is quoted on its own.
var sqlListParams = map[string]bool{"search_path": true, "temp_tablespaces": true,
	"local_preload_libraries": true, "session_preload_libraries": true}

// sqlSetParam renders `SET "k" = …` for ALTER ROLE / ALTER DATABASE (sql.md §2
// step 5, §5 A3); db adds log_destination to the list parameters.
func sqlSetParam(key string, v any, db bool) string {
	s := compiler.AsString(v)
	if b, ok := v.(bool); ok {
		s = "off"
		if b {
			s = "on"
		}
	}
	lhs := "SET " + q.DottedIdent(key) + " = "
	switch {
	case strings.EqualFold(s, "default"):
		return lhs + "DEFAULT"
	case sqlListParams[key] || (db && key == "log_destination"):
		items := sqlSplitList(s)
		if len(items) == 0 {
			return lhs + q.Literal("")
		}
		return lhs + q.LiteralList(items)
	}
	return lhs + q.Literal(s)
}

// sqlSplitList splits a GUC list value on commas outside double quotes; items
// are trimmed and unquoted ("" inside quotes is one quote).
func sqlSplitList(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, quoted := false, false
	flush := func() {
		item := strings.TrimSpace(cur.String())
		if item != "" || quoted {
			out = append(out, sqlUnquoteItem(item))
		}
		cur.Reset()
		quoted = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQ = !inQ
			quoted = true
			cur.WriteByte(c)
		case c == ',' && !inQ:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	return out
}

func sqlUnquoteItem(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// sqlBool writes a boolean option value.
func sqlBool(b bool) string { return strconv.FormatBool(b) }

// defaultPrivileges writes one ALTER DEFAULT PRIVILEGES per item for role r.
func (s *sqlScript) defaultPrivileges(r string, privs []compiler.DefaultPrivilege) {
	for _, p := range privs {
		s.l("ALTER DEFAULT PRIVILEGES FOR ROLE ", q.Ident(r), " ", p.SQL(q.Ident), ";")
	}
}

// schemas writes the schema items of a database or pg_default_schemas
// (sql.md §5 B): create (and converge the owner) or drop.
func (s *sqlScript) schemas(items []compiler.Item) {
	for _, it := range items {
		if it.State == "absent" {
			s.l("DROP SCHEMA IF EXISTS ", q.Ident(it.Name), " CASCADE;")
			continue
		}
		if it.Owner == "" {
			s.l("CREATE SCHEMA IF NOT EXISTS ", q.Ident(it.Name), ";")
			continue
		}
		s.l("CREATE SCHEMA IF NOT EXISTS ", q.Ident(it.Name), " AUTHORIZATION ", q.Ident(it.Owner), ";")
		// pgcc only: an existing schema converges to its owner.
		s.l("ALTER SCHEMA ", q.Ident(it.Name), " OWNER TO ", q.Ident(it.Owner), ";")
	}
}

// sqlCreateExtension is the CREATE EXTENSION statement of an item.
func sqlCreateExtension(it compiler.Item) string {
	st := "CREATE EXTENSION IF NOT EXISTS " + q.Ident(it.Name)
	if it.Schema != "" {
		st += " WITH SCHEMA " + q.Ident(it.Schema)
	}
	if it.Version != "" {
		st += " VERSION " + q.Literal(it.Version)
	}
	return st + " CASCADE;"
}

// isSuperuser reports whether role r is a superuser by the inventory.
func (g *sqlGen) isSuperuser(r string) bool {
	if r == g.dbsu {
		return true
	}
	u := g.defined[r]
	return u != nil && u.Superuser != nil && *u.Superuser
}
