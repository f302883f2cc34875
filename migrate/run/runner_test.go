package run

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/journal"
)

// fake is an Executor over an in-memory "catalog".
type fake struct {
	done    map[string]bool
	failAt  string
	applied []string
}

func (f *fake) Check(_ context.Context, step string) (bool, any, error) {
	return f.done[step], nil, nil
}
func (f *fake) Apply(_ context.Context, step string) (any, error) {
	if step == f.failAt {
		return nil, errors.New("boom")
	}
	f.applied = append(f.applied, step)
	f.done[step] = true
	return map[string]string{"step": step}, nil
}

func events(t *testing.T, j *journal.Journal) string {
	var s []string
	for _, r := range j.Records() {
		s = append(s, r.Step+":"+r.Event)
	}
	return strings.Join(s, " ")
}

func TestRunnerResume(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	steps := []string{"a", "b", "c", "d"}
	f := &fake{done: map[string]bool{}, failAt: "c"}
	r := &Runner{Steps: steps, Journal: j, Exec: f}
	err = r.Run(context.Background(), steps)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "c" || !errors.Is(err, ErrStepFailed) {
		t.Fatalf("first run: %v, want StepError at c", err)
	}
	if got, want := events(t, j), "a:start a:done b:start b:done c:start c:fail"; got != want {
		t.Errorf("journal %q, want %q", got, want)
	}
	// A crash after d's action but before its record: Check finds it done.
	f.done["d"] = true
	f.failAt = ""
	f.applied = nil
	if err := r.Run(context.Background(), steps); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.applied, " "); got != "c" {
		t.Errorf("resumed run applied %q, want only c", got)
	}
	if got, want := events(t, j), "a:start a:done b:start b:done c:start c:fail c:start c:done d:done"; got != want {
		t.Errorf("journal %q, want %q", got, want)
	}
	st := journal.Reduce(j.Records())
	for _, s := range steps {
		if !st.Done(s) {
			t.Errorf("step %s not done in state", s)
		}
	}
	// A third run does nothing and journals nothing.
	n := len(j.Records())
	if err := r.Run(context.Background(), steps); err != nil {
		t.Fatal(err)
	}
	if len(j.Records()) != n {
		t.Errorf("idempotent re-run journaled %d records", len(j.Records())-n)
	}
}

func TestRunnerUntilAndFaults(t *testing.T) {
	j, _ := journal.Open(t.TempDir())
	defer j.Close()
	var hits []string
	f := &fake{done: map[string]bool{}}
	r := &Runner{Steps: []string{"a", "c"}, Until: "b", Journal: j, Exec: f,
		Fault: func(step, when string) { hits = append(hits, step+":"+when) }}
	if err := r.Run(context.Background(), []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.applied, " "); got != "a" {
		t.Errorf("--until b (not applicable) applied %q, want a", got)
	}
	if got := strings.Join(hits, " "); got != "a:before a:after" {
		t.Errorf("fault points %q", got)
	}
}

func TestCheckUntil(t *testing.T) {
	known := []string{"doctor", "streaming"}
	if err := CheckUntil("streaming", known); err != nil {
		t.Error(err)
	}
	if err := CheckUntil("bogus", known); !errors.Is(err, config.ErrUsage) {
		t.Errorf("unknown step: %v, want ErrUsage", err)
	}
}
