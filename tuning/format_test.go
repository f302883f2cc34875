package tuning

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValueAccessors(t *testing.T) {
	r := mustCompute(t, refInput(2, 4096, 40, Crit))
	type want struct {
		text string
		kind Kind
		kb   int64 // memory only
		ms   int64 // duration only
	}
	for name, w := range map[string]want{
		"shared_buffers":                      {"1024MB", KindMemory, 1048576, 0},
		"max_wal_size":                        {"8GB", KindMemory, 8388608, 0},
		"track_activity_query_size":           {"32768", KindMemory, 32, 0},
		"log_temp_files":                      {"1024", KindMemory, 1024, 0},
		"wal_writer_flush_after":              {"0", KindMemory, 0, 0},
		"checkpoint_timeout":                  {"15min", KindDuration, 0, 900000},
		"idle_replication_slot_timeout":       {"3d", KindDuration, 0, 259200000},
		"idle_in_transaction_session_timeout": {"1min", KindDuration, 0, 60000},
		"archive_timeout":                     {"300", KindDuration, 0, 300000},
		"log_min_duration_statement":          {"100", KindDuration, 0, 100},
		"autovacuum_vacuum_cost_delay":        {"-1", KindDuration, 0, -1},
		"log_file_mode":                       {"0640", KindInt, 0, 0},
		"hash_mem_multiplier":                 {"8.0", KindReal, 0, 0},
		"parallel_setup_cost":                 {"2000", KindReal, 0, 0},
		"ssl":                                 {"on", KindBool, 0, 0},
		"auto_explain.log_nested_statements":  {"true", KindBool, 0, 0},
		"wal_level":                           {"logical", KindEnum, 0, 0},
		"archive_command":                     {"pgbackrest --stanza=pg-test archive-push %p", KindString, 0, 0},
		"log_connections":                     {"receipt,authentication,authorization", KindList, 0, 0},
		"unix_socket_directories":             {"/var/run/postgresql, /tmp", KindList, 0, 0},
	} {
		p, ok := r.Get(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		v := p.Value
		if v.String() != w.text || v.Kind() != w.kind {
			t.Errorf("%s = %q (%v), want %q (%v)", name, v.String(), v.Kind(), w.text, w.kind)
		}
		if kb, ok := v.KB(); ok != (w.kind == KindMemory) || kb != w.kb {
			t.Errorf("%s KB = %d %v, want %d", name, kb, ok, w.kb)
		}
		if ms, ok := v.MS(); ok != (w.kind == KindDuration) || ms != w.ms {
			t.Errorf("%s MS = %d %v, want %d", name, ms, ok, w.ms)
		}
	}
	p, _ := r.Get("log_file_mode")
	if p.Value.Int() != 416 {
		t.Errorf("log_file_mode Int = %d, want 416", p.Value.Int())
	}
	p, _ = r.Get("checkpoint_completion_target")
	if p.Value.Float() != 0.95 {
		t.Errorf("checkpoint_completion_target = %v", p.Value.Float())
	}
	p, _ = r.Get("log_connections")
	if got := p.Value.Items(); strings.Join(got, "|") != "receipt|authentication|authorization" {
		t.Errorf("log_connections items = %q", got)
	}
	p, _ = r.Get("shared_buffers")
	if mbv, _ := p.Value.MB(); mbv != 1024 || p.Value.Unit() != "MB" {
		t.Errorf("shared_buffers MB = %d unit %q", mbv, p.Value.Unit())
	}
	p, _ = r.Get("track_activity_query_size")
	if b, _ := p.Value.Bytes(); b != 32768 || p.Value.BaseUnit() != "B" || p.Value.Unit() != "" {
		t.Errorf("track_activity_query_size bytes %d base %q unit %q", b, p.Value.BaseUnit(), p.Value.Unit())
	}
	if !p.Value.Equal(p.Value) {
		t.Error("Equal is not reflexive")
	}
	q, _ := r.Get("shared_buffers")
	if p.Value.Equal(q.Value) {
		t.Error("different values compare equal")
	}
}

func TestParseSizes(t *testing.T) {
	mem := []struct {
		in   string
		want int
		err  string
	}{
		{"2048", 2048, ""},
		{"2048M", 2048, ""},
		{"2048mb", 2048, ""},
		{"2048MiB", 2048, ""},
		{"4G", 4096, ""},
		{"4gb", 4096, ""},
		{"4 GiB", 4096, ""},
		{"1.5G", 1536, ""},
		{"0.1G", 103, ""}, // 102.4 rounded up
		{"1T", 1048576, ""},
		{"0.5", 1, ""},
		{"", 0, `node_mem_mb: "" is not a size; want <number>[M|MB|MiB|G|GB|GiB|T|TB|TiB]`},
		{"4X", 0, `node_mem_mb: "4X" is not a size; want <number>[M|MB|MiB|G|GB|GiB|T|TB|TiB]`},
		{"1.2.3G", 0, `node_mem_mb: "1.2.3G" is not a size; want <number>[M|MB|MiB|G|GB|GiB|T|TB|TiB]`},
		{"-4G", 0, `node_mem_mb: "-4G" is not a size; want <number>[M|MB|MiB|G|GB|GiB|T|TB|TiB]`},
		{"0G", 0, `node_mem_mb: "0G" is out of range; want a size above 0`},
	}
	for _, tc := range mem {
		got, err := ParseMemMB(tc.in)
		if tc.err != "" {
			var ie *InputError
			if err == nil || err.Error() != tc.err || !errors.As(err, &ie) {
				t.Errorf("ParseMemMB(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMemMB(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	disk := []struct {
		in   string
		want int
	}{
		{"20", 20}, {"20G", 20}, {"1T", 1024}, {"1.5TB", 1536}, {"500M", 1}, {"1025MiB", 2}, {"20480M", 20}, {"0.01T", 11},
	}
	for _, tc := range disk {
		if got, err := ParseDiskGB(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseDiskGB(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// bracket is a stand-in quoter: it shows where FormatConf calls the quoter
// without being a postgresql.conf quoter itself (that one lives in render).
func bracket(name, v string) (string, error) {
	if name == "fail_me" || strings.Contains(v, "%p") {
		return "", errors.New("refused")
	}
	return "<" + v + ">", nil
}

func TestFormatConf(t *testing.T) {
	in := NewInput(2, 2048, 20)
	in.PGVersion = 15
	r := mustCompute(t, in)
	out, err := FormatConf(r, bracket)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(r.Params) {
		t.Fatalf("%d lines for %d params", len(lines), len(r.Params))
	}
	for _, want := range []string{
		"shared_buffers = <512MB>",
		"shared_preload_libraries = <pg_stat_statements, auto_explain>",
		"log_filename = <postgresql-%a.log>",
		"wal_compression = <lz4>",
	} {
		if !bytes.Contains(out, []byte(want+"\n")) {
			t.Errorf("conf output lacks %q", want)
		}
	}
	if lines[0] != "auto_explain.log_analyze = <on>" {
		t.Errorf("first line %q", lines[0])
	}
	in.PgBackRest, in.Cluster = true, "pg-test"
	if _, err := FormatConf(mustCompute(t, in), bracket); err == nil || err.Error() != "archive_command: refused" {
		t.Errorf("quoter error not passed on: %v", err)
	}
}

// TestFormatJSONGolden pins `pgcc tune --format json` output for the small
// oracle facts (2 CPU, 2048 MiB, 20 GiB, oltp, PG 18). PGCC_UPDATE=1 rewrites it.
func TestFormatJSONGolden(t *testing.T) {
	r := mustCompute(t, NewInput(2, 2048, 20))
	got := FormatJSON(r)
	var obj map[string]any
	if err := json.Unmarshal(got, &obj); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, got)
	}
	if obj["max_connections"] != float64(500) || obj["shared_buffers"] != "512MB" || obj["ssl"] != true ||
		obj["log_file_mode"] != "0640" || obj["hash_mem_multiplier"] != 8.0 || obj["log_min_duration_statement"] != float64(100) ||
		obj["shared_preload_libraries"] != "pg_stat_statements, auto_explain" || obj["pg_wait_sampling.profile_pid"] != false {
		t.Errorf("unexpected typed values: %v", obj)
	}
	golden := filepath.Join("testdata", "tune-oltp-2-2048-20.json")
	if os.Getenv("PGCC_UPDATE") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with PGCC_UPDATE=1 to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("FormatJSON differs from %s (PGCC_UPDATE=1 to accept):\n%s", golden, got)
	}
	if empty := FormatJSON(Result{}); string(empty) != "{}\n" {
		t.Errorf("empty = %q", empty)
	}
}

func TestParamMarshalJSON(t *testing.T) {
	r := mustCompute(t, NewInput(8, 32768, 500))
	p, _ := r.Get("unix_socket_directories")
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Name":"unix_socket_directories","Value":"/var/run/postgresql, /tmp","Formula":"oltp: fixed (local: postgresql.parameters)","Restart":true,"Scope":"local"}`
	if string(got) != want {
		t.Errorf("json = %s\nwant %s", got, want)
	}
	p, _ = r.Get("work_mem")
	if got, _ := json.Marshal(p.Value); string(got) != `"64MB"` {
		t.Errorf("work_mem json = %s", got)
	}
	p, _ = r.Get("max_connections")
	if got, _ := json.Marshal(p.Value); string(got) != `500` {
		t.Errorf("max_connections json = %s", got)
	}
}
