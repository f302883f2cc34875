package sqltext

import (
	"errors"
	"strings"
	"testing"
)

func TestIdent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"x", `"x"`},
		{"dbuser_dba", `"dbuser_dba"`},
		{"Mixed Case", `"Mixed Case"`},
		{`a"b`, `"a""b"`},
		{`"`, `""""`},
		{"", `""`},
		{"a\nb", "\"a\nb\""},
		{`back\slash`, `"back\slash"`},
		{"dbuser_meta@pigsty", `"dbuser_meta@pigsty"`},
		{"ü", `"ü"`},
		{"a\x00b", `U&"a\0000b"`},
		{"\x00\"\\é", `U&"\0000""\\\00C3\00A9"`},
	} {
		if got := Ident(tc.in); got != tc.want {
			t.Errorf("Ident(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIdentIfNeeded(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"x", `x`},
		{"dbuser_dba", `dbuser_dba`},
		{"a$1", `"a$1"`},
		{"_x9", `_x9`},
		{"9x", `"9x"`},
		{"$x", `"$x"`},
		{"User", `"User"`},
		{"user", `"user"`},
		{"select", `"select"`},
		{"between", `"between"`},
		{"int", `"int"`},
		{"abort", `abort`}, // unreserved keyword
		{"a-b", `"a-b"`},
		{"", `""`},
	} {
		if got := IdentIfNeeded(tc.in); got != tc.want {
			t.Errorf("IdentIfNeeded(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLiteral(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `''`},
		{"x", `'x'`},
		{"it's", `'it''s'`},
		{"''", `''''''`},
		{`a\b`, `E'a\\b'`},
		{`\'`, `E'\\'''`},
		{`'; DROP TABLE x; --`, `'''; DROP TABLE x; --'`},
		{"line1\nline2", "'line1\nline2'"},
		{"$$", `'$$'`},
		{"SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5", `'SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5'`},
		{"a\x00b", `E'a\000b'`},
		{"ü", `'ü'`},
	} {
		if got := Literal(tc.in); got != tc.want {
			t.Errorf("Literal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLists(t *testing.T) {
	if got, want := IdentList([]string{"a", `b"c`}), `"a", "b""c"`; got != want {
		t.Errorf("IdentList = %q, want %q", got, want)
	}
	if got, want := IdentList(nil), ``; got != want {
		t.Errorf("IdentList(nil) = %q, want %q", got, want)
	}
	if got, want := LiteralList([]string{"app", "public", "o'k"}), `'app', 'public', 'o''k'`; got != want {
		t.Errorf("LiteralList = %q, want %q", got, want)
	}
	if got, want := QualifiedIdent("monitor", "pgbouncer_auth"), `"monitor"."pgbouncer_auth"`; got != want {
		t.Errorf("QualifiedIdent = %q, want %q", got, want)
	}
	if got, want := DottedIdent("auto_explain.log_min_duration"), `"auto_explain"."log_min_duration"`; got != want {
		t.Errorf("DottedIdent = %q, want %q", got, want)
	}
	if got, want := DottedIdent("work_mem"), `"work_mem"`; got != want {
		t.Errorf("DottedIdent = %q, want %q", got, want)
	}
}

func TestDollarQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"BEGIN NULL; END", "$pgcc$BEGIN NULL; END$pgcc$"},
		{"", "$pgcc$$pgcc$"},
		{"a $pgcc$ b", "$pgcc1$a $pgcc$ b$pgcc1$"},
		{"a $pgcc$ $pgcc1$ b", "$pgcc2$a $pgcc$ $pgcc1$ b$pgcc2$"},
		{"ends with $pgcc", "$pgcc1$ends with $pgcc$pgcc1$"},
		{"$$ $x$", "$pgcc$$$ $x$$pgcc$"},
		{"pgcc$ start", "$pgcc$pgcc$ start$pgcc$"},
		{"nul\x00", `E'nul\000'`},
	} {
		if got := DollarQuote(tc.in); got != tc.want {
			t.Errorf("DollarQuote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in        string
		text, idt error
	}{
		{"ok", nil, nil},
		{"", nil, ErrEmptyIdent},
		{"a\x00", ErrNUL, ErrNUL},
		{"\xff", ErrInvalidUTF8, ErrInvalidUTF8},
		{strings.Repeat("a", 63), nil, nil},
		{strings.Repeat("a", 64), nil, ErrIdentTooLong},
	} {
		if err := CheckText(tc.in); !errors.Is(err, tc.text) {
			t.Errorf("CheckText(%q) = %v, want %v", tc.in, err, tc.text)
		}
		if err := CheckIdent(tc.in); !errors.Is(err, tc.idt) {
			t.Errorf("CheckIdent(%q) = %v, want %v", tc.in, err, tc.idt)
		}
	}
	if _, err := LiteralChecked("a\x00"); !errors.Is(err, ErrNUL) {
		t.Errorf("LiteralChecked NUL: %v", err)
	}
	if got, err := LiteralChecked("o'k"); err != nil || got != `'o''k'` {
		t.Errorf("LiteralChecked = %q, %v", got, err)
	}
}

func TestKeywords(t *testing.T) {
	kw := Keywords()
	if len(kw) != 151 {
		t.Errorf("%d keywords, want 151 (PostgreSQL 15)", len(kw))
	}
	for i := 1; i < len(kw); i++ {
		if kw[i-1] >= kw[i] {
			t.Errorf("keywords not sorted at %q", kw[i])
		}
	}
}
