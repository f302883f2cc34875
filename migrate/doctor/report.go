package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Failed reports whether the report means exit 1: a failed blocker, or with
// strict a failed warning as well.
func (r *Report) Failed(strict bool) bool {
	return r.Summary.Blockers > 0 || (strict && r.Summary.Warnings > 0)
}

// JSON renders doctor.json (two-space indent, trailing newline).
func (r *Report) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// WriteText lists the checks that did not pass, then a summary line.
func (r *Report) WriteText(w io.Writer) {
	for _, c := range r.Checks {
		if c.Status != Fail {
			continue
		}
		obj := ""
		if c.Object != nil {
			obj = " " + *c.Object
		}
		fmt.Fprintf(w, "%-7s %s%s: %s\n", strings.ToUpper(c.Severity), c.ID, obj, c.Evidence)
		if c.FixSQL != nil {
			for _, line := range strings.Split(*c.FixSQL, "\n") {
				fmt.Fprintf(w, "        fix (%s): %s\n", *c.FixSide, line)
			}
		}
	}
	skipped := 0
	for _, c := range r.Checks {
		if c.Status == Skip {
			skipped++
		}
	}
	fmt.Fprintf(w, "doctor: %d blockers, %d warnings", r.Summary.Blockers, r.Summary.Warnings)
	if skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", skipped)
	}
	fmt.Fprintln(w)
}

// FixSQL renders every fix grouped by side; pgmigrate never runs them.
func (r *Report) FixSQL() []byte {
	var b strings.Builder
	b.WriteString("-- pgmigrate doctor fixes for " + r.Migration + ". Review, then run each section on its side.\n")
	for _, side := range []string{"source", "destination"} {
		var lines []string
		for _, c := range r.Checks {
			if c.FixSQL == nil || *c.FixSide != side || (c.Status != Fail && c.Severity != Info) {
				continue
			}
			obj := ""
			if c.Object != nil {
				obj = " " + *c.Object
			}
			lines = append(lines, "-- "+c.ID+obj, *c.FixSQL)
		}
		if len(lines) == 0 {
			continue
		}
		b.WriteString("\n-- @" + side + "\n")
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return []byte(b.String())
}
