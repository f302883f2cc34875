package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/rogpeppe/go-internal/diff"
)

func load(t *testing.T, name string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", name), config.LoadOptions{})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return cfg
}

// TestGolden compares every plan file with testdata/golden/<case>/; update
// with PGCC_UPDATE=1 go test ./migrate/plan.
func TestGolden(t *testing.T) {
	for _, name := range []string{"pigsty.yml", "options.yml", "subscription.yml"} {
		t.Run(name, func(t *testing.T) {
			p := Build(load(t, name))
			files := p.Files()
			dir := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".yml"))
			if os.Getenv("PGCC_UPDATE") == "1" {
				_ = os.RemoveAll(dir)
				for rel, data := range files {
					path := filepath.Join(dir, rel)
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var have []string
			_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					rel, _ := filepath.Rel(dir, path)
					have = append(have, filepath.ToSlash(rel))
				}
				return nil
			})
			var want []string
			for k := range files {
				want = append(want, k)
			}
			sort.Strings(want)
			sort.Strings(have)
			if strings.Join(have, ",") != strings.Join(want, ",") {
				t.Fatalf("golden files %v, plan files %v (PGCC_UPDATE=1 to update)", have, want)
			}
			for _, rel := range want {
				g, err := os.ReadFile(filepath.Join(dir, rel))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(g, files[rel]) {
					t.Errorf("%s differs from golden (PGCC_UPDATE=1 to update):\n%s", rel, diff.Diff("golden", g, "plan", files[rel]))
				}
			}
		})
	}
}

func TestDeterministicAndSecretFree(t *testing.T) {
	t.Setenv("PGMIGRATE_TEST_ADMIN_PW", "Env.Secret.Value")
	cfg, err := config.Load(filepath.Join("testdata", "options.yml"), config.LoadOptions{ResolveSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := Build(cfg).Files(), Build(cfg).Files()
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Errorf("%s differs between two builds", k)
		}
		for _, secret := range []string{"S3cret.Inline", "Env.Secret.Value", "DBUser."} {
			if bytes.Contains(v, []byte(secret)) {
				t.Errorf("%s contains a password", k)
			}
		}
	}
}

func TestStepsApplicable(t *testing.T) {
	ids := func(p *Plan) string {
		var s []string
		for _, st := range p.Steps {
			s = append(s, st.ID)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct{ file, want string }{
		{"pigsty.yml", "doctor prepare-source copy-schema create-pub create-slot copy-data post-data create-sub wait-sync streaming"},
		{"options.yml", "doctor fix-identity prepare-source copy-schema create-pub create-slot copy-data post-data create-sub prepare-reverse wait-sync streaming"},
		{"subscription.yml", "doctor prepare-source copy-schema create-pub create-sub wait-sync streaming"},
	} {
		if got := ids(Build(load(t, tc.file))); got != tc.want {
			t.Errorf("%s: steps %q, want %q", tc.file, got, tc.want)
		}
	}
}

func TestStructureHash(t *testing.T) {
	base := load(t, "pigsty.yml")
	h := StructureHash(base)
	cfg2, err := config.Load(filepath.Join("testdata", "pigsty.yml"), config.LoadOptions{Vars: []string{"copy.workers=8", "lag.ready_bytes=32MB"}})
	if err != nil {
		t.Fatal(err)
	}
	if StructureHash(cfg2) != h {
		t.Errorf("tuning options changed the structure hash")
	}
	cfg3, err := config.Load(filepath.Join("testdata", "pigsty.yml"), config.LoadOptions{Vars: []string{"tables.exclude=['public.x']"}})
	if err != nil {
		t.Fatal(err)
	}
	if StructureHash(cfg3) == h {
		t.Errorf("a filter change kept the structure hash")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"-N":            "-N",
		`"pg_"*`:        `'"pg_"*'`,
		"it's":          `'it'\''s'`,
		"":              "''",
		"data/x.dump":   "data/x.dump",
		"a b":           "'a b'",
		"$HOME":         "'$HOME'",
		"--no-owner":    "--no-owner",
		"*.\"spatial\"": `'*."spatial"'`,
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "a", "it's", "'''", "a\nb", "$(rm -rf /)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ShellQuote(s)
		// Unquote per POSIX sh rules for the two forms ShellQuote emits.
		if !strings.HasPrefix(q, "'") {
			if q != s {
				t.Fatalf("bare form changed the word")
			}
			return
		}
		var out strings.Builder
		in := false
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '\'' {
				in = !in
				continue
			}
			if !in {
				if c == '\\' && i+1 < len(q) {
					out.WriteByte(q[i+1])
					i++
					continue
				}
				t.Fatalf("unquoted byte %q outside quotes in %q", c, q)
			}
			out.WriteByte(c)
		}
		if in || out.String() != s {
			t.Fatalf("round trip of %q gave %q", s, out.String())
		}
	})
}

func TestPgDumpPattern(t *testing.T) {
	for in, want := range map[string]string{
		"pg_*":              `"pg_"*`,
		"*.spatial_ref_sys": `*."spatial_ref_sys"`,
		"Legacy*":           `"Legacy"*`,
		`we"ird`:            `"we""ird"`,
	} {
		if got := PgDumpPattern(in); got != want {
			t.Errorf("PgDumpPattern(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestGlobRegex(t *testing.T) {
	for in, want := range map[string]string{
		"order*":  "^order.*$",
		"a?c":     "^a.c$",
		"x.y":     `^x\.y$`,
		"a$b":     `^a\$b$`,
		"tmp_(1)": `^tmp_\(1\)$`,
	} {
		if got := globRegex(in); got != want {
			t.Errorf("globRegex(%q) = %s, want %s", in, got, want)
		}
	}
}
