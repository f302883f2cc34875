package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/writer"
)

// BenchmarkCutover is testing.md §9's cutover benchmark: two PostgreSQL 15
// servers, PgBouncer 1.18 in transaction mode in front of the source, a
// writer at 1,500 TPS on 8 connections through PgBouncer, and a cutover with
// the pgbouncer switch in the middle of the run. It reports
//
//	pause-ms    cutover.json's pause_ms (fence applied → destination writable)
//	fence-ms    cutover.json's fence_acquire_ms
//	max-gap-ms  the writer's largest gap between acknowledged commits
//	tps-ratio   achieved acknowledged TPS ÷ 1,500 (goal ≥ 0.95)
//	failed-tx   transactions the writer saw fail (goal 0)
//	lost-rows   acknowledged ids missing on the destination (must be 0)
//
// By default (the `-benchtime 1x` smoke of make test) the run is short: 4 s
// of writes, cutover at 2 s, no pgbench data (≈ 10 s in all). With
// PGCC_BENCH_CUTOVER=1 it is the full §9 run: pgbench scale 20 plus the
// ledger, 20 s of writes, cutover at 8 s. Record it with
//
//	PGCC_BENCH_CUTOVER=1 go test ./cmd/pgmigrate -run '^$' -bench Cutover -benchtime 1x -count 5 -cpu 2
//
// and gate new/old pause-ms ≤ 1.5 with benchstat.
func BenchmarkCutover(b *testing.B) {
	l := newLab(b, "pgbouncer") // skips under -short, like every slow scenario
	b.Setenv("PGMIGRATE_POLL_INTERVAL", "100ms")
	l.psql(l.src, "", roleSQL)
	l.psql(l.dst, "", roleSQL)
	full := os.Getenv("PGCC_BENCH_CUTOVER") == "1"
	total, at := 4*time.Second, 2*time.Second
	if full {
		total, at = 20*time.Second, 8*time.Second
	}
	const rate = 1500
	var pause, fence, gap, ratio, failed, lost float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sdb := fmt.Sprintf("bench%d", i)
		e := l.cutSetupPrepared(b, "bench"+fmt.Sprint(i), sdb, sdb+"_d", "lag: {sample_interval: 50ms}\nfence: {release_timeout: 1s}\ntables: {no_key: skip}\n", func() {
			if full {
				l.pgbenchInit(sdb, 20)
			}
		})
		w, err := writer.Start(e.ctx, writer.Options{ConnString: e.viaPgbouncer(), Rate: rate, Conns: 8})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		time.Sleep(at)
		b.StartTimer()
		e.mustPgm(0, "cutover", "--yes", "-f", e.file)
		b.StopTimer()
		time.Sleep(time.Until(start.Add(total)))
		res := w.Stop()
		rec := e.record("cutover.json")
		missing, err := writer.Missing(e.ctx, e.direct(l.dst, "postgres", e.ddb), "ledger", res.IDs())
		if err != nil {
			b.Fatal(err)
		}
		pause += *rec.PauseMs
		fence += *rec.FenceAcquireMs
		gap += float64(res.MaxGap().Microseconds()) / 1000
		ratio += res.TPS() / rate
		failed += float64(len(res.Failed) + len(res.Unknown))
		lost += float64(len(missing))
		b.Logf("pause %.1f ms, fence %.1f ms, parts %v; writer %.0f TPS, max gap %v, %d failed, %d lost",
			*rec.PauseMs, *rec.FenceAcquireMs, rec.PartsMs, res.TPS(), res.MaxGap().Round(time.Millisecond), len(res.Failed)+len(res.Unknown), len(missing))
	}
	n := float64(b.N)
	b.ReportMetric(pause/n, "pause-ms")
	b.ReportMetric(fence/n, "fence-ms")
	b.ReportMetric(gap/n, "max-gap-ms")
	b.ReportMetric(ratio/n, "tps-ratio")
	b.ReportMetric(failed/n, "failed-tx")
	b.ReportMetric(lost/n, "lost-rows")
}
