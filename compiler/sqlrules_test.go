package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sqlInv is a one-cluster inventory; vars are YAML lines (8 spaces indented)
// added to the cluster vars.
func sqlInv(vars string) string {
	return `all:
  children:
    etcd:
      hosts: { 10.10.10.10: { etcd_seq: 1 } }
      vars: { etcd_cluster: etcd }
    pg-t:
      hosts:
        10.10.10.11: { pg_seq: 1, pg_role: primary }
      vars:
        pg_cluster: pg-t
        node_cpu: 2
        node_mem_mb: 4096
        node_disk_gb: 40
` + vars + `  vars:
    admin_ip: 10.10.10.10
`
}

func sqlCompile(t *testing.T, inv string, vars ...string) *Result {
	t.Helper()
	return Compile(Options{Names: []string{"inv.yml"}, Datas: [][]byte{[]byte(inv)}, Vars: vars})
}

// sqlDiags returns the diagnostics with one of the codes as
// "path: message" lines (warnings prefixed "warning: ").
func sqlDiags(ds Diags, codes ...string) []string {
	var out []string
	for _, d := range ds {
		for _, c := range codes {
			if d.Code == c {
				w := ""
				if d.IsWarning() {
					w = "warning: "
				}
				out = append(out, d.Path+": "+w+d.Message)
			}
		}
	}
	return out
}

func sqlEqual(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestParseDefaultPrivilege(t *testing.T) {
	quote := func(s string) string { return `"` + s + `"` }
	for _, tc := range []struct {
		in      string
		version int
		want    string // normalized SQL, or "error: …"
	}{
		{"GRANT USAGE ON SCHEMAS TO dbrole_readonly", 15, `GRANT USAGE ON SCHEMAS TO "dbrole_readonly"`},
		{"  grant   select,insert ,  update on tables to App_Role  ", 15, `GRANT SELECT, INSERT, UPDATE ON TABLES TO "app_role"`},
		{`GRANT ALL ON SEQUENCES TO "Mixed"`, 13, `GRANT ALL PRIVILEGES ON SEQUENCES TO "Mixed"`},
		{"GRANT ALL PRIVILEGES ON FUNCTIONS TO public WITH GRANT OPTION", 13, `GRANT ALL PRIVILEGES ON FUNCTIONS TO PUBLIC WITH GRANT OPTION`},
		{"REVOKE EXECUTE ON ROUTINES FROM PUBLIC", 13, `REVOKE EXECUTE ON ROUTINES FROM PUBLIC`},
		{"GRANT USAGE ON TYPES TO r", 13, `GRANT USAGE ON TYPES TO "r"`},
		{"GRANT MAINTAIN ON TABLES TO r", 17, `GRANT MAINTAIN ON TABLES TO "r"`},
		{"GRANT SELECT ON LARGE OBJECTS TO r", 18, `GRANT SELECT ON LARGE OBJECTS TO "r"`},
		{"GRANT MAINTAIN ON TABLES TO r", 16, "error: privilege MAINTAIN needs PostgreSQL 17 or later (pg_version is 16)"},
		{"GRANT SELECT ON LARGE OBJECTS TO r", 17, "error: LARGE OBJECTS needs PostgreSQL 18 or later (pg_version is 17)"},
		{"GRANT EXECUTE ON TABLES TO r", 15, "error: privilege EXECUTE does not apply to TABLES"},
		{"GRANT SELECT ON TABLES FROM r", 15, "error: want TO after ON TABLES"},
		{"REVOKE SELECT ON TABLES TO r", 15, "error: want FROM after ON TABLES"},
		{"GRANT SELECT ON TABLES TO r; DROP TABLE x", 15, `error: unexpected "DROP TABLE x" after the grantee`},
		{"GRANT SELECT ON VIEWS TO r", 15, "error: want ON TABLES, SEQUENCES, FUNCTIONS, ROUTINES, TYPES, SCHEMAS or LARGE OBJECTS"},
		{"GRANT READ ON TABLES TO r", 15, `error: "READ" is not a privilege; want SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE, EXECUTE, CREATE, MAINTAIN or ALL`},
		{"REVOKE SELECT ON TABLES FROM r WITH GRANT OPTION", 15, `error: unexpected "WITH GRANT OPTION" after the grantee`},
		{"ALTER SELECT ON TABLES TO r", 15, "error: must start with GRANT or REVOKE"},
		{"GRANT SELECT TABLES TO r", 15, "error: has no ON clause"},
		{"GRANT ON TABLES TO r", 15, "error: names no privilege"},
		{"GRANT SELECT ON TABLES TO", 15, "error: names no grantee"},
	} {
		p, err := ParseDefaultPrivilege(tc.in, tc.version)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = p.SQL(quote)
		}
		if got != tc.want {
			t.Errorf("ParseDefaultPrivilege(%q, %d) = %s, want %s", tc.in, tc.version, got, tc.want)
		}
	}
}

func TestDefaultPrivilegesRule(t *testing.T) {
	res := sqlCompile(t, sqlInv(`        pg_version: 16
        pg_users: [ { name: app } ]
        pg_default_privileges:
          - GRANT SELECT ON TABLES TO app
          - GRANT MAINTAIN ON TABLES TO dbrole_admin
          - GRANT SELECT ON TABLES TO nobody
          - GRANT SELECT ON TABLES TO pg_maintain
          - GRANT SELECT ON TABLES TO pg_read_all_data
`))
	sqlEqual(t, sqlDiags(res.Diags, "default-privileges"), []string{
		`all.children.pg-t.vars.pg_default_privileges[1]: "GRANT MAINTAIN ON TABLES TO dbrole_admin" is not a default privilege: privilege MAINTAIN needs PostgreSQL 17 or later (pg_version is 16)`,
		`all.children.pg-t.vars.pg_default_privileges[2]: role "nobody" is not defined in pg_users or pg_default_roles`,
		`all.children.pg-t.vars.pg_default_privileges[3]: predefined role "pg_maintain" does not exist in PostgreSQL 16 (added in 17)`,
	})
}

// TestPredefinedRoleMessage pins the message of sql.md §7.
func TestPredefinedRoleMessage(t *testing.T) {
	res := sqlCompile(t, sqlInv(`        pg_version: 16
        pg_users:
          - { name: a }
          - { name: b }
          - { name: c ,roles: [ pg_maintain, pg_database_owner, pg_nonsense, pg_create_subscription ] }
`))
	sqlEqual(t, sqlDiags(res.Diags, "obj-grant"), []string{
		`all.children.pg-t.vars.pg_users[2].roles[0]: predefined role "pg_maintain" does not exist in PostgreSQL 16 (added in 17)`,
		`all.children.pg-t.vars.pg_users[2].roles[1]: predefined role "pg_database_owner" cannot be granted`,
		`all.children.pg-t.vars.pg_users[2].roles[2]: predefined role "pg_nonsense" does not exist`,
	})
}

func TestSQLTextRule(t *testing.T) {
	res := sqlCompile(t, sqlInv(`        pg_users: [ { name: app ,comment: "a\0b" } ]
        pg_databases:
          - { name: db ,schemas: [ `+strings.Repeat("s", 64)+` ] ,parameters: { work_mem: "1\0" } }
`))
	sqlEqual(t, sqlDiags(res.Diags, "sql-text"), []string{
		`all.children.pg-t.vars.pg_users[0].comment: comment contains a NUL byte`,
		`all.children.pg-t.vars.pg_databases[0].schemas[0]: schema "` + strings.Repeat("s", 64) + `" is longer than 63 bytes; PostgreSQL would truncate it`,
		`all.children.pg-t.vars.pg_databases[0].parameters.work_mem: parameter work_mem contains a NUL byte`,
	})
}

func TestBaselineRule(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("next.sql", "CREATE TABLE a (id int);\n")
	write("files/infiles.sql", "CREATE TABLE b (id int);\n")
	write("files/bad.sql", "CREATE TABLE c (id int);\n\\c other\n")
	write("files/bad2.sql", "SELECT 1; \\include_relative x.sql\n")
	write("files/ok.sql", "SELECT E'\\\\connect'; -- \\connectx is not a command\n\\set x 1\n")
	inv := filepath.Join(dir, "inv.yml")
	write("inv.yml", sqlInv(`        pg_databases:
          - { name: a ,baseline: next.sql }
          - { name: b ,baseline: infiles.sql }
          - { name: c ,baseline: bad.sql }
          - { name: d ,baseline: bad2.sql }
          - { name: e ,baseline: missing.sql }
          - { name: f ,baseline: ok.sql }
          - { name: g ,baseline: `+filepath.Join(dir, "next.sql")+` }
`))
	res := Compile(Options{Files: []string{inv}})
	sqlEqual(t, sqlDiags(res.Diags, "baseline", "baseline-missing"), []string{
		`all.children.pg-t.vars.pg_databases[2].baseline: baseline "bad.sql" line 2 uses \c; a baseline runs inside its database and may not use \connect, \c, \q, \i or \ir`,
		`all.children.pg-t.vars.pg_databases[3].baseline: baseline "bad2.sql" line 1 uses \include_relative; a baseline runs inside its database and may not use \connect, \c, \q, \i or \ir`,
		`all.children.pg-t.vars.pg_databases[4].baseline: warning: baseline "missing.sql" not found next to the inventory or in its files/ directory; db-e.sql gets a comment in its place`,
	})
	// An inventory with the good ones only: their content is loaded.
	write("good.yml", sqlInv(`        pg_databases:
          - { name: a ,baseline: next.sql }
          - { name: b ,baseline: infiles.sql }
          - { name: f ,baseline: ok.sql }
          - { name: g ,baseline: `+filepath.Join(dir, "next.sql")+` }
`))
	good := Compile(Options{Files: []string{filepath.Join(dir, "good.yml")}})
	if errs := good.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{"CREATE TABLE a (id int);\n", "CREATE TABLE b (id int);\n",
		"SELECT E'\\\\connect'; -- \\connectx is not a command\n\\set x 1\n", "CREATE TABLE a (id int);\n"}
	for i, d := range good.Fleet.Cluster("pg-t").Databases {
		if !d.BaselineFound || string(d.BaselineData) != want[i] {
			t.Errorf("baseline of %s: found %v, %q; want %q", d.Name, d.BaselineFound, d.BaselineData, want[i])
		}
	}
	// sha256sum of "CREATE TABLE a (id int);\n"
	if got := good.Fleet.Cluster("pg-t").Databases[0].BaselineSum(); got != "sha256:c2de7559380e5ebf65caa7d59e166558e80243cf7e70006cc98d1593d94203c1" {
		t.Errorf("BaselineSum = %s", got)
	}
}
