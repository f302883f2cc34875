package status

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// JSON renders one status as an indented JSON document.
func (s *Status) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

func ptrBytes(p *int64) string {
	if p == nil {
		return "-"
	}
	return Human(*p)
}

func bar(done, total int64, width int) string {
	if total <= 0 {
		total = 1
		if done > 0 {
			done = 1
		}
	}
	f := float64(done) / float64(total)
	if f > 1 {
		f = 1
	}
	n := int(f * float64(width))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] " + fmt.Sprintf("%3.0f%%", f*100)
}

// WriteText renders the status; bars draws progress bars (a TTY).
func (s *Status) WriteText(w io.Writer, bars bool) {
	fmt.Fprintf(w, "%s  phase %s  step %s\n", s.Migration, s.Phase, orDash(s.Step))
	if s.Source.Up {
		fmt.Fprintf(w, "source       up  lsn %s", s.Source.LSN)
		if sl := s.Source.Slot; sl != nil && sl.Exists {
			fmt.Fprintf(w, "  slot %s %s  lag %s  retained %s  wal %s", sl.Name, map[bool]string{true: "active", false: "inactive"}[sl.Active],
				ptrBytes(sl.LagBytes), ptrBytes(sl.RetainedBytes), orDash(sl.WALStatus))
		} else {
			fmt.Fprint(w, "  no slot")
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "source       DOWN  %s\n", s.Source.Err)
	}
	if s.Destination.Up {
		fmt.Fprint(w, "destination  up")
		if sub := s.Destination.Subscription; sub != nil && sub.Exists {
			pid := "none"
			if sub.WorkerPID != nil {
				pid = strconv.Itoa(int(*sub.WorkerPID))
			}
			fmt.Fprintf(w, "  subscription %s %s  worker %s", sub.Name, map[bool]string{true: "enabled", false: "disabled"}[sub.Enabled], pid)
			if sub.ApplyErrorCount != nil {
				fmt.Fprintf(w, "  errors apply %d sync %d", *sub.ApplyErrorCount, *sub.SyncErrorCount)
			}
		} else {
			fmt.Fprint(w, "  no subscription")
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "destination  DOWN  %s\n", s.Destination.Err)
	}
	var total, done int64
	width := 10
	for _, t := range s.Tables {
		if len(t.Name) > width {
			width = len(t.Name)
		}
		total += t.BytesTotal
		done += t.BytesDone
	}
	if len(s.Tables) > 0 {
		fmt.Fprintf(w, "%-*s  %-8s %s\n", width, "TABLE", "STATE", "COPIED")
		for _, t := range s.Tables {
			prog := Human(t.BytesDone) + " / " + Human(t.BytesTotal)
			if bars && t.State == Copying {
				prog = bar(t.BytesDone, t.BytesTotal, 30) + "  " + prog
			}
			fmt.Fprintf(w, "%-*s  %-8s %s\n", width, t.Name, t.State, prog)
		}
		if bars {
			fmt.Fprintf(w, "%-*s  %-8s %s  %s / %s\n", width, "overall", "", bar(done, total, 30), Human(done), Human(total))
		}
	}
	rate := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return Human(int64(*p)) + "/s"
	}
	fmt.Fprintf(w, "rates: copy %s  apply %s  wal %s", rate(s.Rates.Copy), rate(s.Rates.Apply), rate(s.Rates.WAL))
	if s.ETASeconds.Copy != nil {
		fmt.Fprintf(w, "  copy eta %.0fs", *s.ETASeconds.Copy)
	}
	if s.ETASeconds.Catchup != nil {
		fmt.Fprintf(w, "  catch-up eta %.0fs", *s.ETASeconds.Catchup)
	}
	fmt.Fprintln(w)
	for _, sw := range []struct {
		name string
		v    *Switch
	}{{"cutover", s.Cutover}, {"rollback", s.Rollback}} {
		if sw.v == nil {
			continue
		}
		fmt.Fprintf(w, "%s: attempt %d %s", sw.name, sw.v.Attempt, sw.v.Outcome)
		if sw.v.PauseMs != nil {
			fmt.Fprintf(w, "  write pause %.3f s", *sw.v.PauseMs/1000)
		}
		if sw.v.FenceLSN != "" {
			fmt.Fprintf(w, "  fence lsn %s", sw.v.FenceLSN)
		}
		if sw.v.Verify != "" {
			fmt.Fprintf(w, "  verify %s", sw.v.Verify)
		}
		if sw.v.Reason != "" {
			fmt.Fprintf(w, "  (%s)", sw.v.Reason)
		}
		fmt.Fprintln(w)
	}
	if r := s.Reverse; r != nil {
		fmt.Fprint(w, "reverse     ")
		if r.Slot != nil && r.Slot.Exists {
			fmt.Fprintf(w, "  slot %s %s  lag %s", r.Slot.Name, map[bool]string{true: "active", false: "inactive"}[r.Slot.Active], ptrBytes(r.Slot.LagBytes))
		} else {
			fmt.Fprint(w, "  no slot")
		}
		if r.Subscription != nil && r.Subscription.Exists {
			fmt.Fprintf(w, "  subscription %s %s", r.Subscription.Name, map[bool]string{true: "enabled", false: "disabled"}[r.Subscription.Enabled])
		} else {
			fmt.Fprint(w, "  no subscription")
		}
		fmt.Fprintln(w)
	}
	if len(s.Health) == 0 {
		fmt.Fprintln(w, "health: ok")
	} else {
		for _, h := range s.Health {
			fmt.Fprintln(w, "UNHEALTHY: "+h)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Metrics renders the Prometheus text exposition (migrate.md §8).
func (s *Status) Metrics() []byte {
	var b strings.Builder
	help := func(name, typ, text string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
	}
	b2i := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	help("pgmigrate_up", "gauge", "Whether a side answers.")
	fmt.Fprintf(&b, "pgmigrate_up{side=\"source\"} %d\n", b2i(s.Source.Up))
	fmt.Fprintf(&b, "pgmigrate_up{side=\"destination\"} %d\n", b2i(s.Destination.Up))
	if sl := s.Source.Slot; sl != nil && sl.LagBytes != nil {
		help("pgmigrate_lag_bytes", "gauge", "Source WAL position minus the slot's confirmed_flush_lsn.")
		fmt.Fprintf(&b, "pgmigrate_lag_bytes %d\n", *sl.LagBytes)
	}
	if sl := s.Source.Slot; sl != nil && sl.RetainedBytes != nil {
		help("pgmigrate_slot_retained_bytes", "gauge", "WAL retained by the slot.")
		fmt.Fprintf(&b, "pgmigrate_slot_retained_bytes %d\n", *sl.RetainedBytes)
	}
	help("pgmigrate_copy_bytes_total", "counter", "Bytes copied per table.")
	for _, t := range s.Tables {
		fmt.Fprintf(&b, "pgmigrate_copy_bytes_total{table=%s} %d\n", promLabel(t.Name), t.BytesDone)
	}
	help("pgmigrate_tables", "gauge", "Tables per state.")
	counts := map[string]int{}
	for _, t := range s.Tables {
		counts[t.State]++
	}
	for _, st := range []string{Pending, Copying, Copied, Syncing, Ready, Error} {
		fmt.Fprintf(&b, "pgmigrate_tables{state=%q} %d\n", st, counts[st])
	}
	if sub := s.Destination.Subscription; sub != nil && sub.ApplyErrorCount != nil {
		help("pgmigrate_apply_errors_total", "counter", "Subscription apply and sync errors.")
		fmt.Fprintf(&b, "pgmigrate_apply_errors_total %d\n", *sub.ApplyErrorCount+*sub.SyncErrorCount)
	}
	if r := s.Reverse; r != nil && r.Slot != nil && r.Slot.LagBytes != nil {
		help("pgmigrate_reverse_lag_bytes", "gauge", "Destination WAL position minus the reverse slot's confirmed_flush_lsn.")
		fmt.Fprintf(&b, "pgmigrate_reverse_lag_bytes %d\n", *r.Slot.LagBytes)
	}
	help("pgmigrate_phase", "gauge", "The migration's phase (1 for the current one).")
	fmt.Fprintf(&b, "pgmigrate_phase{phase=%s} 1\n", promLabel(s.Phase))
	if c := s.Cutover; c != nil {
		help("pgmigrate_cutover_attempt", "gauge", "The last cutover attempt, by outcome.")
		fmt.Fprintf(&b, "pgmigrate_cutover_attempt{outcome=%s} %d\n", promLabel(c.Outcome), c.Attempt)
		if c.PauseMs != nil {
			help("pgmigrate_cutover_pause_seconds", "gauge", "Write pause of the last cutover: fence applied to destination writable.")
			fmt.Fprintf(&b, "pgmigrate_cutover_pause_seconds %s\n", strconv.FormatFloat(*c.PauseMs/1000, 'f', -1, 64))
		}
		if c.FenceAcquireMs != nil {
			help("pgmigrate_cutover_fence_acquire_seconds", "gauge", "Time to put every fence layer in place in the last cutover.")
			fmt.Fprintf(&b, "pgmigrate_cutover_fence_acquire_seconds %s\n", strconv.FormatFloat(*c.FenceAcquireMs/1000, 'f', -1, 64))
		}
	}
	if s.VerifyMismatched != nil {
		help("pgmigrate_verify_mismatched_tables", "gauge", "Mismatched tables in the last verify.json.")
		fmt.Fprintf(&b, "pgmigrate_verify_mismatched_tables %d\n", *s.VerifyMismatched)
	}
	return []byte(b.String())
}

// promLabel quotes a label value (Prometheus text format: \, " and \n escaped).
func promLabel(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}

// StepMetrics renders pgmigrate_step{step,status} from journal statuses.
func StepMetrics(steps map[string]string) string {
	var keys []string
	for k := range steps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# HELP pgmigrate_step Step status from the journal.\n# TYPE pgmigrate_step gauge\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "pgmigrate_step{step=%s,status=%s} 1\n", promLabel(k), promLabel(steps[k]))
	}
	return b.String()
}
