package render

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/golden/testenv"
)

// Real-daemon oracles for the HBA files (testing.md §4.2, §4.4).

// hbaSource is one rendered HBA file and where it came from.
type hbaSource struct {
	name    string // inventory:instance
	content string
}

// hbaCorpus renders pg_hba.conf (pgb false) or pgb_hba.conf of every instance of the
// example inventory, the reference inventory and every pigsty-conf inventory (built
// with the corpus facts), deduplicated by content.
func hbaCorpus(t *testing.T, pgb bool) []hbaSource {
	t.Helper()
	shared := hbaSharedDir(t)
	_, file, _, _ := runtime.Caller(0)
	var inputs []string
	if ex := filepath.Join(filepath.Dir(file), "..", "examples", "pigsty.yml"); fileExists(ex) {
		inputs = append(inputs, ex)
	}
	inputs = append(inputs, filepath.Join(shared, "testdata", "reference", "pg-test.yml"))
	err := filepath.WalkDir(filepath.Join(shared, "testdata", "pigsty-conf"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yml") {
			inputs = append(inputs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []hbaSource
	clusters := 0
	for _, in := range inputs {
		res := compiler.Compile(compiler.Options{Files: []string{in}, Vars: hbaFactVars})
		if errs := res.Diags.Errors(); len(errs) > 0 {
			t.Errorf("%s: %d errors:\n%s", in, len(errs), errs.Error())
			continue
		}
		for _, cl := range res.Fleet.Clusters {
			clusters++
			for _, inst := range cl.Members {
				if pgb && !inst.Bool("pgbouncer_enabled") {
					continue
				}
				h, err := BuildHBA(res.Fleet, cl, inst, pgb)
				if err != nil {
					t.Errorf("%s %s: %v", in, inst.Name, err)
					continue
				}
				b, err := h.Bytes()
				if err != nil {
					t.Errorf("%s %s: %v", in, inst.Name, err)
					continue
				}
				if !seen[string(b)] {
					seen[string(b)] = true
					out = append(out, hbaSource{name: filepath.Base(in) + ":" + inst.Name, content: string(b)})
				}
			}
		}
	}
	if clusters < 40 {
		t.Fatalf("only %d clusters in %d inventories", clusters, len(inputs))
	}
	t.Logf("%d inventories, %d clusters, %d distinct files", len(inputs), clusters, len(out))
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// hbaBatch concatenates files; starts[i] is the 1-based first line of file i.
func hbaBatch(files []hbaSource) (string, []int) {
	var b strings.Builder
	starts := make([]int, len(files))
	line := 1
	for i, f := range files {
		starts[i] = line
		b.WriteString(f.content)
		line += strings.Count(f.content, "\n")
	}
	return b.String(), starts
}

// hbaFileOf maps a line of the batch back to its file and line.
func hbaFileOf(files []hbaSource, starts []int, line int) (int, int) {
	i := sort.Search(len(starts), func(i int) bool { return starts[i] > line }) - 1
	return i, line - starts[i] + 1
}

// ruleLineCount counts the lines of a file that are rules (not comments or blank).
func ruleLineCount(content string) int {
	n := 0
	for _, l := range strings.Split(content, "\n") {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
			n++
		}
	}
	return n
}

// TestHBAPostgresLoads: every rendered pg_hba.conf (example, reference, whole corpus)
// loads in PostgreSQL 15 with ssl=on: pg_hba_file_rules shows no error and one row
// per rule line. One server; the files are checked as one concatenated file (the view
// parses the file at query time), errors mapped back to file and line.
func TestHBAPostgresLoads(t *testing.T) {
	testenv.Need(t, "postgres")
	files := hbaCorpus(t, false)
	pg := testenv.StartPostgres(t, testenv.PGOptions{SSL: true})
	batch, starts := hbaBatch(files)
	rows, err := testenv.HBARules(t, pg, batch)
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, len(files))
	for _, r := range rows {
		i, l := hbaFileOf(files, starts, r.Line)
		count[i]++
		if r.Error != "" {
			line := strings.Split(files[i].content, "\n")[l-1]
			t.Errorf("%s line %d %q: %s", files[i].name, l, line, r.Error)
		}
	}
	for i, f := range files {
		if want := ruleLineCount(f.content); count[i] != want {
			t.Errorf("%s: pg_hba_file_rules has %d rows, the file %d rule lines", f.name, count[i], want)
		}
	}
}

// TestHBAPostgresReadsReference: PostgreSQL's own reading of the reference files
// (pg_hba_file_rules) equals the enabled reference facts, line for line.
func TestHBAPostgresReadsReference(t *testing.T) {
	testenv.Need(t, "postgres")
	ref := filepath.Join(hbaSharedDir(t), "testdata", "reference")
	f := hbaCompileFile(t, filepath.Join(ref, "pg-test.yml"))
	pg := testenv.StartPostgres(t, testenv.PGOptions{SSL: true})
	for _, inst := range []string{"pg-test-1", "pg-test-2", "pg-test-3"} {
		content := hbaFile(t, f, "pg-test", inst, false)
		rows, err := testenv.HBARules(t, pg, content)
		if err != nil {
			t.Fatal(err)
		}
		var got, want [][]any
		for _, r := range rows {
			if r.Error != "" {
				t.Errorf("%s line %d: %s", inst, r.Line, r.Error)
				continue
			}
			addr := ""
			if r.Address != "" {
				a, err1 := netip.ParseAddr(r.Address)
				m, err2 := netip.ParseAddr(r.Netmask)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s line %d: address %q netmask %q", inst, r.Line, r.Address, r.Netmask)
				}
				bits := 0
				for _, b := range m.AsSlice() {
					for i := 7; i >= 0; i-- {
						if b&(1<<i) != 0 {
							bits++
						}
					}
				}
				addr = netip.PrefixFrom(a, bits).String()
			}
			got = append(got, []any{true, r.Type, strings.Join(r.Database, ","), strings.Join(r.UserName, ","), addr, r.AuthMethod})
		}
		for _, fact := range hbaFacts(t, content) {
			if fact[0] == true {
				want = append(want, fact)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: PostgreSQL reads (-pgcc facts +pg_hba_file_rules):\n%s", inst, d)
		}
	}
}

var pgbParseErr = regexp.MustCompile(`could not parse hba config line (\d+)`)

// TestHBAPgbouncerLoads: pgbouncer 1.18 reads every rendered pgb_hba.conf without a
// "could not parse hba config line" (it reads auth_hba_file at start with
// auth_type = hba, logs bad lines and skips them). All files are concatenated into
// one; a sentinel bad line at the end proves the check sees pgbouncer's complaints.
func TestHBAPgbouncerLoads(t *testing.T) {
	testenv.Need(t, "pgbouncer")
	files := hbaCorpus(t, true)
	batch, starts := hbaBatch(files)
	sentinel := strings.Count(batch, "\n") + 1
	batch += "host all all 10.0.0.0/33 scram-sha-256\n"
	dir := testenv.TempDir(t)
	hba := filepath.Join(dir, "pgb_hba.conf")
	testenv.WriteDaemonFile(t, hba, []byte(batch), 0o600)
	testenv.WriteDaemonFile(t, filepath.Join(dir, "userlist.txt"), []byte(`"postgres" ""`+"\n"), 0o600)
	logPath := filepath.Join(dir, "pgbouncer.log")
	ini := fmt.Sprintf(`[databases]
postgres = host=127.0.0.1 port=1
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
pidfile = %s/pgbouncer.pid
logfile = %s
auth_type = hba
auth_hba_file = %s
auth_file = %s/userlist.txt
`, testenv.FreePort(t), dir, dir, logPath, hba, dir)
	iniPath := filepath.Join(dir, "pgbouncer.ini")
	testenv.WriteDaemonFile(t, iniPath, []byte(ini), 0o644)
	b := testenv.StartPgBouncer(t, iniPath)
	b.Stop()
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	sawSentinel := false
	for _, m := range pgbParseErr.FindAllStringSubmatch(string(log), -1) {
		n, _ := strconv.Atoi(m[1])
		if n == sentinel {
			sawSentinel = true
			continue
		}
		i, l := hbaFileOf(files, starts, n)
		line := strings.Split(files[i].content, "\n")[l-1]
		t.Errorf("pgbouncer could not parse %s line %d: %q", files[i].name, l, line)
	}
	if !sawSentinel {
		t.Fatalf("pgbouncer did not report the sentinel line %d; is the hba file read at start?\n%s", sentinel, log)
	}
	for _, l := range strings.Split(string(log), "\n") {
		if (strings.Contains(l, "WARNING") || strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL")) &&
			!pgbParseErr.MatchString(l) && !strings.Contains(l, fmt.Sprintf("line %d", sentinel)) && !strings.Contains(l, "invalid mask") {
			t.Errorf("pgbouncer log: %s", l)
		}
	}
	if !strings.Contains(string(log), "process up") {
		t.Errorf("pgbouncer log lacks 'process up':\n%s", log)
	}
}
