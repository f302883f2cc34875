package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
)

// benchDir is where BenchmarkBuild writes bundles: tmpfs when the machine has
// one, so the benchmark measures pgcc rather than the disk (on the reference
// VM a file create on ext4 costs ~1 ms, on tmpfs ~20 µs). PGCC_BENCH_DIR
// overrides it.
func benchDir(b *testing.B) string {
	if d := os.Getenv("PGCC_BENCH_DIR"); d != "" {
		return d
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "pgcc-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return b.TempDir()
}

// BenchmarkBuild is the full `pgcc build` of a synthetic fleet of N clusters
// × 3 hosts, writing the bundle (testing.md §9). Gates are ratios:
// ns/instance at 3000 ≤ 2 × at 10; t(1000)/t(100) ≤ 12.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 3000} {
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			dir := benchDir(b)
			inv := filepath.Join(dir, fmt.Sprintf("fleet-%d.yml", n))
			if err := os.WriteFile(inv, fleetgen.Inventory(n), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out := filepath.Join(dir, fmt.Sprintf("bundle-%d-%d", n, i))
				var stderr bytes.Buffer
				if code := Main([]string{"build", "-i", inv, "-o", out}, nil, io.Discard, &stderr); code != 0 {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
				b.StopTimer()
				os.RemoveAll(out)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(3*n), "ns/instance")
		})
	}
}
