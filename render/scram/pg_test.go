package scram

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/golden/testenv"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// TestPostgresComputesSameVerifiers lets PostgreSQL 15 hash passwords covering every
// path of Prepare (ASCII, every supported non-ASCII code point, the compatibility
// mappings, mapped spaces and removed characters, prohibited characters, invalid
// UTF-8 through a SQL_ASCII database) and checks that Check accepts each verifier
// and that Verifier with the same salt reproduces it byte for byte.
func TestPostgresComputesSameVerifiers(t *testing.T) {
	testenv.Need(t, "postgres")
	t.Parallel()
	pg := testenv.StartPostgres(t, testenv.PGOptions{})

	pws := []string{"pencil", "DBUser.DBA", "with space", "tab\tand\x01ctl", `q'uo"te\`, "pässwörd",
		"a\u00a0b", "a\u3000b", "a\u200bb", "I\u00adX", "\u00ad", "x\u2060y", "é\t", "é\u0085", "é\ue000",
		"\u4e2d\u0007", "\u00aa", "ªº¹²³µ¼½¾Ĳĳ", "¨´¸¯", "ŀŀ ŉ ſ", "пароль", "αβγΣ"}
	// Every supported code point, six per password (PBKDF2 with 4096 rounds is slow).
	var chunk []rune
	for _, sp := range stableRanges {
		for r := sp.lo; r <= sp.hi; r++ {
			if chunk = append(chunk, r); len(chunk) == 6 {
				pws = append(pws, "a"+string(chunk)+"b")
				chunk = chunk[:0]
			}
		}
	}
	if len(chunk) > 0 {
		pws = append(pws, string(chunk))
	}
	for r := range compat {
		pws = append(pws, "x"+string(r)+"y")
	}
	var sql strings.Builder
	sql.WriteString("SET password_encryption = 'scram-sha-256';\nCREATE ROLE v;\n")
	for _, pw := range pws {
		if _, err := Prepare(pw); err != nil {
			t.Fatalf("Prepare(%q): %v", pw, err)
		}
		fmt.Fprintf(&sql, "ALTER ROLE v PASSWORD %s;\nSELECT rolpassword FROM pg_authid WHERE rolname = 'v';\n", sqltext.Literal(pw))
	}
	out, err := pg.Psql(t, "", sql.String())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(out, "\n")
	if len(got) != len(pws) {
		t.Fatalf("%d verifiers for %d passwords", len(got), len(pws))
	}
	for i, pw := range pws {
		checkPGVerifier(t, pw, got[i], i < 30)
	}

	// Invalid UTF-8 can only reach the server through a SQL_ASCII database; PostgreSQL
	// then hashes the raw bytes (SASLPREP_INVALID_UTF8).
	raw := "\xff\xfeab\xc3"
	pg.MustPsql(t, "", "CREATE DATABASE rawdb ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
	v, err := pg.Psql(t, "rawdb", "SET password_encryption = 'scram-sha-256';\nALTER ROLE v PASSWORD "+sqltext.Literal(raw)+";\nSELECT rolpassword FROM pg_authid WHERE rolname = 'v';")
	if err != nil {
		t.Fatal(err)
	}
	checkPGVerifier(t, raw, v, true)
}

// checkPGVerifier: Verifier with the server's salt must give the server's string
// (which implies Check would accept it); withCheck also runs Check (PBKDF2 is slow).
func checkPGVerifier(t *testing.T, pw, v string, withCheck bool) {
	t.Helper()
	p, err := Parse(v)
	if err != nil {
		t.Errorf("password %q: server verifier %q: %v", pw, v, err)
		return
	}
	if withCheck && !Check(v, pw) {
		t.Errorf("Check rejects PostgreSQL's verifier for %q (%+q)", pw, pw)
	}
	mine, err := Verifier(pw, p.Salt, p.Iterations)
	if err != nil || mine != v {
		t.Errorf("Verifier(%q) = %q, %v; server %q", pw, mine, err, v)
	}
}

// TestLoginWithVerifier creates roles with pgcc-made verifiers and logs in over TCP
// with scram-sha-256 through psql (libpq runs its own SASLprep on the client side).
func TestLoginWithVerifier(t *testing.T) {
	testenv.Need(t, "postgres")
	t.Parallel()
	pg := testenv.StartPostgres(t, testenv.PGOptions{})
	users := map[string]string{"u_ascii": "DBUser.Viewer!'\"\\", "u_utf8": "pässwörd ªµ\u00a0x", "u_cyr": "пароль"}
	var sql strings.Builder
	var names []string
	for _, u := range []string{"u_ascii", "u_utf8", "u_cyr"} {
		v, err := New(users[u], rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sql, "CREATE ROLE %s LOGIN PASSWORD %s;\n", sqltext.Ident(u), sqltext.Literal(v))
		names = append(names, u)
	}
	pg.MustPsql(t, "", sql.String())
	hba := filepath.Join(pg.DataDir(), "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	rule := "host all " + strings.Join(names, ",") + " 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(hba, append([]byte(rule), old...), 0o600); err != nil {
		t.Fatal(err)
	}
	pg.Reload(t)
	for _, u := range names {
		out, err := pg.PsqlAs(t, u, users[u], "", "SELECT current_user", "")
		if err != nil || out != u {
			t.Errorf("login as %s: %q, %v", u, out, err)
		}
		// The wrong password is refused: the rule in front of the harness's trust rules is the one used.
		_, err = pg.PsqlAs(t, u, users[u]+"x", "", "SELECT 1", "")
		if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
			t.Errorf("wrong password for %s: %v", u, err)
		}
	}
}
