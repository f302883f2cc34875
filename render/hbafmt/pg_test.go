package hbafmt

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/golden/testenv"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

var weird = []string{"all", "replication", "sameuser", "samerole", "samegroup", "samenet", "+g", "@f", "/re",
	"a b", "a,b", "a#b", `a"b`, `"`, "tab\there", "ü€", "dbuser_meta@pigsty", "x"}

// TestPostgresParsesNames loads a pg_hba.conf with every weird name quoted by Name
// (as user and as database items) and by Group into PostgreSQL 15: no line errors,
// and pg_hba_file_rules shows exactly the names.
func TestPostgresParsesNames(t *testing.T) {
	testenv.Need(t, "postgres")
	pg := testenv.StartPostgres(t, testenv.PGOptions{SSL: true})
	var file strings.Builder
	c, _ := Comment("pgcc test: weird names")
	file.WriteString(c + "\n")
	for _, n := range weird {
		q, err := Name(n)
		if err != nil {
			t.Fatal(err)
		}
		file.WriteString("hostssl " + q + " " + q + " 10.0.0.0/8 scram-sha-256\n")
	}
	all, err := Names(weird...)
	if err != nil {
		t.Fatal(err)
	}
	file.WriteString("host " + all + " " + all + " 10.0.0.0/8 md5\n")
	var groups []string
	for _, n := range weird {
		g, err := Group(n)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	file.WriteString("local all " + strings.Join(groups, ",") + " peer\n")

	rules, err := testenv.HBARules(t, pg, file.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != len(weird)+2 {
		t.Fatalf("%d rules, want %d:\n%s", len(rules), len(weird)+2, file.String())
	}
	for i, r := range rules {
		if r.Error != "" {
			t.Errorf("line %d: %s", r.Line, r.Error)
		}
		var wantDB, wantUser []string
		switch {
		case i < len(weird):
			wantDB, wantUser = []string{weird[i]}, []string{weird[i]}
		case i == len(weird):
			wantDB, wantUser = weird, weird
		default:
			wantDB = []string{"all"}
			for _, n := range weird {
				wantUser = append(wantUser, "+"+n)
			}
		}
		if !slices.Equal(r.Database, wantDB) || !slices.Equal(r.UserName, wantUser) {
			t.Errorf("line %d: database %q user %q; want %q %q", r.Line, r.Database, r.UserName, wantDB, wantUser)
		}
	}
}

// TestPostgresQuotedSemantics proves the meaning on a live server: a quoted "all"
// rejects only a role named all, and +"my role" matches the members of "my role".
func TestPostgresQuotedSemantics(t *testing.T) {
	testenv.Need(t, "postgres")
	pg := testenv.StartPostgres(t, testenv.PGOptions{})
	pg.MustPsql(t, "", `CREATE ROLE "my role"; CREATE ROLE member LOGIN IN ROLE "my role"; CREATE ROLE outsider LOGIN; CREATE ROLE "all" LOGIN;`)
	all, _ := Name("all")
	grp, _ := Group("my role")
	hba := "host all " + all + " 127.0.0.1/32 reject\n" +
		"host all " + grp + " 127.0.0.1/32 reject\n" +
		"host all all 127.0.0.1/32 trust\nlocal all all trust\n"
	path := filepath.Join(pg.DataDir(), "pg_hba.conf")
	if err := os.WriteFile(path, []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}
	pg.Reload(t)
	for user, ok := range map[string]bool{"postgres": true, "outsider": true, "member": false, "all": false} {
		_, err := pg.PsqlAs(t, user, "", "", "SELECT 1", "")
		if ok && err != nil {
			t.Errorf("%s refused: %v", sqltext.Ident(user), err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "rejects connection")) {
			t.Errorf("%s: want a reject, got %v", sqltext.Ident(user), err)
		}
	}
}
