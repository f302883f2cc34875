package tuning

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// mustCompute computes or fails the test.
func mustCompute(t *testing.T, in Input) Result {
	t.Helper()
	r, err := Compute(in)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return r
}

// val returns the conf text of a parameter, or "—" when it is not emitted.
func val(r Result, name string) string {
	if p, ok := r.Get(name); ok {
		return p.Value.String()
	}
	return "—"
}

func in3(cpu, mem, disk int, tmpl string) Input {
	in := NewInput(cpu, mem, disk)
	in.Template = tmpl
	return in
}

// TestSpecReferenceTable is tuning.md §9 (PG 18, SSD, ratio 0.25, auto, dest pgbouncer).
func TestSpecReferenceTable(t *testing.T) {
	cols := []string{"shared_buffers", "work_mem", "maintenance_work_mem", "max_worker_processes", "max_parallel_workers",
		"max_parallel_workers_per_gather", "max_parallel_maintenance_workers", "io_workers", "max_wal_size", "temp_file_limit"}
	tests := []struct {
		cpu, mem, disk int
		tmpl           string
		want           []string
	}{
		{1, 1024, 20, OLTP, []string{"256MB", "64MB", "64MB", "24", "2", "2", "2", "4", "4GB", "1GB"}},
		{1, 1024, 20, Tiny, []string{"256MB", "16MB", "64MB", "20", "1", "0", "1", "3", "4GB", "1GB"}},
		{4, 8192, 100, OLTP, []string{"2048MB", "64MB", "512MB", "24", "2", "2", "2", "4", "20GB", "5GB"}},
		{4, 8192, 100, OLAP, []string{"2048MB", "64MB", "1024MB", "28", "4", "2", "2", "4", "20GB", "20GB"}},
		{4, 8192, 100, Crit, []string{"2048MB", "64MB", "512MB", "24", "2", "0", "2", "4", "20GB", "5GB"}},
		{4, 8192, 100, Tiny, []string{"2048MB", "16MB", "512MB", "20", "2", "0", "1", "3", "20GB", "5GB"}},
		{16, 65536, 1000, OLTP, []string{"16384MB", "64MB", "4096MB", "32", "8", "3", "6", "4", "200GB", "50GB"}},
		{16, 65536, 1000, OLAP, []string{"16384MB", "64MB", "8192MB", "36", "13", "8", "6", "8", "200GB", "200GB"}},
		{16, 65536, 1000, Crit, []string{"16384MB", "64MB", "4096MB", "32", "8", "0", "6", "4", "200GB", "50GB"}},
		{16, 65536, 1000, Tiny, []string{"16384MB", "65MB", "4096MB", "28", "8", "0", "5", "3", "200GB", "50GB"}},
		{64, 262144, 4000, OLTP, []string{"65536MB", "131MB", "16384MB", "80", "32", "8", "22", "16", "400GB", "100GB"}},
		{64, 262144, 4000, OLAP, []string{"65536MB", "131MB", "32768MB", "84", "52", "32", "22", "32", "400GB", "400GB"}},
		{64, 262144, 4000, Crit, []string{"65536MB", "131MB", "16384MB", "80", "32", "0", "22", "8", "400GB", "100GB"}},
		{64, 262144, 4000, Tiny, []string{"65536MB", "256MB", "16384MB", "76", "32", "0", "21", "3", "400GB", "100GB"}},
	}
	for _, tc := range tests {
		r := mustCompute(t, in3(tc.cpu, tc.mem, tc.disk, tc.tmpl))
		for i, c := range cols {
			if got := val(r, c); got != tc.want[i] {
				t.Errorf("%d-%d-%d %s: %s = %s, want %s", tc.cpu, tc.mem, tc.disk, tc.tmpl, c, got, tc.want[i])
			}
		}
	}
	// "Always" line of §9.
	r := mustCompute(t, in3(64, 65536, 4000, OLTP))
	if got := val(r, "effective_cache_size"); got != "49152MB" {
		t.Errorf("effective_cache_size at 64 GiB = %s, want 49152MB", got)
	}
	if got := val(r, "max_slot_wal_keep_size"); got != "600GB" {
		t.Errorf("max_slot_wal_keep_size = %s, want 600GB", got)
	}
}

func TestWorkMemClamp(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		mem     int
		maxConn int
		want    string
	}{
		{"oltp below lower bound", OLTP, 4096, 20, "64MB"},           // SB 1024 / 20 = 51.2
		{"oltp exactly 64", OLTP, 128000, 0, "64MB"},                 // SB 32000 / 500 = 64
		{"oltp just above 64", OLTP, 130000, 0, "65MB"},              // SB 32500 / 500 = 65
		{"oltp inside", OLTP, 8192, 20, "102MB"},                     // SB 2048 / 20 = 102.4
		{"oltp exactly 1GB", OLTP, 81920, 20, "1024MB"},              // SB 20480 / 20 = 1024
		{"oltp above 1GB", OLTP, 82000, 20, "1024MB"},                // SB 20500 / 20 = 1025
		{"crit above 1GB", Crit, 82000, 20, "1024MB"},                // same bounds as oltp
		{"olap above 1GB allowed", OLAP, 82000, 20, "1025MB"},        // olap cap is 8GB
		{"olap exactly 8GB", OLAP, 655360, 20, "8192MB"},             // SB 163840 / 20
		{"olap above 8GB", OLAP, 655440, 20, "8192MB"},               // SB 163860 / 20 = 8193
		{"olap below 64", OLAP, 8192, 0, "64MB"},                     // SB 2048 / 500
		{"tiny below 16", Tiny, 1024, 0, "16MB"},                     // SB 256 / 250 = 1.02
		{"tiny exactly 16", Tiny, 16000, 0, "16MB"},                  // SB 4000 / 250 = 16
		{"tiny 20", Tiny, 20000, 0, "20MB"},                          // SB 5000 / 250 = 20
		{"tiny exactly 256", Tiny, 256000, 0, "256MB"},               // SB 64000 / 250 = 256
		{"tiny above 256", Tiny, 262144, 0, "256MB"},                 // SB 65536 / 250 = 262.1
		{"floor not round", OLTP, 262143, 0, "131MB"},                // SB 65536 (ceil 65535.75) / 500 = 131.07
		{"explicit 10000 conns", OLTP, 1048576, 10000, "64MB"},       // SB 262144 / 10000 = 26.2
		{"explicit 20 conns tiny", Tiny, 2048, 20, "25MB"},           // SB 512 / 20 = 25.6
		{"explicit 20 conns tiny cap", Tiny, 32768, 20, "256MB"},     // SB 8192 / 20 = 409.6
		{"explicit 9999 olap floor", OLAP, 40000000, 9999, "1000MB"}, // SB 10000000 / 9999 = 1000.1
	}
	for _, tc := range tests {
		in := in3(8, tc.mem, 100, tc.tmpl)
		in.MaxConn = tc.maxConn
		if got := val(mustCompute(t, in), "work_mem"); got != tc.want {
			t.Errorf("%s: work_mem = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestMaintenanceWorkMem(t *testing.T) {
	tests := []struct {
		tmpl  string
		mem   int
		ratio float64
		want  string
	}{
		{OLTP, 1024, 0.25, "64MB"},     // SB 256 * 0.25
		{OLTP, 1028, 0.25, "65MB"},     // SB 257 * 0.25 = 64.25 → ceil
		{OLAP, 1028, 0.25, "129MB"},    // SB 257 * 0.5 = 128.5 → ceil
		{Crit, 1028, 0.25, "65MB"},     // as oltp
		{Tiny, 1028, 0.25, "65MB"},     // as oltp
		{OLTP, 1000, 0.3, "75MB"},      // SB 300 * 0.25
		{OLTP, 300, 0.14, "11MB"},      // SB 43 * 0.25 = 10.75
		{OLAP, 300, 0.14, "22MB"},      // SB 43 * 0.5 = 21.5
		{OLTP, 262144, 0.8, "52429MB"}, // SB 209716 (ceil 209715.2) * 0.25 = 52429
	}
	for _, tc := range tests {
		in := in3(4, tc.mem, 100, tc.tmpl)
		in.SharedBufferRatio = tc.ratio
		if got := val(mustCompute(t, in), "maintenance_work_mem"); got != tc.want {
			t.Errorf("%s mem %d ratio %v: maintenance_work_mem = %s, want %s", tc.tmpl, tc.mem, tc.ratio, got, tc.want)
		}
	}
}

// TestFloatEdge feeds the ratio through a variable so the product is a
// run-time float64 multiplication (Go folds constant expressions exactly).
// Pigsty (Jinja2, Python floats) computes ceil(M × r) in IEEE double.
//
// Note: tuning.md §1 claims 1000 × 0.3 = 300.00000000000006 → 301MB. In IEEE
// double (Go and Python alike) 1000 × 0.3 is exactly 300, so Pigsty renders
// 300MB; the rule "float64 and math.Ceil exactly as written" is followed, not
// the example. Real edge cases: 300 × 0.14 = 42.00000000000001 → 43MB,
// 1700 × 0.27 = 459.00000000000006 → 460MB.
func TestFloatEdge(t *testing.T) {
	tests := []struct {
		mem        int
		ratio      float64
		sb, ecs    string
		maint, wrk string
	}{
		{1000, 0.3, "300MB", "700MB", "75MB", "64MB"},
		{300, 0.14, "43MB", "257MB", "11MB", "64MB"},
		{1700, 0.27, "460MB", "1240MB", "115MB", "64MB"},
		{1500, 0.67, "1006MB", "494MB", "252MB", "64MB"},
		{340, 0.35, "119MB", "221MB", "30MB", "64MB"}, // 118.99999999999999 → 119
		{1000, 0.1, "100MB", "900MB", "25MB", "64MB"},
	}
	for _, tc := range tests {
		in := NewInput(2, tc.mem, 20)
		ratio := tc.ratio
		in.SharedBufferRatio = ratio
		r := mustCompute(t, in)
		for name, want := range map[string]string{"shared_buffers": tc.sb, "effective_cache_size": tc.ecs, "maintenance_work_mem": tc.maint, "work_mem": tc.wrk} {
			if got := val(r, name); got != want {
				t.Errorf("mem %d ratio %v: %s = %s, want %s", tc.mem, tc.ratio, name, got, want)
			}
		}
	}
}

func TestCPUExtremes(t *testing.T) {
	cols := []string{"max_worker_processes", "max_parallel_workers", "max_parallel_workers_per_gather", "max_parallel_maintenance_workers", "io_workers"}
	tests := []struct {
		cpu  int
		tmpl string
		want []string
	}{
		{1, OLTP, []string{"24", "2", "2", "2", "4"}},
		{1, OLAP, []string{"28", "2", "2", "2", "4"}},
		{1, Crit, []string{"24", "2", "0", "2", "4"}},
		{1, Tiny, []string{"20", "1", "0", "1", "3"}},
		{2, Tiny, []string{"20", "1", "0", "1", "3"}},
		{3, Tiny, []string{"20", "1", "0", "1", "3"}},
		{7, OLAP, []string{"28", "6", "3", "3", "4"}},
		{9, OLTP, []string{"25", "5", "2", "3", "4"}},
		{15, OLTP, []string{"31", "8", "3", "5", "4"}},
		{17, OLTP, []string{"33", "9", "3", "6", "5"}},
		{100, OLTP, []string{"116", "50", "8", "33", "16"}}, // 100 × 0.33 is exactly 33.0 in float64
		{128, OLTP, []string{"144", "64", "8", "43", "16"}},
		{128, OLAP, []string{"148", "103", "64", "43", "32"}},
		{128, Crit, []string{"144", "64", "0", "43", "8"}},
		{128, Tiny, []string{"140", "64", "0", "42", "3"}},
		{1024, OLTP, []string{"1040", "512", "8", "338", "16"}},
		{1024, OLAP, []string{"1044", "820", "512", "338", "32"}},
	}
	for _, tc := range tests {
		r := mustCompute(t, in3(tc.cpu, 8192, 100, tc.tmpl))
		for i, c := range cols {
			if got := val(r, c); got != tc.want[i] {
				t.Errorf("%d CPU %s: %s = %s, want %s", tc.cpu, tc.tmpl, c, got, tc.want[i])
			}
		}
	}
}

func TestDiskSteps(t *testing.T) {
	cols := []string{"min_wal_size", "max_wal_size", "max_slot_wal_keep_size", "temp_file_limit"}
	tests := []struct {
		disk int
		tmpl string
		want []string
	}{
		{1, OLTP, []string{"1GB", "4GB", "6GB", "1GB"}},
		{19, OLTP, []string{"1GB", "4GB", "6GB", "1GB"}},
		{20, OLTP, []string{"1GB", "4GB", "6GB", "1GB"}},
		{21, OLTP, []string{"2GB", "8GB", "12GB", "2GB"}},
		{40, OLTP, []string{"2GB", "8GB", "12GB", "2GB"}},
		{41, OLTP, []string{"3GB", "12GB", "18GB", "3GB"}},
		{41, OLAP, []string{"3GB", "12GB", "18GB", "12GB"}},
		{41, Tiny, []string{"3GB", "12GB", "18GB", "3GB"}},
		{500, Crit, []string{"25GB", "100GB", "150GB", "25GB"}},
		{1980, OLTP, []string{"99GB", "396GB", "594GB", "99GB"}},
		{1981, OLTP, []string{"100GB", "400GB", "600GB", "100GB"}},
		{1981, OLAP, []string{"100GB", "400GB", "600GB", "400GB"}},
		{2000, OLTP, []string{"100GB", "400GB", "600GB", "100GB"}},
		{100000, OLTP, []string{"100GB", "400GB", "600GB", "100GB"}},
		{100000, OLAP, []string{"100GB", "400GB", "600GB", "400GB"}},
	}
	for _, tc := range tests {
		r := mustCompute(t, in3(4, 8192, tc.disk, tc.tmpl))
		for i, c := range cols {
			if got := val(r, c); got != tc.want[i] {
				t.Errorf("disk %d %s: %s = %s, want %s", tc.disk, tc.tmpl, c, got, tc.want[i])
			}
		}
	}
}

// versionGated are the parameters whose presence depends on pg_version (§4, §5).
var versionGated = []string{"io_method", "io_workers", "idle_replication_slot_timeout", "log_lock_failures",
	"log_connections", "file_copy_method", "track_cost_delay_timing", "vacuum_defer_cleanup_age",
	"wal_compression", "sync_replication_slots", "maintenance_io_concurrency", "hash_mem_multiplier"}

func TestVersionGates(t *testing.T) {
	// values of versionGated in order; "—" = not emitted.
	tests := []struct {
		v    int
		tmpl string
		want []string
	}{
		{13, OLTP, []string{"—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "100", "8.0"}},
		{14, OLTP, []string{"—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "100", "8.0"}},
		{15, OLTP, []string{"—", "—", "—", "—", "—", "—", "—", "—", "lz4", "—", "100", "8.0"}},
		{16, OLTP, []string{"—", "—", "—", "—", "—", "—", "—", "—", "lz4", "—", "100", "8.0"}},
		{17, OLTP, []string{"—", "—", "—", "—", "—", "—", "—", "—", "lz4", "on", "100", "8.0"}},
		{18, OLTP, []string{"worker", "4", "7d", "on", "authorization", "clone", "—", "—", "lz4", "on", "100", "8.0"}},
		{19, OLTP, []string{"worker", "—", "7d", "on", "authorization", "clone", "—", "—", "lz4", "on", "100", "8.0"}},
		{13, Crit, []string{"—", "—", "—", "—", "on", "—", "—", "500000", "—", "—", "100", "8.0"}},
		{15, Crit, []string{"—", "—", "—", "—", "on", "—", "—", "500000", "lz4", "—", "100", "8.0"}},
		{16, Crit, []string{"—", "—", "—", "—", "on", "—", "—", "—", "lz4", "—", "100", "8.0"}},
		{17, Crit, []string{"—", "—", "—", "—", "on", "—", "—", "—", "lz4", "on", "100", "8.0"}},
		{18, Crit, []string{"worker", "4", "3d", "on", "receipt,authentication,authorization", "clone", "on", "—", "lz4", "on", "100", "8.0"}},
		{19, Crit, []string{"worker", "—", "3d", "on", "receipt,authentication,authorization", "clone", "on", "—", "lz4", "on", "100", "8.0"}},
		{17, OLAP, []string{"—", "—", "—", "—", "—", "—", "—", "—", "lz4", "on", "100", "8.0"}},
		{18, OLAP, []string{"worker", "4", "7d", "—", "authorization", "clone", "on", "—", "lz4", "on", "100", "8.0"}},
		{15, Tiny, []string{"—", "—", "—", "—", "—", "—", "—", "—", "lz4", "—", "100", "8.0"}},
		{18, Tiny, []string{"worker", "3", "7d", "—", "—", "clone", "—", "—", "lz4", "on", "100", "8.0"}},
	}
	for _, tc := range tests {
		in := in3(4, 8192, 100, tc.tmpl)
		in.PGVersion = tc.v
		r := mustCompute(t, in)
		for i, c := range versionGated {
			if got := val(r, c); got != tc.want[i] {
				t.Errorf("PG %d %s: %s = %s, want %s", tc.v, tc.tmpl, c, got, tc.want[i])
			}
		}
	}
}

func TestParamCountsPerVersion(t *testing.T) {
	// Full parameter counts (DCS + local) for oltp with default inputs and no
	// pgBackRest; catches an accidental extra or missing parameter.
	// PG 18: the 112 oltp keys of reference/tuning.json minus the three archive_* ones.
	want := map[int]int{13: 101, 14: 101, 15: 102, 16: 102, 17: 103, 18: 109, 19: 108}
	for v := 13; v <= 19; v++ {
		in := NewInput(4, 8192, 100)
		in.PGVersion = v
		if got := len(mustCompute(t, in).Params); got != want[v] {
			t.Errorf("PG %d: %d parameters, want %d", v, got, want[v])
		}
	}
}

func TestStorage(t *testing.T) {
	names := []string{"random_page_cost", "effective_io_concurrency", "maintenance_io_concurrency"}
	for _, tc := range []struct {
		storage string
		want    []string
	}{
		{"SSD", []string{"1.1", "200", "100"}},
		{"HDD", []string{"—", "—", "—"}},
	} {
		for _, tmpl := range []string{OLTP, OLAP, Crit, Tiny} {
			in := in3(4, 8192, 100, tmpl)
			in.Storage = tc.storage
			r := mustCompute(t, in)
			for i, n := range names {
				if got := val(r, n); got != tc.want[i] {
					t.Errorf("%s %s: %s = %s, want %s", tc.storage, tmpl, n, got, tc.want[i])
				}
			}
		}
	}
}

func TestMaxConn(t *testing.T) {
	tests := []struct {
		tmpl    string
		maxConn int
		dest    string
		want    string
	}{
		{OLTP, MaxConnAuto, "pgbouncer", "500"},
		{OLTP, MaxConnAuto, "postgres", "1000"},
		{OLTP, MaxConnAuto, "5433", "1000"},
		{Crit, MaxConnAuto, "pgbouncer", "500"},
		{Crit, MaxConnAuto, "postgres", "1000"},
		{OLAP, MaxConnAuto, "pgbouncer", "500"},
		{OLAP, MaxConnAuto, "postgres", "500"},
		{Tiny, MaxConnAuto, "pgbouncer", "250"},
		{Tiny, MaxConnAuto, "postgres", "250"},
		{OLTP, 20, "pgbouncer", "20"},
		{Tiny, 20, "postgres", "20"},
		{OLAP, 10000, "pgbouncer", "10000"},
		{Crit, 777, "postgres", "777"},
	}
	for _, tc := range tests {
		in := in3(4, 8192, 100, tc.tmpl)
		in.MaxConn = tc.maxConn
		in.DefaultServiceDest = tc.dest
		if got := val(mustCompute(t, in), "max_connections"); got != tc.want {
			t.Errorf("%s max_conn %d dest %s: max_connections = %s, want %s", tc.tmpl, tc.maxConn, tc.dest, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{10, "pg_max_conn: 10 is out of range; want 20..10000 or auto"},
		{19, "pg_max_conn: 19 is out of range; want 20..10000 or auto"},
		{-1, "pg_max_conn: -1 is out of range; want 20..10000 or auto"},
		{10001, "pg_max_conn: 10001 is out of range; want 20..10000 or auto"},
	} {
		in := NewInput(4, 8192, 100)
		in.MaxConn = tc.n
		_, err := Compute(in)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "pg_max_conn" || err.Error() != tc.want {
			t.Errorf("max_conn %d: err = %v, want %q", tc.n, err, tc.want)
		}
	}
}

func TestParseMaxConn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  string
	}{
		{"auto", MaxConnAuto, ""},
		{"20", 20, ""},
		{" 500 ", 500, ""},
		{"10000", 10000, ""},
		{"10", 0, "pg_max_conn: 10 is out of range; want 20..10000 or auto"},
		{"10001", 0, "pg_max_conn: 10001 is out of range; want 20..10000 or auto"},
		{"many", 0, `pg_max_conn: "many" is not allowed; want an integer 20..10000 or auto`},
		{"AUTO", 0, `pg_max_conn: "AUTO" is not allowed; want an integer 20..10000 or auto`},
	} {
		got, err := ParseMaxConn(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseMaxConn(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMaxConn(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func boolp(b bool) *bool { return &b }

func TestLibsEffects(t *testing.T) {
	type want map[string]string
	tests := []struct {
		name   string
		tmpl   string
		libs   string
		lowmem *bool
		want   want
	}{
		{"default libs", OLTP, DefaultLibs, nil, want{
			"max_prepared_transactions": "0", "max_locks_per_transaction": "500",
			"timescaledb.telemetry_level": "—", "timescaledb.max_background_workers": "—",
			"pgsodium.getkey_script": "—", "duckdb.allow_community_extensions": "—", "pg_stat_monitor.pgsm_max": "—",
			"shared_preload_libraries": "pg_stat_statements, auto_explain"}},
		{"citus oltp", OLTP, "citus, pg_stat_statements", nil, want{
			"max_prepared_transactions": "500", "max_locks_per_transaction": "1000"}},
		{"citus olap", OLAP, "citus", nil, want{
			"max_prepared_transactions": "500", "max_locks_per_transaction": "2000"}},
		{"citus tiny", Tiny, "citus", nil, want{
			"max_prepared_transactions": "250", "max_locks_per_transaction": "500"}},
		{"citus libdir so", OLTP, "$libdir/citus.so, auto_explain", nil, want{
			"max_prepared_transactions": "500", "max_locks_per_transaction": "1000",
			"shared_preload_libraries": "$libdir/citus.so, auto_explain"}},
		{"citus_columnar is not citus", OLTP, "citus_columnar", nil, want{
			"max_prepared_transactions": "0", "max_locks_per_transaction": "500"}},
		{"timescaledb oltp", OLTP, "timescaledb, pg_stat_statements", nil, want{
			"max_prepared_transactions": "0", "max_locks_per_transaction": "1000",
			"timescaledb.telemetry_level": "off", "timescaledb.max_background_workers": "16"}},
		{"timescaledb olap", OLAP, "timescaledb", nil, want{
			"max_locks_per_transaction": "2000", "timescaledb.max_background_workers": "20"}},
		{"timescaledb tiny", Tiny, "timescaledb", nil, want{
			"max_locks_per_transaction": "500", "timescaledb.max_background_workers": "12"}},
		{"citus and timescaledb", OLTP, "citus, timescaledb", nil, want{
			"max_prepared_transactions": "500", "max_locks_per_transaction": "1000"}},
		{"pgsodium", Crit, "pgsodium", nil, want{
			"pgsodium.getkey_script": "/pg/bin/pgsodium_getkey", "pgsodium.enable_event_trigger": "off"}},
		{"pg_duckdb oltp", OLTP, "pg_duckdb", nil, want{"duckdb.allow_community_extensions": "true"}},
		{"pg_duckdb olap", OLAP, "pg_duckdb", nil, want{"duckdb.allow_community_extensions": "true"}},
		{"pg_duckdb tiny", Tiny, "pg_duckdb", nil, want{"duckdb.allow_community_extensions": "true"}},
		{"pg_duckdb crit", Crit, "pg_duckdb", nil, want{"duckdb.allow_community_extensions": "—"}},
		{"pgsm tiny default lowmem", Tiny, "pg_stat_monitor", nil, want{
			"pg_stat_monitor.pgsm_max": "2MB", "pg_stat_monitor.pgsm_query_shared_buffer": "1MB",
			"pg_stat_monitor.pgsm_max_buckets": "2", "pg_stat_monitor.pgsm_query_max_len": "1536"}},
		{"pgsm oltp default upstream", OLTP, "pg_stat_statements, pg_stat_monitor", nil, want{
			"pg_stat_monitor.pgsm_max": "256MB", "pg_stat_monitor.pgsm_query_shared_buffer": "20MB",
			"pg_stat_monitor.pgsm_max_buckets": "10", "pg_stat_monitor.pgsm_query_max_len": "2048"}},
		{"pgsm tiny lowmem false", Tiny, "pg_stat_monitor", boolp(false), want{
			"pg_stat_monitor.pgsm_max": "256MB", "pg_stat_monitor.pgsm_query_shared_buffer": "20MB",
			"pg_stat_monitor.pgsm_max_buckets": "10", "pg_stat_monitor.pgsm_query_max_len": "2048"}},
		{"pgsm olap lowmem true", OLAP, "pg_stat_monitor", boolp(true), want{
			"pg_stat_monitor.pgsm_max": "2MB", "pg_stat_monitor.pgsm_query_shared_buffer": "1MB",
			"pg_stat_monitor.pgsm_max_buckets": "2", "pg_stat_monitor.pgsm_query_max_len": "1536"}},
		{"lowmem without pgsm", OLAP, DefaultLibs, boolp(true), want{"pg_stat_monitor.pgsm_max": "—"}},
		{"verbatim trimmed", OLTP, "  pg_stat_statements,auto_explain ", nil, want{
			"shared_preload_libraries": "pg_stat_statements,auto_explain"}},
	}
	for _, tc := range tests {
		in := in3(8, 8192, 100, tc.tmpl)
		in.Libs = tc.libs
		in.StatMonitorLowMem = tc.lowmem
		r := mustCompute(t, in)
		for name, w := range tc.want {
			if got := val(r, name); got != w {
				t.Errorf("%s: %s = %s, want %s", tc.name, name, got, w)
			}
		}
	}
}

func warningCodes(r Result) []string {
	var out []string
	for _, w := range r.Warnings {
		out = append(out, w.Code)
	}
	return out
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Input)
		codes []string
	}{
		{"defaults", func(*Input) {}, nil},
		{"citus first", func(in *Input) { in.Libs = "citus, pg_stat_statements" }, nil},
		{"citus not first", func(in *Input) { in.Libs = "pg_stat_statements, citus" }, []string{"libs-order"}},
		{"max conn 5000", func(in *Input) { in.MaxConn = 5000 }, nil},
		{"max conn 5001", func(in *Input) { in.MaxConn = 5001 }, []string{"max-conn-high"}},
		// 4 GiB with upstream pg_stat_monitor: E = 276 > 0.05 × 4096 = 204.8.
		{"pgsm upstream on 4GiB", func(in *Input) { in.Libs = "pg_stat_monitor" }, []string{"ext-shmem"}},
		// 8 GiB: E = 276 < 409.6.
		{"pgsm upstream on 8GiB", func(in *Input) { in.Libs = "pg_stat_monitor"; in.MemMB = 8192 }, nil},
		{"pgsm lowmem on 4GiB", func(in *Input) { in.Libs = "pg_stat_monitor"; in.StatMonitorLowMem = boolp(true) }, nil},
		// SB 1639 + 16 + 276 = 1931 ≤ 2048: only ext-shmem.
		{"ratio 0.4 with pgsm", func(in *Input) { in.Libs = "pg_stat_monitor"; in.SharedBufferRatio = 0.4 }, []string{"ext-shmem"}},
		// SB 1844 + 16 + 276 = 2136 > 2048.
		{"ratio 0.45 with pgsm", func(in *Input) { in.Libs = "pg_stat_monitor"; in.SharedBufferRatio = 0.45 },
			[]string{"ext-shmem", "shmem-budget", "shared-buffer-ratio"}},
		// SB 2048 + 16 = 2064 > 2048 with no extension memory.
		{"ratio 0.5", func(in *Input) { in.SharedBufferRatio = 0.5 }, []string{"shmem-budget", "shared-buffer-ratio"}},
		// SB 2007 (ceil 2007.04) + 16 = 2023 ≤ 2048.
		{"ratio 0.49", func(in *Input) { in.SharedBufferRatio = 0.49 }, []string{"shared-buffer-ratio"}},
		// SB 2028 + 16 = 2044 ≤ 2048, + 3 (lowmem) = 2047 ≤ 2048.
		{"ratio 0.495 lowmem", func(in *Input) {
			in.SharedBufferRatio = 0.495
			in.Libs = "pg_stat_monitor"
			in.StatMonitorLowMem = boolp(true)
		}, []string{"shared-buffer-ratio"}},
		// SB 2032 (ceil 2031.6) + 16 + 3 = 2051 > 2048.
		{"ratio 0.496 lowmem", func(in *Input) {
			in.SharedBufferRatio = 0.496
			in.Libs = "pg_stat_monitor"
			in.StatMonitorLowMem = boolp(true)
		}, []string{"shmem-budget", "shared-buffer-ratio"}},
		{"ratio 0.4 ok", func(in *Input) { in.SharedBufferRatio = 0.4 }, nil},
		{"io_uring on 17", func(in *Input) { in.PGVersion = 17; in.IOMethod = "io_uring" }, []string{"io-method-ignored"}},
		{"auto on 17", func(in *Input) { in.PGVersion = 17; in.IOMethod = "auto" }, []string{"io-method-ignored"}},
		{"worker on 17", func(in *Input) { in.PGVersion = 17 }, nil},
		{"io_uring on 18", func(in *Input) { in.IOMethod = "io_uring" }, nil},
	}
	for _, tc := range tests {
		in := NewInput(4, 4096, 100)
		tc.mod(&in)
		r := mustCompute(t, in)
		if got := warningCodes(r); !reflect.DeepEqual(got, tc.codes) {
			t.Errorf("%s: warnings %v, want %v (%v)", tc.name, got, tc.codes, r.Warnings)
		}
	}
}

func TestWarningMessages(t *testing.T) {
	in := NewInput(4, 4096, 100)
	in.Libs = "pg_stat_monitor"
	in.SharedBufferRatio = 0.45
	r := mustCompute(t, in)
	want := []string{
		"pg_libs: warning: pg_stat_monitor shared memory 276MB exceeds 5% of node memory (204.8MB); set pg_stat_monitor_lowmem with the low-memory build or lower pg_stat_monitor.pgsm_max [ext-shmem]",
		"pg_shared_buffer_ratio: warning: shared memory shared_buffers 1844MB + wal_buffers 16MB + extensions 276MB = 2136MB exceeds half of node memory (2048MB) [shmem-budget]",
		"pg_shared_buffer_ratio: warning: pg_shared_buffer_ratio 0.45 is above the documented range 0.1..0.4 [shared-buffer-ratio]",
	}
	var got []string
	for _, w := range r.Warnings {
		got = append(got, w.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.ExtShmemMB != 276 || r.SharedBuffers != 1844 {
		t.Errorf("ExtShmemMB %d SharedBuffers %d, want 276 1844", r.ExtShmemMB, r.SharedBuffers)
	}
}

func TestIOMethod(t *testing.T) {
	tests := []struct {
		method, pkg string
		osv         int
		v           int
		want        string
	}{
		{"worker", "", 0, 18, "worker"},
		{"sync", "", 0, 18, "sync"},
		{"io_uring", "", 0, 19, "io_uring"},
		{"auto", "deb", 12, 18, "io_uring"},
		{"auto", "rpm", 9, 18, "worker"},
		{"auto", "rpm", 10, 18, "io_uring"},
		{"auto", "", 0, 17, "—"}, // facts not needed below 18
		{"io_uring", "", 0, 17, "—"},
	}
	for _, tc := range tests {
		in := NewInput(4, 8192, 100)
		in.IOMethod, in.OSPackage, in.OSVersion, in.PGVersion = tc.method, tc.pkg, tc.osv, tc.v
		if got := val(mustCompute(t, in), "io_method"); got != tc.want {
			t.Errorf("%s %s %d PG %d: io_method = %s, want %s", tc.method, tc.pkg, tc.osv, tc.v, got, tc.want)
		}
	}
}

func TestModesAndCluster(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Input)
		want map[string]string
	}{
		{"pgsql", func(*Input) {}, map[string]string{"log_destination": "csvlog", "file_copy_method": "clone",
			"polar_resource_manager.enable_resource_manager": "—", "archive_mode": "—", "archive_command": "—", "archive_timeout": "—"}},
		{"oracle", func(in *Input) { in.Mode = "oracle" }, map[string]string{"log_destination": "—", "file_copy_method": "clone"}},
		{"polar", func(in *Input) { in.Mode = "polar" }, map[string]string{"log_destination": "—", "polar_resource_manager.enable_resource_manager": "off"}},
		{"ivory", func(in *Input) { in.Mode = "ivory" }, map[string]string{"log_destination": "csvlog", "file_copy_method": "—"}},
		{"ivory 17", func(in *Input) { in.Mode = "citus"; in.PGVersion = 17 }, map[string]string{"file_copy_method": "—"}},
		{"pgbackrest", func(in *Input) { in.PgBackRest = true; in.Cluster = "pg-meta" }, map[string]string{
			"archive_mode": "on", "archive_timeout": "300", "archive_command": "pgbackrest --stanza=pg-meta archive-push %p"}},
		{"primary db", func(in *Input) { in.PrimaryDB = "meta" }, map[string]string{"cron.database_name": "meta"}},
		{"cron override", func(in *Input) { in.PrimaryDB = "meta"; in.CronDatabase = "cron" }, map[string]string{"cron.database_name": "cron"}},
		{"log dir", func(in *Input) { in.LogDir = "/data/log" }, map[string]string{"log_directory": "/data/log"}},
	}
	for _, tc := range tests {
		in := NewInput(4, 8192, 100)
		tc.mod(&in)
		r := mustCompute(t, in)
		for n, w := range tc.want {
			if got := val(r, n); got != w {
				t.Errorf("%s: %s = %s, want %s", tc.name, n, got, w)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	in := Input{CPU: 0, MemMB: 100, DiskGB: 0, Template: "web", PGVersion: 12, Storage: "NVMe",
		MaxConn: 5, SharedBufferRatio: 0.9, Libs: "pg stat", IOMethod: "aio", DefaultServiceDest: "",
		Mode: "gpsql", PgBackRest: true, LogDir: "", PrimaryDB: ""}
	want := []string{
		"node_cpu: 0 is out of range; want 1..1024",
		"node_mem_mb: 100 is out of range; want 256..",
		"node_disk_gb: 0 is out of range; want 1..",
		`pg_conf: "web" is not allowed; want oltp, olap, crit or tiny`,
		"pg_version: 12 is out of range; want 13..19",
		`pg_storage_type: "NVMe" is not allowed; want SSD or HDD`,
		"pg_max_conn: 5 is out of range; want 20..10000 or auto",
		"pg_shared_buffer_ratio: 0.9 is out of range; want 0.1..0.8",
		`pg_libs: "pg stat" must match ^[A-Za-z0-9_$./-]+$`,
		`pg_io_method: "aio" is not allowed; want auto, sync, worker or io_uring`,
		`pg_default_service_dest: "" is not allowed; want postgres, pgbouncer or a port`,
		`pg_mode: "gpsql" is not allowed; want pgsql, citus, mssql, mysql, ivory, pgtde, polar, oracle, agens, oriole or pgedge`,
		`pg_cluster: missing required field "pg_cluster" (the pgBackRest stanza of archive_command)`,
		`pg_log_dir: missing required field "pg_log_dir"`,
		`pg_primary_db: missing required field "pg_primary_db"`,
	}
	_, err := Compute(in)
	var got []string
	for _, e := range Errors(err) {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for _, tc := range []struct {
		mod  func(*Input)
		want string
	}{
		{func(in *Input) { in.IOMethod = "auto" }, "os_package: missing required fact os_package (needed by pg_io_method auto on pg_version 18)"},
		{func(in *Input) { in.IOMethod = "auto"; in.OSPackage = "apk" }, `os_package: "apk" is not allowed; want rpm or deb`},
		{func(in *Input) { in.IOMethod = "auto"; in.OSPackage = "rpm" }, "os_version: missing required fact os_version (needed by pg_io_method auto on pg_version 18)"},
		{func(in *Input) { in.Template = "oltp.yml"; in.CPU = 1025 }, "node_cpu: 1025 is out of range; want 1..1024"},
		{func(in *Input) { in.SharedBufferRatio = 0.09 }, "pg_shared_buffer_ratio: 0.09 is out of range; want 0.1..0.8"},
		{func(in *Input) { in.SharedBufferRatio = 0 }, "pg_shared_buffer_ratio: 0 is out of range; want 0.1..0.8"},
		{func(in *Input) { in.LogDir = "/pg/log\nssl = off" }, "pg_log_dir: must not contain a newline or NUL byte"},
		{func(in *Input) { in.PgBackRest = true; in.Cluster = "pg-a\nx" }, "pg_cluster: must not contain a newline or NUL byte"},
	} {
		in := NewInput(4, 8192, 100)
		tc.mod(&in)
		_, err := Compute(in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	// Accepted edges.
	for _, mod := range []func(*Input){
		func(in *Input) { in.Template = "crit.yml" },
		func(in *Input) { in.SharedBufferRatio = 0.1 },
		func(in *Input) { in.SharedBufferRatio = 0.8 },
		func(in *Input) { in.CPU = 1024; in.MemMB = 256; in.DiskGB = 1 },
		func(in *Input) { in.Libs = "" },
		func(in *Input) { in.IOMethod = "auto"; in.PGVersion = 17 },
	} {
		in := NewInput(4, 8192, 100)
		mod(&in)
		if _, err := Compute(in); err != nil {
			t.Errorf("unexpected error: %v", err)
		}
	}
}

func TestRestartAndScope(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v       int
		restart bool
		scope   Scope
	}{
		{"shared_buffers", 18, true, DCS},
		{"max_connections", 18, true, DCS},
		{"work_mem", 18, false, DCS},
		{"io_method", 18, true, DCS},
		{"io_workers", 18, false, DCS},
		{"autovacuum_max_workers", 17, true, DCS},
		{"autovacuum_max_workers", 18, false, DCS},
		{"shared_preload_libraries", 18, true, DCS},
		{"unix_socket_directories", 18, true, Local},
		{"pg_stat_statements.max", 18, true, DCS},
		{"cron.database_name", 18, true, DCS},
		{"checkpoint_timeout", 18, false, DCS},
		{"track_activity_query_size", 15, true, DCS},
	} {
		in := NewInput(4, 8192, 100)
		in.PGVersion = tc.v
		p, ok := mustCompute(t, in).Get(tc.name)
		if !ok {
			t.Errorf("%s missing on PG %d", tc.name, tc.v)
			continue
		}
		if p.Restart != tc.restart || p.Scope != tc.scope {
			t.Errorf("%s PG %d: restart %v scope %v, want %v %v", tc.name, tc.v, p.Restart, p.Scope, tc.restart, tc.scope)
		}
	}
	in := NewInput(4, 8192, 100)
	in.Libs = "pg_stat_monitor, timescaledb, pgsodium"
	r := mustCompute(t, in)
	for _, n := range []string{"pg_stat_monitor.pgsm_max", "pg_stat_monitor.pgsm_query_shared_buffer",
		"pg_stat_monitor.pgsm_max_buckets", "pg_stat_monitor.pgsm_query_max_len",
		"timescaledb.max_background_workers", "pgsodium.getkey_script"} {
		if p, _ := r.Get(n); !p.Restart {
			t.Errorf("%s: restart false, want true", n)
		}
	}
	if local := r.Scoped(Local); len(local) != 1 || local[0].Name != "unix_socket_directories" {
		t.Errorf("local params = %v, want only unix_socket_directories", local)
	}
	if len(r.Scoped(DCS))+1 != len(r.Params) {
		t.Errorf("dcs + local != all")
	}
}

func TestExplain(t *testing.T) {
	r := mustCompute(t, NewInput(8, 32768, 500))
	got := r.Explain("work_mem", "shared_buffers", "max_connections", "max_wal_size", "io_workers", "random_page_cost", "no_such_param")
	want := []string{
		"work_mem = 64MB: oltp: clamp(floor(shared_buffers 8192MB / max_connections 500), 64MB, 1GB)",
		"shared_buffers = 8192MB: oltp: ceil(node_mem_mb 32768 * pg_shared_buffer_ratio 0.25)",
		"max_connections = 500: oltp: pg_max_conn auto: 500 if pg_default_service_dest is pgbouncer, else 1000 (pg_default_service_dest pgbouncer)",
		"max_wal_size = 100GB: oltp: min(4 * D20, 2000)GB; D20 25 = clamp(ceil(node_disk_gb 500 / 20), 1, 100)",
		"io_workers = 4: oltp: clamp(ceil(node_cpu 8 * 0.25), 4, 16) (pg_version 18)",
		"random_page_cost = 1.1: oltp: 1.1 (pg_storage_type SSD)",
		"no_such_param: not set by the oltp template for PostgreSQL 18 (the server default applies)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("explain:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if all := r.Explain(); len(all) != len(r.Params) || !strings.HasPrefix(all[0], "archive") && !strings.HasPrefix(all[0], "auto_explain") {
		t.Errorf("Explain() = %d lines starting %q", len(all), all[0])
	}
}

func TestDeterministicAndSorted(t *testing.T) {
	in := refInput(8, 32768, 500, OLAP)
	in.Libs = "citus, timescaledb, pg_stat_monitor, pgsodium, pg_duckdb"
	a, b := mustCompute(t, in), mustCompute(t, in)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Compute is not deterministic")
	}
	for i := 1; i < len(a.Params); i++ {
		if a.Params[i-1].Name >= a.Params[i].Name {
			t.Fatalf("params not sorted: %s before %s", a.Params[i-1].Name, a.Params[i].Name)
		}
	}
	if string(FormatJSON(a)) != string(FormatJSON(b)) {
		t.Fatal("FormatJSON is not deterministic")
	}
}

func TestMustMatchLists(t *testing.T) {
	if got := MustMatchParams(); len(got) != 6 {
		t.Errorf("MustMatchParams = %v, want the six of tuning.md §8", got)
	}
	if got := PatroniManagedParams(); len(got) != 13 {
		t.Errorf("PatroniManagedParams = %v, want 13 names", got)
	}
	if !NeedsRestart("shared_buffers", 13) || NeedsRestart("work_mem", 13) {
		t.Error("NeedsRestart wrong")
	}
}
