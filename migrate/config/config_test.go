package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const pigsty = `---
context_dir: ~/migration
src_cls: pg-meta
src_db: meta
src_ip: 10.10.10.10
#src_pg: ''
dst_cls: pg-test
dst_db: test
dst_ip: 10.10.10.11
src_list: []
src_dns: pg-meta
src_vip: 10.10.10.2
dst_dns: pg-test
dst_vip: 10.10.10.3
dst_user: test
pg_dbsu: postgres
pg_replication_username: replicator
pg_replication_password: DBUser.Replicator
pg_admin_username: dbuser_dba
pg_admin_password: DBUser.DBA
pg_monitor_username: dbuser_monitor
pg_monitor_password: DBUser.Monitor
...
`

func parse(t *testing.T, src string, opts LoadOptions) *Config {
	t.Helper()
	cfg, err := Parse("migration.yml", []byte(src), opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func TestPigstyDefinitionUnchanged(t *testing.T) {
	cfg := parse(t, pigsty, LoadOptions{})
	for _, c := range []struct{ name, got, want string }{
		{"id", cfg.Names.ID, "pg-meta.meta"},
		{"dir", cfg.Names.Dir, "~/migration/pg-meta.meta"},
		{"pub", cfg.Names.Pub, "pub_pg_meta_meta"},
		{"sub", cfg.Names.Sub, "sub_pg_meta_meta"},
		{"slot", cfg.Names.Slot, "sub_pg_meta_meta"},
		{"rpub", cfg.Names.RPub, "rpub_pg_meta_meta"},
		{"src_pg", cfg.SrcPG, "postgres://dbuser_dba@10.10.10.10/meta"},
		{"dst_pg", cfg.DstPG, "postgres://dbuser_dba@10.10.10.11/test"},
		{"sub_conn", cfg.SubConn, "host=10.10.10.10 dbname=meta user=replicator"},
		{"monitor", cfg.MonitorURL(cfg.Src()).String(), "postgres://dbuser_monitor@10.10.10.10/meta"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.Copy.Workers != 4 || cfg.Copy.ChunkBytes != 128<<20 || cfg.Lag.ReadyBytes != 16<<20 || cfg.PauseBudget.D() != 5*time.Second {
		t.Errorf("defaults: %+v", cfg.Copy)
	}
	if v, ok := cfg.AdminPassword.Value(); !ok || v != "DBUser.DBA" {
		t.Errorf("admin password not resolved")
	}
	if s := cfg.AdminPassword.String(); s != "********" {
		t.Errorf("Secret.String = %q", s)
	}
}

func TestSubConnPort(t *testing.T) {
	cfg := parse(t, "src_cls: a\nsrc_db: b\nsrc_ip: h1\ndst_cls: c\ndst_db: d\ndst_ip: h2\nsrc_pg: postgres://u@h1:6543/b\n", LoadOptions{})
	if cfg.SubConn != "host=h1 dbname=b user=replicator port=6543" {
		t.Errorf("sub_conn = %q", cfg.SubConn)
	}
}

func TestValidationErrors(t *testing.T) {
	src := `src_cls: a
src_db: b
dst_cls: c
dst_db: d
dst_ip: h2
bogus: 1
tables: {no_key: maybe}
copy: {workers: 0, chunk_bytes: 12XB}
lag: {ready_bytes: 1MB, enter_bytes: 2MB, sample_interval: soon}
fence: {methods: [lock, connlimit]}
switch: {mechanism: command}
`
	_, err := Parse("m.yml", []byte(src), LoadOptions{})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []string{
		"m.yml:6:1: bogus: unknown key; want one of ",
		`m.yml:7:18: tables.no_key: "maybe" is not allowed; want block, skip or apply_fix`,
		"m.yml:8:17: copy.workers: 0 is below the minimum 1",
		`m.yml:8:33: copy.chunk_bytes: "12XB" is not a size; want a number with B, kB, MB, GB or TB`,
		`m.yml:9:60: lag.sample_interval: "soon" is not a duration; want Go syntax such as 200ms, 5s or 10m`,
		"m.yml:1:1: src_ip: required key is missing",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].String(), w) {
			t.Errorf("error %d = %q\nwant prefix %q", i, errs[i].String(), w)
		}
	}
	if !strings.HasSuffix(err.Error(), "\n6 errors") {
		t.Errorf("no count line: %q", err.Error())
	}
	// Cross checks run once the file is otherwise valid.
	src2 := "src_cls: a\nsrc_db: b\nsrc_ip: h\ndst_cls: c\ndst_db: d\ndst_ip: h2\n" +
		"lag: {ready_bytes: 1MB, enter_bytes: 2MB}\nfence: {methods: [lock, connlimit]}\nswitch: {mechanism: command}\n"
	_, err = Parse("m.yml", []byte(src2), LoadOptions{})
	got := err.Error()
	for _, w := range []string{
		"m.yml:1:1: lag.enter_bytes: 2097152 bytes is above lag.ready_bytes (1048576 bytes)",
		"m.yml:1:1: switch.command.run: switch.mechanism command needs a run command",
		"m.yml:1:1: fence.methods: needs trigger or revoke",
		"3 errors",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
}

func TestVarsDeepMerge(t *testing.T) {
	cfg := parse(t, pigsty+"", LoadOptions{Vars: []string{"schema.keep_owner=true", "copy={workers: 8}", "seq_offset=5", "tables.exclude=[]"}})
	if !cfg.Schema.KeepOwner || !cfg.Schema.Copy {
		t.Errorf("schema: keep_owner %v copy %v", cfg.Schema.KeepOwner, cfg.Schema.Copy)
	}
	if cfg.Copy.Workers != 8 || cfg.Copy.ChunkBytes != 128<<20 || cfg.Copy.Method != "snapshot" {
		t.Errorf("partial copy map lost defaults: %+v", cfg.Copy)
	}
	if cfg.SeqOffset != 5 || len(cfg.Tables.Exclude) != 0 {
		t.Errorf("seq_offset %d exclude %v", cfg.SeqOffset, cfg.Tables.Exclude)
	}
	_, err := Parse("m.yml", []byte(pigsty), LoadOptions{Vars: []string{"copy.workers=zero"}})
	if err == nil || !strings.Contains(err.Error(), "--var:1:1: copy.workers: must be an integer") {
		t.Errorf("--var error: %v", err)
	}
}

func TestEnvSecrets(t *testing.T) {
	src := strings.Replace(pigsty, "pg_admin_password: DBUser.DBA", "pg_admin_password: {env: ADMIN_PW}", 1)
	env := map[string]string{"ADMIN_PW": "from-env"}
	cfg := parse(t, src, LoadOptions{ResolveSecrets: true, Getenv: func(k string) string { return env[k] }})
	if v, _ := cfg.AdminPassword.Value(); v != "from-env" {
		t.Errorf("env secret = %q", v)
	}
	_, err := Parse("m.yml", []byte(src), LoadOptions{ResolveSecrets: true, Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "pg_admin_password.env: environment variable ADMIN_PW is not set") {
		t.Errorf("unset env: %v", err)
	}
	// plan and kit do not resolve: no error.
	if _, err := Parse("m.yml", []byte(src), LoadOptions{}); err != nil {
		t.Errorf("unresolved parse: %v", err)
	}
}

func TestLimitName(t *testing.T) {
	long := "sub_" + strings.Repeat("a", 70)
	got := LimitName(long)
	if len(got) != 63 || got[:54] != long[:54] || got[54] != '_' {
		t.Errorf("LimitName = %q (%d bytes)", got, len(got))
	}
	if LimitName(long) != got {
		t.Errorf("not deterministic")
	}
	if LimitName("short") != "short" {
		t.Errorf("short name changed")
	}
	n := DeriveNames("Pg-Meta.X", "Db", "/m")
	if n.Slot != "sub_pg_meta_x_db" || n.Sub != "sub_Pg_Meta.X_Db" {
		t.Errorf("names %+v", n)
	}
}

func TestPasswordOrder(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pgpass")
	os.WriteFile(pass, []byte("# comment\nh1:5432:b:u\\:x:p\\:w\n*:*:*:other:wild\nh1:*:*:u:second\n"), 0o600)
	env := map[string]string{"PGPASSFILE": pass}
	e := Env{Getenv: func(k string) string { return env[k] }}
	cfg := parse(t, "src_cls: a\nsrc_db: b\nsrc_ip: h1\ndst_cls: c\ndst_db: d\ndst_ip: h2\npg_admin_password: adminpw\n", LoadOptions{ResolveSecrets: true})
	for _, c := range []struct {
		name, urlpw, user, want string
	}{
		{"url first", "fromurl", "dbuser_dba", "fromurl"},
		{"field for its user", "", "dbuser_dba", "adminpw"},
		{"field not for others; passfile escapes", "", "u:x", "p:w"},
		{"passfile wildcard", "", "other", "wild"},
		{"passfile first match wins", "", "u", "second"},
		{"none", "", "nobody", ""},
	} {
		if got := cfg.PasswordFor(e, c.urlpw, "h1", 5432, "b", c.user); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	env["PGPASSWORD"] = "envpw"
	if got := cfg.PasswordFor(e, "", "h1", 5432, "b", "u"); got != "envpw" {
		t.Errorf("PGPASSWORD before passfile: %q", got)
	}
	delete(env, "PGPASSWORD")
	os.Chmod(pass, 0o644)
	if got := cfg.PasswordFor(e, "", "h1", 5432, "b", "u"); got != "" {
		t.Errorf("group-readable passfile used: %q", got)
	}
}

func TestSubscriptionConninfoPassword(t *testing.T) {
	cfg := parse(t, pigsty, LoadOptions{ResolveSecrets: true})
	ci := cfg.SubscriptionConninfo(Env{Getenv: func(string) string { return "" }})
	if got := ci.Secret(); got != "host=10.10.10.10 dbname=meta user=replicator password=DBUser.Replicator" {
		t.Errorf("secret conninfo %q", got)
	}
	if got := ci.String(); got != "host=10.10.10.10 dbname=meta user=replicator password=********" {
		t.Errorf("redacted conninfo %q", got)
	}
	cfg2 := parse(t, pigsty, LoadOptions{ResolveSecrets: true, Vars: []string{"subscription.conninfo_password=false"}})
	if _, ok := cfg2.SubscriptionConninfo(Env{}).Get("password"); ok {
		t.Errorf("conninfo_password false still added a password")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:s3cr3t@h:5432/db":                 "postgres://u:********@h:5432/db",
		"failed: host=h password=abc user=u":            "failed: host=h password=******** user=u",
		"password='a b\\'c' host=x":                     "password=******** host=x",
		"postgres://u@h/db":                             "postgres://u@h/db",
		"two postgres://a:1@h and postgresql://b:2@g/x": "two postgres://a:********@h and postgresql://b:********@g/x",
		"conninfo 'host=h password=p' rest":             "conninfo 'host=h password=********' rest",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	u, _ := ParseURL("postgres://u:pw@h:1/db?sslmode=require")
	if u.String() != "postgres://u:********@h:1/db?sslmode=require" {
		t.Errorf("URL.String = %s", u.String())
	}
	if _, err := ParseURL("postgres://u:pw@h:99999/db"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("bad port error %v", err)
	}
}

func FuzzConninfoRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", `back\slash`, "x=y", " lead", "p@ss w'o\\rd="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ci := Conninfo{{"host", "h"}, {"password", v}, {"user", "u"}}
		back, err := ParseConninfo(ci.Secret())
		if err != nil {
			t.Fatalf("parse %q: %v", ci.Secret(), err)
		}
		if len(back) != 3 || back[1].Value != v || back[2].Value != "u" {
			t.Fatalf("round trip of %q gave %+v", v, back)
		}
	})
}

// copy.freeze and subscription.streaming are auto/on/off and take YAML
// booleans for on/off.
func TestAutoOnOff(t *testing.T) {
	tests := []struct {
		v, want string
	}{{"auto", "auto"}, {"on", "on"}, {"off", "off"}, {"true", "on"}, {"false", "off"}, {"yes", ""}, {"1", ""}}
	for _, tc := range tests {
		cfg, err := Parse("m.yml", []byte(pigsty), LoadOptions{Vars: []string{"copy.freeze=" + tc.v, "subscription.streaming=" + tc.v}})
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), `--var:1:1: copy.freeze: "`+tc.v+`" is not allowed; want auto, on or off`) {
				t.Errorf("%s: err %v", tc.v, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.v, err)
		}
		if cfg.Copy.Freeze != tc.want || cfg.Subscription.Streaming != tc.want {
			t.Errorf("%s: freeze %q streaming %q, want %q", tc.v, cfg.Copy.Freeze, cfg.Subscription.Streaming, tc.want)
		}
	}
	if cfg := parse(t, pigsty, LoadOptions{}); cfg.Copy.Freeze != "auto" {
		t.Errorf("default copy.freeze %q", cfg.Copy.Freeze)
	}
}

// ParseConninfo's errors come from a fixed set and never quote the input,
// which may hold a password (a URI typed where keyword=value is expected
// used to come back whole as the "keyword").
var conninfoErrRE = regexp.MustCompile(`^conninfo (keyword \d+ \(at byte \d+\) has no '=' and value|has an unterminated quoted value|has an empty keyword)$`)

func TestParseConninfo(t *testing.T) {
	ci, err := ParseConninfo(`host=h port = 5433  password='a b\'c' dbname=d\ b`)
	if err != nil {
		t.Fatal(err)
	}
	var kv []string
	for _, p := range ci {
		kv = append(kv, p.Key+"|"+p.Value)
	}
	if got := strings.Join(kv, ","); got != `host|h,port|5433,password|a b'c,dbname|d b` {
		t.Errorf("parsed %s", got)
	}
	tests := []struct{ in, want string }{
		{"postgres://app:S3cret@h/db", "conninfo keyword 1 (at byte 0) has no '=' and value"},
		{"host=h S3cret", "conninfo keyword 2 (at byte 7) has no '=' and value"},
		{"host=h password='S3cret", "conninfo has an unterminated quoted value"},
		{"host=h =S3cret", "conninfo has an empty keyword"},
	}
	for _, tc := range tests {
		_, err := ParseConninfo(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: err %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseConninfo(f *testing.F) {
	f.Add("host=h password='x y' port=5432")
	f.Add("postgres://u:pw@h/db")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseConninfo(s); err != nil && !conninfoErrRE.MatchString(err.Error()) {
			t.Fatalf("error %q is not one of the fixed messages", err)
		}
	})
}
