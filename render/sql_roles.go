package render

import (
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	q "github.com/pgcc-dev/pgcc/render/sqltext"
)

// roles renders sql/roles.sql (sql.md §2–§4, §8): create every role first
// (so grants are order-independent), then each role's attributes, password
// (a SCRAM verifier, never plaintext), expiry, connection limit, parameters,
// comment, memberships and backup_tool grants; default roles, then the
// system passwords, then pg_users; absent users last.
//
// The password verifier is always on the same line as the quoted role name:
// Context.Verifier finds previous verifiers by scanning roles.sql lines.
func (g *sqlGen) roles() ([]byte, error) {
	s := &sqlScript{}
	s.start(g.cl.Name, "roles.sql", "default roles, then users, in definition order")

	s.section("create phase: every role exists before any grant (sql.md §2 step 1)")
	created := map[string]bool{}
	create := func(name string, login bool) {
		if created[name] {
			return
		}
		created[name] = true
		attr := "LOGIN"
		if !login {
			attr = "NOLOGIN"
		}
		s.do("BEGIN IF NOT " + sqlRoleExists(name) + " THEN CREATE ROLE " + q.Ident(name) + " " + attr + "; END IF; END")
	}
	// A name with state: absent in pg_users is dropped below, even when
	// pg_default_roles defines it: never create it first.
	absent := map[string]bool{}
	for _, u := range g.cl.Users {
		if u.State == "absent" {
			absent[u.Name] = true
		}
	}
	all := append(append([]*compiler.User{}, g.cl.DefaultRoles...), g.cl.Users...)
	for _, u := range all {
		if u.State == "absent" || absent[u.Name] {
			continue
		}
		create(u.Name, u.Login == nil || *u.Login)
	}
	// The system users get passwords below; pgcc creates them when neither
	// list defines them so that ALTER ROLE cannot fail under ON_ERROR_STOP.
	for _, name := range []string{g.repl, g.monitor, g.admin} {
		if !created[name] && name != g.dbsu {
			s.c("pgcc: system user %q is not in pg_default_roles or pg_users", name)
			create(name, true)
		}
	}

	for _, u := range g.cl.DefaultRoles {
		if absent[u.Name] {
			continue
		}
		if err := g.role(s, u); err != nil {
			return nil, err
		}
	}
	if err := g.systemPasswords(s); err != nil {
		return nil, err
	}
	for _, u := range g.cl.Users {
		if u.State == "absent" {
			continue
		}
		if err := g.role(s, u); err != nil {
			return nil, err
		}
	}
	for _, u := range g.cl.Users {
		if u.State == "absent" {
			g.absentUser(s, u)
		}
	}
	return s.b.Bytes(), nil
}

// sqlAttrOrder is the fixed order of role attributes (sql.md §2 step 2.1).
var sqlAttrOrder = []struct {
	get     func(u *compiler.User) *bool
	yes, no string
}{
	{func(u *compiler.User) *bool { return u.Login }, "LOGIN", "NOLOGIN"},
	{func(u *compiler.User) *bool { return u.Superuser }, "SUPERUSER", "NOSUPERUSER"},
	{func(u *compiler.User) *bool { return u.CreateDB }, "CREATEDB", "NOCREATEDB"},
	{func(u *compiler.User) *bool { return u.CreateRole }, "CREATEROLE", "NOCREATEROLE"},
	{func(u *compiler.User) *bool { return u.Inherit }, "INHERIT", "NOINHERIT"},
	{func(u *compiler.User) *bool { return u.Replication }, "REPLICATION", "NOREPLICATION"},
	{func(u *compiler.User) *bool { return u.BypassRLS }, "BYPASSRLS", "NOBYPASSRLS"},
}

// role writes the per-role steps of sql.md §2 step 2 for one role.
func (g *sqlGen) role(s *sqlScript, u *compiler.User) error {
	name := q.Ident(u.Name)
	if u.Default {
		s.section("default role %q", u.Name)
	} else {
		s.section("user %q", u.Name)
	}
	// 1. attributes, only the keys written
	attrs := ""
	for _, a := range sqlAttrOrder {
		if b := a.get(u); b != nil {
			if *b {
				attrs += " " + a.yes
			} else {
				attrs += " " + a.no
			}
		}
	}
	if attrs != "" {
		s.l("ALTER ROLE ", name, attrs, ";")
	}
	// 2. password
	if u.HasPassword {
		st, err := g.passwordStmt(u.Name, u.Password)
		if err != nil {
			return err
		}
		s.l("SET log_statement = 'none';")
		s.l(st)
		s.l("RESET log_statement;")
	}
	// 3. expiry: expire_in wins, evaluated when the script runs (sql.md §2 step 2.3)
	switch {
	case u.ExpireIn != nil:
		s.do("BEGIN EXECUTE format(" + q.Literal("ALTER ROLE %I VALID UNTIL %L") + ", " + q.Literal(u.Name) +
			", (current_date + " + strconv.Itoa(*u.ExpireIn) + ")::text); END")
	case u.ExpireAt != "":
		s.l("ALTER ROLE ", name, " VALID UNTIL ", q.Literal(u.ExpireAt), ";")
	}
	// 4. connection limit
	if u.ConnLimit != nil {
		s.l("ALTER ROLE ", name, " CONNECTION LIMIT ", strconv.Itoa(*u.ConnLimit), ";")
	}
	// 5. parameters, in map order
	for _, k := range sqlParamOrder(u.ParamKeys, u.Parameters) {
		s.l("ALTER ROLE ", name, " ", sqlSetParam(k, u.Parameters[k], false), ";")
	}
	// 6. comment
	comment := u.Comment
	if !u.Has("comment") {
		comment = "business user " + u.Name
	}
	s.l("COMMENT ON ROLE ", name, " IS ", q.Literal(comment), ";")
	// 7. memberships
	for _, m := range u.Roles {
		g.membership(s, u.Name, m)
	}
	// 8. backup_tool, cluster-wide part
	if u.BackupTool != "" {
		g.backupToolRoles(s, u.Name)
	}
	return nil
}

// sqlParamOrder returns the parameter keys in the order written, falling back to
// sorted keys for any key the order does not list.
func sqlParamOrder(order []string, m map[string]any) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := m[k]; ok && !seen[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	for _, k := range compiler.SortedKeys(m) {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// passwordStmt is `ALTER ROLE "x" PASSWORD '<verifier>';` on one line (so the
// next build finds the verifier again), or PASSWORD NULL for ”.
func (g *sqlGen) passwordStmt(role, password string) (string, error) {
	if password == "" {
		return "ALTER ROLE " + q.Ident(role) + " PASSWORD NULL;", nil
	}
	v, err := g.ctx.Verifier(g.cl, role, password)
	if err != nil {
		return "", err
	}
	return "ALTER ROLE " + q.Ident(role) + " PASSWORD " + q.Literal(v) + ";", nil
}

// systemPasswords sets the passwords of the replication, monitor and admin
// users from their credential variables (sql.md §2 step 3).
func (g *sqlGen) systemPasswords(s *sqlScript) error {
	s.section("system passwords (pg_replication_password, pg_monitor_password, pg_admin_password)")
	var stmts []string
	for _, sys := range []struct{ user, pwVar string }{
		{g.repl, "pg_replication_password"}, {g.monitor, "pg_monitor_password"}, {g.admin, "pg_admin_password"},
	} {
		if !g.ref.Has(sys.pwVar) {
			continue
		}
		// A pg_users entry with a password for the same name is written later
		// and wins (sql.md §2 step 3); only its verifier takes effect, so the
		// system password is not written as a second, overwritten one.
		if u := g.userWithPassword(sys.user); u != nil {
			stmts = append(stmts, q.Comment("pgcc: password of "+q.Ident(sys.user)+" is set by its pg_users entry below"))
			continue
		}
		st, err := g.passwordStmt(sys.user, g.ref.Str(sys.pwVar))
		if err != nil {
			return err
		}
		stmts = append(stmts, st)
	}
	s.l("SET log_statement = 'none';")
	for _, st := range stmts {
		s.l(st)
	}
	s.l("RESET log_statement;")
	return nil
}

func (g *sqlGen) userWithPassword(name string) *compiler.User {
	for _, u := range g.cl.Users {
		if u.Name == name && u.State != "absent" && u.HasPassword {
			return u
		}
	}
	return nil
}

// membership writes one roles: item (sql.md §3).
func (g *sqlGen) membership(s *sqlScript, user string, m compiler.RoleGrant) {
	r, x := q.Ident(m.Name), q.Ident(user)
	if m.State == "revoke" || m.State == "absent" {
		s.l("REVOKE ", r, " FROM ", x, ";")
		return
	}
	s.l("GRANT ", r, " TO ", x, ";")
	pg16 := g.version >= 16
	opt := func(v *bool, name string) {
		if v == nil {
			return
		}
		switch {
		case *v && pg16:
			s.l("GRANT ", r, " TO ", x, " WITH ", name, " TRUE;")
		case *v && name == "ADMIN":
			s.l("GRANT ", r, " TO ", x, " WITH ADMIN OPTION;")
		case !*v && (pg16 || name == "ADMIN"):
			s.l("REVOKE ", name, " OPTION FOR ", r, " FROM ", x, ";")
		default:
			// Lint grant-option-unsupported says so (compiler/lint_grants.go).
			s.c("pgcc: %s option for %s skipped: needs PostgreSQL 16+", strings.ToLower(name), r)
		}
	}
	opt(m.Admin, "ADMIN")
	opt(m.Set, "SET")
	opt(m.Inherit, "INHERIT")
}

// backupToolRoles writes the cluster-wide backup_tool: pgmoneta grants
// (sql.md §8; seed 004: pg_read_binary_file needs pg_read_server_files,
// CHECKPOINT needs pg_checkpoint on 15+ or SUPERUSER before).
func (g *sqlGen) backupToolRoles(s *sqlScript, user string) {
	s.c("backup_tool: pgmoneta")
	s.l("GRANT ", q.Ident("pg_read_server_files"), " TO ", q.Ident(user), ";")
	if g.version >= 15 {
		s.l("GRANT ", q.Ident("pg_checkpoint"), " TO ", q.Ident(user), ";")
	} else {
		s.c("pgcc: pgmoneta checkpoint needs SUPERUSER before PostgreSQL 15; not granted")
	}
}

// absentDatabases lists where an absent user's objects may live: postgres,
// template1, then every inventory database not absent (sql.md §4).
func (g *sqlGen) absentDatabases() []string {
	out := []string{"postgres", "template1"}
	seen := map[string]bool{"postgres": true, "template1": true}
	for _, d := range g.cl.Databases {
		if d.State != "absent" && !seen[d.Name] {
			seen[d.Name] = true
			out = append(out, d.Name)
		}
	}
	return out
}

// absentUser writes the safe drop of sql.md §4: no more logins, sessions
// terminated, objects reassigned to pg_dbsu and privileges dropped in every
// database, then DROP ROLE. A role still owning objects in a database the
// inventory does not list makes DROP ROLE fail: pgcc never drops those blindly.
func (g *sqlGen) absentUser(s *sqlScript, u *compiler.User) {
	x := q.Ident(u.Name)
	s.section("absent user %q: safe drop", u.Name)
	s.do("BEGIN IF " + sqlRoleExists(u.Name) + " THEN ALTER ROLE " + x + " NOLOGIN; " +
		"PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = " + q.Literal(u.Name) + "; END IF; END")
	for _, db := range g.absentDatabases() {
		s.ifDatabase(db)
		s.connect(db)
		s.do("BEGIN IF " + sqlRoleExists(u.Name) + " THEN REASSIGN OWNED BY " + x + " TO " + q.Ident(g.dbsu) + "; DROP OWNED BY " + x + "; END IF; END")
		s.l(`\endif`)
	}
	s.connect("postgres")
	s.l("DROP ROLE IF EXISTS ", x, ";")
}
