package schema

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity of a diagnostic.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Diag is one validation error or lint warning, printed as
// FILE:LINE:COL: PATH: MESSAGE (README "Error format"). Messages never carry
// passwords: callers build them from names and non-secret values only.
type Diag struct {
	Pos      Pos
	Path     string
	Message  string
	Code     string
	Severity Severity // "" means error
}

func (d Diag) IsWarning() bool { return d.Severity == SevWarning }

func (d Diag) String() string {
	var b strings.Builder
	if d.Pos.File != "" {
		fmt.Fprintf(&b, "%s:%d:%d: ", d.Pos.File, d.Pos.Line, d.Pos.Col)
	} else {
		b.WriteString("default: ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	if d.IsWarning() {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	if d.IsWarning() && d.Code != "" {
		b.WriteString(" [" + d.Code + "]")
	}
	return b.String()
}

func (d Diag) Error() string { return d.String() }

// Diags is a list of diagnostics. As an error it prints every line and the count.
type Diags []Diag

func (ds Diags) Error() string {
	var b strings.Builder
	ds.WriteText(&b)
	return strings.TrimRight(b.String(), "\n")
}

// Errors returns the diagnostics that are errors.
func (ds Diags) Errors() Diags {
	var out Diags
	for _, d := range ds {
		if !d.IsWarning() {
			out = append(out, d)
		}
	}
	return out
}

// Warnings returns the diagnostics that are warnings.
func (ds Diags) Warnings() Diags {
	var out Diags
	for _, d := range ds {
		if d.IsWarning() {
			out = append(out, d)
		}
	}
	return out
}

// Sorted returns the diagnostics sorted by file, line, column, path and
// message, without exact duplicates (inventory.md §6).
func (ds Diags) Sorted() Diags {
	out := append(Diags(nil), ds...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pos.File != b.Pos.File {
			// positionless (default/CLI) entries first would hide file errors; put them last
			if a.Pos.File == "" || b.Pos.File == "" {
				return b.Pos.File == ""
			}
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Message < b.Message
	})
	dedup := out[:0]
	for i, d := range out {
		if i > 0 && d == out[i-1] {
			continue
		}
		dedup = append(dedup, d)
	}
	return dedup
}

// WriteText prints each diagnostic on a line, then "N errors" / "N warnings".
func (ds Diags) WriteText(w io.Writer) {
	errs, warns := 0, 0
	for _, d := range ds {
		fmt.Fprintln(w, d.String())
		if d.IsWarning() {
			warns++
		} else {
			errs++
		}
	}
	if errs > 0 {
		fmt.Fprintln(w, plural(errs, "error"))
	}
	if warns > 0 {
		fmt.Fprintln(w, plural(warns, "warning"))
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

type jsonDiag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Path     string `json:"path"`
	Message  string `json:"message"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
}

// WriteJSON prints {"errors":[...],"count":N} (inventory.md §7).
func (ds Diags) WriteJSON(w io.Writer) error {
	out := struct {
		Errors []jsonDiag `json:"errors"`
		Count  int        `json:"count"`
	}{Errors: []jsonDiag{}}
	for _, d := range ds {
		sev := string(d.Severity)
		if sev == "" {
			sev = string(SevError)
		}
		file := d.Pos.File
		if file == "" {
			file = "default"
		}
		out.Errors = append(out.Errors, jsonDiag{file, d.Pos.Line, d.Pos.Col, d.Path, d.Message, d.Code, sev})
	}
	out.Count = len(out.Errors)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
