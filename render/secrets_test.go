package render

import (
	"fmt"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
)

// TestPreviousVerifiers: the verifiers of a role are found in roles.sql
// (quoted as an identifier or a literal) and in every member's userlist.txt,
// in file and line order, with CRLF line ends as well; each file is read
// once per build however many roles ask.
func TestPreviousVerifiers(t *testing.T) {
	const (
		v1 = "SCRAM-SHA-256$4096:AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		v2 = "SCRAM-SHA-256$4096:BBBBBBBBBBBBBBBBBBBBBB==$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
		v3 = "SCRAM-SHA-256$4096:CCCCCCCCCCCCCCCCCCCCCC==$CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC="
	)
	cl := &compiler.Cluster{Name: "pg-x", Members: []*compiler.Instance{{Name: "pg-x-1"}, {Name: "pg-x-2"}}}
	prev := map[string]string{
		"pg-x/sql/roles.sql": "-- header\r\nALTER ROLE \"app\" PASSWORD '" + v1 + "';\r\n" +
			"ALTER ROLE \"other\" PASSWORD '" + v3 + "';\r\n" +
			"SELECT 'app', '" + v2 + "'", // last line without a newline
		"pg-x/pg-x-2/pgbouncer/userlist.txt": "\"other\" \"" + v3 + "\"\n\"app\" \"" + v2 + "\"\n",
	}
	reads := map[string]int{}
	ctx := &Context{Opts: Options{Previous: func(p string) []byte {
		reads[p]++
		if s, ok := prev[p]; ok {
			return []byte(s)
		}
		return nil
	}}}
	for _, tt := range []struct{ role, want string }{
		{"app", fmt.Sprint([]string{v1, v2, v2})},
		{"other", fmt.Sprint([]string{v3, v3})},
		{"nobody", fmt.Sprint([]string(nil))},
	} {
		if got := fmt.Sprint(ctx.previousVerifiers(cl, tt.role)); got != tt.want {
			t.Errorf("previousVerifiers(%s) = %s\nwant %s", tt.role, got, tt.want)
		}
	}
	want := map[string]int{"pg-x/sql/roles.sql": 1, "pg-x/pg-x-1/pgbouncer/userlist.txt": 1, "pg-x/pg-x-2/pgbouncer/userlist.txt": 1}
	if fmt.Sprint(reads) != fmt.Sprint(want) {
		t.Errorf("reads %v, want %v", reads, want)
	}
}
