package render

import (
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
)

func TestSQLSetParam(t *testing.T) {
	for _, tc := range []struct {
		key  string
		v    any
		db   bool
		want string
	}{
		{"work_mem", "64MB", false, `SET "work_mem" = '64MB'`},
		{"log_min_duration_statement", int64(1000), false, `SET "log_min_duration_statement" = '1000'`},
		{"random_page_cost", 1.1, false, `SET "random_page_cost" = '1.1'`},
		{"enable_seqscan", false, false, `SET "enable_seqscan" = 'off'`},
		{"jit", true, true, `SET "jit" = 'on'`},
		{"work_mem", "DEFAULT", false, `SET "work_mem" = DEFAULT`},
		{"work_mem", "default", true, `SET "work_mem" = DEFAULT`},
		{"search_path", "app, public", false, `SET "search_path" = 'app', 'public'`},
		{"search_path", `"$user", "My Schema",public`, true, `SET "search_path" = '$user', 'My Schema', 'public'`},
		{"search_path", `"a,b", c`, false, `SET "search_path" = 'a,b', 'c'`},
		{"search_path", "", false, `SET "search_path" = ''`},
		{"temp_tablespaces", "ts1,ts2", false, `SET "temp_tablespaces" = 'ts1', 'ts2'`},
		{"session_preload_libraries", "auto_explain", false, `SET "session_preload_libraries" = 'auto_explain'`},
		{"log_destination", "csvlog,stderr", false, `SET "log_destination" = 'csvlog,stderr'`},
		{"log_destination", "csvlog,stderr", true, `SET "log_destination" = 'csvlog', 'stderr'`},
		{"auto_explain.log_min_duration", "1s", false, `SET "auto_explain"."log_min_duration" = '1s'`},
		{"application_name", "it's", false, `SET "application_name" = 'it''s'`},
		{"application_name", `a\b`, false, `SET "application_name" = E'a\\b'`},
	} {
		if got := sqlSetParam(tc.key, tc.v, tc.db); got != tc.want {
			t.Errorf("sqlSetParam(%q, %#v, %v) = %s, want %s", tc.key, tc.v, tc.db, got, tc.want)
		}
	}
}

// sqlUnitInv is a one-cluster inventory with the given cluster vars lines.
func sqlUnitInv(vars string) []byte {
	return []byte(`all:
  children:
    etcd:
      hosts: { 10.10.10.10: { etcd_seq: 1 } }
      vars: { etcd_cluster: etcd }
    pg-u:
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
      vars:
        pg_cluster: pg-u
        node_cpu: 2
        node_mem_mb: 4096
        node_disk_gb: 40
` + vars + `  vars:
    admin_ip: 10.10.10.10
`)
}

// sqlUnitFile renders one sql file of the inventory.
func sqlUnitFile(t *testing.T, vars, file string) string {
	t.Helper()
	files := sqlBuild(t, compiler.Options{Names: []string{"inv.yml"}, Datas: [][]byte{sqlUnitInv(vars)}}, nil, nil, 5)
	f, ok := files["pg-u/sql/"+file]
	if !ok {
		t.Fatalf("no pg-u/sql/%s", file)
	}
	return string(f.Data)
}

// sqlSection returns the lines of the section whose comment line is head,
// up to the next blank line.
func sqlSection(s, head string) []string {
	i := strings.Index(s, "\n"+head+"\n")
	if i < 0 {
		return []string{"(no section " + head + ")"}
	}
	rest := s[i+len(head)+2:]
	if j := strings.Index(rest, "\n\n"); j >= 0 {
		rest = rest[:j]
	}
	return strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
}

func sqlEqualLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestSQLMemberships(t *testing.T) {
	user := `        pg_users:
          - { name: u ,roles: [ r1, { name: r2 ,admin: true ,set: true ,inherit: false }, { name: r3 ,admin: false ,set: false ,inherit: true }, { name: r4 ,state: revoke ,admin: true }, { name: r5 ,state: absent } ] }
          - { name: r1 ,login: false }
          - { name: r2 ,login: false }
          - { name: r3 ,login: false }
          - { name: r4 ,login: false }
          - { name: r5 ,login: false }
`
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{"15", []string{
			`COMMENT ON ROLE "u" IS 'business user u';`,
			`GRANT "r1" TO "u";`,
			`GRANT "r2" TO "u";`,
			`GRANT "r2" TO "u" WITH ADMIN OPTION;`,
			`-- pgcc: set option for "r2" skipped: needs PostgreSQL 16+`,
			`-- pgcc: inherit option for "r2" skipped: needs PostgreSQL 16+`,
			`GRANT "r3" TO "u";`,
			`REVOKE ADMIN OPTION FOR "r3" FROM "u";`,
			`-- pgcc: set option for "r3" skipped: needs PostgreSQL 16+`,
			`-- pgcc: inherit option for "r3" skipped: needs PostgreSQL 16+`,
			`REVOKE "r4" FROM "u";`,
			`REVOKE "r5" FROM "u";`,
		}},
		{"16", []string{
			`COMMENT ON ROLE "u" IS 'business user u';`,
			`GRANT "r1" TO "u";`,
			`GRANT "r2" TO "u";`,
			`GRANT "r2" TO "u" WITH ADMIN TRUE;`,
			`GRANT "r2" TO "u" WITH SET TRUE;`,
			`REVOKE INHERIT OPTION FOR "r2" FROM "u";`,
			`GRANT "r3" TO "u";`,
			`REVOKE ADMIN OPTION FOR "r3" FROM "u";`,
			`REVOKE SET OPTION FOR "r3" FROM "u";`,
			`GRANT "r3" TO "u" WITH INHERIT TRUE;`,
			`REVOKE "r4" FROM "u";`,
			`REVOKE "r5" FROM "u";`,
		}},
	} {
		roles := sqlUnitFile(t, "        pg_version: "+tc.version+"\n"+user, "roles.sql")
		sqlEqualLines(t, "pg "+tc.version, sqlSection(roles, `-- user "u"`), tc.want)
	}
}

func TestSQLUserStatements(t *testing.T) {
	roles := sqlUnitFile(t, `        pg_users:
          - { name: a ,login: false ,superuser: false ,createdb: true ,createrole: false ,inherit: false ,replication: false ,bypassrls: true ,expire_in: 7 ,expire_at: '2030-01-01' ,connlimit: 3 ,comment: "" }
          - { name: b ,password: '' ,expire_at: '2030-12-31T23:59:59+08:00' ,parameters: { b_param: x ,a_param: y } }
          - { name: c ,password: md5a3556571e93b0d20722ba62be61e8c2d ,expire_at: infinity ,backup_tool: pgmoneta }
          - { name: dbuser_dba ,password: 'SCRAM-SHA-256$4096:cGdjYy10ZXN0LXNhbHQxNg==$RbQdTFNC/PoD1ZBdNxP7iCG4sNU8pnIeRde2F+57b0w=:uSuIu8110QufqlpzTlnCtgi9H98w1STA5rR/laqJRbU=' }
          - { name: gone ,state: absent }
        pg_databases: [ { name: d1 }, { name: d2 ,state: absent } ]
        pg_version: 14
`, "roles.sql")
	sqlEqualLines(t, "a", sqlSection(roles, `-- user "a"`), []string{
		`ALTER ROLE "a" NOLOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOINHERIT NOREPLICATION BYPASSRLS;`,
		`DO $pgcc$BEGIN EXECUTE format('ALTER ROLE %I VALID UNTIL %L', 'a', (current_date + 7)::text); END$pgcc$;`,
		`ALTER ROLE "a" CONNECTION LIMIT 3;`,
		`COMMENT ON ROLE "a" IS '';`,
	})
	sqlEqualLines(t, "b", sqlSection(roles, `-- user "b"`), []string{
		`SET log_statement = 'none';`,
		`ALTER ROLE "b" PASSWORD NULL;`,
		`RESET log_statement;`,
		`ALTER ROLE "b" VALID UNTIL '2030-12-31T23:59:59+08:00';`,
		`ALTER ROLE "b" SET "b_param" = 'x';`,
		`ALTER ROLE "b" SET "a_param" = 'y';`,
		`COMMENT ON ROLE "b" IS 'business user b';`,
	})
	sqlEqualLines(t, "c", sqlSection(roles, `-- user "c"`), []string{
		`SET log_statement = 'none';`,
		`ALTER ROLE "c" PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d';`,
		`RESET log_statement;`,
		`ALTER ROLE "c" VALID UNTIL 'infinity';`,
		`COMMENT ON ROLE "c" IS 'business user c';`,
		`-- backup_tool: pgmoneta`,
		`GRANT "pg_read_server_files" TO "c";`,
		`-- pgcc: pgmoneta checkpoint needs SUPERUSER before PostgreSQL 15; not granted`,
	})
	// dbuser_dba's pg_users password wins: the system block does not set it.
	sys := sqlSection(roles, "-- system passwords (pg_replication_password, pg_monitor_password, pg_admin_password)")
	if len(sys) != 5 || sys[3] != `-- pgcc: password of "dbuser_dba" is set by its pg_users entry below` {
		t.Errorf("system passwords:\n%s", strings.Join(sys, "\n"))
	}
	sqlEqualLines(t, "dbuser_dba", sqlSection(roles, `-- user "dbuser_dba"`), []string{
		`SET log_statement = 'none';`,
		`ALTER ROLE "dbuser_dba" PASSWORD 'SCRAM-SHA-256$4096:cGdjYy10ZXN0LXNhbHQxNg==$RbQdTFNC/PoD1ZBdNxP7iCG4sNU8pnIeRde2F+57b0w=:uSuIu8110QufqlpzTlnCtgi9H98w1STA5rR/laqJRbU=';`,
		`RESET log_statement;`,
		`COMMENT ON ROLE "dbuser_dba" IS 'business user dbuser_dba';`,
	})
	sqlEqualLines(t, "gone", sqlSection(roles, `-- absent user "gone": safe drop`), []string{
		`DO $pgcc$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'gone') THEN ALTER ROLE "gone" NOLOGIN; PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = 'gone'; END IF; END$pgcc$;`,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'postgres' AND datallowconn) AS pgcc_ok \gset`,
		`\if :pgcc_ok`,
		`\connect "postgres"`,
		`SET client_min_messages = warning;`,
		`SET standard_conforming_strings = on;`,
		`DO $pgcc$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'gone') THEN REASSIGN OWNED BY "gone" TO "postgres"; DROP OWNED BY "gone"; END IF; END$pgcc$;`,
		`\endif`,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'template1' AND datallowconn) AS pgcc_ok \gset`,
		`\if :pgcc_ok`,
		`\connect "template1"`,
		`SET client_min_messages = warning;`,
		`SET standard_conforming_strings = on;`,
		`DO $pgcc$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'gone') THEN REASSIGN OWNED BY "gone" TO "postgres"; DROP OWNED BY "gone"; END IF; END$pgcc$;`,
		`\endif`,
		`SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'd1' AND datallowconn) AS pgcc_ok \gset`,
		`\if :pgcc_ok`,
		`\connect "d1"`,
		`SET client_min_messages = warning;`,
		`SET standard_conforming_strings = on;`,
		`DO $pgcc$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'gone') THEN REASSIGN OWNED BY "gone" TO "postgres"; DROP OWNED BY "gone"; END IF; END$pgcc$;`,
		`\endif`,
		`\connect "postgres"`,
		`SET client_min_messages = warning;`,
		`SET standard_conforming_strings = on;`,
		`DROP ROLE IF EXISTS "gone";`,
	})
	if strings.Contains(roles, `CREATE ROLE "gone"`) {
		t.Errorf("an absent user is created")
	}
}

func TestSQLCreateDatabase(t *testing.T) {
	for _, tc := range []struct {
		version, db, want string
	}{
		{"13", `{ name: d ,owner: dbuser_dba ,template: template0 ,tablespace: ts ,encoding: UTF8 ,locale: C ,lc_collate: C ,lc_ctype: C ,is_template: false }`,
			`CREATE DATABASE "d" OWNER "dbuser_dba" TEMPLATE "template0" TABLESPACE "ts" ENCODING 'UTF8' LOCALE 'C' LC_COLLATE 'C' LC_CTYPE 'C' IS_TEMPLATE false;`},
		{"15", `{ name: d ,strategy: FILE_COPY ,locale_provider: icu ,icu_locale: en-US }`,
			`CREATE DATABASE "d" STRATEGY FILE_COPY LOCALE_PROVIDER 'icu' ICU_LOCALE 'en-US';`},
		{"16", `{ name: d ,strategy: wal_log ,locale_provider: icu ,icu_locale: und ,icu_rules: '&a < b' }`,
			`CREATE DATABASE "d" STRATEGY WAL_LOG LOCALE_PROVIDER 'icu' ICU_LOCALE 'und' ICU_RULES '&a < b';`},
		{"17", `{ name: d ,locale_provider: builtin ,builtin_locale: C.UTF-8 ,template: template0 }`,
			`CREATE DATABASE "d" TEMPLATE "template0" LOCALE_PROVIDER 'builtin' BUILTIN_LOCALE 'C.UTF-8';`},
	} {
		db := sqlUnitFile(t, "        pg_version: "+tc.version+"\n        pg_databases: [ "+tc.db+" ]\n", "db-d.sql")
		sec := sqlSection(db, "-- create when missing")
		if len(sec) != 4 || sec[2] != tc.want {
			t.Errorf("pg %s: %s\ngot:\n  %s\nwant line 3: %s", tc.version, tc.db, strings.Join(sec, "\n  "), tc.want)
		}
	}
}

func TestSQLDropDatabase(t *testing.T) {
	db := sqlUnitFile(t, "        pg_databases: [ { name: d ,state: absent ,owner: dbuser_dba } ]\n", "db-d.sql")
	want := `-- pgcc: cluster pg-u, sql/db-d.sql: database d (absent); run as pg_dbsu: psql -X -v ON_ERROR_STOP=1 -d postgres -f db-d.sql
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET standard_conforming_strings = on;

-- drop (state: absent)
SELECT format('ALTER DATABASE %I IS_TEMPLATE false', datname) FROM pg_catalog.pg_database WHERE datname = 'd' AND datistemplate \gexec
DROP DATABASE IF EXISTS "d" WITH (FORCE);
`
	if db != want {
		t.Errorf("db-d.sql:\n%s\nwant:\n%s", db, want)
	}
}

func TestSQLDatabaseSettings(t *testing.T) {
	db := sqlUnitFile(t, `        pg_users: [ { name: o } ]
        pg_databases:
          - { name: d ,owner: o ,tablespace: fast ,allowconn: false ,connlimit: 5 ,is_template: true ,revokeconn: false ,parameters: { work_mem: 8MB } ,comment: "x" }
`, "db-d.sql")
	sqlEqualLines(t, "settings", sqlSection(db, "-- database settings"), []string{
		`ALTER DATABASE "d" OWNER TO "o";`,
		`GRANT ALL PRIVILEGES ON DATABASE "d" TO "o";`,
		`SELECT format('ALTER DATABASE %I SET TABLESPACE %I', d.datname, 'fast') FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = 'd' AND t.spcname <> 'fast' \gexec`,
		`ALTER DATABASE "d" CONNECTION LIMIT 5;`,
		`ALTER DATABASE "d" IS_TEMPLATE true;`,
		`ALTER DATABASE "d" SET "work_mem" = '8MB';`,
		`COMMENT ON DATABASE "d" IS 'x';`,
		`GRANT CONNECT ON DATABASE "d" TO PUBLIC;`,
		`REVOKE CREATE ON DATABASE "d" FROM PUBLIC;`,
		`GRANT CREATE ON DATABASE "d" TO "dbrole_admin";`,
	})
	sqlEqualLines(t, "last", sqlSection(db, "-- no connections (last, so the next run skips the part above)"), []string{
		`\connect "postgres"`,
		`SET client_min_messages = warning;`,
		`SET standard_conforming_strings = on;`,
		`ALTER DATABASE "d" ALLOW_CONNECTIONS false;`,
	})
}

func TestSQLTemplateTargets(t *testing.T) {
	for _, tc := range []struct {
		vars string
		want []string
	}{
		{"", []string{`\connect "template1"`, `\connect "postgres"`}},
		{"        pg_mode: citus\n        pg_shard: pg-u\n        pg_group: 0\n        pg_primary_db: meta\n",
			[]string{`\connect "template1"`, `\connect "postgres"`, `SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'meta' AND datallowconn) AS pgcc_ok \gset`, `\if :pgcc_ok`, `\connect "meta"`, `\endif`}},
		{"        pg_mode: ivory\n", []string{`\connect "template1"`, `\connect "postgres"`,
			`SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'ivorysql' AND datallowconn) AS pgcc_ok \gset`, `\if :pgcc_ok`, `\connect "ivorysql"`, `\endif`}},
	} {
		tmpl := sqlUnitFile(t, tc.vars, "template.sql")
		var got []string
		for _, l := range strings.Split(tmpl, "\n") {
			if strings.HasPrefix(l, `\`) && !strings.HasPrefix(l, `\set`) || strings.Contains(l, "AS pgcc_ok") {
				got = append(got, l)
			}
		}
		sqlEqualLines(t, tc.vars, got, tc.want)
	}
}

// TestSQLAbsentDefaultRole: a pg_default_roles entry turned absent in
// pg_users is never created, only dropped.
func TestSQLAbsentDefaultRole(t *testing.T) {
	roles := sqlUnitFile(t, `        pg_default_roles:
          - { name: dbrole_readonly ,login: false }
          - { name: dbrole_offline ,login: false }
          - { name: dbrole_readwrite ,login: false }
          - { name: dbrole_admin ,login: false }
          - { name: legacy ,login: false }
        pg_users: [ { name: legacy ,state: absent } ]
`, "roles.sql")
	if strings.Contains(roles, `CREATE ROLE "legacy"`) || strings.Contains(roles, `-- default role "legacy"`) || !strings.Contains(roles, `DROP ROLE IF EXISTS "legacy";`) {
		t.Errorf("roles.sql:\n%s", roles)
	}
}
