package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVerifyBadTablesGlob: a malformed --tables glob is bad input (exit 2)
// before any file is read, not a verification of no table.
func TestVerifyBadTablesGlob(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"verify", "--tables", "public.[", "-f", "missing.yml"}, 2, `--tables "public.[": syntax error in pattern`},
		{[]string{"verify", "--tables", "public.*", "--tables", `a\`, "-f", "missing.yml"}, 2, `--tables "a\\": syntax error in pattern`},
	} {
		var out, errb bytes.Buffer
		code := Main(tc.args, strings.NewReader(""), &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}
