package inifmt

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/golden/testenv"
	"github.com/pgcc-dev/pgcc/render/hbafmt"
	"github.com/pgcc-dev/pgcc/render/scram"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// TestPgBouncerReadsFiles runs pgbouncer 1.18 on files written only with this
// package (and hbafmt, scram): a quoted database name in a connection string, a user
// with a quote and a space in userlist.txt and pgb_hba.conf, SCRAM pass-through to
// PostgreSQL with the same verifier, and string settings read back with SHOW CONFIG.
func TestPgBouncerReadsFiles(t *testing.T) {
	testenv.Need(t, "postgres", "pgbouncer")
	pg := testenv.StartPostgres(t, testenv.PGOptions{})
	const user, password, db = `we"ird user`, "pässwörd 'x\"", "it's db"
	verifier, err := scram.New(password, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pg.MustPsql(t, "", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s;\nCREATE DATABASE %s;",
		sqltext.Ident(user), sqltext.Literal(verifier), sqltext.Ident(db)))
	// PostgreSQL asks pgbouncer for SCRAM too: pass-through needs the same verifier.
	hbaUser, _ := hbafmt.Name(user)
	pgHBA := filepath.Join(pg.DataDir(), "pg_hba.conf")
	old, _ := os.ReadFile(pgHBA)
	testenv.WriteDaemonFile(t, pgHBA, append([]byte("host all "+hbaUser+" 127.0.0.1/32 scram-sha-256\n"), old...), 0o600)
	pg.Reload(t)

	dir := testenv.TempDir(t)
	port := testenv.FreePort(t)
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var ul strings.Builder
	ul.WriteString(must(AuthLine("postgres", "")) + "\n")
	ul.WriteString(must(AuthLine(user, verifier)) + "\n")
	testenv.WriteDaemonFile(t, filepath.Join(dir, "userlist.txt"), []byte(ul.String()), 0o600)
	hba := "local pgbouncer postgres trust\n" +
		"host all " + must(hbafmt.Name(user)) + " 127.0.0.1/32 scram-sha-256\n"
	testenv.WriteDaemonFile(t, filepath.Join(dir, "pgb_hba.conf"), []byte(hba), 0o600)
	dbLine := must(Line("mydb", must(ConnString("host", "127.0.0.1", "port", fmt.Sprint(pg.Port()), "dbname", db))))
	testenv.WriteDaemonFile(t, filepath.Join(dir, "database.txt"), []byte(dbLine+"\n"), 0o644)

	settings := [][2]string{
		{"listen_addr", "127.0.0.1"}, {"listen_port", fmt.Sprint(port)}, {"unix_socket_dir", dir},
		{"pidfile", dir + "/pgbouncer.pid"}, {"logfile", dir + "/pgbouncer.log"},
		{"auth_type", "hba"}, {"auth_file", dir + "/userlist.txt"}, {"auth_hba_file", dir + "/pgb_hba.conf"},
		{"admin_users", "postgres"}, {"pool_mode", "transaction"},
		{"server_reset_query", "DISCARD ALL; SELECT 'a # b ; c'"},
		{"ignore_startup_parameters", "extra_float_digits, options"},
		{"application_name_add_host", "0"},
	}
	var ini strings.Builder
	ini.WriteString(must(Comment("pgcc test")) + "\n")
	ini.WriteString(must(Section("databases")) + "\n" + must(Include(dir+"/database.txt")) + "\n")
	ini.WriteString(must(Section("pgbouncer")) + "\n")
	for _, kv := range settings {
		ini.WriteString(must(Line(kv[0], kv[1])) + "\n")
	}
	iniPath := filepath.Join(dir, "pgbouncer.ini")
	testenv.WriteDaemonFile(t, iniPath, []byte(ini.String()), 0o644)

	b := testenv.StartPgBouncer(t, iniPath)
	conn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=mydb sslmode=disable user='%s'", port, strings.ReplaceAll(user, "'", `\'`))
	out, err := testenv.PsqlConn(t, dir, conn, password, "SELECT current_database(), current_user")
	if err != nil || out != db+"|"+user {
		t.Errorf("through pgbouncer: %q, %v", out, err)
	}
	cfg, err := b.Psql(t, "postgres", "", "pgbouncer", "SHOW CONFIG")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range settings[10:] {
		if !strings.Contains(cfg, "\n"+kv[0]+"|"+kv[1]+"|") {
			t.Errorf("SHOW CONFIG lacks %s = %q:\n%s", kv[0], kv[1], cfg)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
	for _, bad := range []string{"WARNING", "ERROR", "FATAL"} {
		if strings.Contains(string(log), bad) {
			t.Errorf("pgbouncer log has %s:\n%s", bad, log)
		}
	}
	if _, err := testenv.PsqlConn(t, dir, conn, password+"x", "SELECT 1"); err == nil {
		t.Error("wrong password accepted")
	}
}
