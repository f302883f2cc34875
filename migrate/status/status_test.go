package status

import (
	"context"
	"errors"
	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }

func sample() *Status {
	pid := int32(4242)
	return &Status{
		Format: 1, Migration: "pg-meta.meta", Phase: "copy-data", Step: "copy-data", Health: []string{},
		Source: Source{Up: true, LSN: "0/3000000", Slot: &Slot{Name: "sub_pg_meta_meta", Exists: true, Active: true,
			LagBytes: i64(2048), RetainedBytes: i64(3 << 20), WALStatus: "reserved"}},
		Destination: Destination{Up: true, Subscription: &Subscription{Name: "sub_pg_meta_meta", Exists: true, Enabled: true,
			WorkerPID: &pid, ApplyErrorCount: i64(0), SyncErrorCount: i64(0)}},
		Tables: []Table{
			{Name: `"public"."a"`, State: Copying, BytesTotal: 100 << 20, BytesDone: 25 << 20, RowsDone: 1000},
			{Name: `"public"."b"`, State: Copied, BytesTotal: 8192, BytesDone: 8192},
		},
		Rates: Rates{Copy: f64(10 << 20)},
	}
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	sample().WriteText(&b, true)
	want := `pg-meta.meta  phase copy-data  step copy-data
source       up  lsn 0/3000000  slot sub_pg_meta_meta active  lag 2.0 KiB  retained 3.0 MiB  wal reserved
destination  up  subscription sub_pg_meta_meta enabled  worker 4242  errors apply 0 sync 0
TABLE         STATE    COPIED
"public"."a"  copying  [#######.......................]  25%  25.0 MiB / 100.0 MiB
"public"."b"  copied   8.0 KiB / 8.0 KiB
overall                [#######.......................]  25%  25.0 MiB / 100.0 MiB
rates: copy 10.0 MiB/s  apply -  wal -
health: ok
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	s := sample()
	s.Health = []string{"no apply worker for sub_pg_meta_meta"}
	s.WriteText(&b, false)
	if strings.Contains(b.String(), "[#") || !strings.Contains(b.String(), "UNHEALTHY: no apply worker for sub_pg_meta_meta") {
		t.Errorf("non-tty text:\n%s", b.String())
	}
}

func TestMetrics(t *testing.T) {
	m := string(sample().Metrics())
	for _, w := range []string{
		`pgmigrate_up{side="source"} 1`,
		"pgmigrate_lag_bytes 2048",
		"pgmigrate_slot_retained_bytes 3145728",
		`pgmigrate_copy_bytes_total{table="\"public\".\"a\""} 26214400`,
		`pgmigrate_tables{state="copying"} 1`,
		`pgmigrate_tables{state="ready"} 0`,
		"pgmigrate_apply_errors_total 0",
		"# TYPE pgmigrate_lag_bytes gauge",
	} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %q:\n%s", w, m)
		}
	}
	if got := StepMetrics(map[string]string{"doctor": "done", "copy-data": "running"}); !strings.Contains(got, `pgmigrate_step{step="copy-data",status="running"} 1`+"\n"+`pgmigrate_step{step="doctor",status="done"} 1`) {
		t.Errorf("step metrics:\n%s", got)
	}
}

func TestEWMA(t *testing.T) {
	// After one half-life the estimate moves halfway to the new sample.
	got := ewma(f64(100), 200, 30*time.Second)
	if *got != 150 {
		t.Errorf("ewma = %v, want 150", *got)
	}
	if got := ewma(nil, 42, time.Second); *got != 42 {
		t.Errorf("first sample = %v", *got)
	}
}

func TestCutoverMetricsAndText(t *testing.T) {
	dir := t.TempDir()
	cj := `{"format": 1, "kind": "cutover", "attempt": 2, "outcome": "completed", "switch": "pgbouncer",
 "times": {"fence_applied": {"t_ms": 48, "ts": "2025-01-02T03:04:05.048Z", "unix_us": 1}, "dst_writable": {"t_ms": 660.5, "ts": "2025-01-02T03:04:05.660Z", "unix_us": 2}},
 "fence_lsn": "0/3000060", "fence_acquire_ms": 48, "pause_ms": 612.5, "verify": "equal", "warnings": null}`
	if err := os.WriteFile(filepath.Join(dir, "cutover.json"), []byte(cj), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "verify.json"), []byte(`{"summary": {"mismatched": 0}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sample()
	s.Phase = "cut-over"
	s.Cutover = readSwitch(dir, "cutover.json")
	s.VerifyMismatched = readVerifyMismatched(dir)
	if c := s.Cutover; c == nil || c.Attempt != 2 || *c.PauseMs != 612.5 || c.FenceApplied != "2025-01-02T03:04:05.048Z" || c.Warnings == nil {
		t.Fatalf("readSwitch: %+v", c)
	}
	if readSwitch(dir, "rollback.json") != nil {
		t.Errorf("rollback.json does not exist")
	}
	m := string(s.Metrics())
	for _, w := range []string{
		`pgmigrate_phase{phase="cut-over"} 1`,
		"pgmigrate_cutover_pause_seconds 0.6125",
		"pgmigrate_cutover_fence_acquire_seconds 0.048",
		`pgmigrate_cutover_attempt{outcome="completed"} 2`,
		"pgmigrate_verify_mismatched_tables 0",
	} {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %q:\n%s", w, m)
		}
	}
	var b strings.Builder
	s.WriteText(&b, false)
	if !strings.Contains(b.String(), "cutover: attempt 2 completed  write pause 0.613 s  fence lsn 0/3000060  verify equal\n") {
		t.Errorf("text:\n%s", b.String())
	}
	j := string(s.JSON())
	if !strings.Contains(j, `"pause_ms": 612.5`) || !strings.Contains(j, `"fence_lsn": "0/3000060"`) {
		t.Errorf("json:\n%s", j)
	}
}

// A failed catalog read on an up side is a health problem, not an empty
// field: an unreadable slot must not look like a missing one.
func TestReadFailed(t *testing.T) {
	s := &Status{Health: []string{}}
	src := &db.Conn{Side: db.Source}
	dst := &db.Conn{Side: db.Destination}
	s.readFailed(src, "slot sub_x", errors.New("permission denied for view pg_replication_slots"))
	s.readFailed(src, "the current WAL position", errors.New("timeout: conninfo host=h password=S3cret"))
	s.readFailed(dst, "subscription sub_x", errors.New("relation does not exist"))
	want := []string{
		"cannot read slot sub_x on the source: permission denied for view pg_replication_slots",
		"cannot read the current WAL position on the source: timeout: conninfo host=h password=********",
		"cannot read subscription sub_x on the destination: relation does not exist",
	}
	if !slices.Equal(s.Health, want) {
		t.Errorf("health:\n%q\nwant\n%q", s.Health, want)
	}
	if s.Source.Err != want[0] || s.Destination.Err != want[2] {
		t.Errorf("errors: source %q destination %q", s.Source.Err, s.Destination.Err)
	}
	if s.Healthy() {
		t.Errorf("healthy with failed reads")
	}
}

// TestSampleUnreadableJournal: a journal that cannot be read makes the
// sample unhealthy instead of reporting an empty migration.
func TestSampleUnreadableJournal(t *testing.T) {
	cfg, err := config.Parse("m.yml", []byte(`src_cls: pg-meta
src_db: meta
src_ip: 127.0.0.1
dst_cls: pg-test
dst_db: test
dst_ip: 127.0.0.1
src_pg: postgres://u@127.0.0.1:1/meta?connect_timeout=1
dst_pg: postgres://u@127.0.0.1:1/test?connect_timeout=1
`), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.jsonl")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	w := &Watcher{Cfg: cfg, Opener: &db.Opener{Cfg: cfg}, Dir: dir}
	defer w.Close()
	s := w.Sample(context.Background())
	if len(s.Health) == 0 || s.Health[0] != "cannot read the journal: read journal: read "+path+": is a directory" {
		t.Errorf("health: %q", s.Health)
	}
	if s.Healthy() {
		t.Errorf("healthy with an unreadable journal")
	}
}
