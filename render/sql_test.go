package render

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
)

// sqlRepoRoot is the repository root (two levels up from this file's directory).
func sqlRepoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// sqlRand is a deterministic random source for tests: verifiers (salts) are
// reproducible so goldens are stable.
func sqlRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

// sqlBuild compiles an inventory and renders the whole bundle of the
// selected clusters. prev is the previous bundle (nil: none).
func sqlBuild(t testing.TB, opts compiler.Options, clusters []string, prev map[string][]byte, seed uint64) map[string]File {
	t.Helper()
	res := compiler.Compile(opts)
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	files, _, err := Render(res.Fleet, Options{
		Clusters: clusters,
		Previous: func(p string) []byte { return prev[p] },
		Rand:     sqlRand(seed),
	})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	out := map[string]File{}
	for _, f := range files {
		out[f.Path] = f
	}
	return out
}

// sqlFiles returns the sql/ files of a cluster in apply order (sql.md §1):
// roles.sql, template.sql, then db files in definition order.
func sqlFiles(t testing.TB, files map[string]File, cl *compiler.Cluster) []File {
	t.Helper()
	var out []File
	names := []string{"roles.sql", "template.sql"}
	for _, d := range cl.Databases {
		names = append(names, "db-"+d.Name+".sql")
	}
	for _, n := range names {
		f, ok := files[cl.Name+"/sql/"+n]
		if !ok {
			t.Fatalf("missing %s/sql/%s", cl.Name, n)
		}
		out = append(out, f)
	}
	return out
}

func sqlBytes(files map[string]File) map[string][]byte {
	out := map[string][]byte{}
	for p, f := range files {
		out[p] = f.Data
	}
	return out
}

func sqlSortedPaths(files map[string]File) []string {
	var ps []string
	for p := range files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// sqlCheckGolden compares got with testdata/<name>; PGCC_UPDATE=1 rewrites it.
func sqlCheckGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	want := readGolden(t, filepath.Join("testdata", filepath.FromSlash(name)), got)
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (PGCC_UPDATE=1 to update):\n%s", name, sqlFirstDiff(string(want), string(got)))
	}
}

// sqlFirstDiff shows the first differing line.
func sqlFirstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(no line differs)"
}

// sqlGolden renders an inventory and compares every sql/ file with
// testdata/sql/<dir>/<cluster>/<file>.
func sqlGolden(t *testing.T, dir string, opts compiler.Options) {
	t.Helper()
	// Only the SQL renderer runs, so the salts it draws from the test random
	// source do not depend on which other renderers exist and in what order.
	res := compiler.Compile(opts)
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	ctx := &Context{Fleet: res.Fleet, Opts: Options{Rand: sqlRand(1), Previous: func(string) []byte { return nil }}}
	files := map[string]File{}
	for _, cl := range res.Fleet.Clusters {
		fs, err := renderSQL(ctx, cl)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		for _, f := range fs {
			files[f.Path] = f
		}
	}
	n := 0
	for _, p := range sqlSortedPaths(files) {
		if !strings.Contains(p, "/sql/") {
			continue
		}
		n++
		f := files[p]
		if f.Mode != ModePublic {
			t.Errorf("%s: mode %v, want %v", p, f.Mode, ModePublic)
		}
		if !bytes.HasSuffix(f.Data, []byte("\n")) || bytes.Contains(f.Data, []byte("\r")) {
			t.Errorf("%s: not LF-terminated lines", p)
		}
		sqlCheckGolden(t, "sql/"+dir+"/"+p, f.Data)
	}
	if n == 0 {
		t.Fatalf("no sql files rendered")
	}
}

func TestSQLGoldenExample(t *testing.T) {
	sqlGolden(t, "example", compiler.Options{Files: []string{filepath.Join(sqlRepoRoot(t), "examples", "pigsty.yml")}})
}

func TestSQLGoldenReference(t *testing.T) {
	ref := filepath.Join(sqlRepoRoot(t), "..", "shared", "testdata", "reference", "pg-test.yml")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference inventory not found at %s (it is not part of the repository): %v", ref, err)
	}
	sqlGolden(t, "reference", compiler.Options{Files: []string{ref}})
}

func TestSQLGoldenFeatures(t *testing.T) {
	sqlGolden(t, "features", compiler.Options{Files: []string{filepath.Join("testdata", "sql", "pg15.yml")}})
}

// TestSQLGoldenMatrix renders the same inventory for every major version
// whose gates differ (sql.md §3, §6, §8).
func TestSQLGoldenMatrix(t *testing.T) {
	for _, v := range []string{"13", "15", "16", "17"} {
		t.Run("pg"+v, func(t *testing.T) {
			sqlGolden(t, "matrix/pg"+v, compiler.Options{Files: []string{filepath.Join("testdata", "sql", "matrix.yml")}, Vars: []string{"pg_version=" + v}})
		})
	}
}

// TestSQLVerifierReuse: a rebuild with the previous bundle present reuses
// every verifier byte for byte, whatever the random source; without it the
// salts are new; a changed password gets a new verifier, the others stay.
func TestSQLVerifierReuse(t *testing.T) {
	opts := compiler.Options{Files: []string{filepath.Join("testdata", "sql", "pg15.yml")}}
	first := sqlBuild(t, opts, nil, nil, 1)
	again := sqlBuild(t, opts, nil, sqlBytes(first), 99)
	for _, p := range sqlSortedPaths(first) {
		if !bytes.Equal(first[p].Data, again[p].Data) {
			t.Errorf("%s changed on a rebuild with the previous bundle:\n%s", p, sqlFirstDiff(string(first[p].Data), string(again[p].Data)))
		}
	}
	fresh := sqlBuild(t, opts, nil, nil, 99)
	if bytes.Equal(first["pg-sql/sql/roles.sql"].Data, fresh["pg-sql/sql/roles.sql"].Data) {
		t.Errorf("roles.sql is identical with another random source and no previous bundle")
	}

	data, err := os.ReadFile(filepath.Join("testdata", "sql", "pg15.yml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "password: RO.Pass.1", "password: RO.Pass.2", 1)
	opts2 := compiler.Options{Names: []string{filepath.Join("testdata", "sql", "pg15.yml")}, Datas: [][]byte{[]byte(changed)}}
	next := sqlBuild(t, opts2, nil, sqlBytes(first), 99)
	a, b := string(first["pg-sql/sql/roles.sql"].Data), string(next["pg-sql/sql/roles.sql"].Data)
	for _, role := range []string{"dbuser_app", "dbuser_moneta", "replicator", "dbuser_dba", "dbuser_monitor"} {
		if l := sqlLineWith(a, `ALTER ROLE "`+role+`" PASSWORD`); !strings.Contains(b, l) {
			t.Errorf("verifier of %s changed although its password did not", role)
		}
	}
	if l := sqlLineWith(a, `ALTER ROLE "dbuser_ro" PASSWORD`); strings.Contains(b, l) {
		t.Errorf("verifier of dbuser_ro kept although its password changed")
	}
}

// TestSQLNoPlaintext: no plaintext PostgreSQL or Patroni password of the
// inventory appears in any rendered file except the three that must hold
// credentials (README Secrets): patroni.yml, vip-manager.yml, pgbackrest.conf.
func TestSQLNoPlaintext(t *testing.T) {
	path := filepath.Join(sqlRepoRoot(t), "examples", "pigsty.yml")
	res := compiler.Compile(compiler.Options{Files: []string{path}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	secrets := map[string]bool{}
	for _, cl := range res.Fleet.Clusters {
		for _, u := range append(append([]*compiler.User{}, cl.DefaultRoles...), cl.Users...) {
			if u.Password != "" {
				secrets[u.Password] = true
			}
		}
		for _, v := range []string{"pg_admin_password", "pg_monitor_password", "pg_replication_password", "pg_dbsu_password", "patroni_password"} {
			if s := cl.Vars().Str(v); s != "" {
				secrets[s] = true
			}
		}
	}
	if len(secrets) < 8 {
		t.Fatalf("found only %d passwords in %s", len(secrets), path)
	}
	files := sqlBuild(t, compiler.Options{Files: []string{path}}, nil, nil, 1)
	allowed := map[string]bool{"patroni.yml": true, "vip-manager.yml": true, "pgbackrest.conf": true}
	for _, p := range sqlSortedPaths(files) {
		if allowed[filepath.Base(p)] {
			continue
		}
		for s := range secrets {
			if bytes.Contains(files[p].Data, []byte(s)) {
				t.Errorf("%s contains a plaintext password of the inventory", p)
			}
		}
	}
	if _, ok := files["pg-test/sql/roles.sql"]; !ok {
		t.Fatal("no roles.sql rendered")
	}
}

func TestSQLProvisionOff(t *testing.T) {
	files := sqlBuild(t, compiler.Options{Files: []string{filepath.Join("testdata", "sql", "pg15.yml")}, Vars: []string{"pg_provision=false"}}, nil, nil, 1)
	for p := range files {
		if strings.Contains(p, "/sql/") {
			t.Errorf("pg_provision: false still renders %s", p)
		}
	}
}

// TestSQLCorpus: the SQL renderer handles every cluster of the Pigsty corpus
// (the same inventories compiler/corpus_test.go compiles), deterministically.
func TestSQLCorpus(t *testing.T) {
	dir := filepath.Join(sqlRepoRoot(t), "..", "shared", "testdata", "pigsty-conf")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not found at %s (it is not part of the repository): %v", dir, err)
	}
	var paths []string
	if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yml") {
			paths = append(paths, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	clusters := 0
	for _, p := range paths {
		res := compiler.Compile(compiler.Options{Files: []string{p}, Vars: []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}})
		if errs := res.Diags.Errors(); len(errs) > 0 {
			t.Errorf("%s: %v", p, errs[0])
			continue
		}
		for _, cl := range res.Fleet.Clusters {
			clusters++
			render := func() []File {
				ctx := &Context{Fleet: res.Fleet, Opts: Options{Rand: sqlRand(7), Previous: func(string) []byte { return nil }}}
				files, err := renderSQL(ctx, cl)
				if err != nil {
					t.Fatalf("%s: cluster %s: %v", p, cl.Name, err)
				}
				return files
			}
			a, b := render(), render()
			if len(a) != len(b) || (cl.Vars().Bool("pg_provision") && len(a) != 2+len(cl.Databases)) {
				t.Errorf("%s: cluster %s: %d and %d files", p, cl.Name, len(a), len(b))
				continue
			}
			for i := range a {
				if !bytes.Equal(a[i].Data, b[i].Data) {
					t.Errorf("%s: %s is not deterministic", p, a[i].Path)
				}
			}
		}
	}
	if clusters < 40 {
		t.Errorf("rendered only %d corpus clusters", clusters)
	}
}

// BenchmarkSQLRender renders the SQL files of a synthetic fleet (build
// budget: 1000 clusters × 3 hosts in ≤ 2 s for the whole bundle).
func BenchmarkSQLRender(b *testing.B) {
	data := fleetgen.Inventory(100)
	res := compiler.Compile(compiler.Options{Names: []string{"fleet.yml"}, Datas: [][]byte{data}})
	if errs := res.Diags.Errors(); len(errs) > 0 {
		b.Fatal(errs[0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx := &Context{Fleet: res.Fleet, Opts: Options{Rand: sqlRand(1), Previous: func(string) []byte { return nil }}}
		for _, cl := range res.Fleet.Clusters {
			if _, err := renderSQL(ctx, cl); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(res.Fleet.Clusters)), "ns/cluster")
}
