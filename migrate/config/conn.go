package config

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// URL is a parsed postgres:// connection URL (src_pg, dst_pg). Its String
// method redacts the password.
type URL struct {
	u *url.URL
}

// ParseURL accepts postgres:// and postgresql:// URLs. Errors never quote the
// URL, which may hold a password.
func ParseURL(s string) (URL, error) {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return URL{}, errors.New("want a postgres:// URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return URL{}, errors.New("not a valid postgres:// URL")
	}
	if u.Host == "" {
		return URL{}, errors.New("the URL names no host")
	}
	if strings.Contains(u.Host, ",") {
		return URL{}, errors.New("the URL must name exactly one host (the primary)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return URL{}, errors.New("the URL has an invalid port")
		}
	}
	return URL{u: u}, nil
}

func (u URL) Host() string { return u.u.Hostname() }

// Port is the URL's port, 5432 when it names none.
func (u URL) Port() int {
	if p := u.u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	return 5432
}

// HasPort reports whether the URL names a port.
func (u URL) HasPort() bool { return u.u.Port() != "" }

func (u URL) User() string {
	if u.u.User == nil {
		return ""
	}
	return u.u.User.Username()
}

func (u URL) Password() (string, bool) {
	if u.u.User == nil {
		return "", false
	}
	return u.u.User.Password()
}

func (u URL) DBName() string { return strings.TrimPrefix(u.u.Path, "/") }

// Query returns the URL's parameters (sslmode …).
func (u URL) Query() url.Values { return u.u.Query() }

// WithUser returns a copy with the user replaced and the password removed.
func (u URL) WithUser(user string) URL {
	c := *u.u
	c.User = url.User(user)
	return URL{u: &c}
}

// WithoutPassword returns a copy without the password.
func (u URL) WithoutPassword() URL {
	c := *u.u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return URL{u: &c}
}

// WithPassword returns a copy carrying pw (for pgx only; never print it).
func (u URL) WithPassword(pw string) URL {
	c := *u.u
	c.User = url.UserPassword(u.User(), pw)
	return URL{u: &c}
}

// WithParam returns a copy with one query parameter set.
func (u URL) WithParam(k, v string) URL {
	c := *u.u
	q := c.Query()
	q.Set(k, v)
	c.RawQuery = q.Encode()
	return URL{u: &c}
}

// Secret returns the full URL, password included. Only for drivers.
func (u URL) Secret() string { return u.u.String() }

// String redacts the password as user:********@.
func (u URL) String() string {
	if _, ok := u.Password(); ok {
		c := *u.u
		c.User = url.UserPassword(u.User(), "xxxxxxxx")
		return strings.Replace(c.String(), ":xxxxxxxx@", ":********@", 1)
	}
	return u.u.String()
}

// IsZero reports whether the URL is unset.
func (u URL) IsZero() bool { return u.u == nil }

// KV is one keyword=value pair of a libpq conninfo string.
type KV struct{ Key, Value string }

// Conninfo is a parsed keyword/value connection string (sub_conn,
// rollback.conn), kept in order.
type Conninfo []KV

// ParseConninfo parses libpq's keyword = value syntax: values may be
// single-quoted, with \' and \\ escapes (libpq "Keyword/Value Connection
// Strings"). Errors never quote the input, which may hold a password.
func ParseConninfo(s string) (Conninfo, error) {
	var out Conninfo
	i := 0
	n := len(s)
	skip := func() {
		for i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skip()
		if i >= n {
			break
		}
		start := i
		for i < n && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		skip()
		if i >= n || s[i] != '=' {
			// Not the keyword itself: in a URI ("postgres://u:pw@h") or a
			// typo the "keyword" can be the whole string, password included.
			return nil, fmt.Errorf("conninfo keyword %d (at byte %d) has no '=' and value", len(out)+1, start)
		}
		i++
		skip()
		var val strings.Builder
		if i < n && s[i] == '\'' {
			i++
			closed := false
			for i < n {
				c := s[i]
				if c == '\\' && i+1 < n {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errors.New("conninfo has an unterminated quoted value")
			}
		} else {
			for i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				if s[i] == '\\' && i+1 < n {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				val.WriteByte(s[i])
				i++
			}
		}
		if key == "" {
			return nil, errors.New("conninfo has an empty keyword")
		}
		out = append(out, KV{Key: key, Value: val.String()})
	}
	return out, nil
}

// Get returns the last value of key.
func (c Conninfo) Get(key string) (string, bool) {
	v, ok := "", false
	for _, kv := range c {
		if kv.Key == key {
			v, ok = kv.Value, true
		}
	}
	return v, ok
}

// Set replaces key's value or appends it.
func (c Conninfo) Set(key, value string) Conninfo {
	out := make(Conninfo, 0, len(c)+1)
	done := false
	for _, kv := range c {
		if kv.Key == key {
			if !done {
				out = append(out, KV{key, value})
				done = true
			}
			continue
		}
		out = append(out, kv)
	}
	if !done {
		out = append(out, KV{key, value})
	}
	return out
}

// Without drops key.
func (c Conninfo) Without(key string) Conninfo {
	out := make(Conninfo, 0, len(c))
	for _, kv := range c {
		if kv.Key != key {
			out = append(out, kv)
		}
	}
	return out
}

// QuoteConninfoValue quotes a conninfo value when it needs it: empty, or
// holding a space, quote or backslash. This is the one quoter for libpq's
// keyword/value syntax.
func QuoteConninfoValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r'\\=") {
		return v
	}
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		if v[i] == '\'' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// Secret renders the conninfo with every value, password included.
func (c Conninfo) Secret() string {
	parts := make([]string, len(c))
	for i, kv := range c {
		parts[i] = kv.Key + "=" + QuoteConninfoValue(kv.Value)
	}
	return strings.Join(parts, " ")
}

// String renders the conninfo with the password as password=********.
func (c Conninfo) String() string {
	parts := make([]string, len(c))
	for i, kv := range c {
		if kv.Key == "password" {
			parts[i] = "password=********"
			continue
		}
		parts[i] = kv.Key + "=" + QuoteConninfoValue(kv.Value)
	}
	return strings.Join(parts, " ")
}

// Keys returns the sorted keywords (for tests and drift messages).
func (c Conninfo) Keys() []string {
	var ks []string
	for _, kv := range c {
		ks = append(ks, kv.Key)
	}
	sort.Strings(ks)
	return ks
}

// Redact hides passwords in free text that may embed a URL or a conninfo
// string (error messages from drivers or tools): user:secret@ becomes
// user:********@ and password=secret becomes password=********.
func Redact(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "password=")
		if i < 0 {
			break
		}
		b.WriteString(s[:i+len("password=")])
		b.WriteString("********")
		rest := s[i+len("password="):]
		// Skip the value: quoted or up to whitespace/&.
		if strings.HasPrefix(rest, "'") {
			j := 1
			for j < len(rest) {
				if rest[j] == '\\' {
					j += 2
					continue
				}
				if rest[j] == '\'' {
					j++
					break
				}
				j++
			}
			if j > len(rest) {
				j = len(rest)
			}
			rest = rest[j:]
		} else {
			j := strings.IndexAny(rest, " \t\n&'\"")
			if j < 0 {
				j = len(rest)
			}
			rest = rest[j:]
		}
		s = rest
	}
	b.WriteString(s)
	return redactURLs(b.String())
}

func redactURLs(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		rest := s[i+3:]
		end := strings.IndexAny(rest, " \t\n/'\"")
		if end < 0 {
			end = len(rest)
		}
		auth := rest[:end]
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			userinfo := auth[:at]
			if c := strings.Index(userinfo, ":"); c >= 0 {
				b.WriteString(userinfo[:c])
				b.WriteString(":********")
				b.WriteString(auth[at:])
				s = rest[end:]
				continue
			}
		}
		b.WriteString(auth)
		s = rest[end:]
	}
}
