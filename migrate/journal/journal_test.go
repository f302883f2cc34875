package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixedClock() func() time.Time {
	t := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	return func() time.Time { t = t.Add(1500 * time.Millisecond); return t }
}

func TestAppendReopenTornTail(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j.Now = fixedClock()
	j.t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := j.Append("doctor", EventStart, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append("doctor", EventDone, "", map[string]int{"blockers": 0}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	lines, _ := ReadLines(dir)
	want0 := `{"seq":1,"ts":"2025-01-02T03:04:06.506Z","t_ms":1506,"step":"doctor","event":"start"}`
	if lines[0] != want0 {
		t.Errorf("line 0 = %s\nwant     %s", lines[0], want0)
	}
	want1 := `{"seq":2,"ts":"2025-01-02T03:04:08.006Z","t_ms":3006,"step":"doctor","event":"done","data":{"blockers":0}}`
	if lines[1] != want1 {
		t.Errorf("line 1 = %s\nwant     %s", lines[1], want1)
	}
	// A crash mid-write leaves a torn line; reopening cuts it off.
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":3,"ts":"2025-01-0`)
	f.Close()
	if recs, _ := Read(dir); len(recs) != 2 {
		t.Fatalf("Read with torn tail: %d records, want 2", len(recs))
	}
	j, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := j.Append("prepare-source", EventStart, "source", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 3 {
		t.Errorf("seq after reopen = %d, want 3", r.Seq)
	}
	j.Close()
	lines, _ = ReadLines(dir)
	if len(lines) != 3 || !strings.Contains(lines[2], `"step":"prepare-source"`) {
		t.Errorf("after repair: %q", lines)
	}
}

func TestReduce(t *testing.T) {
	dir := t.TempDir()
	j, _ := Open(dir)
	defer j.Close()
	j.Append("run", EventStart, "", RunInfo{StructureHash: "h1", SystemIDs: map[string]string{"source": "1", "destination": "2"}})
	j.Append("create-pub", EventStart, "source", nil)
	j.Append("create-pub", EventDone, "source", map[string]any{"publication": "pub_a", "tables": []string{`"public"."a"`, `"public"."b"`},
		"objects": []ObjectInfo{{Kind: "publication", Name: "pub_a", Side: "source"}}})
	j.Append("run", EventStart, "", RunInfo{StructureHash: "h2"})
	j.Append("create-slot", EventDone, "source", SlotInfo{Slot: "s", ConsistentPoint: "0/1", Snapshot: "00000003-1"})
	j.Append("copy-data", EventStart, "", CopyPlan{Attempt: 1, Tables: []CopyTablePlan{{Table: `"public"."b"`, Bytes: 100, Chunks: 2}, {Table: `"public"."a"`, Bytes: 10, Chunks: 1}}})
	j.Append("copy-data", EventExec, "", ChunkDone{Table: `"public"."b"`, Chunk: 0, Rows: 5, Bytes: 60})
	st := Reduce(j.Records())
	if st.StructureHash != "h1" || !st.HashLocked {
		t.Errorf("structure hash %q locked %v, want h1 true", st.StructureHash, st.HashLocked)
	}
	if st.Phase != "copy-data" {
		t.Errorf("phase %q, want copy-data", st.Phase)
	}
	if len(st.Tables) != 2 || st.Slot == nil || st.Slot.Snapshot != "00000003-1" {
		t.Errorf("tables %v slot %+v", st.Tables, st.Slot)
	}
	if len(st.Copy) != 2 || st.Copy[1].Table != `"public"."b"` || st.Copy[1].BytesDone != 60 || st.Copy[1].ChunksDone != 1 {
		t.Errorf("copy progress %+v", st.Copy)
	}
	if !st.HasObject("publication", "pub_a") {
		t.Errorf("objects %+v", st.Objects)
	}
	if err := j.WriteState(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, StateName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state.json: %v %v", fi, err)
	}
}

func TestLockBusy(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "run")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Acquire(dir, "run")
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want LockedError", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("busy lock took %v", time.Since(start))
	}
	if !strings.Contains(le.Holder, "(run)") || !strings.HasPrefix(le.Holder, "pid ") {
		t.Errorf("holder %q", le.Holder)
	}
	l.Release()
	l2, err := Acquire(dir, "cleanup")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

func TestPhasesAfterStreaming(t *testing.T) {
	base := []Record{{Step: "streaming", Event: EventStart}, {Step: "streaming", Event: EventDone}}
	for _, tc := range []struct {
		name string
		add  []Record
		want string
	}{
		{"streaming", nil, "streaming"},
		{"cutover running", []Record{{Step: "cutover", Event: EventStart}, {Step: "cutover.fence", Event: EventStart}}, "cutover"},
		{"cutover aborted", []Record{{Step: "cutover", Event: EventStart}, {Step: "cutover.catchup", Event: EventFail}, {Step: "cutover", Event: EventAbort}}, "streaming"},
		{"cutover failed after the point of no return", []Record{{Step: "cutover", Event: EventStart}, {Step: "cutover", Event: EventFail}}, "cutover"},
		{"cut over", []Record{{Step: "cutover", Event: EventStart}, {Step: "cutover", Event: EventDone}}, "cut-over"},
		{"rollback aborted", []Record{{Step: "cutover", Event: EventDone}, {Step: "rollback", Event: EventStart}, {Step: "rollback", Event: EventAbort}}, "cut-over"},
		{"rolled back", []Record{{Step: "cutover", Event: EventDone}, {Step: "rollback", Event: EventStart}, {Step: "rollback", Event: EventDone}}, "rolled-back"},
		{"check results make no step", []Record{{Step: "cutover.check", Event: EventExec}}, "streaming"},
	} {
		st := Reduce(append(append([]Record(nil), base...), tc.add...))
		if st.Phase != tc.want {
			t.Errorf("%s: phase %q, want %q", tc.name, st.Phase, tc.want)
		}
		if _, ok := st.Steps["cutover.check"]; ok {
			t.Errorf("%s: cutover.check became a step", tc.name)
		}
	}
	st := Reduce(append(base, Record{Step: "cutover", Event: EventStart}, Record{Step: "cutover", Event: EventAbort}))
	if got := st.Steps["cutover"].Status; got != "aborted" {
		t.Errorf("aborted cutover status %q", got)
	}
}
