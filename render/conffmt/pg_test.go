package conffmt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/golden/testenv"
)

// TestPostgresReadsBack writes every nasty value with Line and ListLine into
// postgresql.auto.conf of a scratch data directory and reads each one back with
// `postgres -D d -C name` (testing.md §4.1).
func TestPostgresReadsBack(t *testing.T) {
	testenv.Need(t, "postgres")
	values := []string{"", "x", "64MB", "it's", "''", `\`, `\\`, `\'`, `'\`, `\n`, "# not a comment",
		"a # b", "trailing ", " leading", "\ttab", "ü€😀", "$libdir/passwordcheck", "pg_stat_statements, auto_explain",
		"'$user', public", "'quoted'", "=", "a = b", "x'; y = 'z", "include 'x'", "%m [%p] ", "-1", "0x1F", "1.5e5", "."}
	var conf strings.Builder
	conf.WriteString("# pgcc test\n")
	var names []string
	want := map[string]string{}
	for i, v := range values {
		n := fmt.Sprintf("pgcc.v%d", i)
		l, err := Line(n, v)
		if err != nil {
			t.Fatal(err)
		}
		conf.WriteString(l + "\n")
		names = append(names, n)
		want[n] = v
		n = fmt.Sprintf("pgcc.l%d", i)
		l, err = ListLine(n, v)
		if err != nil {
			t.Fatal(err)
		}
		conf.WriteString(l + "\n")
		names = append(names, n)
		want[n] = v
		if IsQuotedString(v) {
			want[n], _ = lexValue(v)
		}
	}
	got, err := testenv.ConfCheck(t, conf.String(), names...)
	if err != nil {
		t.Fatalf("%v\nfile:\n%s", err, conf.String())
	}
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("%s: postgres read %q, want %q", n, got[n], want[n])
		}
	}
}
