//go:build unix

package golden

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestWriteModesIgnoreUmask: modes are applied exactly whatever the umask (process-wide, so this test
// must not run in parallel with others).
func TestWriteModesIgnoreUmask(t *testing.T) {
	for _, umask := range []int{0o077, 0o000, 0o022} {
		t.Run(fmt.Sprintf("umask=%04o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			dir := filepath.Join(t.TempDir(), "bundle")
			b := bundleOf(t, map[string]string{"c/i/patroni.yml": "x", "c/i/pg_hba.conf": "x", "c/run.sh": "x"},
				map[string]fs.FileMode{"c/i/patroni.yml": 0o600, "c/run.sh": 0o755})
			must(t, Write(dir, b, WriteOptions{NoSync: true}))
			var got []string
			must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				fi, err := d.Info()
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				got = append(got, fmt.Sprintf("%s %s", fi.Mode(), rel))
				return nil
			}))
			want := []string{
				"drwxr-xr-x .",
				"drwxr-xr-x c",
				"drwxr-xr-x c/i",
				"-rw------- c/i/patroni.yml",
				"-rw-r--r-- c/i/pg_hba.conf",
				"-rwxr-xr-x c/run.sh",
				"-rw-r--r-- manifest.json",
			}
			if !slices.Equal(got, want) {
				t.Errorf("modes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Read reports the same modes, and a rewrite keeps them.
			rb, err := Read(dir)
			must(t, err)
			if rb.Files["c/i/patroni.yml"].Mode != 0o600 || rb.Files["c/run.sh"].Mode != 0o755 {
				t.Errorf("Read modes: %v", rb.Files)
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("root: %v %v", fi, err)
			}
		})
	}
}
