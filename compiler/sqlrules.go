package compiler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/pgcc-dev/pgcc/schema"
)

// Stage-4 rules of the provisioning SQL (sql.md): pg_default_privileges items
// are parsed (Pigsty pastes the raw string into SQL), names that become SQL
// identifiers fit PostgreSQL's limits, and database baselines are loaded.
func init() {
	RegisterRule(ClusterRule{Name: "default-privileges", Check: checkDefaultPrivileges})
	RegisterRule(ClusterRule{Name: "sql-text", Check: checkSQLText})
	RegisterRule(ClusterRule{Name: "baseline", Check: loadBaselines})
}

// DefaultPrivilege is one parsed pg_default_privileges item (sql.md §6):
// `(GRANT|REVOKE) <privs> ON <objects> (TO|FROM) <grantee>[ WITH GRANT OPTION]`.
type DefaultPrivilege struct {
	Grant       bool     // GRANT (true) or REVOKE
	Privs       []string // upper case; "ALL PRIVILEGES" for ALL [PRIVILEGES]
	Objects     string   // TABLES, SEQUENCES, FUNCTIONS, ROUTINES, TYPES, SCHEMAS or LARGE OBJECTS
	Grantee     string   // a role name, or PUBLIC
	GrantOption bool
}

// privsFor lists the privileges ALTER DEFAULT PRIVILEGES accepts per object
// kind (PostgreSQL docs "ALTER DEFAULT PRIVILEGES" and "Privileges" table
// 5.2); anything else fails at apply time with "invalid privilege type".
var privsFor = map[string][]string{
	"TABLES":        {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"},
	"SEQUENCES":     {"USAGE", "SELECT", "UPDATE"},
	"FUNCTIONS":     {"EXECUTE"},
	"ROUTINES":      {"EXECUTE"},
	"TYPES":         {"USAGE"},
	"SCHEMAS":       {"USAGE", "CREATE"},
	"LARGE OBJECTS": {"SELECT", "UPDATE"},
}

var knownPrivs = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true,
	"TRUNCATE": true, "REFERENCES": true, "TRIGGER": true, "USAGE": true, "EXECUTE": true, "CREATE": true,
	"MAINTAIN": true}

// ParseDefaultPrivilege parses an item of pg_default_privileges for a major
// version: keywords case-insensitive, whitespace collapsed; MAINTAIN needs
// PostgreSQL 17, LARGE OBJECTS 18. The error text is the reason only (the
// caller adds the position).
func ParseDefaultPrivilege(s string, version int) (DefaultPrivilege, error) {
	var p DefaultPrivilege
	f := strings.Fields(s)
	up := func(i int) string {
		if i < len(f) {
			return strings.ToUpper(f[i])
		}
		return ""
	}
	switch up(0) {
	case "GRANT":
		p.Grant = true
	case "REVOKE":
	default:
		return p, errors.New("must start with GRANT or REVOKE")
	}
	on := -1
	for i := 1; i < len(f); i++ {
		if up(i) == "ON" {
			on = i
			break
		}
	}
	if on < 0 {
		return p, errors.New("has no ON clause")
	}
	privText := strings.Join(f[1:on], " ")
	if strings.TrimSpace(privText) == "" {
		return p, errors.New("names no privilege")
	}
	for _, item := range strings.Split(privText, ",") {
		w := strings.Fields(strings.ToUpper(item))
		switch {
		case len(w) == 1 && w[0] == "ALL", len(w) == 2 && w[0] == "ALL" && w[1] == "PRIVILEGES":
			p.Privs = append(p.Privs, "ALL PRIVILEGES")
		case len(w) == 1 && knownPrivs[w[0]]:
			if w[0] == "MAINTAIN" && version < 17 {
				return p, fmt.Errorf("privilege MAINTAIN needs PostgreSQL 17 or later (pg_version is %d)", version)
			}
			p.Privs = append(p.Privs, w[0])
		default:
			return p, fmt.Errorf("%q is not a privilege; want SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE, EXECUTE, CREATE, MAINTAIN or ALL", strings.TrimSpace(item))
		}
	}
	i := on + 1
	switch up(i) {
	case "TABLES", "SEQUENCES", "FUNCTIONS", "ROUTINES", "TYPES", "SCHEMAS":
		p.Objects = up(i)
		i++
	case "LARGE":
		if up(i+1) != "OBJECTS" {
			return p, errors.New("want LARGE OBJECTS")
		}
		if version < 18 {
			return p, fmt.Errorf("LARGE OBJECTS needs PostgreSQL 18 or later (pg_version is %d)", version)
		}
		p.Objects = "LARGE OBJECTS"
		i += 2
	default:
		return p, errors.New("want ON TABLES, SEQUENCES, FUNCTIONS, ROUTINES, TYPES, SCHEMAS or LARGE OBJECTS")
	}
	for _, pr := range p.Privs {
		if pr != "ALL PRIVILEGES" && !containsStr(privsFor[p.Objects], pr) {
			return p, fmt.Errorf("privilege %s does not apply to %s", pr, p.Objects)
		}
	}
	want := "TO"
	if !p.Grant {
		want = "FROM"
	}
	if up(i) != want {
		return p, fmt.Errorf("want %s after ON %s", want, p.Objects)
	}
	i++
	if i >= len(f) {
		return p, errors.New("names no grantee")
	}
	g := f[i]
	i++
	switch {
	case strings.EqualFold(g, "PUBLIC"):
		p.Grantee = "PUBLIC"
	case len(g) >= 2 && g[0] == '"' && g[len(g)-1] == '"':
		p.Grantee = strings.ReplaceAll(g[1:len(g)-1], `""`, `"`)
	default:
		// An unquoted identifier is folded to lower case by PostgreSQL.
		p.Grantee = strings.ToLower(g)
	}
	if p.Grantee == "" || strings.ContainsAny(p.Grantee, "\"\x00") {
		return p, fmt.Errorf("%q is not a role name", g)
	}
	if i < len(f) {
		if p.Grant && i+3 == len(f) && up(i) == "WITH" && up(i+1) == "GRANT" && up(i+2) == "OPTION" {
			p.GrantOption = true
		} else {
			return p, fmt.Errorf("unexpected %q after the grantee", strings.Join(f[i:], " "))
		}
	}
	return p, nil
}

// SQL renders the normalized item with the grantee quoted (the part after
// `ALTER DEFAULT PRIVILEGES FOR ROLE "r" `). quote is the identifier quoter
// (render/sqltext.Ident), passed in so that the one quoter stays in render.
func (p DefaultPrivilege) SQL(quote func(string) string) string {
	var b strings.Builder
	to := " TO "
	if p.Grant {
		b.WriteString("GRANT ")
	} else {
		b.WriteString("REVOKE ")
		to = " FROM "
	}
	b.WriteString(strings.Join(p.Privs, ", "))
	b.WriteString(" ON ")
	b.WriteString(p.Objects)
	b.WriteString(to)
	if p.Grantee == "PUBLIC" {
		b.WriteString("PUBLIC")
	} else {
		b.WriteString(quote(p.Grantee))
	}
	if p.GrantOption {
		b.WriteString(" WITH GRANT OPTION")
	}
	return b.String()
}

// PigstyDefaultPrivileges are the 17 items db-<name>.sql uses for a
// database owner when pg_default_privileges is empty (Pigsty pg-db.sql).
var PigstyDefaultPrivileges = []string{
	"GRANT USAGE ON SCHEMAS TO dbrole_readonly",
	"GRANT SELECT ON TABLES TO dbrole_readonly",
	"GRANT SELECT ON SEQUENCES TO dbrole_readonly",
	"GRANT EXECUTE ON FUNCTIONS TO dbrole_readonly",
	"GRANT USAGE ON SCHEMAS TO dbrole_offline",
	"GRANT SELECT ON TABLES TO dbrole_offline",
	"GRANT SELECT ON SEQUENCES TO dbrole_offline",
	"GRANT EXECUTE ON FUNCTIONS TO dbrole_offline",
	"GRANT INSERT ON TABLES TO dbrole_readwrite",
	"GRANT UPDATE ON TABLES TO dbrole_readwrite",
	"GRANT DELETE ON TABLES TO dbrole_readwrite",
	"GRANT USAGE ON SEQUENCES TO dbrole_readwrite",
	"GRANT UPDATE ON SEQUENCES TO dbrole_readwrite",
	"GRANT TRUNCATE ON TABLES TO dbrole_admin",
	"GRANT REFERENCES ON TABLES TO dbrole_admin",
	"GRANT TRIGGER ON TABLES TO dbrole_admin",
	"GRANT CREATE ON SCHEMAS TO dbrole_admin",
}

// DefinedRoles returns the roles a cluster's SQL may name: pg_default_roles,
// pg_users with state ≠ absent, and pg_dbsu.
func (c *Cluster) DefinedRoles() map[string]*User {
	out := map[string]*User{}
	for _, u := range c.DefaultRoles {
		out[u.Name] = u
	}
	for _, u := range c.Users {
		if u.State == "absent" {
			delete(out, u.Name)
			continue
		}
		out[u.Name] = u
	}
	return out
}

// checkDefaultPrivileges parses every pg_default_privileges item and checks
// that its grantee exists (the statement would fail under ON_ERROR_STOP).
func checkDefaultPrivileges(f *Fleet, cl *Cluster) Diags {
	ref := cl.Vars()
	v, ok := ref.Vars["pg_default_privileges"]
	if !ok || f.ShapeFailed(v) {
		return nil
	}
	version := ref.Int("pg_version")
	defined := cl.DefinedRoles()
	dbsu := ref.Str("pg_dbsu")
	var out Diags
	items, base, _ := listItems(v)
	for i, x := range ref.List("pg_default_privileges") {
		s, ok := x.(string)
		if !ok {
			continue
		}
		pos, path := v.Prov.Pos, itemPath(base, "pg_default_privileges", i)
		if i < len(items) {
			pos = items[i].Pos
		}
		if f.badPaths[path] {
			continue
		}
		p, err := ParseDefaultPrivilege(s, version)
		if err != nil {
			out = append(out, Diag{Pos: pos, Path: path, Code: "default-privileges",
				Message: fmt.Sprintf("%q is not a default privilege: %v", s, err)})
			continue
		}
		if msg := roleMissing(p.Grantee, defined, dbsu, version); msg != "" {
			out = append(out, Diag{Pos: pos, Path: path, Code: "default-privileges", Message: msg})
		}
	}
	return out
}

// roleMissing explains why name cannot be a grantee ("" when it can).
func roleMissing(name string, defined map[string]*User, dbsu string, version int) string {
	if name == "PUBLIC" || name == dbsu || defined[name] != nil {
		return ""
	}
	if strings.HasPrefix(name, "pg_") {
		r, ok := Predefined(name)
		switch {
		case !ok:
			return fmt.Sprintf("predefined role %q does not exist", name)
		case version < r.Since:
			return fmt.Sprintf("predefined role %q does not exist in PostgreSQL %d (added in %d)", name, version, r.Since)
		}
		return ""
	}
	return fmt.Sprintf("role %q is not defined in pg_users or pg_default_roles", name)
}

// checkSQLText rejects values that cannot reach SQL intact: NUL bytes
// (PostgreSQL text cannot hold one; psql truncates the line) and names longer
// than 63 bytes (PostgreSQL truncates identifiers, so two names could collide).
func checkSQLText(f *Fleet, cl *Cluster) Diags {
	var out Diags
	bad := func(s Src, what, v string, ident bool) {
		switch {
		case strings.IndexByte(v, 0) >= 0:
			out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "sql-text", Message: what + " contains a NUL byte"})
		case !utf8.ValidString(v):
			out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "sql-text", Message: what + " is not valid UTF-8"})
		case ident && len(v) > 63:
			out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "sql-text",
				Message: fmt.Sprintf("%s %q is longer than 63 bytes; PostgreSQL would truncate it", what, v)})
		}
	}
	params := func(o *obj, m map[string]any) {
		for _, k := range SortedKeys(m) {
			s := o.KeySrc("parameters")
			bad(Src{Pos: s.Pos, Path: s.Path + "." + k}, "parameter "+k, AsString(m[k]), false)
		}
	}
	users := append(append([]*User{}, cl.DefaultRoles...), cl.Users...)
	for _, u := range users {
		bad(u.KeySrc("comment"), "comment", u.Comment, false)
		bad(u.KeySrc("expire_at"), "expire_at", u.ExpireAt, false)
		params(&u.obj, u.Parameters)
	}
	for _, d := range cl.Databases {
		for _, k := range []string{"comment", "encoding", "locale", "lc_collate", "lc_ctype", "icu_locale", "icu_rules", "builtin_locale"} {
			bad(d.KeySrc(k), k, d.str(k), false)
		}
		for _, k := range []string{"template", "tablespace"} {
			bad(d.KeySrc(k), k, d.str(k), true)
		}
		params(&d.obj, d.Parameters)
		for _, it := range d.Schemas {
			bad(it.Src, "schema", it.Name, true)
		}
		for _, it := range d.Extensions {
			bad(it.Src, "extension", it.Name, true)
			bad(it.Src, "extension schema", it.Schema, true)
			bad(it.Src, "extension version", it.Version, false)
		}
	}
	ref := cl.Vars()
	for _, name := range []string{"pg_default_schemas", "pg_default_extensions"} {
		v, ok := ref.Vars[name]
		if !ok || f.ShapeFailed(v) {
			continue
		}
		_, base, _ := listItems(v)
		for i, it := range DecodeItems(ref.List(name)) {
			s := Src{Pos: v.Prov.Pos, Path: itemPath(base, name, i)}
			bad(s, "name", it.Name, true)
			bad(s, "schema", it.Schema, true)
			bad(s, "version", it.Version, false)
		}
	}
	return out
}

// DecodeItems decodes a list of schema or extension items given as plain
// values (pg_default_schemas, pg_default_extensions): a name or a map with
// name, owner, schema, version and state.
func DecodeItems(l []any) []Item {
	var out []Item
	for _, x := range l {
		it := Item{State: "create"}
		switch v := x.(type) {
		case string:
			it.Name = v
		case map[string]any:
			it.Name, it.Owner = AsString(v["name"]), AsString(v["owner"])
			it.Schema, it.Version = AsString(v["schema"]), AsString(v["version"])
			if s := AsString(v["state"]); s != "" {
				it.State = s
			}
		default:
			continue
		}
		out = append(out, it)
	}
	return out
}

// MaxBaselineSize bounds an embedded baseline (sql.md §5 Baseline).
const MaxBaselineSize = 16 << 20

// forbiddenMeta are psql meta-commands a baseline may not contain: they would
// leave the database the file runs in, or stop or redirect the script (sql.md §5).
var forbiddenMeta = []string{"connect", "c", "q", "quit", "i", "include", "ir", "include_relative"}

// loadBaselines reads each database's baseline file (the one stage-4 rule
// with I/O: the renderer does none). Path resolution (sql.md §5): absolute as
// is; otherwise relative to the directory of the inventory file that set it,
// then <dir>/files/<path> (Pigsty's Ansible files/ search path).
func loadBaselines(f *Fleet, cl *Cluster) Diags {
	var out Diags
	for _, d := range cl.Databases {
		if d.Baseline == "" || d.State == "absent" {
			continue
		}
		s := d.KeySrc("baseline")
		var cands []string
		if filepath.IsAbs(d.Baseline) {
			cands = []string{d.Baseline}
		} else {
			dir := "."
			if s.Pos.File != "" {
				dir = filepath.Dir(s.Pos.File)
			}
			cands = []string{filepath.Join(dir, d.Baseline), filepath.Join(dir, "files", d.Baseline)}
		}
		found := false
		for _, p := range cands {
			st, err := os.Stat(p)
			if err != nil || st.IsDir() {
				continue
			}
			found = true
			if st.Size() > MaxBaselineSize {
				out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "baseline",
					Message: fmt.Sprintf("baseline %q is larger than 16 MiB", d.Baseline)})
				break
			}
			data, err := os.ReadFile(p)
			if err != nil {
				out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "baseline",
					Message: fmt.Sprintf("baseline %q: %v", d.Baseline, err)})
				break
			}
			if line, cmd := findMeta(data); cmd != "" {
				out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "baseline",
					Message: fmt.Sprintf("baseline %q line %d uses \\%s; a baseline runs inside its database and may not use \\connect, \\c, \\q, \\i or \\ir", d.Baseline, line, cmd)})
				break
			}
			if strings.IndexByte(string(data), 0) >= 0 {
				out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "baseline",
					Message: fmt.Sprintf("baseline %q contains a NUL byte", d.Baseline)})
				break
			}
			d.BaselineFound, d.BaselineData = true, data
			break
		}
		if !found {
			out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "baseline-missing", Severity: schema.SevWarning,
				Message: fmt.Sprintf("baseline %q not found next to the inventory or in its files/ directory; db-%s.sql gets a comment in its place", d.Baseline, d.Name)})
		}
	}
	return out
}

// findMeta returns the first forbidden psql meta-command of a script and its
// line number. A backslash command starts at the beginning of a line or after
// whitespace or ';' and ends at whitespace or the end of the line; this
// over-approximates (a literal containing " \c " is rejected too) rather than
// parse psql's lexer.
func findMeta(data []byte) (int, string) {
	for n, line := range bytes.Split(data, []byte("\n")) {
		l := string(line)
		for i := 0; i < len(l); i++ {
			if l[i] != '\\' || (i > 0 && !strings.ContainsRune(" \t;", rune(l[i-1]))) {
				continue
			}
			j := i + 1
			for j < len(l) && (l[j] >= 'a' && l[j] <= 'z' || l[j] == '_') {
				j++
			}
			if j < len(l) && !strings.ContainsRune(" \t\r", rune(l[j])) {
				continue
			}
			if cmd := l[i+1 : j]; containsStr(forbiddenMeta, cmd) {
				return n + 1, cmd
			}
		}
	}
	return 0, ""
}

// BaselineSum is the sha256 of a database's baseline content, as written in
// the db file's markers ("sha256:<hex>").
func (d *Database) BaselineSum() string {
	h := sha256.Sum256(d.BaselineData)
	return "sha256:" + hex.EncodeToString(h[:])
}
