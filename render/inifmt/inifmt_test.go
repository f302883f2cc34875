package inifmt

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValueLine(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"transaction", "transaction", nil},
		{"", "", nil},
		{"DISCARD ALL", "DISCARD ALL", nil},
		{"extra_float_digits, application_name", "extra_float_digits, application_name", nil},
		{"SELECT username, password FROM monitor.pgbouncer_auth($1)", "SELECT username, password FROM monitor.pgbouncer_auth($1)", nil},
		{"a ; b # c", "a ; b # c", nil},
		{"a=b", "a=b", nil},
		{" x", "", ErrEdgeSpace},
		{"x ", "", ErrEdgeSpace},
		{"x\t", "", ErrEdgeSpace},
		{"\vx", "", ErrEdgeSpace},
		{"; x", "", ErrCommentStart},
		{"#x", "", ErrCommentStart},
		{"a\nb = c", "", ErrNewline},
		{"a\rb", "", ErrNewline},
		{"a\x00", "", ErrNUL},
		{"\xff", "", ErrInvalidUTF8},
	} {
		got, err := Value(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got, err := Line("pool_mode", "transaction"); err != nil || got != "pool_mode                   = transaction" {
		t.Errorf("Line = %q, %v", got, err)
	}
	if got, err := Line("ignore_startup_parameters", ""); err != nil || got != "ignore_startup_parameters   = " {
		t.Errorf("Line empty = %q, %v", got, err)
	}
	if got, err := Line("a_very_long_key_name_longer_than_27", "1"); err != nil || got != "a_very_long_key_name_longer_than_27 = 1" {
		t.Errorf("Line long = %q, %v", got, err)
	}
	for _, k := range []string{"", "dbuser_meta@pigsty", "a b", "a=b", "[x]", "ü", "%include"} {
		if _, err := Line(k, "1"); !errors.Is(err, ErrBadKey) {
			t.Errorf("Line(%q) key accepted: %v", k, err)
		}
	}
	for _, k := range []string{"meta", "meta-db.1", "*", "dbuser_dba", "A_9"} {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q): %v", k, err)
		}
	}
	if got, err := Include("/etc/pgbouncer/database.txt"); err != nil || got != "%include /etc/pgbouncer/database.txt" {
		t.Errorf("Include = %q, %v", got, err)
	}
	if got, err := Section("pgbouncer"); err != nil || got != "[pgbouncer]" {
		t.Errorf("Section = %q, %v", got, err)
	}
	if _, err := Section("a]b"); err == nil {
		t.Error("Section accepted a]b")
	}
	if got, err := Comment("pgcc: pgbouncer.ini"); err != nil || got != "; pgcc: pgbouncer.ini" {
		t.Errorf("Comment = %q, %v", got, err)
	}
}

func TestConnString(t *testing.T) {
	got, err := ConnString("host", "/var/run/postgresql", "port", "5433", "auth_user", "dbuser_monitor", "pool_mode", "transaction")
	if want := "host=/var/run/postgresql port=5433 auth_user=dbuser_monitor pool_mode=transaction"; err != nil || got != want {
		t.Errorf("ConnString = %q, %v; want %q", got, err, want)
	}
	got, err = ConnString("dbname", "it's db", "application_name", "a b", "host", "10.10.10.11")
	if want := `dbname='it''s db' application_name='a b' host=10.10.10.11`; err != nil || got != want {
		t.Errorf("ConnString = %q, %v; want %q", got, err, want)
	}
	for _, tc := range [][]string{{"host"}, {"ho st", "x"}, {"host", ""}, {"host", "a\nb"}, {"", "x"}} {
		if _, err := ConnString(tc...); err == nil {
			t.Errorf("ConnString(%q) accepted", tc)
		}
	}
}

func TestAuthLine(t *testing.T) {
	for _, tc := range []struct{ user, secret, want string }{
		{"postgres", "", `"postgres" ""`},
		{"dbuser_meta", "SCRAM-SHA-256$4096:abc$def:ghi", `"dbuser_meta" "SCRAM-SHA-256$4096:abc$def:ghi"`},
		{`we"ird user`, `p"w`, `"we""ird user" "p""w"`},
		{"dbuser_meta@pigsty", "md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f1", `"dbuser_meta@pigsty" "md5e5e28b8e6ba1d5f8c8d8c19a82b3a4f1"`},
	} {
		if got, err := AuthLine(tc.user, tc.secret); err != nil || got != tc.want {
			t.Errorf("AuthLine(%q) = %q, %v; want %q", tc.user, got, err, tc.want)
		}
	}
	for _, tc := range [][2]string{{"", "x"}, {"a\nb", ""}, {"a", "x\ny"}, {"a\x00", ""}, {strings.Repeat("u", 128), ""}, {"a", strings.Repeat("s", 2048)}} {
		if _, err := AuthLine(tc[0], tc[1]); err == nil {
			t.Errorf("AuthLine(%q, %q) accepted", tc[0], tc[1])
		}
	}
	_, err := AuthLine("u", "SeCrEt\n")
	if err == nil || strings.Contains(err.Error(), "SeCrEt") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

// parseIniLine models libusual's parse_ini_file for one key line.
func parseIniLine(l string) (key, val string, ok bool) {
	p := 0
	for p < len(l) && (isAlnum(l[p]) || strings.IndexByte("_.-*", l[p]) >= 0) {
		p++
	}
	key = l[:p]
	for p < len(l) && (l[p] == ' ' || l[p] == '\t') {
		p++
	}
	if p >= len(l) || l[p] != '=' {
		return "", "", false
	}
	p++
	for p < len(l) && (l[p] == ' ' || l[p] == '\t') {
		p++
	}
	val = l[p:]
	if i := strings.IndexByte(val, '\n'); i >= 0 {
		val = val[:i]
	}
	if i := strings.IndexByte(val, 0); i >= 0 {
		val = val[:i]
	}
	for len(val) > 0 && isSpace(val[len(val)-1]) {
		val = val[:len(val)-1]
	}
	return key, val, true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func FuzzLine(f *testing.F) {
	f.Add("pool_mode", "transaction")
	f.Add("k", " x \n y = z")
	f.Fuzz(func(t *testing.T, key, value string) {
		l, err := Line(key, value)
		if err != nil {
			return
		}
		if strings.ContainsAny(l, "\n\r\x00") {
			t.Fatalf("Line(%q, %q) = %q spans lines", key, value, l)
		}
		k, v, ok := parseIniLine(l)
		if !ok || k != key || v != value {
			t.Fatalf("Line(%q, %q) = %q reads back %q = %q (ok %v)", key, value, l, k, v, ok)
		}
	})
}

// parseConn models pgbouncer's cstr_get_pair loop.
func parseConn(s string) ([][2]string, bool) {
	var out [][2]string
	p := 0
	skip := func() {
		for p < len(s) && s[p] == ' ' {
			p++
		}
	}
	for {
		skip()
		if p >= len(s) {
			return out, true
		}
		start := p
		for p < len(s) && s[p] != '=' && s[p] != ' ' {
			p++
		}
		key := s[start:p]
		skip()
		if p >= len(s) || s[p] != '=' || key == "" {
			return nil, false
		}
		p++
		skip()
		var val string
		if p < len(s) && s[p] == '\'' {
			p++
			var b strings.Builder
			for {
				if p >= len(s) {
					return nil, false
				}
				if s[p] == '\'' {
					if p+1 < len(s) && s[p+1] == '\'' {
						p++
					} else {
						break
					}
				}
				b.WriteByte(s[p])
				p++
			}
			val = b.String()
			p++ // after the closing quote
		} else {
			start := p
			for p < len(s) && s[p] != ' ' {
				p++
			}
			val = s[start:p]
		}
		if p < len(s) {
			p++ // the cut character
		}
		if val == "" {
			return nil, false
		}
		out = append(out, [2]string{key, val})
	}
}

func FuzzConnString(f *testing.F) {
	f.Add("dbname", "it's db", "host", "/tmp")
	f.Add("a", "'", "b", "x y")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		cs, err := ConnString(k1, v1, k2, v2)
		if err != nil {
			return
		}
		got, ok := parseConn(cs)
		want := [][2]string{{k1, v1}, {k2, v2}}
		if !ok || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("ConnString = %q parses as %q (ok %v)", cs, got, ok)
		}
		l, err := Line("db", cs)
		if err != nil {
			return // edge whitespace is impossible here; other ini errors are fine
		}
		if _, v, _ := parseIniLine(l); v != cs {
			t.Fatalf("ini line %q loses the connection string", l)
		}
	})
}

// parseAuth models pgbouncer's load_auth_file for one line.
func parseAuth(s string) (user, secret string, ok bool) {
	find := func(p int, start bool) int {
		for {
			for p < len(s) && s[p] != '"' {
				p++
			}
			if p+1 < len(s) && s[p] == '"' && s[p+1] == '"' && !start {
				p += 2
				continue
			}
			return p
		}
	}
	unq := func(x string) string { return strings.ReplaceAll(x, `""`, `"`) }
	if len(s) == 0 || s[0] != '"' {
		return "", "", false
	}
	p := find(1, false)
	if p >= len(s) {
		return "", "", false
	}
	user = unq(s[1:p])
	p = find(p+1, true)
	if p >= len(s) {
		return "", "", false
	}
	q := find(p+1, false)
	if q >= len(s) || q != len(s)-1 {
		return "", "", false
	}
	return user, unq(s[p+1 : q]), true
}

func FuzzAuthLine(f *testing.F) {
	f.Add("postgres", "")
	f.Add(`a"b`, `""`)
	f.Fuzz(func(t *testing.T, user, secret string) {
		l, err := AuthLine(user, secret)
		if err != nil {
			return
		}
		if strings.ContainsAny(l, "\n\r\x00") {
			t.Fatalf("AuthLine = %q spans lines", l)
		}
		u, s, ok := parseAuth(l)
		if !ok || u != user || s != secret {
			t.Fatalf("AuthLine(%q, %q) = %q reads back %q %q (ok %v)", user, secret, l, u, s, ok)
		}
	})
}

// TestCheckKeyPattern: CheckKey accepts exactly ^[A-Za-z0-9_.*-]+$ (the
// regexp it replaced), for every byte and byte pair and some UTF-8.
func TestCheckKeyPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.*-]+$`)
	check := func(k string) {
		if got, want := CheckKey(k) == nil, re.MatchString(k); got != want {
			t.Errorf("CheckKey(%q) accepts = %v, pattern says %v", k, got, want)
		}
	}
	check("")
	for a := 0; a < 256; a++ {
		check(string([]byte{byte(a)}))
		for _, b := range []byte{'a', '-', '@', ' ', 0xc3} {
			check(string([]byte{byte(a), b}))
		}
	}
	for _, k := range []string{"dbuser_meta", "dbuser_meta@pigsty", "ünï", "pg-test.*", "a b", "x\n"} {
		check(k)
	}
}
