package hbafmt

import (
	"errors"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"dbuser_meta", `dbuser_meta`, nil},
		{"dbuser_meta@pigsty", `dbuser_meta@pigsty`, nil},
		{"meta-db.1", `meta-db.1`, nil},
		{"All", `All`, nil},
		{"all", `"all"`, nil},
		{"replication", `"replication"`, nil},
		{"sameuser", `"sameuser"`, nil},
		{"samerole", `"samerole"`, nil},
		{"samegroup", `"samegroup"`, nil},
		{"samenet", `"samenet"`, nil},
		{"include_dir", `"include_dir"`, nil},
		{"+dbrole_readonly", `"+dbrole_readonly"`, nil},
		{"@file", `"@file"`, nil},
		{"/^x", `"/^x"`, nil},
		{"a b", `"a b"`, nil},
		{"a,b", `"a,b"`, nil},
		{"a#b", `"a#b"`, nil},
		{`a"b`, `"a""b"`, nil},
		{`"`, `""""`, nil},
		{"a\tb", "\"a\tb\"", nil},
		{"ü", `ü`, nil},
		{"a+b", `a+b`, nil},
		{"", "", ErrEmpty},
		{"a\nb", "", ErrNewline},
		{"a\rb", "", ErrNewline},
		{"a\x00", "", ErrNUL},
		{"\xff", "", ErrInvalidUTF8},
		{strings.Repeat("a", 256), "", ErrTooLong},
	} {
		got, err := Name(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestGroupNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dbrole_readonly", `+dbrole_readonly`},
		{"all", `+all`},
		{"my role", `+"my role"`},
		{`a"b`, `+"a""b"`},
		{"+x", `++x`},
	} {
		if got, err := Group(tc.in); err != nil || got != tc.want {
			t.Errorf("Group(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Group("a\nb"); !errors.Is(err, ErrNewline) {
		t.Errorf("Group newline: %v", err)
	}
	if got, err := Names("postgres", "all", "a b"); err != nil || got != `postgres,"all","a b"` {
		t.Errorf("Names = %q, %v", got, err)
	}
	if _, err := Names("x", ""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Names empty item: %v", err)
	}
	if got, err := Comment("allow dbsu"); err != nil || got != "# allow dbsu" {
		t.Errorf("Comment = %q, %v", got, err)
	}
	if _, err := Comment("x\nhost all all 0.0.0.0/0 trust"); !errors.Is(err, ErrNewline) {
		t.Errorf("Comment newline: %v", err)
	}
	if err := CheckLine("host all all 10.0.0.0/8 md5"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "  ", "a\nb", "a\x00"} {
		if CheckLine(bad) == nil {
			t.Errorf("CheckLine(%q) accepted", bad)
		}
	}
}

type token struct {
	s      string
	quoted bool // began with a quote
}

// tokenizeField models PostgreSQL 15's next_token for one field: comma-separated
// items up to the next blank. It returns the items and the rest of the line.
func tokenizeField(line string) ([]token, string) {
	var items []token
	i := 0
	for {
		var b strings.Builder
		inQuote, wasQuote, initial := false, false, false
		start := i
		for i < len(line) {
			c := line[i]
			if !inQuote && (c == ' ' || c == '\t' || c == '\r') {
				break
			}
			if c == '#' && !inQuote {
				i = len(line)
				break
			}
			if c == ',' && !inQuote {
				break
			}
			if c != '"' || wasQuote {
				b.WriteByte(c)
			}
			if inQuote && c == '"' {
				wasQuote = !wasQuote
			} else {
				wasQuote = false
			}
			if c == '"' {
				inQuote = !inQuote
				if i == start {
					initial = true
				}
			}
			i++
		}
		items = append(items, token{b.String(), initial})
		if i < len(line) && line[i] == ',' {
			i++
			continue
		}
		return items, line[i:]
	}
}

// tokenizePgb models pgbouncer 1.18's next_token for one item.
func tokenizePgb(s string) (string, bool, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				return b.String(), true, s[i+1:]
			}
			b.WriteByte(s[i])
		}
		return "", false, ""
	}
	end := strings.IndexAny(s, ",#\" \t\n\v\f\r")
	if end < 0 {
		end = len(s)
	}
	return s[:end], false, s[end:]
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"x", "all", "+g", "@f", "/r", "a b", "a,b", "a#b", `a"b`, `""`, "a\nb", "\t", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Name(s)
		if err != nil {
			if Check(s) == nil {
				t.Fatalf("Name(%q): %v", s, err)
			}
			return
		}
		line := q + " next"
		items, rest := tokenizeField(line)
		if len(items) != 1 || rest != " next" {
			t.Fatalf("Name(%q) = %q splits into %v, rest %q", s, q, items, rest)
		}
		it := items[0]
		if it.s != s {
			t.Fatalf("Name(%q) = %q reads back %q", s, q, it.s)
		}
		if !it.quoted && (IsKeyword(s) || strings.ContainsAny(s[:1], "+@/")) {
			t.Fatalf("Name(%q) = %q keeps a special meaning", s, q)
		}
		v, quoted, rest2 := tokenizePgb(line)
		if v != s || rest2 != " next" || (!quoted && IsKeyword(s)) {
			t.Fatalf("pgbouncer reads Name(%q) = %q as %q quoted=%v rest %q", s, q, v, quoted, rest2)
		}
	})
}

func FuzzGroup(f *testing.F) {
	f.Add("dbrole_readonly")
	f.Add("a b,c")
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Group(s)
		if err != nil {
			return
		}
		items, rest := tokenizeField(q + " next")
		if len(items) != 1 || rest != " next" || items[0].quoted || items[0].s != "+"+s {
			t.Fatalf("Group(%q) = %q reads back %+v rest %q", s, q, items, rest)
		}
	})
}

func TestRegex(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{`/^db_\d+$`, `/^db_\d+$`, nil},
		{`/^db\d{2,4}$`, `"/^db\d{2,4}$"`, nil},
		{`/a#b`, `"/a#b"`, nil},
		{`/a"b`, `"/a""b"`, nil},
		{`/a b`, `"/a b"`, nil},
		{`x`, ``, ErrNotRegex},
		{`/`, ``, ErrNotRegex},
		{"/a\nb", ``, ErrNewline},
	} {
		got, err := Regex(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Regex(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzRegex(f *testing.F) {
	for _, s := range []string{"/x", "/a,b", "/a#b", `/a"b`, "/ ", "/\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Regex(s)
		if err != nil {
			return
		}
		items, rest := tokenizeField(q + " next")
		if len(items) != 1 || rest != " next" || items[0].s != s {
			t.Fatalf("Regex(%q) = %q reads back %+v rest %q", s, q, items, rest)
		}
	})
}
