package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render"
)

// explainHBA prints the effective HBA rules of an instance (`pgcc explain
// CLUSTER/INSTANCE --hba` / `--pgb-hba`): the enabled rules in file order, each with
// its order, title, role and where it came from (file:line of the inventory, or
// "default"), followed by its lines as written; then the rules that are written
// commented out on this instance.
func (e *env) explainHBA(f *compiler.Fleet, cl *compiler.Cluster, inst *compiler.Instance, pg, pgb bool) int {
	first := true
	for _, kind := range []bool{false, true} {
		if (!kind && !pg) || (kind && !pgb) {
			continue
		}
		if !first {
			fmt.Fprintln(e.stdout)
		}
		first = false
		if kind && !inst.Bool("pgbouncer_enabled") {
			fmt.Fprintf(e.stdout, "%s: pgbouncer is not enabled; no pgb_hba.conf\n", inst.Name)
			continue
		}
		h, err := render.BuildHBA(f, cl, inst, kind)
		if err != nil {
			fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
			return ExitUsage
		}
		writeHBAExplain(e.stdout, h)
	}
	return ExitOK
}

// hbaOrigin is where a rule object was written: file:line, or "default".
func hbaOrigin(r *compiler.HBARule) string {
	if r.Src.Pos.File == "" {
		return "default"
	}
	return fmt.Sprintf("%s:%d", r.Src.Pos.File, r.Src.Pos.Line)
}

func writeHBAExplain(w io.Writer, h *render.HBAFile) {
	name := "pg_hba.conf"
	if h.PGB {
		name = "pgb_hba.conf"
	}
	enabled := 0
	for _, b := range h.Blocks {
		if b.Enabled {
			enabled++
		}
	}
	fmt.Fprintf(w, "%s of %s [%s]: %d of %d rules enabled, in file order\n", name, h.Inst.Name, h.Inst.Role, enabled, len(h.Blocks))
	n := 0
	for _, b := range h.Blocks {
		if !b.Enabled {
			continue
		}
		n++
		writeHBABlock(w, fmt.Sprintf("%3d. ", n), b)
		if len(b.Lines) == 0 {
			fmt.Fprintln(w, "       (no lines: the address alias expands to nothing)")
		}
		for _, l := range b.Lines {
			fmt.Fprintf(w, "       %s\n", l.Text)
		}
	}
	if enabled < len(h.Blocks) {
		fmt.Fprintf(w, "disabled on %s (written commented out):\n", h.Inst.Name)
		for _, b := range h.Blocks {
			if !b.Enabled {
				writeHBABlock(w, "   - ", b)
			}
		}
	}
}

func writeHBABlock(w io.Writer, prefix string, b render.HBABlock) {
	r := b.Rule
	order := "order -   "
	if r.Order != nil {
		order = fmt.Sprintf("order %-4d", *r.Order)
	}
	form := ""
	if b.Raw {
		form = " (raw)"
	}
	title := strings.TrimSpace(r.Title + " [" + b.Role + "]")
	fmt.Fprintf(w, "%s%s %s%s  from %s (%s)\n", prefix, order, title, form, hbaOrigin(r), r.Src.Path)
}
