package haproxyfmt

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestWord(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"pigsty", "pigsty", nil},
		{"/metrics", "/metrics", nil},
		{"10.10.10.11:5432", "10.10.10.11:5432", nil},
		{"DBUser.DBA", "DBUser.DBA", nil},
		{"", "''", nil},
		{"two words", "'two words'", nil},
		{"it's", `'it'\''s'`, nil},
		{"#not-a-comment", "'#not-a-comment'", nil},
		{`back\slash`, `'back\slash'`, nil},
		{`"$HOME"`, `'"$HOME"'`, nil},
		{"${PATH}", "'${PATH}'", nil},
		{"tab\there", "'tab\there'", nil},
		{"a\nuser x", "", ErrNewline},
		{"a\rb", "", ErrNewline},
		{"a\x00b", "", ErrNUL},
	} {
		got, err := Word(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Word(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got, err := Words("insecure-password", "a b"); err != nil || got != "insecure-password 'a b'" {
		t.Errorf("Words = %q, %v", got, err)
	}
	if _, err := Fragment("inter 2s\nserver evil 1.2.3.4:5"); !errors.Is(err, ErrNewline) {
		t.Errorf("Fragment accepted a newline: %v", err)
	}
	if got, err := Fragment(" inter 2s fall 3 "); err != nil || got != "inter 2s fall 3" {
		t.Errorf("Fragment = %q, %v", got, err)
	}
}

// parseLine is a model of HAProxy 2.6's word splitting (src/tools.c
// parse_line, configuration.txt §2.2) for the constructs Word emits and
// the ones it must neutralise: blanks, `#` comments, backslash escapes
// outside single quotes, weak double quotes with `$` expansion (modelled as
// a marker), strong single quotes.
func parseLine(line string) (words []string, expanded bool) {
	var cur strings.Builder
	inWord, squote, dquote := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"' && !squote:
			dquote = !dquote
			inWord = true
		case c == '\'' && !dquote:
			squote = !squote
			inWord = true
		case c == '\\' && !squote && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == '$' && dquote:
			expanded = true
		case (c == ' ' || c == '\t') && !squote && !dquote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !squote && !dquote:
			if inWord {
				words = append(words, cur.String())
			}
			return words, expanded
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, expanded
}

func FuzzWord(f *testing.F) {
	for _, s := range []string{"", "pigsty", "it's", "a b", "#x", `\`, `"`, "$X", "${X}", "'\\''", "a\nb", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := Word(s)
		if err != nil {
			if !strings.ContainsAny(s, "\n\r\x00") {
				t.Fatalf("Word(%q) refused: %v", s, err)
			}
			if strings.Contains(err.Error(), s) && s != "" {
				t.Fatalf("error echoes the value: %v", err)
			}
			return
		}
		if strings.ContainsAny(w, "\n\r\x00") {
			t.Fatalf("Word(%q) = %q leaves the line", s, w)
		}
		line := "user admin insecure-password " + w + " # trailing comment"
		words, expanded := parseLine(line)
		if expanded {
			t.Fatalf("Word(%q) = %q expands an environment variable", s, w)
		}
		want := []string{"user", "admin", "insecure-password", s}
		if len(words) != len(want) || words[3] != s {
			t.Fatalf("Word(%q) = %q reads back as %q", s, w, words)
		}
		for _, r := range w {
			if unicode.IsSpace(r) && !strings.HasPrefix(w, "'") {
				t.Fatalf("bare word with a blank: %q", w)
			}
		}
	})
}
