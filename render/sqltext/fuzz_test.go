package sqltext

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanToken is a tiny model of PostgreSQL's lexer (scan.l) for the quoted tokens
// this package emits. It returns the decoded value and the token's length in src.
// scOff selects standard_conforming_strings=off for '...' constants.
func scanToken(src string, scOff bool) (val string, n int, ok bool) {
	switch {
	case strings.HasPrefix(src, `U&"`):
		return scanDelimited(src, 3, '"', false, true)
	case strings.HasPrefix(src, `"`):
		return scanDelimited(src, 1, '"', false, false)
	case strings.HasPrefix(src, `E'`):
		return scanDelimited(src, 2, '\'', true, false)
	case strings.HasPrefix(src, `'`):
		return scanDelimited(src, 1, '\'', scOff, false)
	case strings.HasPrefix(src, `$`):
		end := strings.IndexByte(src[1:], '$')
		if end < 0 {
			return "", 0, false
		}
		tag := src[:end+2]
		body := src[len(tag):]
		i := strings.Index(body, tag)
		if i < 0 {
			return "", 0, false
		}
		return body[:i], len(tag) + i + len(tag), true
	}
	return "", 0, false
}

func scanDelimited(src string, start int, q byte, backslash, uescape bool) (string, int, bool) {
	var b strings.Builder
	i := start
	for i < len(src) {
		c := src[i]
		switch {
		case c == q:
			if i+1 < len(src) && src[i+1] == q {
				b.WriteByte(q)
				i += 2
				continue
			}
			return b.String(), i + 1, true
		case c == '\\' && backslash:
			if i+1 >= len(src) {
				return "", 0, false
			}
			d := src[i+1]
			if d >= '0' && d <= '7' {
				j := i + 1
				for j < len(src) && j < i+4 && src[j] >= '0' && src[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(src[i+1:j], 8, 8)
				b.WriteByte(byte(v))
				i = j
				continue
			}
			// \\ \' and any other escaped character stand for themselves (for this model).
			b.WriteByte(d)
			i += 2
		case c == '\\' && uescape:
			if i+1 < len(src) && src[i+1] == '\\' {
				b.WriteByte('\\')
				i += 2
				continue
			}
			if i+5 > len(src) {
				return "", 0, false
			}
			v, err := strconv.ParseUint(src[i+1:i+5], 16, 32)
			if err != nil {
				return "", 0, false
			}
			b.WriteRune(rune(v))
			i += 5
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, false
}

const tail = "; DROP TABLE victim; --"

// checkToken asserts that tok, followed by SQL, is scanned as exactly one token
// (nothing of the value leaks into the statement) and returns its value.
func checkToken(t *testing.T, what, in, tok string, scOff bool) string {
	t.Helper()
	val, n, ok := scanToken(tok+tail, scOff)
	if !ok || n != len(tok) {
		t.Fatalf("%s(%q) = %q: token not closed at its end (ok=%v n=%d len=%d)", what, in, tok, ok, n, len(tok))
	}
	return val
}

var seeds = []string{"", "x", "it's", `\`, `\'`, `'; DROP TABLE x; --`, "\n", "\r\n", "$$", "$pgcc$",
	"$pgcc", "pgcc$", `"`, `""`, "a\x00b", "\xff\xfe", "ü€😀", ":foo", `:'foo'`, `\gexec`, "\\\n'", `E'`, `U&"`}

func FuzzLiteral(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := Literal(s)
		for _, off := range []bool{false, true} {
			val := checkToken(t, "Literal", s, tok, off)
			if val != s {
				t.Fatalf("Literal(%q) = %q decodes to %q (standard_conforming_strings off=%v)", s, tok, val, off)
			}
		}
		if strings.IndexByte(s, 0) >= 0 && !strings.Contains(tok, `\000`) {
			t.Fatalf("Literal(%q) = %q: NUL not escaped", s, tok)
		}
		if strings.IndexByte(tok, 0) >= 0 {
			t.Fatalf("Literal(%q) = %q contains NUL", s, tok)
		}
	})
}

func FuzzIdent(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := Ident(s)
		val := checkToken(t, "Ident", s, tok, false)
		if strings.IndexByte(tok, 0) >= 0 {
			t.Fatalf("Ident(%q) = %q contains NUL", s, tok)
		}
		if strings.IndexByte(s, 0) >= 0 {
			// U&"" form: must carry \0000, which the server rejects.
			if !strings.HasPrefix(tok, `U&"`) || !strings.Contains(val, "\x00") {
				t.Fatalf("Ident(%q) = %q: NUL form not rejected", s, tok)
			}
			return
		}
		if val != s {
			t.Fatalf("Ident(%q) = %q decodes to %q", s, tok, val)
		}
		tok2 := IdentIfNeeded(s)
		if strings.HasPrefix(tok2, `"`) {
			checkToken(t, "IdentIfNeeded", s, tok2, false)
		} else if !isSimpleIdent(tok2) || tok2 != s {
			t.Fatalf("IdentIfNeeded(%q) = %q", s, tok2)
		}
	})
}

func FuzzDollarQuote(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := DollarQuote(s)
		if strings.IndexByte(s, 0) >= 0 {
			if tok != Literal(s) {
				t.Fatalf("DollarQuote(%q) = %q", s, tok)
			}
			return
		}
		val := checkToken(t, "DollarQuote", s, tok, false)
		if val != s {
			t.Fatalf("DollarQuote(%q) = %q decodes to %q", s, tok, val)
		}
		_ = utf8.ValidString
	})
}
