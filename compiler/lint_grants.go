package compiler

import (
	"fmt"
	"strings"
)

// Grant and provisioning lints of sql.md §2, §3, §5, §7 and §8 (seeds 000,
// 001, 004): dangerous predefined roles on application users, pg_monitor on
// application users, backup_tool prerequisites, conflicting expiry, databases
// re-created on every run, and membership options the version cannot express.
func init() {
	Linters = append(Linters,
		Linter{Name: "risky-grant", Run: lintRiskyGrants},
		Linter{Name: "provisioning", Run: lintProvisioning},
	)
}

// riskyRoles are the predefined roles an application user should not hold,
// with what they allow (sql.md §7; PostgreSQL docs "Predefined Roles").
var riskyRoles = []struct{ name, why string }{
	{"pg_signal_backend", "can cancel and terminate other sessions"},
	{"pg_execute_server_program", "runs OS commands as the server user"},
	{"pg_read_server_files", "reads the server file system"},
	{"pg_write_server_files", "writes the server file system"},
	{"pg_write_all_data", "writes every table"},
}

// systemUsers are pg_dbsu, the replication, admin and monitor users.
func systemUsers(cl *Cluster) map[string]bool {
	ref := cl.Vars()
	return map[string]bool{ref.Str("pg_dbsu"): true, ref.Str("pg_replication_username"): true,
		ref.Str("pg_admin_username"): true, ref.Str("pg_monitor_username"): true}
}

// AppLike reports whether a pg_users entry is an application user (sql.md §7):
// a login user that is not a superuser, not a replication user, not one of the
// four system users, and is pooled or directly granted a dbrole_ read role.
func AppLike(cl *Cluster, u *User) bool {
	if u.Default || u.State == "absent" || (u.Login != nil && !*u.Login) ||
		(u.Superuser != nil && *u.Superuser) || (u.Replication != nil && *u.Replication) {
		return false
	}
	if systemUsers(cl)[u.Name] {
		return false
	}
	if u.Pgbouncer {
		return true
	}
	for _, g := range u.Roles {
		if g.State != "grant" {
			continue
		}
		switch g.Name {
		case "dbrole_readwrite", "dbrole_readonly", "dbrole_offline":
			return true
		}
	}
	return false
}

// heldVia returns, for every role reachable from u's granted roles through
// roles defined in the inventory, the first inventory role it came through
// ("" when granted directly).
func heldVia(cl *Cluster, u *User) map[string]string {
	defined := cl.DefinedRoles()
	out := map[string]string{}
	var walk func(r *User, via string, depth int)
	walk = func(r *User, via string, depth int) {
		if depth > 64 { // cycles are a stage-4 error; never loop
			return
		}
		for _, g := range r.Roles {
			if g.State != "grant" {
				continue
			}
			if _, seen := out[g.Name]; seen {
				continue
			}
			out[g.Name] = via
			if d := defined[g.Name]; d != nil && d != r {
				next := via
				if next == "" {
					next = g.Name
				}
				walk(d, next, depth+1)
			}
		}
	}
	walk(u, "", 0)
	return out
}

func lintRiskyGrants(f *Fleet) Diags {
	var out Diags
	for _, cl := range f.Clusters {
		for _, u := range cl.Users {
			if !AppLike(cl, u) {
				continue
			}
			held := heldVia(cl, u)
			src := u.KeySrc("roles")
			for _, r := range riskyRoles {
				via, ok := held[r.name]
				if !ok {
					continue
				}
				how := "directly"
				if via != "" {
					how = "through " + via
				} else if s, ok := grantSrc(u, r.name); ok {
					src = s
				}
				out = append(out, Diag{Pos: src.Pos, Path: src.Path, Code: "risky-grant", Severity: "warning",
					Message: fmt.Sprintf("application user %q holds %s %s (it %s); grant it to a DBA or tool role instead", u.Name, r.name, how, r.why)})
			}
			for _, g := range u.Roles {
				if g.State == "grant" && g.Name == "pg_monitor" {
					out = append(out, Diag{Pos: g.Src.Pos, Path: g.Src.Path, Code: "monitor-to-app", Severity: "warning",
						Message: fmt.Sprintf("pg_monitor is granted directly to application user %q; observability roles belong to exporters and DBAs", u.Name)})
				}
			}
		}
	}
	return out
}

func grantSrc(u *User, role string) (Src, bool) {
	for _, g := range u.Roles {
		if g.Name == role && g.State == "grant" {
			return g.Src, true
		}
	}
	return Src{}, false
}

func lintProvisioning(f *Fleet) Diags {
	var out Diags
	warn := func(s Src, code, format string, args ...any) {
		out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: code, Severity: "warning", Message: fmt.Sprintf(format, args...)})
	}
	for _, cl := range f.Clusters {
		ref := cl.Vars()
		version := ref.Int("pg_version")
		users := append(append([]*User{}, cl.DefaultRoles...), cl.Users...)
		for _, u := range users {
			if u.State == "absent" {
				continue
			}
			if u.ExpireIn != nil && u.ExpireAt != "" {
				warn(u.KeySrc("expire_at"), "expire-both", "user %q sets both expire_in and expire_at; expire_in wins", u.Name)
			}
			if version < 16 {
				for _, g := range u.Roles {
					if g.State != "grant" {
						continue
					}
					var opts []string
					if g.Set != nil {
						opts = append(opts, "set")
					}
					if g.Inherit != nil {
						opts = append(opts, "inherit")
					}
					if len(opts) > 0 {
						warn(g.Src, "grant-option-unsupported", "the %s option of granting %q to %q needs PostgreSQL 16 or later (pg_version is %d); roles.sql skips it",
							strings.Join(opts, " and "), g.Name, u.Name, version)
					}
				}
			}
			if u.BackupTool != "" && !u.Default {
				if u.Replication == nil || !*u.Replication {
					warn(u.KeySrc("backup_tool"), "backup-tool-replication", "backup_tool user %q has no replication: true; pgmoneta streams WAL and needs it", u.Name)
				}
				if version < 15 {
					warn(u.KeySrc("backup_tool"), "backup-tool-superuser", "backup_tool user %q cannot force checkpoints before PostgreSQL 15 (pg_checkpoint) without SUPERUSER; roles.sql does not grant it", u.Name)
				}
			}
		}
		for _, d := range cl.Databases {
			if d.State == "recreate" {
				warn(d.KeySrc("state"), "db-recreate", "database %q has state: recreate; db-%s.sql drops and re-creates it, with all its data, on every run", d.Name, d.Name)
			}
		}
	}
	return out
}
