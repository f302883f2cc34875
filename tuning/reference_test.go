package tuning

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgcc-dev/pgcc/tuning/refnorm"
)

// sharedDir is /work/shared seen from this package: <repo>/../shared.
func sharedDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join("..", "..", "shared")
	if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("shared test data not found at %s (needs the pgcc workspace layout)", d)
	}
	return d
}

// refInput is the input of reference/tuning.json (reference/README.md): PG 18,
// SSD, auto connections, dest pgbouncer, ratio 0.25, default pg_libs, io
// method worker, pgBackRest enabled, cluster pg-test.
func refInput(cpu, mem, disk int, tmpl string) Input {
	in := NewInput(cpu, mem, disk)
	in.Template = tmpl
	in.PgBackRest = true
	in.Cluster = "pg-test"
	return in
}

// normalizeResult maps every parameter through the reference normaliser.
func normalizeResult(t *testing.T, r Result) map[string]any {
	t.Helper()
	out := make(map[string]any, len(r.Params))
	for _, p := range r.Params {
		v, err := refnorm.Normalize(p.Name, p.Value.String())
		if err != nil {
			t.Fatalf("normalise: %v", err)
		}
		out[p.Name] = v
	}
	return out
}

func TestReferenceTuningJSON(t *testing.T) {
	path := filepath.Join(sharedDir(t), "testdata", "reference", "tuning.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("reference not readable: %v", err)
	}
	var ref map[string]map[string]map[string]any
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(ref) != 4 {
		t.Fatalf("reference has %d templates, want 4", len(ref))
	}
	cases := 0
	for _, tmpl := range []string{OLTP, OLAP, Crit, Tiny} {
		sizes := ref[tmpl]
		keys := make([]string, 0, len(sizes))
		for k := range sizes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, size := range keys {
			want := sizes[size]
			t.Run(tmpl+"/"+size, func(t *testing.T) {
				parts := strings.Split(size, "-")
				if len(parts) != 3 {
					t.Fatalf("bad size key %q", size)
				}
				var n [3]int
				for i, s := range parts {
					if n[i], err = strconv.Atoi(s); err != nil {
						t.Fatalf("bad size key %q", size)
					}
				}
				res, err := Compute(refInput(n[0], n[1], n[2], tmpl))
				if err != nil {
					t.Fatal(err)
				}
				got := normalizeResult(t, res)
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("normalised parameters differ from reference (-want +got):\n%s", d)
				}
			})
			cases++
		}
	}
	if cases != 12 {
		t.Errorf("reference has %d cases, want 12 (4 templates × 3 sizes)", cases)
	}
}
