package config

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Env is the process environment the resolver reads (PGPASSWORD,
// PGPASSFILE, HOME); tests inject their own.
type Env struct {
	Getenv func(string) string
}

func (e Env) get(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// PasswordFor resolves the password of one connection (migrate.md §2): the
// URL's own password, then the migration file's field for that user (a field
// serves only connections whose user is its username), then PGPASSWORD, then
// the passfile (PGPASSFILE or ~/.pgpass, ignored unless mode 0600 or
// stricter). It returns "" when none is known.
func (c *Config) PasswordFor(env Env, urlPassword, host string, port int, db, user string) string {
	if urlPassword != "" {
		return urlPassword
	}
	for _, f := range []struct {
		user string
		s    Secret
	}{{c.AdminUser, c.AdminPassword}, {c.ReplUser, c.ReplPassword}, {c.MonitorUser, c.MonitorPassword}} {
		if user == f.user {
			if v, ok := f.s.Value(); ok {
				return v
			}
		}
	}
	if v := env.get("PGPASSWORD"); v != "" {
		return v
	}
	return env.Passfile(host, port, db, user)
}

// Passfile looks a password up in PGPASSFILE or ~/.pgpass (libpq "The
// Password File"): host:port:database:username:password, "*" wildcards,
// "\" escapes, first match wins; the file is ignored unless its mode is 0600
// or stricter.
func (e Env) Passfile(host string, port int, db, user string) string {
	path := e.get("PGPASSFILE")
	if path == "" {
		home := e.get("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			home = h
		}
		path = filepath.Join(home, ".pgpass")
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o077 != 0 {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	want := []string{host, strconv.Itoa(port), db, user}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := splitPgpass(line)
		if len(fields) < 5 {
			continue
		}
		match := true
		for i := 0; i < 4; i++ {
			if fields[i] != "*" && fields[i] != want[i] {
				// libpq treats "localhost" as matching a socket connection too.
				if !(i == 0 && fields[i] == "localhost" && strings.HasPrefix(want[i], "/")) {
					match = false
					break
				}
			}
		}
		if match {
			return fields[4]
		}
	}
	return ""
}

// splitPgpass splits on unescaped ":" and removes "\" escapes; the password
// field keeps any further colons.
func splitPgpass(line string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			cur.WriteByte(line[i+1])
			i++
			continue
		}
		if c == ':' && len(out) < 4 {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	out = append(out, cur.String())
	return out
}

// ReplicationPassword returns the password the subscription will use: the
// one in sub_conn, else pg_replication_password, PGPASSWORD or the passfile
// for sub_conn's host, port, dbname and user.
func (c *Config) ReplicationPassword(env Env) string {
	ci := c.SubConninfo()
	if v, ok := ci.Get("password"); ok && v != "" {
		return v
	}
	host, _ := ci.Get("host")
	db, _ := ci.Get("dbname")
	user, _ := ci.Get("user")
	port := 5432
	if p, ok := ci.Get("port"); ok {
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	return c.PasswordFor(env, "", host, port, db, user)
}

// SubscriptionConninfo returns the conninfo CREATE SUBSCRIPTION gets: sub_conn,
// plus password=… when sub_conn has none, subscription.conninfo_password is
// on and a replication password is known (§2).
func (c *Config) SubscriptionConninfo(env Env) Conninfo {
	ci := c.SubConninfo()
	if _, ok := ci.Get("password"); ok || !c.Subscription.ConninfoPassword {
		return ci
	}
	if pw := c.ReplicationPassword(env); pw != "" {
		ci = append(ci, KV{"password", pw})
	}
	return ci
}

// Secrets lists every known password value, so output can be scanned for
// leaks in tests and redacted defensively.
func (c *Config) Secrets(env Env) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, s := range []Secret{c.AdminPassword, c.ReplPassword, c.MonitorPassword} {
		if v, ok := s.Value(); ok {
			add(v)
		}
	}
	for _, u := range []URL{c.Src(), c.Dst()} {
		if !u.IsZero() {
			if p, ok := u.Password(); ok {
				add(p)
			}
		}
	}
	if v, ok := c.SubConninfo().Get("password"); ok {
		add(v)
	}
	return out
}
