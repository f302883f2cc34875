package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/cmd/pgcc/cli"
	"github.com/pgcc-dev/pgcc/golden"
)

// The sandbox (testing.md §5 "Sandbox edits"): the bundle pgcc writes is what a
// Pigsty node would install, and it names paths that only root on a real node can
// create (/pg/cert, /etc/pgbouncer, /var/run) plus one OS limit this machine cannot
// meet. sandbox rewrites exactly those, in a copy of the bundle, as a pure function
// of the bundle and the test's directories. Every rule must match at least once in
// every file it targets, so a template change that moves or renames one of these
// strings fails loudly here instead of silently testing a file that was not
// rewritten. Everything else — every path that comes from an inventory variable
// (pg_data, pg_localhost, pg_log_dir, pg_dbsu_home, *_log_dir, pg_bin_dir) — is set
// in the test inventory instead, so pgcc itself renders it.

// sandboxPaths are the test's directories the rules point at.
type sandboxPaths struct {
	CertDir    string // holds ca.crt, server.crt, server.key (the test CA, testenv.Certs)
	Callback   string // replaces /pg/bin/pg-failover-callback
	HAProxyRun string // pidfile and stats socket of the one HAProxy
	Backup     string // pgBackRest repo1-path, shared by the members like a shared mount
	Root       bool   // the test runs as root: HAProxy may keep user/group
	// Per instance name: its socket directory (= pg_localhost), the directory the
	// bundle's pgbouncer/ files are installed in, pgbouncer's own run dir, and
	// pgBackRest's spool dir.
	Inst map[string]instPaths
}

type instPaths struct {
	Sock, PgbConf, PgbRun, Spool string
}

// sandboxRule replaces Old with New(instance) in every bundle file whose base name
// is File. Reason says why the bundle's value cannot be used as non-root.
type sandboxRule struct {
	File   string
	Old    string
	New    func(inst string) string
	Reason string
	Skip   bool // rule not needed in this environment (e.g. running as root)
}

func sandboxRules(p sandboxPaths) []sandboxRule {
	fixed := func(s string) func(string) string { return func(string) string { return s } }
	inst := func(f func(instPaths) string) func(string) string {
		return func(name string) string { return f(p.Inst[name]) }
	}
	certs := fixed(strings.TrimSuffix(p.CertDir, "/") + "/")
	return []sandboxRule{
		{File: "patroni.yml", Old: "/pg/cert/", New: certs,
			Reason: "Pigsty installs the cluster CA and node certificate in /pg/cert (etcd3 client TLS, ssl_* parameters)"},
		{File: "patroni.yml", Old: "/pg/bin/pg-failover-callback", New: fixed(p.Callback),
			Reason: "Pigsty's callback script lives in /pg/bin; the test's records its arguments"},
		{File: "patroni.yml", Old: "unix_socket_directories: '/var/run/postgresql, /tmp'",
			New:    inst(func(i instPaths) string { return "unix_socket_directories: '" + i.Sock + "'" }),
			Reason: "Pigsty's template hard-codes /var/run/postgresql and /tmp; three members on one host need one socket dir each (= their pg_localhost)"},
		{File: "pgbouncer.ini", Old: "/etc/pgbouncer/", New: inst(func(i instPaths) string { return i.PgbConf + "/" }),
			Reason: "the %include files, auth_file and auth_hba_file are installed under /etc/pgbouncer"},
		{File: "pgbouncer.ini", Old: "/run/postgresql", New: inst(func(i instPaths) string { return i.PgbRun }),
			Reason: "unix_socket_dir and pidfile are in /run/postgresql (root-owned; three pgbouncers on one port need one dir each)"},
		{File: "pgbouncer.ini", Old: "/pg/cert/", New: certs,
			Reason: "client_tls_* files are in /pg/cert"},
		{File: "haproxy.cfg", Old: "pidfile /var/run/haproxy.pid", New: fixed("pidfile " + p.HAProxyRun + "/haproxy.pid"),
			Reason: "/var/run is the system's"},
		{File: "haproxy.cfg", Old: "stats socket /var/run/haproxy.sock", New: fixed("stats socket " + p.HAProxyRun + "/haproxy.sock"),
			Reason: "/var/run is the system's"},
		{File: "haproxy.cfg", Old: "    maxconn 65535\n", New: fixed("    maxconn 4096\n"),
			Reason: "OS limit: maxconn 65535 needs ~131,000 file descriptors; the hard limit here is 20,000 and the test lacks CAP_SYS_RESOURCE (testing.md §4.3)"},
		{File: "haproxy.cfg", Old: "    user haproxy\n", New: fixed(""), Skip: p.Root,
			Reason: "only root can switch to the haproxy user"},
		{File: "haproxy.cfg", Old: "    group haproxy\n", New: fixed(""), Skip: p.Root,
			Reason: "only root can switch to the haproxy group"},
		{File: "pgbackrest.conf", Old: "repo1-path=/pg/backup\n", New: fixed("repo1-path=" + p.Backup + "\n"),
			Reason: "Pigsty's local repository is /pg/backup"},
		{File: "pgbackrest.conf", Old: "spool-path=/pg/spool\n", New: inst(func(i instPaths) string { return "spool-path=" + i.Spool + "\n" }),
			Reason: "Pigsty's spool dir is /pg/spool (one per member here: they share a host)"},
	}
}

// sandbox returns a rewritten copy of files (bundle path → file); files itself is
// not modified. Paths look like <cluster>/<instance>/…; the instance is the second
// element. It fails when a rule matches nothing in a file it targets, or targets no
// file at all.
func sandbox(files map[string]golden.File, p sandboxPaths) (map[string]golden.File, error) {
	return rewrite(files, sandboxRules(p))
}

func rewrite(files map[string]golden.File, rules []sandboxRule) (map[string]golden.File, error) {
	out := make(map[string]golden.File, len(files))
	for k, f := range files {
		out[k] = golden.File{Data: append([]byte(nil), f.Data...), Mode: f.Mode}
	}
	paths := make([]string, 0, len(out))
	for k := range out {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	var errs []string
	for _, r := range rules {
		if r.Skip {
			continue
		}
		targets := 0
		for _, p := range paths {
			if path.Base(p) != r.File {
				continue
			}
			targets++
			data := string(out[p].Data)
			if !strings.Contains(data, r.Old) {
				errs = append(errs, fmt.Sprintf("%s: %q not found (template drift? rule: %s)", p, r.Old, r.Reason))
				continue
			}
			inst := ""
			if parts := strings.Split(p, "/"); len(parts) >= 3 {
				inst = parts[1]
			}
			out[p] = golden.File{Data: []byte(strings.ReplaceAll(data, r.Old, r.New(inst))), Mode: out[p].Mode}
		}
		if targets == 0 {
			errs = append(errs, fmt.Sprintf("no %s in the bundle for rule %q", r.File, r.Old))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("sandbox:\n  %s", strings.Join(errs, "\n  "))
	}
	return out, nil
}

// breakRules simulate a broken renderer for the demonstration mode
// PGCC_E2E_BREAK (README.md): the scenario must fail with them.
func breakRules(mode string) ([]sandboxRule, error) {
	fixed := func(s string) func(string) string { return func(string) string { return s } }
	switch mode {
	case "":
		return nil, nil
	case "hba":
		// A wrong method for business users over the local socket (pwd rendered as
		// peer): pgbouncer's server logins as `test` fail.
		return []sandboxRule{{File: "pg_hba.conf",
			Old:    "local    all                +dbrole_readonly                      scram-sha-256\n",
			New:    fixed("local    all                +dbrole_readonly                      peer\n"),
			Reason: "PGCC_E2E_BREAK=hba"}}, nil
	case "check":
		// A wrong health-check path for the primary service: it routes to replicas.
		return []sandboxRule{{File: "pg-test-primary.cfg",
			Old: "uri /primary\n", New: fixed("uri /replica\n"), Reason: "PGCC_E2E_BREAK=check"}}, nil
	}
	return nil, fmt.Errorf("PGCC_E2E_BREAK=%q: want hba or check", mode)
}

func testPaths() sandboxPaths {
	return sandboxPaths{CertDir: "/T/certs", Callback: "/T/callback.sh", HAProxyRun: "/T/haproxy", Backup: "/T/backup",
		Inst: map[string]instPaths{"c-1": {Sock: "/T/c-1/run", PgbConf: "/T/b/c/c-1/pgbouncer", PgbRun: "/T/c-1/pgbrun", Spool: "/T/c-1/spool"}}}
}

// TestSandboxRules checks the pure rewrite on a miniature bundle: literal results,
// the input left alone, and drift detection. (The real bundle is rewritten by the
// scenario, which fails the same way when a rule no longer matches.)
func TestSandboxRules(t *testing.T) {
	in := map[string]golden.File{
		"c/c-1/patroni.yml": {Data: []byte("cacert: /pg/cert/ca.crt\non_start: /pg/bin/pg-failover-callback\n" +
			"    unix_socket_directories: '/var/run/postgresql, /tmp'\n"), Mode: 0o600},
		"c/c-1/pgbouncer/pgbouncer.ini": {Data: []byte("%include /etc/pgbouncer/useropts.txt\nunix_socket_dir = /run/postgresql\n" +
			"pidfile = /run/postgresql/pgbouncer.pid\nclient_tls_ca_file = /pg/cert/ca.crt\n"), Mode: 0o644},
		"c/c-1/haproxy/haproxy.cfg": {Data: []byte("global\n    user haproxy\n    group haproxy\n    pidfile /var/run/haproxy.pid\n" +
			"    stats socket /var/run/haproxy.sock mode 600 level admin\n    maxconn 65535\n"), Mode: 0o644},
		"c/c-1/pgbackrest.conf": {Data: []byte("spool-path=/pg/spool\nrepo1-path=/pg/backup\n"), Mode: 0o600},
		"c/sql/roles.sql":       {Data: []byte("/pg/cert/ untouched\n"), Mode: 0o644},
	}
	got, err := sandbox(in, testPaths())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"c/c-1/patroni.yml": "cacert: /T/certs/ca.crt\non_start: /T/callback.sh\n    unix_socket_directories: '/T/c-1/run'\n",
		"c/c-1/pgbouncer/pgbouncer.ini": "%include /T/b/c/c-1/pgbouncer/useropts.txt\nunix_socket_dir = /T/c-1/pgbrun\n" +
			"pidfile = /T/c-1/pgbrun/pgbouncer.pid\nclient_tls_ca_file = /T/certs/ca.crt\n",
		"c/c-1/haproxy/haproxy.cfg": "global\n    pidfile /T/haproxy/haproxy.pid\n    stats socket /T/haproxy/haproxy.sock mode 600 level admin\n    maxconn 4096\n",
		"c/c-1/pgbackrest.conf":     "spool-path=/T/c-1/spool\nrepo1-path=/T/backup\n",
		"c/sql/roles.sql":           "/pg/cert/ untouched\n",
	}
	for p, w := range want {
		if g := string(got[p].Data); g != w {
			t.Errorf("%s:\ngot  %q\nwant %q", p, g, w)
		}
		if got[p].Mode != in[p].Mode {
			t.Errorf("%s: mode %v, want %v", p, got[p].Mode, in[p].Mode)
		}
	}
	if !strings.Contains(string(in["c/c-1/patroni.yml"].Data), "/pg/cert/") {
		t.Error("sandbox modified its input")
	}

	// As root, user/group stay.
	p := testPaths()
	p.Root = true
	got, err = sandbox(in, p)
	if err != nil {
		t.Fatal(err)
	}
	if g := string(got["c/c-1/haproxy/haproxy.cfg"].Data); !strings.Contains(g, "    user haproxy\n    group haproxy\n") {
		t.Errorf("root: user/group dropped:\n%s", g)
	}

	// Drift: a rule that no longer matches fails, naming the file and the string.
	drift := map[string]golden.File{}
	for k, f := range in {
		drift[k] = f
	}
	drift["c/c-1/pgbackrest.conf"] = golden.File{Data: []byte("spool-path=/pg/spool\nrepo1-path=/var/lib/pgbackrest\n"), Mode: 0o600}
	_, err = sandbox(drift, testPaths())
	if err == nil || !strings.Contains(err.Error(), `c/c-1/pgbackrest.conf: "repo1-path=/pg/backup\n" not found`) {
		t.Errorf("drift not reported: %v", err)
	}
	delete(drift, "c/c-1/pgbackrest.conf")
	_, err = sandbox(drift, testPaths())
	if err == nil || !strings.Contains(err.Error(), "no pgbackrest.conf in the bundle") {
		t.Errorf("missing target not reported: %v", err)
	}
}

// TestSandboxOnBundle builds the scenario's inventory with `pgcc build` and
// sandboxes the real bundle, without daemons (it runs under -short too): a
// template change that breaks a sandbox rule fails here first.
func TestSandboxOnBundle(t *testing.T) {
	root := t.TempDir()
	p := ports{Etcd: 2379, PG: 5432, Patroni: 8008, PgBouncer: 6432, Stats: 9101, Primary: 5433, Replica: 5434, Default: 5436, Offline: 5438}
	inv := filepath.Join(root, "inventory.yml")
	if err := os.WriteFile(inv, []byte(inventoryYAML(root, "127.9.9", "/usr/lib/postgresql/15/bin", p)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "build")
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"build", "-i", inv, "-o", out}, nil, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("pgcc build: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Errorf("pgcc build warns on the e2e inventory:\n%s", stderr.String())
	}
	b, err := golden.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	paths := sandboxPaths{CertDir: "/T/certs", Callback: "/T/callback.sh", HAProxyRun: "/T/haproxy", Backup: "/T/backup", Inst: map[string]instPaths{}}
	for _, n := range []string{"pg-test-1", "pg-test-2", "pg-test-3"} {
		paths.Inst[n] = instPaths{Sock: "/T/" + n + "/run", PgbConf: "/T/bundle/pg-test/" + n + "/pgbouncer", PgbRun: "/T/" + n + "/pgbrun", Spool: "/T/" + n + "/spool"}
	}
	for _, root := range []bool{false, true} {
		paths.Root = root
		sb, err := sandbox(b.Files, paths)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing that only root could create is left in what the daemons read.
		for k, f := range sb {
			if strings.HasSuffix(k, ".sql") || strings.HasSuffix(k, ".json") {
				continue
			}
			for _, bad := range []string{"/pg/cert", "/pg/bin", "/etc/pgbouncer", "/var/run/", "/run/postgresql", "/pg/backup", "/pg/spool", "/pg/data", "/pg/log"} {
				if strings.Contains(string(f.Data), bad) {
					t.Errorf("%s still names %s after the sandbox", k, bad)
				}
			}
		}
	}
	for _, mode := range []string{"hba", "check"} {
		rules, err := breakRules(mode)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rewrite(b.Files, rules); err != nil {
			t.Errorf("PGCC_E2E_BREAK=%s no longer applies: %v", mode, err)
		}
	}
}
