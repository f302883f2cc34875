package compiler

// Services, selectors, destinations and the pooling/VIP rules of
// pooling-services.md. The JMESPath library is imported here and nowhere
// else (pooling-services.md §3.2): renderers ask for Servers and ResolveDest.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	jmespath "github.com/jmespath/go-jmespath"

	"github.com/pgcc-dev/pgcc/schema"
)

// Server is one member a service routes to (pooling-services.md §3.3).
type Server struct {
	Member *Instance
	Backup bool
}

// Selection is the evaluated selectors of one service: the members of the
// selector result and of the backup result, in result order, and the
// servers built from them.
type Selection struct {
	Selected []*Instance
	Backups  []*Instance
	Servers  []Server
}

// SelectorError is a selector or backup expression that does not compile,
// fails to evaluate, or returns something else than cluster members.
type SelectorError struct {
	Key  string // "selector" or "backup"
	Expr string
	Msg  string
}

func (e *SelectorError) Error() string { return e.Msg }

// errNotMembers is the canonical message of pooling-services.md §3.2.
const errNotMembers = "selector must return cluster members"

// exprCache holds compiled expressions: each distinct expression is
// compiled once per process, not once per cluster or instance (a fleet of
// 1000 clusters shares the four default selectors).
var exprCache sync.Map // string → exprEntry

type exprEntry struct {
	jp  *jmespath.JMESPath
	err error
}

func compileExpr(expr string) (*jmespath.JMESPath, error) {
	if e, ok := exprCache.Load(expr); ok {
		return e.(exprEntry).jp, e.(exprEntry).err
	}
	jp, err := jmespath.Compile(legacyLiterals(expr))
	exprCache.Store(expr, exprEntry{jp, err})
	return jp, err
}

// legacyLiterals rewrites JSON literals that are not valid JSON into JSON
// strings, as Python jmespath does (JEP-12 deprecation period: `primary` is
// read as "primary", lexer.py _consume_literal: json.loads('"%s"' %
// lexeme.lstrip())). Ansible's json_query uses Python jmespath and Pigsty's
// default selectors depend on it (pg_role == `primary`);
// go-jmespath rejects such literals. Raw strings ('…') and quoted
// identifiers ("…") are copied unchanged; a backslash escapes the next
// character in all three, as in both lexers.
func legacyLiterals(expr string) string {
	if !strings.Contains(expr, "`") {
		return expr
	}
	var b strings.Builder
	for i := 0; i < len(expr); {
		c := expr[i]
		if c != '\'' && c != '"' && c != '`' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(expr) && expr[j] != c {
			if expr[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(expr) { // unclosed: let the library report it
			b.WriteString(expr[i:])
			break
		}
		tok := expr[i : j+1]
		if c == '`' {
			lexeme := strings.ReplaceAll(expr[i+1:j], "\\`", "`")
			var v any
			if json.Unmarshal([]byte(lexeme), &v) != nil {
				var str string
				if json.Unmarshal([]byte(`"`+strings.TrimLeft(lexeme, " \t\n\r\f\v")+`"`), &str) == nil {
					enc, _ := json.Marshal(str)
					tok = "`" + strings.ReplaceAll(string(enc), "`", "\\`") + "`"
				}
			}
		}
		b.WriteString(tok)
		i = j + 1
	}
	return b.String()
}

// Selector evaluates service selectors over one cluster's member documents.
// Build it once per cluster: it converts the documents to JSON types once.
type Selector struct {
	cl    *Cluster
	docs  []any
	index map[uintptr]int // address of a member document → member index
}

// NewSelector prepares the member documents of cl (inventory.md §3.3) in
// inventory order, converted to JSON types: go-jmespath compares with deep
// equality and orders only float64, so a YAML integer must become float64
// to equal `2` (pooling-services.md §3.2).
func NewSelector(cl *Cluster) *Selector {
	s := &Selector{cl: cl, docs: make([]any, len(cl.Members)), index: make(map[uintptr]int, len(cl.Members))}
	for i, m := range cl.Members {
		d := toJSON(m.Doc).(map[string]any)
		s.docs[i] = d
		s.index[reflect.ValueOf(d).Pointer()] = i
	}
	return s
}

// toJSON converts plain model values to the JSON types go-jmespath expects.
func toJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case int32:
		return float64(x)
	}
	return v
}

// members evaluates one expression and maps the result back to members.
// A null result is allowed only where nullOK (the backup expression).
func (s *Selector) members(key, expr string, nullOK bool) ([]*Instance, error) {
	jp, err := compileExpr(expr)
	if err != nil {
		return nil, &SelectorError{Key: key, Expr: expr, Msg: syntaxMessage(err)}
	}
	res, err := jp.Search(s.docs)
	if err != nil {
		return nil, &SelectorError{Key: key, Expr: expr, Msg: "cannot evaluate: " + err.Error()}
	}
	if res == nil && nullOK {
		return nil, nil
	}
	list, ok := res.([]any)
	if !ok {
		return nil, &SelectorError{Key: key, Expr: expr, Msg: errNotMembers}
	}
	out := make([]*Instance, 0, len(list))
	seen := make(map[int]bool, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, &SelectorError{Key: key, Expr: expr, Msg: errNotMembers}
		}
		i, ok := s.index[reflect.ValueOf(m).Pointer()]
		if !ok {
			// A projection that builds new objects ([].{a: a}) is not a member.
			return nil, &SelectorError{Key: key, Expr: expr, Msg: errNotMembers}
		}
		// A member listed twice (`[[0], [0]][]`) is one server: HAProxy
		// refuses two servers of one name.
		if !seen[i] {
			seen[i] = true
			out = append(out, s.cl.Members[i])
		}
	}
	return out, nil
}

func syntaxMessage(err error) string {
	var se jmespath.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not a valid JMESPath expression: %s at offset %d", strings.TrimPrefix(se.Error(), "SyntaxError: "), se.Offset)
	}
	return "not a valid JMESPath expression: " + err.Error()
}

// Select evaluates svc's selector and backup (pooling-services.md §3.2) and
// orders the servers (§3.3): every selected member in result order, marked
// backup when it is also in the backup result; then every backup member not
// selected, in backup result order, always backup.
func (s *Selector) Select(svc *Service) (*Selection, error) {
	sel, err := s.members("selector", svc.Selector, false)
	if err != nil {
		return nil, err
	}
	var bak []*Instance
	if svc.Has("backup") && svc.Backup != "" {
		if bak, err = s.members("backup", svc.Backup, true); err != nil {
			return nil, err
		}
	}
	inBackup := make(map[*Instance]bool, len(bak))
	for _, m := range bak {
		inBackup[m] = true
	}
	res := &Selection{Selected: sel, Backups: bak, Servers: make([]Server, 0, len(sel)+len(bak))}
	selected := make(map[*Instance]bool, len(sel))
	for _, m := range sel {
		selected[m] = true
		res.Servers = append(res.Servers, Server{Member: m, Backup: inBackup[m]})
	}
	for _, m := range bak {
		if !selected[m] {
			res.Servers = append(res.Servers, Server{Member: m, Backup: true})
		}
	}
	return res, nil
}

// DestError is a service destination that names no port.
type DestError struct{ Msg string }

func (e *DestError) Error() string { return e.Msg }

// Destination kinds of a resolved dest.
const (
	DestPostgres  = "postgres"
	DestPgbouncer = "pgbouncer"
	DestPort      = "port"
)

// parseDest reads a dest word: postgres, pgbouncer, or a port given as an
// integer or a string of digits (pooling-services.md §3.3; pgcc differs
// from Pigsty, which turns '6543' or any unknown word into 5432).
func parseDest(word string, allowed string) (kind string, port int, err error) {
	switch word {
	case DestPostgres, DestPgbouncer:
		return word, 0, nil
	}
	if word != "" && strings.Trim(word, "0123456789") == "" {
		n, perr := strconv.Atoi(word)
		if perr != nil || n < 1 || n > 65535 {
			return "", 0, &DestError{Msg: fmt.Sprintf("%s is out of range; want 1..65535", word)}
		}
		return DestPort, n, nil
	}
	return "", 0, &DestError{Msg: fmt.Sprintf("%q is not allowed; want %s", word, allowed)}
}

const (
	wantDest        = "default, postgres, pgbouncer or a port number"
	wantDefaultDest = "postgres, pgbouncer or a port number"
)

// ResolveDest returns the port a member serves a service on. dest is the
// service's dest as written; "" and "default" take the viewing instance's
// pg_default_service_dest (the instance whose HAProxy renders the service,
// or the primary for delegated services). pgbouncer reports whether the
// port is the member's pgbouncer.
func ResolveDest(dest string, view, member *Instance) (port int, pgbouncer bool, err error) {
	if dest == "" || dest == "default" {
		kind, p, err := parseDest(view.Str("pg_default_service_dest"), wantDefaultDest)
		if err != nil {
			return 0, false, err
		}
		return destPort(kind, p, member)
	}
	kind, p, err := parseDest(dest, wantDest)
	if err != nil {
		return 0, false, err
	}
	return destPort(kind, p, member)
}

func destPort(kind string, p int, member *Instance) (int, bool, error) {
	switch kind {
	case DestPostgres:
		return member.Int("pg_port"), false, nil
	case DestPgbouncer:
		return member.Int("pgbouncer_port"), true, nil
	}
	return p, false, nil
}

// HealthPaths are Patroni's REST health endpoints (pooling-services.md §3.4).
var healthPaths = map[string]bool{
	"/": true, "/primary": true, "/read-write": true, "/leader": true, "/standby-leader": true,
	"/standby_leader": true, "/replica": true, "/read-only": true, "/synchronous": true, "/sync": true,
	"/asynchronous": true, "/async": true, "/quorum": true, "/read-only-sync": true,
	"/read-only-quorum": true, "/health": true, "/liveness": true, "/readiness": true,
}

// KnownHealthCheck reports whether a check path is a Patroni health endpoint
// (a query string is allowed).
func KnownHealthCheck(check string) bool {
	path, _, _ := strings.Cut(check, "?")
	return healthPaths[path]
}

func init() {
	// Errors are stage-4 rules; the warnings of the same checks are lints
	// (stage 5: they run only when there are no errors, inventory.md §6).
	RegisterRule(ClusterRule{Name: "services", Check: func(f *Fleet, cl *Cluster) Diags { return checkServices(f, cl, false) }})
	RegisterRule(ClusterRule{Name: "vip-address", Check: checkVIPRules})
	RegisterRule(ClusterRule{Name: "pooling-backup", Check: checkPoolingErrors})
	Linters = append(Linters,
		Linter{Name: "services", Run: func(f *Fleet) Diags {
			var out Diags
			for _, cl := range f.Clusters {
				out = append(out, checkServices(f, cl, true)...)
			}
			return out
		}},
		Linter{Name: "pooling", Run: func(f *Fleet) Diags {
			var out Diags
			for _, cl := range f.Clusters {
				out = append(out, lintPooling(cl)...)
			}
			return out
		}})
}

// svcAt locates a key of a service for a message. Default services (from
// pg_default_services defaults) have no position: point at the cluster's
// pg_cluster instead, so the message lands in the user's file.
func svcAt(cl *Cluster, s *Service, key string) (Pos, string) {
	src := s.KeySrc(key)
	if src.Pos.IsZero() {
		return at(cl.Vars(), "pg_cluster")
	}
	return src.Pos, src.Path
}

// checkServices: dest values, selector syntax and results (errors,
// positioned at the offending key), or with lint the warnings service-empty,
// service-check-unknown and dest-pgbouncer-disabled (pooling-services.md §3).
func checkServices(f *Fleet, cl *Cluster, lint bool) Diags {
	var out Diags
	errf := func(pos Pos, path, code, format string, args ...any) {
		if !lint {
			out = append(out, Diag{Pos: pos, Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
		}
	}
	warnf := func(pos Pos, path, code, format string, args ...any) {
		if lint {
			out = append(out, Diag{Pos: pos, Path: path, Code: code, Severity: schema.SevWarning, Message: fmt.Sprintf(format, args...)})
		}
	}
	// pg_default_service_dest of every member (numeric strings are range-checked here).
	destOK := map[*Instance]bool{}
	for _, m := range cl.Members {
		v, ok := m.Vars["pg_default_service_dest"]
		if !ok || f.ShapeFailed(v) {
			continue
		}
		if _, _, err := parseDest(AsString(v.V), wantDefaultDest); err != nil {
			pos, path := at(m, "pg_default_service_dest")
			errf(pos, path, "svc-dest", "%s", err.Error())
			continue
		}
		destOK[m] = true
	}
	ref := cl.Vars()
	// The instances that render services: all members (local HAProxy) or the primary (delegated).
	viewers := cl.Members
	if ref.Str("pg_service_provider") != "" {
		viewers = []*Instance{ref}
	}
	sel := NewSelector(cl)
	for _, s := range cl.Services {
		if s.Broken || f.badPaths[s.Src.Path] {
			continue // its shape failed (stage 2): one mistake, one error
		}
		fullName := cl.Name + "-" + s.Name
		if s.Dest != "" && s.Dest != "default" {
			if _, _, err := parseDest(s.Dest, wantDest); err != nil {
				pos, path := svcAt(cl, s, "dest")
				errf(pos, path, "svc-dest", "%s", err.Error())
				continue
			}
		}
		res, err := sel.Select(s)
		if err != nil {
			var se *SelectorError
			key := "selector"
			if errors.As(err, &se) {
				key = se.Key
			}
			pos, path := svcAt(cl, s, key)
			errf(pos, path, "svc-selector", "%s", err.Error())
			continue
		}
		if len(res.Servers) == 0 {
			pos, path := svcAt(cl, s, "selector")
			warnf(pos, path, "service-empty", "service %s selects no member; it is written without servers", fullName)
		}
		if s.Check != "" && !KnownHealthCheck(s.Check) {
			pos, path := svcAt(cl, s, "check")
			warnf(pos, path, "service-check-unknown", "check %q is not a Patroni health endpoint", s.Check)
		}
		// dest-pgbouncer-disabled: the service routes to a pgbouncer that is not deployed.
		warned := map[*Instance]bool{}
		for _, v := range viewers {
			if (s.Dest == "" || s.Dest == "default") && !destOK[v] {
				continue
			}
			for _, srv := range res.Servers {
				if warned[srv.Member] {
					continue
				}
				if _, pgb, err := ResolveDest(s.Dest, v, srv.Member); err == nil && pgb && !srv.Member.Bool("pgbouncer_enabled") {
					warned[srv.Member] = true
					pos, path := svcAt(cl, s, "dest")
					warnf(pos, path, "dest-pgbouncer-disabled", "service %s routes to pgbouncer on %s, which has pgbouncer_enabled false", fullName, srv.Member.Name)
				}
			}
		}
	}
	return out
}

// lintPooling: the pgbouncer warnings of pooling-services.md §1.
func lintPooling(cl *Cluster) Diags {
	var out Diags
	ref := cl.Vars()
	if !ref.Bool("pgbouncer_enabled") {
		return nil
	}
	warn := func(pos Pos, path, code, msg string) {
		out = append(out, Diag{Pos: pos, Path: path, Code: code, Severity: schema.SevWarning, Message: msg})
	}
	authQuery := ref.Bool("pgbouncer_auth_query")
	for _, d := range cl.Databases {
		if d.PoolAuthUser != "" && !authQuery && d.Pgbouncer && d.State != "absent" {
			s := d.KeySrc("pool_auth_user")
			warn(s.Pos, s.Path, "pool-auth-user-without-auth-query",
				fmt.Sprintf("pool_auth_user %q of database %q has no effect without pgbouncer_auth_query", d.PoolAuthUser, d.Name))
		}
	}
	// pgbouncer-no-password: a userlist.txt entry with an empty secret.
	for _, e := range PgbouncerUsers(cl) {
		if e.Name == ref.Str("pg_dbsu") || e.Password != "" {
			continue
		}
		pos, path := e.Src.Pos, e.Src.Path
		if pos.IsZero() {
			pos, path = at(ref, "pg_cluster")
		}
		warn(pos, path, "pgbouncer-no-password", fmt.Sprintf("user %q is listed in pgbouncer's userlist.txt without a password; it cannot log in through pgbouncer", e.Name))
	}
	return out
}

// PgbouncerUser is one line of userlist.txt: a name and the password whose
// verifier it holds ("" = empty secret).
type PgbouncerUser struct {
	Name     string
	Password string // plaintext, SCRAM verifier or md5 hash; never printed
	Src      Src    // where the password (or the user) was written
}

// PgbouncerUsers lists the userlist.txt entries in order (pooling-services.md
// §1.4): pg_dbsu with an empty secret, the monitor and admin users, then
// (unless pgbouncer_auth_query) every pg_users entry with pgbouncer: true
// and state ≠ absent; each name once, first occurrence wins. The password of
// a system user is the one roles.sql sets last (sql.md §2 step 3): a pg_users
// entry with a password for the same name wins over pg_*_password.
func PgbouncerUsers(cl *Cluster) []PgbouncerUser {
	ref := cl.Vars()
	pgUser := map[string]*User{}
	for _, u := range cl.Users {
		if u.State != "absent" && u.HasPassword {
			pgUser[u.Name] = u
		}
	}
	system := func(nameVar, pwVar string) PgbouncerUser {
		name := ref.Str(nameVar)
		if u, ok := pgUser[name]; ok {
			return PgbouncerUser{Name: name, Password: u.Password, Src: u.KeySrc("password")}
		}
		pos, path := at(ref, pwVar)
		return PgbouncerUser{Name: name, Password: ref.Str(pwVar), Src: Src{Pos: pos, Path: path}}
	}
	list := []PgbouncerUser{
		{Name: ref.Str("pg_dbsu")},
		system("pg_monitor_username", "pg_monitor_password"),
		system("pg_admin_username", "pg_admin_password"),
	}
	if !ref.Bool("pgbouncer_auth_query") {
		for _, u := range cl.Users {
			if u.Pgbouncer && u.State != "absent" {
				src := u.KeySrc("password")
				if !u.HasPassword {
					src = u.KeySrc("name")
				}
				list = append(list, PgbouncerUser{Name: u.Name, Password: u.Password, Src: src})
			}
		}
	}
	seen := map[string]bool{}
	out := list[:0]
	for _, e := range list {
		if seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		out = append(out, e)
	}
	return out
}

// checkVIPRules: an enabled VIP must not be a loopback address and needs a
// mask of 1..32 (pooling-services.md §4; uniqueness across clusters is
// checked in checkCross).
func checkVIPRules(f *Fleet, cl *Cluster) Diags {
	ref := cl.Vars()
	v, ok := ref.Vars["pg_vip_address"]
	if !ref.Bool("pg_vip_enabled") || !ok || f.ShapeFailed(v) {
		return nil
	}
	pos, path := at(ref, "pg_vip_address")
	if pos.IsZero() || v.Prov.Layer == LayerDefault {
		pos, path = at(ref, "pg_vip_enabled")
	}
	addr, mask, hasMask := strings.Cut(AsString(v.V), "/")
	var out Diags
	if ip, err := netip.ParseAddr(addr); err == nil && ip.IsLoopback() {
		out = append(out, Diag{Pos: pos, Path: path, Code: "vip",
			Message: fmt.Sprintf("pg_vip_address %s is a loopback address; an enabled vip needs an address of the cluster's network", AsString(v.V))})
	}
	if hasMask {
		if n, err := strconv.Atoi(mask); err != nil || n < 1 || n > 32 {
			out = append(out, Diag{Pos: pos, Path: path, Code: "vip", Message: fmt.Sprintf("vip netmask %s is out of range; want 1..32", mask)})
		}
	}
	return out
}

// VIPAddress splits pg_vip_address into address and mask (24 when absent).
func VIPAddress(inst *Instance) (ip string, mask int) {
	addr, m, ok := strings.Cut(inst.Str("pg_vip_address"), "/")
	mask = 24
	if ok {
		if n, err := strconv.Atoi(m); err == nil {
			mask = n
		}
	}
	return addr, mask
}

// pgbIniKey: characters of a pgbouncer ini key (libusual cfparser.c); a
// [users] entry of useropts.txt is keyed by the user name.
var pgbIniKey = regexp.MustCompile(`^[A-Za-z0-9_.*-]+$`)

// checkPoolingErrors: pgbackrest_method names a repository (pooling-services.md
// §5); a user with pgbouncer pool settings has a name pgbouncer can read as a
// [users] key (§1.3: Pigsty would write a line that stops pgbouncer with
// "syntax error in configuration").
func checkPoolingErrors(f *Fleet, cl *Cluster) Diags {
	var out Diags
	ref := cl.Vars()
	if mv, ok := ref.Vars["pgbackrest_method"]; ok && ref.Bool("pgbackrest_enabled") && !f.ShapeFailed(mv) {
		rv := ref.Vars["pgbackrest_repo"]
		repos := ref.Map("pgbackrest_repo")
		method := AsString(mv.V)
		if _, ok := repos[method]; !ok && !f.ShapeFailed(rv) {
			pos, path := at(ref, "pgbackrest_method")
			keys := SortedKeys(repos)
			want := "a key of pgbackrest_repo (which is empty)"
			switch len(keys) {
			case 0:
			case 1:
				want = keys[0]
			default:
				want = strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
			}
			out = append(out, Diag{Pos: pos, Path: path, Code: "pgbackrest-method", Message: fmt.Sprintf("%q is not allowed; want %s", method, want)})
		}
	}
	if ref.Bool("pgbouncer_enabled") {
		for _, u := range append(append([]*User{}, cl.DefaultRoles...), cl.Users...) {
			if u.Broken || u.State == "absent" || (u.PoolMode == "" && u.PoolConnLimit == nil) || pgbIniKey.MatchString(u.Name) {
				continue
			}
			s := u.KeySrc("name")
			out = append(out, Diag{Pos: s.Pos, Path: s.Path, Code: "pgbouncer-user-name",
				Message: fmt.Sprintf("user %q has pool_mode or pool_connlimit, but pgbouncer cannot read this name as a [users] key; want [A-Za-z0-9_.*-]+", u.Name)})
		}
	}
	return out
}
