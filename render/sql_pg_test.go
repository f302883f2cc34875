package render

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/golden/testenv"
	q "github.com/pgcc-dev/pgcc/render/sqltext"
)

// Real-server oracle for the provisioning SQL (testing.md §4.7): every file
// of a cluster applied with psql -X -v ON_ERROR_STOP=1 -f, twice; the second
// run succeeds and changes nothing; every user with a password logs in over
// TCP with scram-sha-256; the default extensions install.

// sqlServer is a scratch PostgreSQL 15 with scram-sha-256 for every TCP user
// but postgres (the harness's superuser stays trusted).
func sqlServer(t *testing.T) *testenv.Postgres {
	t.Helper()
	testenv.Need(t, "postgres")
	pg := testenv.StartPostgres(t, testenv.PGOptions{Settings: []string{"password_encryption=scram-sha-256"}})
	hba := "local all all trust\n" +
		"host all postgres 127.0.0.1/32 trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	testenv.WriteDaemonFile(t, filepath.Join(pg.DataDir(), "pg_hba.conf"), []byte(hba), 0o600)
	pg.Reload(t)
	return pg
}

// sqlApply writes the files to a temp dir and runs each with
// psql -X -v ON_ERROR_STOP=1 -f FILE -d postgres, then roles.sql once more
// (sql.md §1: it completes memberships in roles a baseline created).
func sqlApply(t *testing.T, pg *testenv.Postgres, files []File) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.Base(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, paths[0])
	for _, p := range paths {
		if out, err := pg.PsqlFile(t, "postgres", p); err != nil {
			t.Fatalf("psql -f %s: %v\n%s", filepath.Base(p), err, out)
		}
	}
}

// sqlDump is the server's state: pg_dumpall --globals-only, the catalog rows
// of every database, and pg_dump -s --create of each database that accepts
// connections. volatile masks VALID UNTIL of roles with expire_in (sql.md §1:
// re-evaluated against the current date).
func sqlDump(t *testing.T, pg *testenv.Postgres, volatile []string) map[string]string {
	t.Helper()
	port := strconv.Itoa(pg.Port())
	run := func(name string, args ...string) (string, error) {
		cmd := testenv.Command(pg.Dir(), nil, name, append([]string{"-h", pg.Host(), "-p", port, "-U", "postgres"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
		}
		// pg_dump ≥ 15.14 writes \restrict / \unrestrict with a random key.
		return restrictRE.ReplaceAllString(string(out), "$1 (key)"), nil
	}
	jobs := map[string][]string{"globals": {"pg_dumpall", "--globals-only"}}
	for _, db := range strings.Split(pg.MustPsql(t, "", "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY 1"), "\n") {
		jobs["db "+db] = []string{"pg_dump", "-s", "--create", "-d", db}
	}
	// Dumps run two at a time (the machine has 2 cores).
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	out := map[string]string{}
	sem := make(chan struct{}, 2)
	for k, args := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := run(args[0], args[1:]...)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			out[k] = d
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	for _, r := range volatile {
		re := regexp.MustCompile(`(?m)^(ALTER ROLE ` + regexp.QuoteMeta(r) + ` .*VALID UNTIL )'[^']*'`)
		out["globals"] = re.ReplaceAllString(out["globals"], "${1}'(expire_in)'")
	}
	out["databases"] = pg.MustPsql(t, "", `SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba), d.datallowconn, d.datistemplate,
		d.datconnlimit, d.datacl, d.datlocprovider, d.daticulocale, pg_catalog.shobj_description(d.oid, 'pg_database'),
		(SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0)
		FROM pg_catalog.pg_database d ORDER BY 1`)
	return out
}

var restrictRE = regexp.MustCompile(`(?m)^(\\(?:un)?restrict) \S+$`)

func sqlCompareDumps(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, b := range before {
		if a, ok := after[k]; !ok {
			t.Errorf("second run: %s disappeared", k)
		} else if a != b {
			t.Errorf("second run changed %s:\n%s", k, sqlFirstDiff(b, a))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("second run: %s appeared", k)
		}
	}
}

// sqlLogin checks a scram-sha-256 login over TCP, and that a wrong password
// is refused (so the server really checks the verifier).
func sqlLogin(t *testing.T, pg *testenv.Postgres, user, password, db string) {
	t.Helper()
	out, err := pg.PsqlAs(t, user, password, db, "SELECT current_user", "")
	if err != nil || out != user {
		t.Errorf("login %s@%s: %q, %v", user, db, out, err)
	}
	if _, err := pg.PsqlAs(t, user, password+"x", db, "SELECT 1", ""); err == nil {
		t.Errorf("login %s@%s with a wrong password succeeded", user, db)
	}
}

func sqlCompileFile(t *testing.T, path string, vars ...string) *compiler.Fleet {
	t.Helper()
	res := compiler.Compile(compiler.Options{Files: []string{path}, Vars: vars})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile %s: %v", path, errs)
	}
	return res.Fleet
}

// TestSQLExampleOnPostgres applies the example inventory's pg-test cluster
// (pg_version 15 for the installed server) twice.
func TestSQLExampleOnPostgres(t *testing.T) {
	t.Parallel()
	pg := sqlServer(t)
	example := filepath.Join(sqlRepoRoot(t), "examples", "pigsty.yml")
	opts := compiler.Options{Files: []string{example}, Vars: []string{"pg_version=15"}}
	fleet := sqlCompileFile(t, example, "pg_version=15")
	cl := fleet.Cluster("pg-test")
	files := sqlBuild(t, opts, []string{"pg-test"}, nil, 1)
	sqlApply(t, pg, sqlFiles(t, files, cl))
	before := sqlDump(t, pg, nil)
	sqlApply(t, pg, sqlFiles(t, files, cl))
	sqlCompareDumps(t, before, sqlDump(t, pg, nil))

	for _, l := range []struct{ user, pw, db string }{
		{"test", "Test.Example.2026", "test"},
		{"dbuser_test_ro", "RO.Example.2026", "test"},
		{"dbuser_etl", "ETL.Example.2026", "test_archive"},
		{"dbuser_dba", "Admin.Example.2026", "postgres"},
		{"dbuser_monitor", "Monitor.Example.2026", "postgres"},
		{"replicator", "Repl.Example.2026", "postgres"},
	} {
		sqlLogin(t, pg, l.user, l.pw, l.db)
	}
	// template.sql installs every default extension on PostgreSQL 15 with
	// contrib and postgresql-15-repack (testing.md §4.7).
	want := "btree_gin,btree_gist,file_fdw,intagg,intarray,pageinspect,pg_buffercache,pg_freespacemap,pg_prewarm,pg_repack,pg_stat_statements,pg_trgm,pg_visibility,pgstattuple,plpgsql,postgres_fdw"
	for _, db := range []string{"template1", "postgres", "test", "test_archive"} {
		if got := pg.MustPsql(t, db, "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension"); got != want {
			t.Errorf("extensions in %s:\n got %s\nwant %s", db, got, want)
		}
	}
	// The monitor user reads the monitor views; an app user cannot.
	if _, err := pg.PsqlAs(t, "dbuser_monitor", "Monitor.Example.2026", "test", "SELECT count(*) FROM monitor.pg_session; SELECT * FROM monitor.beating()", ""); err != nil {
		t.Errorf("monitor user: %v", err)
	}
	if _, err := pg.PsqlAs(t, "dbuser_test_ro", "RO.Example.2026", "test", "SELECT count(*) FROM monitor.pg_session", ""); err == nil {
		t.Errorf("a read-only user can read monitor.pg_session")
	}
}

// TestSQLFeaturesOnPostgres applies render/testdata/sql/pg15.yml (every user
// and database feature) twice, checks the result, then turns dbuser_gone to
// state: absent and checks the safe drop.
func TestSQLFeaturesOnPostgres(t *testing.T) {
	t.Parallel()
	pg := sqlServer(t)
	inv := filepath.Join("testdata", "sql", "pg15.yml")
	fleet := sqlCompileFile(t, inv)
	cl := fleet.Cluster("pg-sql")
	files := sqlBuild(t, compiler.Options{Files: []string{inv}}, nil, nil, 2)
	volatile := []string{"dbuser_app"}
	sqlApply(t, pg, sqlFiles(t, files, cl))
	before := sqlDump(t, pg, volatile)
	sqlApply(t, pg, sqlFiles(t, files, cl))
	sqlCompareDumps(t, before, sqlDump(t, pg, volatile))

	for _, l := range []struct{ user, pw, db string }{
		{"dbuser_app", "App.Pass.1", "app"},
		{"dbuser_ro", "RO.Pass.1", "postgres"},
		{"dbuser_verifier", "Verifier.Pass.1", "postgres"},
		{"dbuser_moneta", "Moneta.Pass.1", "postgres"},
		{"dbuser_auth", "Auth.Pass.1", "postgres"},
		{"dbuser_super", "Super.Pass.1", "app"},
		{"dbuser_gone", "Gone.Pass.1", "postgres"},
		{"dbuser_dba", "Admin.Pass.1", "app"},
		{"dbuser_monitor", "Monitor.Pass.1", "app"},
		{"replicator", "Repl.Pass.1", "app"},
	} {
		sqlLogin(t, pg, l.user, l.pw, l.db)
	}
	// revokeconn: true — a user without CONNECT is refused
	if _, err := pg.PsqlAs(t, "dbuser_ro", "RO.Pass.1", "app", "SELECT 1", ""); err == nil {
		t.Errorf("dbuser_ro connected to app despite revokeconn")
	}

	checks := []struct{ db, query, want string }{
		{"", `SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls, rolconnlimit, shobj_description(oid, 'pg_authid')
			FROM pg_roles WHERE rolname LIKE 'dbuser_%' ORDER BY 1`,
			"dbuser_app|t|f|f|f|t|f|f|10|app's owner\n" +
				"dbuser_auth|t|f|f|f|t|f|f|-1|pgbouncer auth_query user\n" +
				"dbuser_dba|t|t|f|f|t|f|f|-1|pgsql admin user\n" +
				"dbuser_gone|t|f|f|f|t|f|f|-1|business user dbuser_gone\n" +
				"dbuser_group|f|f|f|f|t|f|f|-1|a group role\n" +
				"dbuser_moneta|t|f|f|f|t|t|f|-1|pgmoneta backups\n" +
				"dbuser_monitor|t|f|f|f|t|f|f|-1|pgsql monitor user\n" +
				"dbuser_ro|t|f|f|f|t|f|f|-1|business user dbuser_ro\n" +
				"dbuser_super|t|t|f|t|t|f|t|-1|business user dbuser_super\n" +
				"dbuser_verifier|t|f|f|f|t|f|f|-1|password given as a verifier"},
		{"", `SELECT rolname, rolvaliduntil::date - current_date FROM pg_roles WHERE rolname = 'dbuser_app'`, "dbuser_app|30"},
		{"", `SELECT rolname, rolvaliduntil FROM pg_roles WHERE rolname = 'dbuser_ro'`, "dbuser_ro|2099-12-31 00:00:00+00"},
		{"", `SELECT r.rolname, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = 0 ORDER BY 1`,
			"dbuser_app|{\"search_path=app, public\",statement_timeout=30s,auto_explain.log_min_duration=1000}\n" +
				"dbuser_monitor|{log_min_duration_statement=1000,\"search_path=monitor, public\"}"},
		{"", `SELECT m.rolname, r.rolname, a.admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
			WHERE m.rolname LIKE 'dbuser_%' ORDER BY 1, 2`,
			"dbuser_app|dbrole_readwrite|f\n" +
				"dbuser_dba|dbrole_admin|f\n" +
				"dbuser_gone|dbrole_readwrite|f\n" +
				"dbuser_group|dbrole_readonly|f\n" +
				"dbuser_moneta|pg_checkpoint|f\n" +
				"dbuser_moneta|pg_read_server_files|f\n" +
				"dbuser_monitor|dbrole_readonly|f\n" +
				"dbuser_monitor|pg_monitor|f\n" +
				"dbuser_ro|dbrole_readonly|t\n" +
				"dbuser_super|dbuser_group|f\n" +
				"dbuser_verifier|dbrole_readonly|f"},
		{"", `SELECT datname, pg_get_userbyid(datdba), datallowconn, datistemplate, datconnlimit, datacl, datlocprovider, daticulocale, shobj_description(oid, 'pg_database')
			FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') ORDER BY 1`,
			"app|dbuser_app|t|f|50|{=T/dbuser_app,dbuser_app=CTc*/dbuser_app,replicator=c/dbuser_app,dbuser_monitor=c/dbuser_app,dbuser_dba=c*/dbuser_app,dbuser_auth=c/dbuser_app,dbrole_admin=C/dbuser_app}|c||the app's database\n" +
				"app_copy|dbuser_app|f|f|-1|{=Tc/dbuser_app,dbuser_app=CTc/dbuser_app,dbrole_admin=C/dbuser_app}|c||a copy of app\n" +
				"icu_db|postgres|t|f|-1|{=Tc/postgres,postgres=CTc/postgres,dbrole_admin=C/postgres}|i|und|business database icu_db\n" +
				"redo|dbuser_app|t|f|-1|{=Tc/dbuser_app,dbuser_app=CTc/dbuser_app,dbrole_admin=C/dbuser_app}|c||business database redo\n" +
				"tmpl|postgres|t|t|-1|{=Tc/postgres,postgres=CTc/postgres,dbrole_admin=C/postgres}|c||business database tmpl"},
		{"", `SELECT d.datname, s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole = 0 ORDER BY 1`,
			"app|{\"search_path=\\\"$user\\\", app, public\",work_mem=8MB,enable_seqscan=off}"},
		{"app", `SELECT n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE nspname IN ('app', 'app_owned', 'public') ORDER BY 1`,
			"app|postgres\napp_owned|dbuser_app\npublic|pg_database_owner"},
		// pg_trgm came from template1 (a default extension in public): an
		// installed extension is not moved; the others follow the database's
		// search_path ("$user", app, public).
		{"app", `SELECT e.extname, n.nspname, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname IN ('pg_trgm', 'hstore', 'citext') ORDER BY 1`,
			"citext|app|1.6\nhstore|app|1.8\npg_trgm|public|1.6"},
		{"app", `SELECT id, note FROM app.baseline_marker`, "1|created once"},
		{"tmpl", `SELECT count(*) FROM pg_extension WHERE extname = 'hstore'`, "0"},
		{"redo", `SELECT nspname FROM pg_namespace WHERE nspname = 'scratch'`, "scratch"},
		{"postgres", `SELECT has_function_privilege('dbuser_moneta', 'pg_catalog.pg_backup_start(text, boolean)', 'EXECUTE'),
			has_function_privilege('dbuser_moneta', 'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)', 'EXECUTE'),
			has_function_privilege('dbuser_moneta', 'pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE'),
			has_function_privilege('replicator', 'pg_catalog.pg_switch_wal()', 'EXECUTE'),
			has_function_privilege('dbuser_app', 'pg_catalog.pg_switch_wal()', 'EXECUTE')`, "t|t|t|t|f"},
		{"app", `SELECT has_function_privilege('dbuser_auth', 'monitor.pgbouncer_auth(text)', 'EXECUTE'),
			has_function_privilege('dbuser_app', 'monitor.pgbouncer_auth(text)', 'EXECUTE'),
			has_table_privilege('dbuser_app', 'monitor.pg_log', 'SELECT'),
			has_table_privilege('dbuser_monitor', 'monitor.pg_log', 'SELECT')`, "t|f|f|t"},
	}
	for _, c := range checks {
		if got := pg.MustPsql(t, c.db, c.query); got != c.want {
			t.Errorf("%s: %s\n got: %s\nwant: %s", c.db, strings.Join(strings.Fields(c.query), " "), got, c.want)
		}
	}
	// The 17 default privileges of pg_default_privileges, for the dbsu, the
	// admin user and dbrole_admin (template.sql, inherited from template1)
	// and for the database owner (db-app.sql), read from pg_default_acl.
	// "char" objtype order: S (sequences) < f (functions) < n (schemas) < r (tables).
	const seventeen = `S|dbrole_offline|SELECT
S|dbrole_readonly|SELECT
S|dbrole_readwrite|UPDATE
S|dbrole_readwrite|USAGE
f|dbrole_offline|EXECUTE
f|dbrole_readonly|EXECUTE
n|dbrole_admin|CREATE
n|dbrole_offline|USAGE
n|dbrole_readonly|USAGE
r|dbrole_admin|REFERENCES
r|dbrole_admin|TRIGGER
r|dbrole_admin|TRUNCATE
r|dbrole_offline|SELECT
r|dbrole_readonly|SELECT
r|dbrole_readwrite|DELETE
r|dbrole_readwrite|INSERT
r|dbrole_readwrite|UPDATE`
	// For dbrole_admin as creator, its grants to itself merge into the
	// owner's own entry (PostgreSQL keeps one ACL item per grantee), which
	// the query leaves out: the other 13 remain.
	const thirteen = `S|dbrole_offline|SELECT
S|dbrole_readonly|SELECT
S|dbrole_readwrite|UPDATE
S|dbrole_readwrite|USAGE
f|dbrole_offline|EXECUTE
f|dbrole_readonly|EXECUTE
n|dbrole_offline|USAGE
n|dbrole_readonly|USAGE
r|dbrole_offline|SELECT
r|dbrole_readonly|SELECT
r|dbrole_readwrite|DELETE
r|dbrole_readwrite|INSERT
r|dbrole_readwrite|UPDATE`
	for _, c := range []struct{ db, creator, want string }{
		{"template1", "postgres", seventeen}, {"template1", "dbuser_dba", seventeen}, {"template1", "dbrole_admin", thirteen},
		{"postgres", "postgres", seventeen}, {"postgres", "dbuser_dba", seventeen}, {"postgres", "dbrole_admin", thirteen},
		{"app", "postgres", seventeen}, {"app", "dbuser_dba", seventeen}, {"app", "dbrole_admin", thirteen}, {"app", "dbuser_app", seventeen},
	} {
		got := pg.MustPsql(t, c.db, `SELECT d.defaclobjtype, g.rolname, a.privilege_type
			FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a JOIN pg_roles g ON g.oid = a.grantee
			WHERE d.defaclrole = `+q.Literal(c.creator)+`::regrole AND d.defaclnamespace = 0 AND a.grantee <> d.defaclrole AND g.rolname LIKE 'dbrole\_%'
			ORDER BY 1, 2, 3`)
		if got != c.want {
			t.Errorf("default privileges of %s in %s:\n got:\n%s\nwant:\n%s", c.creator, c.db, got, c.want)
		}
	}
	// Public CREATE is revoked in every database (PostgreSQL 15 already
	// defaults to that for new databases; the scripts make it explicit).
	for _, db := range []string{"template1", "postgres", "app"} {
		if got := pg.MustPsql(t, db, `SELECT has_schema_privilege('public', 'public', 'CREATE')`); got != "f" {
			t.Errorf("%s: PUBLIC may CREATE in schema public", db)
		}
	}
	// pgbouncer auth_query: the auth user reads verifiers of non-superusers only.
	out, err := pg.PsqlAs(t, "dbuser_auth", "Auth.Pass.1", "app",
		"SELECT username, left(password, 14) FROM monitor.pgbouncer_auth('dbuser_app') UNION ALL SELECT username, password FROM monitor.pgbouncer_auth('dbuser_super')", "")
	if err != nil || out != "dbuser_app|SCRAM-SHA-256$" {
		t.Errorf("pgbouncer_auth as dbuser_auth: %q, %v", out, err)
	}

	t.Run("absent", func(t *testing.T) {
		// dbuser_gone owns objects in three databases and has default privileges.
		pg.MustPsql(t, "app", `CREATE TABLE app.gone_t (id int); ALTER TABLE app.gone_t OWNER TO dbuser_gone;
			ALTER DEFAULT PRIVILEGES FOR ROLE dbuser_gone GRANT SELECT ON TABLES TO dbrole_readonly;`)
		pg.MustPsql(t, "postgres", `CREATE TABLE public.gone_p (id int); ALTER TABLE public.gone_p OWNER TO dbuser_gone;`)
		pg.MustPsql(t, "tmpl", `CREATE SCHEMA gone_s AUTHORIZATION dbuser_gone; CREATE TABLE gone_s.x (id int); ALTER TABLE gone_s.x OWNER TO dbuser_gone;`)

		data, err := os.ReadFile(inv)
		if err != nil {
			t.Fatal(err)
		}
		absent := strings.Replace(string(data), "{ name: dbuser_gone ,password: Gone.Pass.1 ,", "{ name: dbuser_gone ,state: absent ,password: Gone.Pass.1 ,", 1)
		if absent == string(data) {
			t.Fatal("pg15.yml: dbuser_gone entry not found")
		}
		opts := compiler.Options{Names: []string{inv}, Datas: [][]byte{[]byte(absent)}}
		res := compiler.Compile(opts)
		if errs := res.Diags.Errors(); len(errs) > 0 {
			t.Fatalf("compile: %v", errs)
		}
		files2 := sqlBuild(t, opts, nil, sqlBytes(files), 3)
		cl2 := res.Fleet.Cluster("pg-sql")
		sqlApply(t, pg, sqlFiles(t, files2, cl2))
		before := sqlDump(t, pg, volatile)
		sqlApply(t, pg, sqlFiles(t, files2, cl2))
		sqlCompareDumps(t, before, sqlDump(t, pg, volatile))
		for _, c := range []struct{ db, query, want string }{
			{"", "SELECT count(*) FROM pg_roles WHERE rolname = 'dbuser_gone'", "0"},
			{"app", "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'app.gone_t'::regclass", "postgres"},
			{"app", "SELECT count(*) FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole WHERE r.rolname NOT IN ('postgres', 'dbuser_dba', 'dbrole_admin', 'dbuser_app')", "0"},
			{"postgres", "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.gone_p'::regclass", "postgres"},
			{"tmpl", "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'gone_s'", "postgres"},
		} {
			if got := pg.MustPsql(t, c.db, c.query); got != c.want {
				t.Errorf("%s: %s\n got: %s\nwant: %s", c.db, c.query, got, c.want)
			}
		}
		// Unchanged users kept their verifiers (Options.Previous).
		if a, b := files["pg-sql/sql/roles.sql"].Data, files2["pg-sql/sql/roles.sql"].Data; !strings.Contains(string(b), sqlLineWith(string(a), `ALTER ROLE "dbuser_app" PASSWORD`)) {
			t.Errorf("dbuser_app's verifier changed between builds")
		}
		sqlLogin(t, pg, "dbuser_app", "App.Pass.1", "app")
	})
}

// sqlLineWith returns the first line of s containing sub.
func sqlLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return "\x00 no line with " + sub
}

// TestSQLMatrixOnPostgres applies the version-matrix inventory for 15:
// template: postgres, a tablespace, an md5 and an empty password, expire_at
// infinity, list parameters, revoked and absent memberships.
func TestSQLMatrixOnPostgres(t *testing.T) {
	t.Parallel()
	pg := sqlServer(t)
	inv := filepath.Join("testdata", "sql", "matrix.yml")
	fleet := sqlCompileFile(t, inv, "pg_version=15")
	cl := fleet.Cluster("pg-matrix")
	files := sqlBuild(t, compiler.Options{Files: []string{inv}, Vars: []string{"pg_version=15"}}, nil, nil, 4)
	sqlApply(t, pg, sqlFiles(t, files, cl))
	before := sqlDump(t, pg, nil)
	sqlApply(t, pg, sqlFiles(t, files, cl))
	sqlCompareDumps(t, before, sqlDump(t, pg, nil))
	sqlLogin(t, pg, "dbuser_opts", "Opts.Pass.1", "meta")
	for _, c := range []struct{ query, want string }{
		{`SELECT rolname, rolpassword IS NULL, left(rolpassword, 3), rolvaliduntil, rolconnlimit FROM pg_authid WHERE rolname IN ('dbuser_md5', 'dbuser_nopass') ORDER BY 1`,
			"dbuser_md5|f|md5|infinity|-1\ndbuser_nopass|t|||0"},
		{`SELECT d.datname, s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole = 0`,
			`meta|{"search_path=meta, \"$user\"","temp_tablespaces=\"\""}`},
		{`SELECT r.rolname, a.admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid WHERE a.member = 'dbuser_opts'::regrole ORDER BY 1`,
			"dbrole_offline|f\ndbrole_readonly|t"},
	} {
		if got := pg.MustPsql(t, "", c.query); got != c.want {
			t.Errorf("%s\n got: %s\nwant: %s", c.query, got, c.want)
		}
	}
}

// TestSQLHostileValuesOnPostgres: values with quotes, backslashes, newlines,
// psql meta-commands and the dollar-quote tag reach PostgreSQL unchanged and
// nothing else runs (each value stays inside its token and its line).
func TestSQLHostileValuesOnPostgres(t *testing.T) {
	t.Parallel()
	pg := sqlServer(t)
	const comment = "it's a \"test\"\n\\connect template0\n$pgcc$; DROP ROLE x; -- \\\\ end"
	const schema = `We"ird $pgcc$ Sch\ema`
	const appName = `a'b"c\d $$ $pgcc1$`
	inv := sqlUnitInv(`        pg_version: 15
        pg_users:
          - { name: "u.x@y-z" ,password: "p'\"\\w $pgcc$" ,comment: "it's a \"test\"\n\\connect template0\n$pgcc$; DROP ROLE x; -- \\\\ end" ,parameters: { application_name: "a'b\"c\\d $$ $pgcc1$" } }
        pg_databases:
          - { name: "Odd-DB" ,owner: "u.x@y-z" ,comment: "it's a \"test\"\n\\connect template0\n$pgcc$; DROP ROLE x; -- \\\\ end" ,schemas: [ { name: "We\"ird $pgcc$ Sch\\ema" ,owner: "u.x@y-z" } ] ,parameters: { application_name: "a'b\"c\\d $$ $pgcc1$" } }
`)
	opts := compiler.Options{Names: []string{"hostile.yml"}, Datas: [][]byte{inv}}
	res := compiler.Compile(opts)
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	files := sqlBuild(t, opts, nil, nil, 6)
	cl := res.Fleet.Cluster("pg-u")
	sqlApply(t, pg, sqlFiles(t, files, cl))
	before := sqlDump(t, pg, nil)
	sqlApply(t, pg, sqlFiles(t, files, cl))
	sqlCompareDumps(t, before, sqlDump(t, pg, nil))
	sqlLogin(t, pg, "u.x@y-z", "p'\"\\w $pgcc$", "Odd-DB")
	for _, c := range []struct{ db, query, want string }{
		{"", `SELECT shobj_description('"u.x@y-z"'::regrole, 'pg_authid') = ` + q.Literal(comment), "t"},
		{"", `SELECT shobj_description(oid, 'pg_database') = ` + q.Literal(comment) + ` FROM pg_database WHERE datname = 'Odd-DB'`, "t"},
		{"", `SELECT setconfig = ARRAY[` + q.Literal("application_name="+appName) + `] FROM pg_db_role_setting WHERE setrole = '"u.x@y-z"'::regrole`, "t"},
		{"", `SELECT count(*) FROM pg_roles WHERE rolname = 'x'`, "0"},
		{"Odd-DB", `SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ` + q.Literal(schema), "u.x@y-z"},
	} {
		if got := pg.MustPsql(t, c.db, c.query); got != c.want {
			t.Errorf("%s: %s\n got: %s\nwant: %s", c.db, c.query, got, c.want)
		}
	}
}
