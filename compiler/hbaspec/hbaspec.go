// Package hbaspec holds the pure rules of hba.md that both the compiler (stage-4
// validation, hba.md §7) and the renderer (expansion, hba.md §5–§6, and the lints of
// §8) need: the auth and address alias tables, user and database items, address
// parsing, a PostgreSQL-like tokenizer for raw lines and the "covers" relation.
//
// It imports neither compiler nor render (compiler → hbaspec ← render), does no I/O
// and keeps no state besides its constant tables.
package hbaspec

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Auth is one auth alias of hba.md §5.
type Auth struct {
	Name string // the alias ("pwd" for an absent or empty auth)
	PG   string // pg_hba.conf method
	PGB  string // pgb_hba.conf method
	// SSL: TCP lines are hostssl. Chosen only from the alias as written (ssl, ssl-sha,
	// ssl-md5, cert), never from the resulting method.
	SSL bool
}

// Method returns the method for pg_hba.conf or, with pgb, pgb_hba.conf.
func (a Auth) Method(pgb bool) string {
	if pgb {
		return a.PGB
	}
	return a.PG
}

// auths is the alias table of hba.md §5, in the order the error message lists them.
// pwdenc is always scram-sha-256 (inventory.md §4.4). pgbouncer has no ident method:
// ident/os become peer there (pgbouncer 1.18 src/hba.c knows trust, reject, md5,
// password, peer, cert and scram-sha-256).
var auths = []Auth{
	{"pwd", "scram-sha-256", "scram-sha-256", false},
	{"ssl", "scram-sha-256", "scram-sha-256", true},
	{"ssl-sha", "scram-sha-256", "scram-sha-256", true},
	{"ssl-md5", "md5", "md5", true},
	{"cert", "cert", "cert", true},
	{"sha", "scram-sha-256", "scram-sha-256", false},
	{"scram-sha-256", "scram-sha-256", "scram-sha-256", false},
	{"md5", "md5", "md5", false},
	{"deny", "reject", "reject", false},
	{"reject", "reject", "reject", false},
	{"trust", "trust", "trust", false},
	{"ident", "ident", "peer", false},
	{"os", "ident", "peer", false},
	{"peer", "peer", "peer", false},
}

// AuthWant is the "want" list of the unknown-auth message (hba.md §7).
const AuthWant = "pwd, ssl, ssl-sha, ssl-md5, cert, sha, scram-sha-256, md5, deny, reject, trust, ident, os or peer (use rules for other methods)"

// LookupAuth returns the alias s ("" = pwd).
func LookupAuth(s string) (Auth, bool) {
	if s == "" {
		s = "pwd"
	}
	for _, a := range auths {
		if a.Name == s {
			return a, true
		}
	}
	return Auth{}, false
}

// AddrKind is the kind of an addr value.
type AddrKind uint8

const (
	AddrCIDR      AddrKind = iota // an IPv4/IPv6 address or network
	AddrLocal                     // unix socket
	AddrLocalhost                 // unix socket + 127.0.0.1/32 + ::1/128
	AddrAdmin                     // admin_ip/32
	AddrInfra                     // every infra host /32
	AddrCluster                   // every cluster member /32
	AddrIntra                     // node_firewall_intranet
	AddrWorld                     // 0.0.0.0/0 and ::/0
)

// Addr is a parsed addr value.
type Addr struct {
	Kind AddrKind
	// Text is the alias as written, or the network as rendered: IPv4 as written
	// with /32 added to a bare address, IPv6 in lower case with /128 added.
	Text   string
	Prefix netip.Prefix // AddrCIDR only
}

// AddrWant is the "want" list of the invalid-address message (hba.md §7).
const AddrWant = "local, localhost, admin, infra, cluster, intra, intranet, world, all or an IPv4/IPv6 address or CIDR"

var addrAliases = map[string]AddrKind{
	"local": AddrLocal, "localhost": AddrLocalhost, "admin": AddrAdmin, "infra": AddrInfra,
	"cluster": AddrCluster, "intra": AddrIntra, "intranet": AddrIntra, "world": AddrWorld, "all": AddrWorld,
}

// ErrAddr is returned for an addr that is neither an alias nor an address.
type ErrAddr struct{ Value string }

func (e *ErrAddr) Error() string {
	return fmt.Sprintf("%q is not a valid address; want %s", e.Value, AddrWant)
}

// ParseAddr parses an addr value (hba.md §5 "Addresses"). Hostnames, samehost and
// samenet are refused (raw rules can use them). Octets are 0..255 without leading
// zeros, masks /0..32 (IPv4) and /0..128 (IPv6); IPv6 zones are refused.
func ParseAddr(s string) (Addr, error) {
	if k, ok := addrAliases[s]; ok {
		return Addr{Kind: k, Text: s}, nil
	}
	p, ok := parseNet(s)
	if !ok {
		return Addr{}, &ErrAddr{Value: s}
	}
	text := s
	if p.Addr().Is6() {
		text = strings.ToLower(s)
	}
	if !strings.Contains(s, "/") {
		text = fmt.Sprintf("%s/%d", text, p.Bits())
	}
	return Addr{Kind: AddrCIDR, Text: text, Prefix: p}, nil
}

// parseNet parses an address with an optional mask; a bare address is a host.
func parseNet(s string) (netip.Prefix, bool) {
	if s == "" || strings.ContainsAny(s, "% \t") {
		return netip.Prefix{}, false
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return netip.Prefix{}, false
		}
		return p, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// Env holds what the address aliases expand to on one instance (hba.md §5).
type Env struct {
	AdminIP    string
	InfraIPs   []string // sorted as strings
	ClusterIPs []string // sorted as strings
	Intranet   []string // node_firewall_intranet, in list order
}

// Networks returns the TCP networks of a, as rendered. Local has none; localhost has
// 127.0.0.1/32 and ::1/128 (its unix-socket line is the caller's).
func (e Env) Networks(a Addr) []string {
	switch a.Kind {
	case AddrCIDR:
		return []string{a.Text}
	case AddrLocalhost:
		return []string{"127.0.0.1/32", "::1/128"}
	case AddrAdmin:
		if e.AdminIP == "" {
			return nil
		}
		return []string{hostNet(e.AdminIP)}
	case AddrInfra:
		return hostNets(e.InfraIPs)
	case AddrCluster:
		return hostNets(e.ClusterIPs)
	case AddrIntra:
		return append([]string(nil), e.Intranet...)
	case AddrWorld:
		return []string{"0.0.0.0/0", "::/0"}
	}
	return nil
}

func hostNets(ips []string) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, hostNet(ip))
	}
	return out
}

func hostNet(ip string) string {
	if strings.Contains(ip, ":") {
		return strings.ToLower(ip) + "/128"
	}
	return ip + "/32"
}

// ItemKind classifies a database or user item.
type ItemKind uint8

const (
	ItemName        ItemKind = iota // a role or database name
	ItemAll                         // all
	ItemSameUser                    // sameuser (database)
	ItemSameRole                    // samerole (database)
	ItemSameGroup                   // samegroup (database)
	ItemReplication                 // replication (database)
	ItemGroup                       // +role (user): Value is the role
	ItemRegex                       // /regex (PG 16+): Value includes the slash
)

// Item is one comma item of a database or user field.
type Item struct {
	Kind  ItemKind
	Value string
}

// String is the item as written in the inventory (unquoted).
func (it Item) String() string {
	if it.Kind == ItemGroup {
		return "+" + it.Value
	}
	return it.Value
}

var dbKeywords = map[string]ItemKind{
	"all": ItemAll, "sameuser": ItemSameUser, "samerole": ItemSameRole, "samegroup": ItemSameGroup,
	"replication": ItemReplication,
}

// Name regexes of inventory.md §4.2 (user and database names).
var (
	userRe = regexp.MustCompile(`^[a-z_][a-z0-9_@.-]{0,62}$`)
	dbRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,62}$`)
)

// Aliases are the values of the user aliases (hba.md §5 "Users").
type Aliases struct {
	DBSU, Repl, Monitor, Admin string
}

// Lookup returns the value of ${name}.
func (a Aliases) Lookup(item string) (string, bool) {
	switch item {
	case "${dbsu}":
		return a.DBSU, true
	case "${repl}":
		return a.Repl, true
	case "${monitor}":
		return a.Monitor, true
	case "${admin}":
		return a.Admin, true
	}
	return "", false
}

// Target says which file a rule is for.
type Target struct {
	PGB       bool // pgb_hba.conf (pgbouncer)
	PGVersion int  // pg_version: /regex needs 16
}

// FieldError is a validation error of one key of a rule (Key "" = the rule itself).
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Msg }

func fieldErr(key, format string, args ...any) *FieldError {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// UserWant and DBWant are the "want" lists of the bad-item messages.
const (
	UserWant = "all, ${dbsu}, ${repl}, ${monitor}, ${admin}, a role name, +role or /regex"
	DBWant   = "all, sameuser, samerole, samegroup, replication, a database name or /regex"
)

// ParseUsers parses a user value ("" = all). pgcc replaces aliases in each comma item
// (Pigsty only when the whole value is one alias).
func ParseUsers(s string, a Aliases, t Target) ([]Item, error) {
	if s == "" {
		return []Item{{Kind: ItemAll, Value: "all"}}, nil
	}
	var out []Item
	for _, raw := range strings.Split(s, ",") {
		if v, ok := a.Lookup(raw); ok {
			out = append(out, Item{Kind: ItemName, Value: v})
			continue
		}
		switch {
		case raw == "all":
			out = append(out, Item{Kind: ItemAll, Value: raw})
		case strings.HasPrefix(raw, "+") && userRe.MatchString(raw[1:]):
			if t.PGB {
				return nil, fieldErr("user", "group membership %q is not allowed in pgbouncer rules (pgbouncer has no +role items)", raw)
			}
			out = append(out, Item{Kind: ItemGroup, Value: raw[1:]})
		case strings.HasPrefix(raw, "/"):
			it, err := parseRegex("user", raw, t)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		case userRe.MatchString(raw):
			out = append(out, Item{Kind: ItemName, Value: raw})
		default:
			return nil, fieldErr("user", "%q is not a valid user; want %s", raw, UserWant)
		}
	}
	return out, nil
}

// ParseDBs parses a db value ("" = all).
func ParseDBs(s string, t Target) ([]Item, error) {
	if s == "" {
		return []Item{{Kind: ItemAll, Value: "all"}}, nil
	}
	var out []Item
	for _, raw := range strings.Split(s, ",") {
		if k, ok := dbKeywords[raw]; ok {
			// pgbouncer 1.18 src/hba.c parse_names refuses these keywords: the
			// line would be skipped ("could not parse hba config line").
			if t.PGB && (k == ItemReplication || k == ItemSameRole || k == ItemSameGroup) {
				return nil, fieldErr("db", "%s is not allowed in pgbouncer rules", raw)
			}
			out = append(out, Item{Kind: k, Value: raw})
			continue
		}
		switch {
		case strings.HasPrefix(raw, "/"):
			it, err := parseRegex("db", raw, t)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		case dbRe.MatchString(raw):
			out = append(out, Item{Kind: ItemName, Value: raw})
		default:
			return nil, fieldErr("db", "%q is not a valid database; want %s", raw, DBWant)
		}
	}
	return out, nil
}

// parseRegex checks a /regex item: PostgreSQL 16+ pg_hba.conf only, one token
// (no blanks, quotes or commas — the comma is the item separator here).
func parseRegex(key, raw string, t Target) (Item, error) {
	what := "user"
	if key == "db" {
		what = "database"
	}
	switch {
	case len(raw) < 2 || strings.ContainsAny(raw, " \t\v\f\"\x00"):
		want := UserWant
		if key == "db" {
			want = DBWant
		}
		return Item{}, fieldErr(key, "%q is not a valid %s; want %s", raw, what, want)
	case t.PGB:
		return Item{}, fieldErr(key, "regular expression %q is not allowed in pgbouncer rules", raw)
	case t.PGVersion < 16:
		return Item{}, fieldErr(key, "regular expression %q needs PostgreSQL 16 or later (pg_version is %d)", raw, t.PGVersion)
	}
	return Item{Kind: ItemRegex, Value: raw}, nil
}

// Rule is the part of a rule object that validation and expansion read.
type Rule struct {
	User, DB, Addr, Auth string // "" = absent
	Rules                []string
}

// Raw reports whether the rule is in raw form (a non-empty rules list wins).
func (r Rule) Raw() bool { return len(r.Rules) > 0 }

// Parsed is a validated alias-form rule.
type Parsed struct {
	Users []Item
	DBs   []Item
	Addr  Addr
	Auth  Auth
}

// Parse validates an alias-form rule (hba.md §5, §7) and returns every error found,
// one per key. Raw rules are not parsed here (see ParseRaw).
func Parse(r Rule, a Aliases, t Target) (Parsed, []*FieldError) {
	var p Parsed
	var errs []*FieldError
	add := func(err error) {
		if fe, ok := err.(*FieldError); ok {
			errs = append(errs, fe)
		}
	}
	var err error
	if p.Users, err = ParseUsers(r.User, a, t); err != nil {
		add(err)
	}
	if p.DBs, err = ParseDBs(r.DB, t); err != nil {
		add(err)
	}
	authOK := false
	if p.Auth, authOK = LookupAuth(r.Auth); !authOK {
		errs = append(errs, fieldErr("auth", "%q is not allowed; want %s", r.Auth, AuthWant))
	}
	addrOK := false
	if r.Addr == "" {
		errs = append(errs, fieldErr("", `missing required field "addr"`))
	} else if p.Addr, err = ParseAddr(r.Addr); err != nil {
		errs = append(errs, fieldErr("addr", "%s", err.Error()))
	} else {
		addrOK = true
	}
	if authOK && addrOK {
		if fe := checkCombination(p.Auth, p.Addr, t); fe != nil {
			errs = append(errs, fe)
		}
	}
	return p, errs
}

// checkCombination refuses the auth/addr pairs PostgreSQL or pgbouncer would not load
// (hba.md §5): cert needs a TCP (hostssl) line; peer works only on the unix socket
// (PostgreSQL: "peer authentication is only supported on local sockets"; pgbouncer
// maps ident/os to peer).
func checkCombination(a Auth, addr Addr, t Target) *FieldError {
	local := addr.Kind == AddrLocal
	switch {
	case a.Name == "cert" && (local || addr.Kind == AddrLocalhost):
		return fieldErr("auth", "cert is not allowed with addr %s; a client certificate needs a TCP connection (hostssl)", addr.Text)
	case !local && a.Method(t.PGB) == "peer":
		where := ""
		if t.PGB {
			where = " in pgbouncer rules"
		}
		return fieldErr("auth", "%s is not allowed with addr %s%s; peer authentication works only on local (unix socket) connections", a.Name, addr.Text, where)
	}
	return nil
}

// Line is one rule line as the lints see it: (type, db items, user items, network,
// method) (hba.md §8).
type Line struct {
	Type   string // local, host, hostssl, hostnossl, hostgssenc, hostnogssenc
	DB     []Item
	User   []Item
	Addr   string       // address as rendered; "" for local
	Net    netip.Prefix // masked network (TCP lines); invalid with AnyAddr
	AnyIP  bool         // the address keyword "all" (raw lines)
	Method string
}

// Expand returns the lines of a parsed alias-form rule on an instance (hba.md §5):
// localhost gives a local line then host lines (always host, even for ssl); other
// TCP addresses give hostssl for ssl, ssl-sha, ssl-md5 and cert, else host.
func Expand(p Parsed, env Env, t Target) []Line {
	method := p.Auth.Method(t.PGB)
	mk := func(typ, addr string) Line {
		l := Line{Type: typ, DB: p.DBs, User: p.Users, Addr: addr, Method: method}
		if addr != "" {
			if n, ok := parseNet(addr); ok {
				l.Net = n.Masked()
				// pgbouncer compares (client & mask) with the address as written
				// (1.18 src/hba.c match_inet4), so 10.10.10.1/16 would never match
				// there; PostgreSQL masks the address itself. pgb_hba.conf gets the
				// network PostgreSQL would use.
				if t.PGB && n != l.Net {
					l.Addr = l.Net.String()
				}
			}
		}
		return l
	}
	switch p.Addr.Kind {
	case AddrLocal:
		return []Line{mk("local", "")}
	case AddrLocalhost:
		out := []Line{mk("local", "")}
		for _, n := range env.Networks(p.Addr) {
			out = append(out, mk("host", n))
		}
		return out
	}
	typ := "host"
	if p.Auth.SSL {
		typ = "hostssl"
	}
	var out []Line
	for _, n := range env.Networks(p.Addr) {
		out = append(out, mk(typ, n))
	}
	return out
}
