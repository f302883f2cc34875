package render

import (
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	q "github.com/pgcc-dev/pgcc/render/sqltext"
)

// database renders sql/db-<name>.sql (sql.md §5): A — drop/create and the
// database-level statements from an admin database; B — inside the database
// when it accepts connections; C — ALLOW_CONNECTIONS false last.
func (g *sqlGen) database(d *compiler.Database) []byte {
	s := &sqlScript{}
	s.start(g.cl.Name, "db-"+d.Name+".sql", "database "+d.Name+" ("+d.State+")")
	name, lit := q.Ident(d.Name), q.Literal(d.Name)
	if d.Template == "postgres" {
		// CREATE DATABASE … TEMPLATE postgres fails while this session is
		// connected to postgres ("source database is being accessed").
		s.connect("template1")
	}

	// A1: absent and recreate drop first (a template must be unmarked first)
	if d.State == "absent" || d.State == "recreate" {
		s.section("drop (state: %s)", d.State)
		s.l("SELECT format(", q.Literal("ALTER DATABASE %I IS_TEMPLATE false"), ", datname) FROM pg_catalog.pg_database WHERE datname = ",
			lit, " AND datistemplate \\gexec")
		s.l("DROP DATABASE IF EXISTS ", name, " WITH (FORCE);")
		if d.State == "absent" {
			return s.b.Bytes()
		}
	}

	// A2: create when missing; pgcc_created also gates the baseline
	s.section("create when missing")
	s.l("SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ", lit, ") AS pgcc_created \\gset")
	s.l(`\if :pgcc_created`)
	if t := d.Template; t != "" && t != "template0" && t != "template1" {
		s.do("BEGIN PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = " +
			q.Literal(t) + " AND pid <> pg_catalog.pg_backend_pid(); END")
	}
	s.l("CREATE DATABASE ", name, sqlCreateOptions(d), ";")
	s.l(`\endif`)

	// A3: database-level settings, from outside the database
	s.section("database settings")
	if d.Owner != "" {
		s.l("ALTER DATABASE ", name, " OWNER TO ", q.Ident(d.Owner), ";")
		s.l("GRANT ALL PRIVILEGES ON DATABASE ", name, " TO ", q.Ident(d.Owner), ";")
	}
	if d.Tablespace != "" {
		// ALTER DATABASE SET TABLESPACE cannot run while connected to the
		// database, and only when it moves: \gexec runs it when it differs.
		ts := q.Literal(d.Tablespace)
		s.l("SELECT format(", q.Literal("ALTER DATABASE %I SET TABLESPACE %I"), ", d.datname, ", ts, ") FROM pg_catalog.pg_database d ",
			"JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = ", lit, " AND t.spcname <> ", ts, " \\gexec")
	}
	if d.AllowConn != nil && *d.AllowConn {
		s.l("ALTER DATABASE ", name, " ALLOW_CONNECTIONS true;")
	}
	if d.ConnLimit != nil {
		s.l("ALTER DATABASE ", name, " CONNECTION LIMIT ", strconv.Itoa(*d.ConnLimit), ";")
	}
	if d.IsTemplate != nil {
		s.l("ALTER DATABASE ", name, " IS_TEMPLATE ", sqlBool(*d.IsTemplate), ";")
	}
	for _, k := range sqlParamOrder(d.ParamKeys, d.Parameters) {
		s.l("ALTER DATABASE ", name, " ", sqlSetParam(k, d.Parameters[k], true), ";")
	}
	comment := d.Comment
	if !d.Has("comment") {
		comment = "business database " + d.Name
	}
	s.l("COMMENT ON DATABASE ", name, " IS ", q.Literal(comment), ";")
	if d.Has("revokeconn") {
		if d.RevokeConn {
			s.l("REVOKE CONNECT ON DATABASE ", name, " FROM PUBLIC;")
			s.l("GRANT CONNECT ON DATABASE ", name, " TO ", q.Ident(g.repl), ";")
			s.l("GRANT CONNECT ON DATABASE ", name, " TO ", q.Ident(g.monitor), ";")
			s.l("GRANT CONNECT ON DATABASE ", name, " TO ", q.Ident(g.admin), " WITH GRANT OPTION;")
			if d.Owner != "" {
				s.l("GRANT CONNECT ON DATABASE ", name, " TO ", q.Ident(d.Owner), " WITH GRANT OPTION;")
			}
			if u := g.poolAuthUser(d); u != "" {
				// pgcc only: pgbouncer connects as the auth user to run auth_query.
				s.l("GRANT CONNECT ON DATABASE ", name, " TO ", q.Ident(u), ";")
			}
		} else {
			s.l("GRANT CONNECT ON DATABASE ", name, " TO PUBLIC;")
		}
	}
	s.l("REVOKE CREATE ON DATABASE ", name, " FROM PUBLIC;")
	if g.defined["dbrole_admin"] != nil {
		s.l("GRANT CREATE ON DATABASE ", name, " TO \"dbrole_admin\";")
	}

	// B: inside the database, when it accepts connections
	s.section("inside the database (skipped when it does not accept connections)")
	s.ifDatabase(d.Name)
	s.connect(d.Name)
	s.l("REVOKE CREATE ON SCHEMA public FROM PUBLIC;")
	if g.defined["dbrole_admin"] != nil {
		s.l("GRANT CREATE ON SCHEMA public TO \"dbrole_admin\";")
	}
	if d.Owner != "" {
		s.c("default privileges for objects the owner creates")
		s.defaultPrivileges(d.Owner, g.ownerPrivs)
	}
	if len(d.Schemas) > 0 {
		s.c("schemas")
		s.schemas(d.Schemas)
	}
	if len(d.Extensions) > 0 {
		s.c("extensions (a missing package is an error; an installed version is not upgraded)")
		for _, it := range d.Extensions {
			if it.State == "absent" {
				s.l("DROP EXTENSION IF EXISTS ", q.Ident(it.Name), " CASCADE;")
				continue
			}
			s.l(sqlCreateExtension(it))
		}
	}
	if u := g.poolAuthUser(d); u != "" {
		// pgcc only (sql.md §5 B): a per-database auth user calls the
		// function template.sql created; it needs USAGE on its schema too.
		s.c("pgbouncer auth_query as pool_auth_user %q", u)
		s.do("BEGIN IF pg_catalog.to_regprocedure('monitor.pgbouncer_auth(text)') IS NOT NULL THEN " +
			"GRANT USAGE ON SCHEMA monitor TO " + q.Ident(u) + "; " +
			"GRANT EXECUTE ON FUNCTION monitor.pgbouncer_auth(text) TO " + q.Ident(u) + "; END IF; END")
	}
	if d.Baseline != "" {
		g.baseline(s, d)
	}
	s.l(`\endif`)

	// C: forbid connections last, so the next run skips B instead of failing
	if d.AllowConn != nil && !*d.AllowConn {
		s.section("no connections (last, so the next run skips the part above)")
		s.connect("postgres")
		s.l("ALTER DATABASE ", name, " ALLOW_CONNECTIONS false;")
	}
	return s.b.Bytes()
}

// sqlCreateOptions renders the options of CREATE DATABASE in the order of
// sql.md §5 A2 (version gates are stage-4 errors, compiler/rules.go).
func sqlCreateOptions(d *compiler.Database) string {
	var b strings.Builder
	opt := func(k, v string) {
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString(" ")
		b.WriteString(v)
	}
	if d.Owner != "" {
		opt("OWNER", q.Ident(d.Owner))
	}
	if d.Template != "" {
		opt("TEMPLATE", q.Ident(d.Template))
	}
	if d.Tablespace != "" {
		opt("TABLESPACE", q.Ident(d.Tablespace))
	}
	for _, kv := range []struct{ k, v string }{
		{"ENCODING", d.Encoding}, {"LOCALE", d.Locale}, {"LC_COLLATE", d.LcCollate}, {"LC_CTYPE", d.LcCtype},
	} {
		if kv.v != "" {
			opt(kv.k, q.Literal(kv.v))
		}
	}
	if d.IsTemplate != nil {
		opt("IS_TEMPLATE", sqlBool(*d.IsTemplate))
	}
	switch strings.ToLower(d.Strategy) {
	case "wal_log":
		opt("STRATEGY", "WAL_LOG")
	case "file_copy":
		opt("STRATEGY", "FILE_COPY")
	}
	for _, kv := range []struct{ k, v string }{
		{"LOCALE_PROVIDER", d.LocaleProvider}, {"ICU_LOCALE", d.IcuLocale}, {"ICU_RULES", d.IcuRules}, {"BUILTIN_LOCALE", d.BuiltinLocale},
	} {
		if kv.v != "" {
			opt(kv.k, q.Literal(kv.v))
		}
	}
	return b.String()
}

// baseline embeds the baseline between markers, inside \if :pgcc_created so
// it runs only in the run that created the database (sql.md §5 Baseline).
func (g *sqlGen) baseline(s *sqlScript, d *compiler.Database) {
	if !d.BaselineFound {
		s.c("pgcc: baseline %s was not found at build time (warning baseline-missing); nothing to run", d.Baseline)
		return
	}
	s.l(`\if :pgcc_created`)
	s.c("pgcc: baseline %s (%s)", d.Baseline, d.BaselineSum())
	data := string(d.BaselineData)
	data = strings.ReplaceAll(data, "\r\n", "\n")
	s.b.WriteString(data)
	if data != "" && !strings.HasSuffix(data, "\n") {
		s.blank()
	}
	// A baseline may change settings of its session: start clean again.
	s.session()
	s.c("pgcc: end of baseline %s", d.Baseline)
	s.l(`\endif`)
}

// poolAuthUser is the database's pool_auth_user when pgbouncer uses
// auth_query and that user is not a superuser (it then needs grants), else "".
func (g *sqlGen) poolAuthUser(d *compiler.Database) string {
	u := d.PoolAuthUser
	if u == "" || !g.ref.Bool("pgbouncer_enabled") || !g.ref.Bool("pgbouncer_auth_query") || g.isSuperuser(u) {
		return ""
	}
	return u
}
