package compiler

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// sharedDir locates ../shared next to the repository, or skips.
func sharedDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (it is not part of the repository): %v", dir, err)
	}
	return dir
}

func corpusFiles(t testing.TB) []string {
	dir := filepath.Join(sharedDir(t), "testdata", "pigsty-conf")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var corpusVars = []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}

// TestCorpus: every Pigsty inventory that defines a PGSQL cluster compiles
// without errors (issue: foundation acceptance).
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	if len(files) < 40 {
		t.Fatalf("found only %d corpus files", len(files))
	}
	withPG := 0
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(sharedDir(t), "testdata", "pigsty-conf"), f)
		t.Run(rel, func(t *testing.T) {
			res := Compile(Options{Files: []string{f}, Vars: corpusVars})
			if errs := res.Diags.Errors(); len(errs) > 0 {
				t.Fatalf("%d errors:\n%s", len(errs), errs.Error())
			}
			if len(res.Fleet.Clusters) > 0 {
				withPG++
			}
		})
	}
	t.Logf("%d of %d inventories define PGSQL clusters", withPG, len(files))
	if withPG == 0 {
		t.Error("no corpus inventory defines a PGSQL cluster")
	}
}
