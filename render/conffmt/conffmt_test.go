package conffmt

import (
	"errors"
	"strings"
	"testing"
)

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"64MB", `'64MB'`, nil},
		{"", `''`, nil},
		{"it's", `'it''s'`, nil},
		{`C:\x`, `'C:\\x'`, nil},
		{`\n`, `'\\n'`, nil},
		{"# not a comment", `'# not a comment'`, nil},
		{"pg_stat_statements, auto_explain", `'pg_stat_statements, auto_explain'`, nil},
		{"%m [%p] ", `'%m [%p] '`, nil},
		{"ü\t", "'ü\t'", nil},
		{"a\nb", "", ErrNewline},
		{"a\rb", "", ErrNewline},
		{"a\x00b", "", ErrNUL},
		{"\xff", "", ErrInvalidUTF8},
	} {
		got, err := Value(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestListValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pg_stat_statements", `pg_stat_statements`},
		{"'$user', public", `'''$user'', public'`},
		{"'pg_stat_statements, auto_explain'", `'pg_stat_statements, auto_explain'`},
		{"pg_stat_statements, auto_explain", `'pg_stat_statements, auto_explain'`},
		{"$libdir/passwordcheck", `'$libdir/passwordcheck'`},
		{"/var/run/postgresql", `'/var/run/postgresql'`},
		{"stderr", `stderr`},
		{"csvlog,stderr", `'csvlog,stderr'`},
		{"auto_explain.x", `auto_explain.x`},
		{"a:b/c-d", `a:b/c-d`},
		{"64MB", `64MB`},
		{"-1", `-1`},
		{"0.5", `0.5`},
		{"1e5", `'1e5'`},
		{"1.5e5", `1.5e5`},
		{"'unterminated", `'''unterminated'`},
		{"'a' 'b'", `'''a'' ''b'''`},
		{"", `''`},
	} {
		got, err := ListValue(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ListValue(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
		err               error
	}{
		{"work_mem", "64MB", `work_mem = '64MB'`, nil},
		{"auto_explain.log_min_duration", "1s", `auto_explain.log_min_duration = '1s'`, nil},
		{"Work_Mem", "1", `Work_Mem = '1'`, nil},
		{"a.b.c", "1", "", ErrBadName},
		{"1abc", "1", "", ErrBadName},
		{"", "1", "", ErrBadName},
		{"a b", "1", "", ErrBadName},
		{"a=b", "1", "", ErrBadName},
		{"a.", "1", "", ErrBadName},
		{"work_mem", "a\nwork_mem = 1", "", ErrNewline},
	} {
		got, err := Line(tc.name, tc.value)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Line(%q, %q) = %q, %v; want %q, %v", tc.name, tc.value, got, err, tc.want, tc.err)
		}
	}
	if got, err := ListLine("shared_preload_libraries", "pg_stat_statements, auto_explain"); err != nil || got != `shared_preload_libraries = 'pg_stat_statements, auto_explain'` {
		t.Errorf("ListLine = %q, %v", got, err)
	}
	if got, err := Comment("pgcc: postgresql.auto.conf for pg-test-1"); err != nil || got != "# pgcc: postgresql.auto.conf for pg-test-1" {
		t.Errorf("Comment = %q, %v", got, err)
	}
	if _, err := Comment("x\nwork_mem = 1"); !errors.Is(err, ErrNewline) {
		t.Errorf("Comment with newline: %v", err)
	}
}

// lexValue models guc-file.l after `name =`: it returns the value token's text
// (unescaped like GUC_scanstr for quoted strings) and whether the rest of the line
// is only blanks or a comment.
func lexValue(line string) (string, bool) {
	s := line
	if strings.ContainsAny(s, "\n") {
		return "", false
	}
	if strings.HasPrefix(s, "'") {
		var b strings.Builder
		i := 1
		for {
			if i >= len(s) {
				return "", false
			}
			c := s[i]
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i += 2
					continue
				}
				i++
				break
			}
			if c == '\\' {
				if i+1 >= len(s) {
					return "", false
				}
				switch d := s[i+1]; d {
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				default:
					if d >= '0' && d <= '7' {
						return "", false // octal: never emitted by Value
					}
					b.WriteByte(d)
				}
				i += 2
				continue
			}
			b.WriteByte(c)
			i++
		}
		rest := strings.TrimLeft(s[i:], " \t\r\f")
		return b.String(), rest == "" || rest[0] == '#'
	}
	end := strings.IndexAny(s, " \t#")
	if end < 0 {
		end = len(s)
	}
	tok := s[:end]
	if !IsBareToken(tok) {
		return "", false
	}
	rest := strings.TrimLeft(s[end:], " \t\r\f")
	return tok, rest == "" || rest[0] == '#'
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{"", "x", "it's", `\`, `\'`, "'", "''", "a\nb", "#", "a # b", "\\n", "\t", "$libdir/x", "a, b", "1e5", "'q'", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fn := range []func(string) (string, error){Value, ListValue} {
			v, err := fn(s)
			if err != nil {
				if CheckValue(s) == nil {
					t.Fatalf("%q refused: %v", s, err)
				}
				continue
			}
			got, ok := lexValue(v)
			if !ok {
				t.Fatalf("value %q of %q does not lex as one token", v, s)
			}
			want := s
			if IsQuotedString(s) && v == s {
				// verbatim quoted list value: PostgreSQL reads its unescaped contents
				want, _ = lexValue(s)
			}
			if got != want {
				t.Fatalf("value %q of %q reads back as %q", v, s, got)
			}
		}
	})
}

func FuzzLine(f *testing.F) {
	f.Add("work_mem", "64MB")
	f.Add("a.b", "x\ny = 1")
	f.Fuzz(func(t *testing.T, name, value string) {
		l, err := Line(name, value)
		if err != nil {
			return
		}
		if strings.ContainsAny(l, "\n\r\x00") {
			t.Fatalf("Line(%q, %q) = %q spans lines", name, value, l)
		}
		n, v, ok := strings.Cut(l, " = ")
		if !ok || n != name {
			t.Fatalf("Line(%q, %q) = %q", name, value, l)
		}
		if got, ok := lexValue(v); !ok || got != value {
			t.Fatalf("Line(%q, %q) = %q reads back %q", name, value, l, got)
		}
	})
}
