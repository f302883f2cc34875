package writer

import (
	"regexp"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("NewID() = %q (seen %v)", id, seen[id])
		}
		seen[id] = true
	}
}

func TestResult(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := &Result{Start: t0, End: at(2000), Acked: []Ack{
		{ID: "a", At: at(100), Latency: 3 * time.Millisecond},
		{ID: "b", At: at(110), Latency: 5 * time.Millisecond},
		{ID: "c", At: at(750), Latency: 640 * time.Millisecond},
		{ID: "d", At: at(760), Latency: 2 * time.Millisecond},
	}}
	if got := r.MaxGap(); got != 640*time.Millisecond {
		t.Errorf("MaxGap = %v, want 640ms", got)
	}
	if got := r.MaxLatency(); got != 640*time.Millisecond {
		t.Errorf("MaxLatency = %v", got)
	}
	if got := r.TPS(); got != 2 {
		t.Errorf("TPS = %v, want 2", got)
	}
	if got := r.AckedAfter(at(110)); got != 2 {
		t.Errorf("AckedAfter = %d, want 2", got)
	}
	if first, ok := r.FirstAckAfter(at(200)); !ok || !first.Equal(at(750)) {
		t.Errorf("FirstAckAfter = %v %v", first, ok)
	}
	if _, ok := r.FirstAckAfter(at(800)); ok {
		t.Errorf("FirstAckAfter past the end found one")
	}
	if got := r.IDs(); len(got) != 4 || got[2] != "c" {
		t.Errorf("IDs = %v", got)
	}
}
