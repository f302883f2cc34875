package render

import (
	"bytes"

	"github.com/pgcc-dev/pgcc/compiler"
	q "github.com/pgcc-dev/pgcc/render/sqltext"
)

// template renders sql/template.sql (sql.md §6): one section per target
// database (template1, postgres, the citus primary database, ivorysql), each
// opened with \connect. Databases created later from template1 inherit it.
func (g *sqlGen) template() []byte {
	s := &sqlScript{}
	s.start(g.cl.Name, "template.sql", "template1 and postgres: default privileges, default schemas and extensions, monitor objects, backup grants")
	targets := []string{"template1", "postgres"}
	optional := map[string]bool{}
	add := func(db string) {
		if !sqlContains(targets, db) {
			targets = append(targets, db)
			optional[db] = true
		}
	}
	switch g.ref.Str("pg_mode") {
	case "citus":
		add(g.ref.Str("pg_primary_db"))
	case "ivory":
		add("ivorysql")
	}
	// The body is the same for every target: render it once (it is most of
	// the file, ~40 kB with the monitor objects).
	// The body (~40 kB) is built in a pooled buffer: it is copied below.
	scratch := scratchPool.Get().(*[]byte)
	body := &sqlScript{b: *bytes.NewBuffer((*scratch)[:0])}
	defer func() { *scratch = body.b.Bytes()[:0]; scratchPool.Put(scratch) }()
	g.templateBody(body)
	s.b.Grow(len(targets) * (body.b.Len() + 256))
	for _, db := range targets {
		s.section("==== database %q ====", db)
		if optional[db] {
			// Created by a db file (citus) or the distribution (ivory): skip
			// it when it does not exist yet instead of failing \connect.
			s.ifDatabase(db)
		}
		s.connect(db)
		s.b.Write(body.b.Bytes())
		if optional[db] {
			s.l(`\endif`)
		}
	}
	return s.b.Bytes()
}

func sqlContains(l []string, x string) bool {
	for _, e := range l {
		if e == x {
			return true
		}
	}
	return false
}

func (g *sqlGen) templateBody(s *sqlScript) {
	// 1. default privileges for objects pg_dbsu, the admin user and
	// dbrole_admin create (other admins SET ROLE dbrole_admin)
	s.section("default privileges")
	for _, r := range []string{g.dbsu, g.admin, "dbrole_admin"} {
		s.defaultPrivileges(r, g.privs)
	}

	// 2. default schemas, then no CREATE on public for PUBLIC
	s.section("default schemas")
	s.schemas(compiler.DecodeItems(g.ref.List("pg_default_schemas")))
	s.l("REVOKE CREATE ON SCHEMA public FROM PUBLIC;")

	// 3. default extensions, best effort: a package that is not installed
	// gives a WARNING, as in Pigsty
	s.section("default extensions (skipped with a warning when the package is not installed)")
	for _, it := range compiler.DecodeItems(g.ref.List("pg_default_extensions")) {
		if it.State == "absent" {
			s.l("DROP EXTENSION IF EXISTS ", q.Ident(it.Name), " CASCADE;")
			continue
		}
		s.do("BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = " + q.Literal(it.Name) + ") THEN " +
			sqlCreateExtension(it) + " ELSE RAISE WARNING " + q.Literal("pgcc: extension % is not installed; skipped") +
			", " + q.Literal(it.Name) + "; END IF; END")
	}
	s.l(`CREATE EXTENSION IF NOT EXISTS "file_fdw";`)
	s.l(`CREATE SERVER IF NOT EXISTS "fs" FOREIGN DATA WRAPPER "file_fdw";`)

	// 4. backup grants to the replication user (pgBackRest and friends)
	s.section("backup privileges for %q", g.repl)
	repl := q.Ident(g.repl)
	s.l("GRANT USAGE ON SCHEMA pg_catalog TO ", repl, ";")
	fns := []string{"current_setting(text)", "set_config(text, text, boolean)", "pg_is_in_recovery()"}
	if g.version < 15 {
		fns = append(fns, "pg_start_backup(text, boolean, boolean)", "pg_stop_backup(boolean, boolean)")
	}
	fns = append(fns, "pg_create_restore_point(text)", "pg_switch_wal()", "pg_last_wal_replay_lsn()",
		"txid_current()", "txid_current_snapshot()", "txid_snapshot_xmax(txid_snapshot)", "pg_control_checkpoint()")
	for _, fn := range fns {
		s.l("GRANT EXECUTE ON FUNCTION pg_catalog.", fn, " TO ", repl, ";")
	}

	// 5. backup_tool, per-database part (sql.md §8)
	for _, u := range g.cl.Users {
		if u.BackupTool == "" || u.State == "absent" {
			continue
		}
		s.section("backup_tool: pgmoneta for %q", u.Name)
		x := q.Ident(u.Name)
		if g.version >= 15 {
			s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_backup_start(text, boolean) TO ", x, ";")
			s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_backup_stop(boolean) TO ", x, ";")
		} else {
			s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_start_backup(text, boolean, boolean) TO ", x, ";")
			s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_stop_backup(boolean, boolean) TO ", x, ";")
		}
		s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO ", x, ";")
		s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO ", x, ";")
		s.l("GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_checkpoint() TO ", x, ";")
	}

	// 6. monitor objects, 7. pgbouncer_auth
	g.monitorObjects(s)
}
