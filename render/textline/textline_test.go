package textline

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", nil},
		{"work_mem = 64MB", nil},
		{"it's \\ \"quoted\" # ; \t\v\f", nil},
		{"ünïcödé 日本", nil},
		{"a\nb", ErrNewline},
		{"a\rb", ErrNewline},
		{"\n", ErrNewline},
		{"a\x00b", ErrNUL},
		{"\xff", ErrInvalidUTF8},
		{"a\xc3", ErrInvalidUTF8},
		// the first failing rule wins: newline, then NUL, then UTF-8
		{"\x00\n", ErrNewline},
		{"\xff\r", ErrNewline},
		{"\xff\x00", ErrNUL},
	} {
		if got := Check(tc.in); got != tc.want {
			t.Errorf("Check(%q) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestMessages(t *testing.T) {
	for err, want := range map[error]string{
		ErrNewline:     "contains a newline or carriage return",
		ErrNUL:         "contains a NUL byte",
		ErrInvalidUTF8: "is not valid UTF-8",
	} {
		if err.Error() != want {
			t.Errorf("message %q; want %q", err.Error(), want)
		}
	}
}

// FuzzCheck: Check accepts exactly the valid UTF-8 strings without \n, \r and
// NUL, and names the first rule a refused string breaks.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "x", "a\nb", "a\rb", "a\x00b", "\xff", "\xff\x00\n", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want error
		switch {
		case strings.ContainsRune(s, '\n') || strings.ContainsRune(s, '\r'):
			want = ErrNewline
		case strings.ContainsRune(s, 0):
			want = ErrNUL
		case !utf8.ValidString(s):
			want = ErrInvalidUTF8
		}
		if got := Check(s); got != want {
			t.Fatalf("Check(%q) = %v; want %v", s, got, want)
		}
	})
}
