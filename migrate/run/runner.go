// Package run executes a plan (migrate.md §4.1, §7). The Runner owns order,
// journaling, resume and fault injection; an Executor performs each step's
// side effects behind a small interface, so the orchestration is tested
// with a fake and cutover/rollback can reuse the Runner with their own
// sub-steps ("cutover.<name>").
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/journal"
)

// Executor performs the side effects of steps. Both methods must be safe to
// call again after a crash at any point.
type Executor interface {
	// Check inspects the catalogs (and the journal): done means the step's
	// effect is already in place. data is journaled with a recovered done.
	Check(ctx context.Context, step string) (done bool, data any, err error)
	// Apply performs the step; data is journaled with its done record.
	Apply(ctx context.Context, step string) (data any, err error)
}

// ErrStepFailed wraps a failed step (exit 1).
var ErrStepFailed = errors.New("step failed")

// StepError names the failed step.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() []error {
	return []error{ErrStepFailed, e.Err}
}

// Runner runs steps in order up to Until.
type Runner struct {
	Steps   []string // the applicable step ids, in order
	Until   string   // last step to run ("" = all)
	Journal *journal.Journal
	Exec    Executor
	Log     *slog.Logger
	// Side names the side of each step for journal records.
	Side func(step string) string
	// Fault is called at every step boundary ("before", "after"); the
	// faultinject build uses it to SIGKILL the process (migrate.md §7).
	Fault func(step, when string)
}

// CheckUntil validates --until against every known step id (exit 2 when unknown).
func CheckUntil(until string, known []string) error {
	if until == "" {
		return nil
	}
	for _, k := range known {
		if k == until {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown step %q for --until", config.ErrUsage, until)
}

// Run executes the steps. A step whose Check reports done is not applied
// again; a done found by Check but missing from the journal (a crash
// between the action and its record) is journaled as recovered.
func (r *Runner) Run(ctx context.Context, order []string) error {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fault := r.Fault
	if fault == nil {
		fault = func(string, string) {}
	}
	side := func(s string) string {
		if r.Side == nil {
			return ""
		}
		return r.Side(s)
	}
	applicable := map[string]bool{}
	for _, s := range r.Steps {
		applicable[s] = true
	}
	for _, step := range order {
		if !applicable[step] {
			if step == r.Until {
				break
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fault(step, "before")
		st := journal.Reduce(r.Journal.Records())
		done, data, err := r.Exec.Check(ctx, step)
		if err != nil {
			r.journalFail(step, side(step), err)
			return &StepError{Step: step, Err: err}
		}
		if done {
			if !st.Done(step) {
				if _, err := r.Journal.Append(step, journal.EventDone, side(step), withRecovered(data)); err != nil {
					return err
				}
			}
			log.Info("step already done", "step", step)
		} else {
			if _, err := r.Journal.Append(step, journal.EventStart, side(step), nil); err != nil {
				return err
			}
			_ = r.Journal.WriteState()
			start := time.Now()
			log.Info("step start", "step", step)
			data, err := r.Exec.Apply(ctx, step)
			if err != nil {
				r.journalFail(step, side(step), err)
				log.Error("step failed", "step", step, "err", err.Error())
				return &StepError{Step: step, Err: err}
			}
			if _, err := r.Journal.Append(step, journal.EventDone, side(step), data); err != nil {
				return err
			}
			log.Info("step done", "step", step, "ms", time.Since(start).Milliseconds())
		}
		_ = r.Journal.WriteState()
		fault(step, "after")
		if step == r.Until {
			break
		}
	}
	return nil
}

func withRecovered(data any) any {
	if data == nil {
		return map[string]any{"recovered": true}
	}
	return data
}

func (r *Runner) journalFail(step, side string, err error) {
	_, _ = r.Journal.Append(step, journal.EventFail, side, map[string]string{"error": err.Error()})
	_ = r.Journal.WriteState()
}

// Hostname for RunInfo.
func Hostname() string {
	h, _ := os.Hostname()
	return h
}
