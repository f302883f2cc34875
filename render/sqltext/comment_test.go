package sqltext

import (
	"strings"
	"testing"
)

func TestComment(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "-- "},
		{"role \"x\"", `-- role "x"`},
		{"a\nDROP ROLE x;", "-- a DROP ROLE x;"},
		{"a\r\n\\connect b", `-- a  \connect b`},
		{"tab\there", "-- tab here"},
		{"nul\x00x", "-- nul x"},
		{"ls\u2028x", "-- ls x"},
		{"ü ok", "-- ü ok"},
	} {
		if got := Comment(tc.in); got != tc.want {
			t.Errorf("Comment(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzComment(f *testing.F) {
	f.Add("x\ny")
	f.Add("\r\u0085\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		c := Comment(s)
		if !strings.HasPrefix(c, "-- ") || strings.ContainsAny(c, "\r\n\x00") {
			t.Fatalf("Comment(%q) = %q escapes its line", s, c)
		}
	})
}
