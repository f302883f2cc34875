package tuning

import "testing"

// BenchmarkCompute measures one instance's full parameter set (the build
// calls Compute once per instance: 3000 clusters × 3 hosts in BenchmarkBuild).
func BenchmarkCompute(b *testing.B) {
	in := NewInput(16, 65536, 1000)
	in.PgBackRest, in.Cluster = true, "pg-test"
	in.Libs = "citus, timescaledb, pg_stat_statements, auto_explain, pg_stat_monitor"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormatJSON measures `pgcc tune --format json` rendering.
func BenchmarkFormatJSON(b *testing.B) {
	r, err := Compute(NewInput(16, 65536, 1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = FormatJSON(r)
	}
}
