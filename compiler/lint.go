package compiler

import (
	"fmt"
	"strings"
)

// Linter is one lint pass over the resolved fleet (inventory.md §6 stage 5).
// Lints run only when there are no errors; each returns warnings.
type Linter struct {
	Name string
	Run  func(f *Fleet) Diags
}

// Linters is the list of lint passes, in a fixed order. Later issues add
// theirs (tuning consistency, HBA, grants).
var Linters = []Linter{
	{Name: "default-password", Run: lintDefaultPasswords},
}

// Lint runs every lint pass and returns the warnings.
func Lint(f *Fleet) Diags {
	var out Diags
	for _, l := range Linters {
		out = append(out, l.Run(f)...)
	}
	return out.Sorted()
}

// defaultPasswords are Pigsty's well-known default credentials (README
// "Secrets"): anyone who read the docs can log in with them.
var defaultPasswords = map[string]bool{
	"DBUser.DBA": true, "DBUser.Monitor": true, "DBUser.Replicator": true, "Patroni.API": true,
	"pigsty": true, "S3User.Backup": true, "pgBackRest": true, "DBUser.Meta": true, "DBUser.Viewer": true,
	"Etcd.Root": true, "DBUser.Postgres": true,
}

// lintDefaultPasswords warns about Pigsty default passwords in credential
// variables and pg_users (the password itself is never printed: the message
// names the variable only).
func lintDefaultPasswords(f *Fleet) Diags {
	var out Diags
	seen := map[string]bool{}
	warn := func(pos Pos, path, what string) {
		key := pos.String() + path
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, Diag{Pos: pos, Path: path, Severity: "warning", Code: "default-password",
			Message: fmt.Sprintf("%s is a Pigsty default password published in its documentation; change it", what)})
	}
	for _, cl := range f.Clusters {
		for _, m := range cl.Members {
			for _, name := range SortedKeys(m.Vars) {
				if !strings.HasSuffix(name, "_password") {
					continue
				}
				v := m.Vars[name]
				if s, ok := v.V.(string); ok && defaultPasswords[s] {
					pos, path := v.Prov.Pos, v.Prov.Path
					if pos.IsZero() {
						pos, path = m.KeyPos, name+" (default)"
					}
					warn(pos, path, name)
				}
			}
		}
		for _, u := range cl.Users {
			if defaultPasswords[u.Password] {
				s := u.KeySrc("password")
				warn(s.Pos, s.Path, fmt.Sprintf("the password of user %q", u.Name))
			}
		}
	}
	return out
}
