package render

import (
	"os"
	"path/filepath"
	"testing"
)

// readGolden returns the golden file at path for comparison with got. With
// PGCC_UPDATE=1 it writes got there first (creating directories) and returns got,
// so the comparison passes.
func readGolden(t *testing.T, path string, got []byte) []byte {
	t.Helper()
	if os.Getenv("PGCC_UPDATE") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with PGCC_UPDATE=1 to create it)", err)
	}
	return want
}
