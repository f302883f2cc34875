package compiler

import (
	"github.com/pgcc-dev/pgcc/schema"
)

// Src locates an object or one of its keys in the inventory.
type Src struct {
	Pos  Pos
	Path string
}

// obj is the common part of decoded business objects: the raw map (every
// key as written, plain values), and where each key was written.
type obj struct {
	Src  Src
	Raw  map[string]any
	Keys map[string]Src // per-key positions (value nodes)
	Set  []string       // keys as written, in order
	// Broken marks an object whose shape failed validation: its name still
	// counts (so an owner naming it is not a second error), but no other
	// rule looks at it and nothing renders it (there are errors anyway).
	Broken bool
}

// KeySrc returns where key k was written, or the object's own position.
func (o *obj) KeySrc(k string) Src {
	if s, ok := o.Keys[k]; ok {
		return s
	}
	return o.Src
}

// Has reports whether key k was written.
func (o *obj) Has(k string) bool { _, ok := o.Raw[k]; return ok }

func (o *obj) str(k string) string {
	if v, ok := o.Raw[k]; ok {
		return AsString(v)
	}
	return ""
}

func (o *obj) boolp(k string) *bool {
	if v, ok := o.Raw[k].(bool); ok {
		return &v
	}
	return nil
}

func (o *obj) intp(k string) *int {
	if v, ok := AsInt(o.Raw[k]); ok && o.Has(k) {
		return &v
	}
	return nil
}

func decodeObj(n *schema.Node, path string) obj {
	o := obj{Src: Src{Pos: n.Pos, Path: path}, Raw: map[string]any{}, Keys: map[string]Src{}}
	if n.Kind != schema.MapKind {
		return o
	}
	for _, e := range n.Keys {
		o.Raw[e.Key] = e.Value.Interface()
		o.Keys[e.Key] = Src{Pos: e.Value.Pos, Path: schema.JoinPath(path, e.Key)}
		o.Set = append(o.Set, e.Key)
	}
	return o
}

// RoleGrant is one item of a user's roles list.
type RoleGrant struct {
	Name    string
	State   string // grant (default), revoke, absent
	Admin   *bool
	Set     *bool
	Inherit *bool
	Src     Src
}

// User is an item of pg_users or pg_default_roles (sql.md).
type User struct {
	obj
	Name          string
	State         string // create (default) or absent
	Password      string // plaintext, SCRAM verifier or md5 hash; never printed
	HasPassword   bool
	Login         *bool
	Superuser     *bool
	CreateDB      *bool
	CreateRole    *bool
	Inherit       *bool
	Replication   *bool
	BypassRLS     *bool
	ConnLimit     *int
	ExpireIn      *int
	ExpireAt      string
	Comment       string
	Roles         []RoleGrant
	Parameters    map[string]any
	ParamKeys     []string // keys of Parameters in the order written (sql.md §2 step 5: map order)
	Pgbouncer     bool
	PoolMode      string
	PoolConnLimit *int
	BackupTool    string
	Default       bool // from pg_default_roles
}

// paramKeys returns the keys of the parameters map of n in the order written.
func paramKeys(n *schema.Node) []string {
	pn := n.Get("parameters")
	if pn == nil || pn.Kind != schema.MapKind {
		return nil
	}
	keys := make([]string, 0, len(pn.Keys))
	for _, e := range pn.Keys {
		keys = append(keys, e.Key)
	}
	return keys
}

func decodeUser(n *schema.Node, path string, def bool) *User {
	u := &User{obj: decodeObj(n, path), Default: def}
	u.Name = u.str("name")
	u.State = u.str("state")
	if u.State == "" {
		u.State = "create"
	}
	if pw, ok := u.Raw["password"]; ok {
		u.Password, u.HasPassword = AsString(pw), true
	}
	u.Login = u.boolp("login")
	u.Superuser = u.boolp("superuser")
	u.CreateDB = u.boolp("createdb")
	u.CreateRole = u.boolp("createrole")
	u.Inherit = u.boolp("inherit")
	u.Replication = u.boolp("replication")
	u.BypassRLS = u.boolp("bypassrls")
	u.ConnLimit = u.intp("connlimit")
	u.ExpireIn = u.intp("expire_in")
	u.ExpireAt = u.str("expire_at")
	u.Comment = u.str("comment")
	if m, ok := u.Raw["parameters"].(map[string]any); ok {
		u.Parameters = m
		u.ParamKeys = paramKeys(n)
	}
	if b := u.boolp("pgbouncer"); b != nil {
		u.Pgbouncer = *b
	}
	u.PoolMode = u.str("pool_mode")
	u.PoolConnLimit = u.intp("pool_connlimit")
	u.BackupTool = u.str("backup_tool")
	if rn := n.Get("roles"); rn != nil && rn.Kind == schema.ListKind {
		for i, it := range rn.Items {
			p := schema.JoinPath(path, "roles") + schema.Index(i)
			g := RoleGrant{State: "grant", Src: Src{Pos: it.Pos, Path: p}}
			switch it.Kind {
			case schema.StringKind:
				g.Name = it.Str
			case schema.MapKind:
				ro := decodeObj(it, p)
				g.Name = ro.str("name")
				if s := ro.str("state"); s != "" {
					g.State = s
				}
				g.Admin, g.Set, g.Inherit = ro.boolp("admin"), ro.boolp("set"), ro.boolp("inherit")
			}
			u.Roles = append(u.Roles, g)
		}
	}
	return u
}

// Item is a schema or extension entry of a database (a name or an object).
type Item struct {
	Name    string
	Owner   string // schemas
	Schema  string // extensions
	Version string // extensions
	State   string // create (default) or absent
	Src     Src
}

// Database is an item of pg_databases (sql.md §5).
type Database struct {
	obj
	Name           string
	State          string // create (default), absent, recreate
	Owner          string
	Template       string
	Strategy       string
	Encoding       string
	Locale         string
	LcCollate      string
	LcCtype        string
	LocaleProvider string
	IcuLocale      string
	IcuRules       string
	BuiltinLocale  string
	Tablespace     string
	IsTemplate     *bool
	AllowConn      *bool
	RevokeConn     bool
	ConnLimit      *int
	Parameters     map[string]any
	ParamKeys      []string // keys of Parameters in the order written
	Comment        string
	Schemas        []Item
	Extensions     []Item
	Baseline       string
	Pgbouncer      bool // default true
	PoolAuthUser   string
	PoolMode       string
	PoolSize       *int
	PoolSizeMin    *int
	PoolReserve    *int
	PoolConnLimit  *int
	// Baseline content, loaded by the stage-4 rule "baseline" (sqlrules.go);
	// BaselineFound is false when the file was not found (warning baseline-missing).
	BaselineFound bool
	BaselineData  []byte
}

func decodeDatabase(n *schema.Node, path string) *Database {
	d := &Database{obj: decodeObj(n, path), Pgbouncer: true}
	d.Name = d.str("name")
	d.State = d.str("state")
	if d.State == "" {
		d.State = "create"
	}
	d.Owner = d.str("owner")
	d.Template = d.str("template")
	d.Strategy = d.str("strategy")
	d.Encoding = d.str("encoding")
	d.Locale = d.str("locale")
	d.LcCollate = d.str("lc_collate")
	d.LcCtype = d.str("lc_ctype")
	d.LocaleProvider = d.str("locale_provider")
	d.IcuLocale = d.str("icu_locale")
	d.IcuRules = d.str("icu_rules")
	d.BuiltinLocale = d.str("builtin_locale")
	d.Tablespace = d.str("tablespace")
	d.IsTemplate = d.boolp("is_template")
	d.AllowConn = d.boolp("allowconn")
	if b := d.boolp("revokeconn"); b != nil {
		d.RevokeConn = *b
	}
	d.ConnLimit = d.intp("connlimit")
	if m, ok := d.Raw["parameters"].(map[string]any); ok {
		d.Parameters = m
		d.ParamKeys = paramKeys(n)
	}
	d.Comment = d.str("comment")
	d.Baseline = d.str("baseline")
	if b := d.boolp("pgbouncer"); b != nil {
		d.Pgbouncer = *b
	}
	d.PoolAuthUser = d.str("pool_auth_user")
	d.PoolMode = d.str("pool_mode")
	d.PoolSize = d.intp("pool_size")
	d.PoolSizeMin = d.intp("pool_size_min")
	d.PoolReserve = d.intp("pool_reserve")
	d.PoolConnLimit = d.intp("pool_connlimit")
	d.Schemas = decodeItems(n.Get("schemas"), schema.JoinPath(path, "schemas"))
	d.Extensions = decodeItems(n.Get("extensions"), schema.JoinPath(path, "extensions"))
	return d
}

func decodeItems(n *schema.Node, path string) []Item {
	if n == nil || n.Kind != schema.ListKind {
		return nil
	}
	var out []Item
	for i, it := range n.Items {
		p := path + schema.Index(i)
		item := Item{State: "create", Src: Src{Pos: it.Pos, Path: p}}
		switch it.Kind {
		case schema.StringKind:
			item.Name = it.Str
		case schema.MapKind:
			o := decodeObj(it, p)
			item.Name, item.Owner, item.Schema, item.Version = o.str("name"), o.str("owner"), o.str("schema"), o.str("version")
			if s := o.str("state"); s != "" {
				item.State = s
			}
		}
		out = append(out, item)
	}
	return out
}

// Service is an item of pg_default_services or pg_services (pooling-services.md §3).
type Service struct {
	obj
	Name     string
	Port     int
	Selector string
	Backup   string
	Dest     string // as written ("" = pg_default_service_dest)
	Check    string
	IP       string
	Maxconn  *int
	Balance  string
	Options  []string
	Default  bool // from pg_default_services
}

func decodeService(n *schema.Node, path string, def bool) *Service {
	s := &Service{obj: decodeObj(n, path), Default: def}
	s.Name = s.str("name")
	s.Port, _ = AsInt(s.Raw["port"]) // port!: #Port in schema/cue/objects.cue: validated before decoding
	s.Selector = s.str("selector")
	s.Backup = s.str("backup")
	s.Dest = s.str("dest")
	s.Check = s.str("check")
	s.IP = s.str("ip")
	s.Maxconn = s.intp("maxconn")
	s.Balance = s.str("balance")
	if l, ok := s.Raw["options"].([]any); ok {
		for _, x := range l {
			s.Options = append(s.Options, AsString(x))
		}
	} else if str, ok := s.Raw["options"].(string); ok {
		s.Options = []string{str}
	}
	return s
}

// HBARule is an item of the HBA rule lists (hba.md §1).
type HBARule struct {
	obj
	Title   string
	Role    string // "" → default
	Order   *int
	User    string
	DB      string
	Addr    string
	Auth    string
	Rules   []string
	Default bool // from pg_default_hba_rules / pgb_default_hba_rules
	Index   int  // position in the concatenated list
}

func decodeHBARule(n *schema.Node, path string, def bool, idx int) *HBARule {
	r := &HBARule{obj: decodeObj(n, path), Default: def, Index: idx}
	r.Title = r.str("title")
	r.Role = r.str("role")
	r.Order = r.intp("order")
	r.User = r.str("user")
	r.DB = r.str("db")
	r.Addr = r.str("addr")
	r.Auth = r.str("auth")
	if l, ok := r.Raw["rules"].([]any); ok {
		for _, x := range l {
			r.Rules = append(r.Rules, AsString(x))
		}
	}
	return r
}
