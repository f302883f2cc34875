package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pgcc-dev/pgcc/golden"
	"github.com/pgcc-dev/pgcc/schema"
)

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, fi.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func buildWith(t *testing.T, workers int, args ...string) {
	t.Helper()
	old := schema.Workers
	schema.Workers = workers
	defer func() { schema.Workers = old }()
	var stderr bytes.Buffer
	if code := Main(append([]string{"build"}, args...), nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("pgcc build %v: exit %d\n%s", args, code, stderr.String())
	}
}

// TestBuildDeterministic: the same inventory gives the same bytes, with one
// validation worker or many. SCRAM salts are random on a first build and
// reused from the previous bundle afterwards (README "Secrets"), so the
// second build runs over a copy of the first.
func TestBuildDeterministic(t *testing.T) {
	inv := filepath.Join("..", "..", "..", "examples", "pigsty.yml")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	buildWith(t, max(4, runtime.GOMAXPROCS(0)), "-i", inv, "-o", a)
	copyDir(t, a, b)
	buildWith(t, 1, "-i", inv, "-o", b)
	buildWith(t, 3, "-i", inv, "-o", a)
	ba, err := golden.Read(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := golden.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if changes := golden.Compare(ba, bb); len(changes) > 0 {
		var out bytes.Buffer
		_ = golden.FormatChanges(&out, changes, golden.DiffOptions{})
		t.Fatalf("two builds differ:\n%s", out.String())
	}
	if len(ba.Files) < 2 {
		t.Fatalf("bundle has only %d files", len(ba.Files))
	}
	// No timestamps, no build-machine names: the manifest is the content.
	// (A short name like "vm" turns up in base64 verifiers by chance.)
	host, _ := os.Hostname()
	for p, f := range ba.Files {
		if len(host) >= 6 && bytes.Contains(f.Data, []byte(host)) {
			t.Errorf("%s contains the build machine's host name %q", p, host)
		}
	}
}
