package cutover

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
)

// Outcomes of cutover.json (§12.12); rollback adds rolled-back.
const (
	Running    = "running"
	Completed  = "completed"
	Aborted    = "aborted"
	Failed     = "failed"
	RolledBack = "rolled-back"
)

// Event names of the time line, in order.
const (
	EvFenceStart   = "fence_start" // t0: the first fence command is sent
	EvFenceApplied = "fence_applied"
	EvSealed       = "sealed"
	EvCaughtUp     = "caught_up"
	EvIsolated     = "isolated"
	EvSeqSynced    = "seq_synced"
	EvPinned       = "pinned"
	EvWritable     = "dst_writable" // rollback: the source accepts writes again
	EvReleased     = "released"
	EvFinished     = "finished"
	EvAborted      = "aborted"
)

// Instant is one event: the monotonic offset from t0 and the wall clock
// (UTC, RFC 3339 with milliseconds), plus microseconds since the epoch so
// commit timestamps can be compared exactly (§12.4).
type Instant struct {
	TMs    float64 `json:"t_ms"`
	TS     string  `json:"ts"`
	UnixUs int64   `json:"unix_us"`
}

// Record is cutover.json (rollback.json for a rollback).
type Record struct {
	Format         int                `json:"format"`
	Migration      string             `json:"migration"`
	Kind           string             `json:"kind"` // cutover | rollback
	Attempt        int                `json:"attempt"`
	Outcome        string             `json:"outcome"`
	Reason         string             `json:"reason,omitempty"`
	Switch         string             `json:"switch"`
	Catchup        string             `json:"catchup"`
	Times          map[string]Instant `json:"times"`
	FenceLSN       string             `json:"fence_lsn,omitempty"`
	FenceAcquireMs *float64           `json:"fence_acquire_ms"`
	PauseMs        *float64           `json:"pause_ms"`
	PartsMs        map[string]float64 `json:"parts_ms,omitempty"`
	Verify         string             `json:"verify,omitempty"`
	Warnings       []string           `json:"warnings"`
}

// FileName returns cutover.json or rollback.json.
func FileName(kind string) string { return kind + ".json" }

func (r *Record) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return plan.WriteFileAtomic(filepath.Join(dir, FileName(r.Kind)), append(b, '\n'), 0o600)
}

// clock stamps the attempt's events against t0 with the monotonic clock.
type clock struct {
	t0    time.Time
	times map[string]time.Time
}

func newClock() *clock { return &clock{times: map[string]time.Time{}} }

func (c *clock) mark(name string, at time.Time) {
	if name == EvFenceStart {
		c.t0 = at
	}
	c.times[name] = at
}

func (c *clock) has(name string) bool { _, ok := c.times[name]; return ok }

// since is the monotonic duration between two marks, in ms (µs precision).
func (c *clock) between(from, to string) (float64, bool) {
	a, ok1 := c.times[from]
	b, ok2 := c.times[to]
	if !ok1 || !ok2 {
		return 0, false
	}
	return ms(b.Sub(a)), true
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func (c *clock) instants() map[string]Instant {
	out := map[string]Instant{}
	for name, at := range c.times {
		in := Instant{TS: at.UTC().Format("2006-01-02T15:04:05.000Z07:00"), UnixUs: at.UnixMicro()}
		if !c.t0.IsZero() {
			in.TMs = ms(at.Sub(c.t0))
		}
		out[name] = in
	}
	return out
}

// fill computes fence_acquire_ms, pause_ms and the parts from the marks.
func (r *Record) fill(c *clock) {
	r.Times = c.instants()
	if v, ok := c.between(EvFenceStart, EvFenceApplied); ok {
		r.FenceAcquireMs = &v
	}
	if v, ok := c.between(EvFenceApplied, EvWritable); ok {
		r.PauseMs = &v
	}
	parts := map[string]float64{}
	if r.FenceAcquireMs != nil {
		parts["fence"] = *r.FenceAcquireMs
	}
	if v, ok := c.between(EvFenceApplied, EvCaughtUp); ok {
		parts["catchup"] = v
	}
	if v, ok := c.between(EvCaughtUp, EvSeqSynced); ok {
		parts["sequences"] = v
	}
	if v, ok := c.between(EvSeqSynced, EvWritable); ok {
		parts["switch"] = v
	}
	if len(parts) > 0 {
		r.PartsMs = parts
	}
}

// Summary is the line printed after the switch:
// "write pause 0.612 s (fence 48 ms, catch-up 311 ms, sequences 41 ms, switch 150 ms)".
func (r *Record) Summary() string {
	if r.PauseMs == nil {
		return ""
	}
	p := r.PartsMs
	return fmt.Sprintf("write pause %.3f s (fence %.0f ms, catch-up %.0f ms, sequences %.0f ms, switch %.0f ms)",
		*r.PauseMs/1000, p["fence"], p["catchup"], p["sequences"], p["switch"])
}

// ---- journal payloads ------------------------------------------------------

// Intent kinds, journaled (fsynced) before the action they describe, so a
// crash at any point leaves enough to restore or roll forward (§5.3).
const (
	IntentPause     = "pause"      // Entries about to be PAUSEd
	IntentSeal      = "seal"       // seal layers about to be applied, with the old ACLs and limit
	IntentPGB       = "pgbouncer"  // one entry's [databases] line about to be rewritten
	IntentHook      = "hook"       // the switch command is about to run
	IntentPONR      = "ponr"       // the point of no return is about to be crossed
	IntentRSlot     = "rslot"      // the reverse slot is about to be created
	IntentUnsealNew = "unseal-new" // rollback: the source is about to be unsealed
)

// ACL is one privilege the revoke layer removes (and a restore grants back).
type ACL struct {
	Rel       string `json:"rel"`     // qualified, quoted
	Kind      string `json:"kind"`    // TABLE or SEQUENCE
	Grantee   string `json:"grantee"` // role name, "" for PUBLIC
	Privilege string `json:"privilege"`
	Grantable bool   `json:"grantable"`
}

// Intent is the payload of an intent record.
type Intent struct {
	Kind      string   `json:"kind"`
	Side      string   `json:"side,omitempty"`
	Entries   []int    `json:"entries,omitempty"`
	Layers    []string `json:"layers,omitempty"`
	ACLs      []ACL    `json:"acls,omitempty"`
	ConnLimit *int     `json:"connlimit,omitempty"`
	Database  string   `json:"database,omitempty"`
	Entry     int      `json:"entry"`
	File      string   `json:"file,omitempty"`
	SSH       string   `json:"ssh,omitempty"`
	Original  string   `json:"original,omitempty"` // redacted
	New       string   `json:"new,omitempty"`      // redacted
	Slot      string   `json:"slot,omitempty"`
}

// Start is the payload of the "cutover"/"rollback" start record.
type Start struct {
	Attempt int    `json:"attempt"`
	Switch  string `json:"switch"`
}

// attemptLog is what the journal says about the last attempt of kind.
type attemptLog struct {
	Attempt     int
	Open        bool // started, neither done nor aborted
	Done        bool
	Paused      []int
	Seal        *Intent
	Edits       map[int]Intent
	Hook        bool
	PONR        bool
	RSlot       string
	UnsealedNew bool
	Steps       map[string]bool // sub-steps done
}

// lastAttempt reduces the records of kind ("cutover" or "rollback").
func lastAttempt(recs []journal.Record, kind string) *attemptLog {
	var a *attemptLog
	n := 0
	for _, r := range recs {
		switch {
		case r.Step == kind && r.Event == journal.EventStart:
			n++
			a = &attemptLog{Attempt: n, Open: true, Edits: map[int]Intent{}, Steps: map[string]bool{}}
			var s Start
			if r.Decode(&s) == nil && s.Attempt > 0 {
				a.Attempt = s.Attempt
				n = s.Attempt
			}
		case a == nil:
		case r.Step == kind && (r.Event == journal.EventDone || r.Event == journal.EventAbort):
			a.Open = false
			a.Done = r.Event == journal.EventDone
		case r.Event == journal.EventIntent && len(r.Step) > len(kind) && r.Step[:len(kind)+1] == kind+".":
			var in Intent
			if r.Decode(&in) != nil {
				continue
			}
			a.apply(in)
		case r.Event == journal.EventDone && len(r.Step) > len(kind) && r.Step[:len(kind)+1] == kind+".":
			a.Steps[r.Step[len(kind)+1:]] = true
		}
	}
	return a
}

// attempts counts the starts of kind.
func attempts(recs []journal.Record, kind string) int {
	n := 0
	for _, r := range recs {
		if r.Step == kind && r.Event == journal.EventStart {
			n++
		}
	}
	return n
}

// lastCompleted returns the last attempt of kind that completed (rollback
// reads the cutover's saved lines and old ACLs from it).
func lastCompleted(recs []journal.Record, kind string) *attemptLog {
	var done *attemptLog
	for i := range recs {
		r := recs[i]
		if r.Step == kind && r.Event == journal.EventDone {
			if a := lastAttempt(recs[:i+1], kind); a != nil {
				done = a
			}
		}
	}
	return done
}

// UnsealStatements returns what undoes the seal that the last completed
// cutover (side source) or rollback (side destination) left: seal 0, the
// revoked privileges, the connection limit. cleanup --unseal runs them.
func UnsealStatements(recs []journal.Record, side string) []string {
	kind := "cutover"
	if side == "destination" {
		kind = "rollback"
	}
	a := lastCompleted(recs, kind)
	if a == nil || a.Seal == nil {
		return nil
	}
	return unsealSQL(a.Seal)
}
