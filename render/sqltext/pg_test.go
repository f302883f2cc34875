package sqltext

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/golden/testenv"
)

var nasty = []string{
	"", "x", "it's", "''", `\`, `\\`, `\'`, `'\`, `'; DROP TABLE victim; --`, "a\nb", "a\r\nb", "\t",
	"$$", "$pgcc$", "$pgcc", "pgcc$", "$pgcc1$", `"`, `""`, `"; DROP TABLE victim; --`,
	"ü€😀", ":foo", ":'foo'", `:"foo"`, `\gexec`, "\\\n\\q\n", "E'x'", `U&"\0041"`, "/* x", "*/", "--",
	"select", "User", "Mixed Case", "a.b", strings.Repeat("long", 15) + "xyz",
}

// TestRoundTripPostgres sends every nasty string through a real PostgreSQL 15 as a
// literal (with standard_conforming_strings on and off), an identifier and a
// dollar-quoted string, and compares the bytes the server got; Literal and
// IdentIfNeeded must equal the server's quote_literal and quote_ident.
func TestRoundTripPostgres(t *testing.T) {
	testenv.Need(t, "postgres")
	pg := testenv.StartPostgres(t, testenv.PGOptions{})

	var sql strings.Builder
	var want []string
	hx := func(expr string) string { return "SELECT encode(convert_to(" + expr + ", 'UTF8'), 'hex');\n" }
	for _, sc := range []string{"on", "off"} {
		sql.WriteString("SET standard_conforming_strings = " + sc + ";\n")
		sql.WriteString("SET escape_string_warning = off;\n")
		for _, s := range nasty {
			sql.WriteString(hx(Literal(s)))
			want = append(want, hex.EncodeToString([]byte(s)))
			sql.WriteString(hx(DollarQuote(s)))
			want = append(want, hex.EncodeToString([]byte(s)))
			sql.WriteString(hx("quote_literal(" + Literal(s) + ")"))
			want = append(want, hex.EncodeToString([]byte(Literal(s))))
		}
	}
	sql.WriteString("SET standard_conforming_strings = on;\n")
	for _, s := range nasty {
		if s == "" {
			continue
		}
		sql.WriteString("CREATE TEMP TABLE t (" + Ident(s) + " int);\n")
		sql.WriteString(hx("(SELECT attname::text FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum = 1)"))
		sql.WriteString("DROP TABLE t;\n")
		want = append(want, hex.EncodeToString([]byte(s)))
		sql.WriteString(hx("quote_ident(" + Literal(s) + ")"))
		want = append(want, hex.EncodeToString([]byte(IdentIfNeeded(s))))
	}
	out, err := pg.Psql(t, "", sql.String())
	if err != nil {
		t.Fatalf("psql: %v\nscript:\n%s", err, sql.String())
	}
	got := strings.Split(out, "\n")
	if len(got) != len(want) {
		t.Fatalf("%d result rows, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			g, _ := hex.DecodeString(got[i])
			w, _ := hex.DecodeString(want[i])
			t.Errorf("row %d: server has %q, want %q", i, g, w)
		}
	}

	// Values that cannot be stored must fail at parse time, never be truncated.
	for _, stmt := range []string{
		"SELECT " + Literal("a\x00b") + ";",
		"SELECT " + DollarQuote("a\x00b") + ";",
		"SELECT 1 AS " + Ident("a\x00b") + ";",
	} {
		out, err := pg.Psql(t, "", stmt)
		if err == nil {
			t.Errorf("%q accepted: %q", stmt, out)
		} else if !strings.Contains(err.Error(), "invalid byte sequence") && !strings.Contains(err.Error(), "invalid Unicode escape value") {
			t.Errorf("%q: unexpected error %v", stmt, err)
		}
	}

	kw, err := pg.Psql(t, "", "SELECT string_agg(word, ' ' ORDER BY word COLLATE \"C\") FROM pg_get_keywords() WHERE catcode <> 'U'")
	if err != nil {
		t.Fatal(err)
	}
	if kw != strings.Join(Keywords(), " ") {
		t.Errorf("keyword list differs from the server's:\nserver: %s\nours:   %s", kw, strings.Join(Keywords(), " "))
	}
}
