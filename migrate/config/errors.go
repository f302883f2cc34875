package config

import (
	"fmt"
	"strings"
)

// Error is one validation error in README's format: FILE:LINE:COL: PATH: MESSAGE.
// Messages are built from key names and non-secret values only.
type Error struct {
	File string
	Line int
	Col  int
	Path string
	Msg  string
}

func (e Error) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every validation error of one load; as an error it prints all
// lines and then the count, as README's error format asks.
type Errors []Error

func (es Errors) Error() string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	if len(es) == 1 {
		b.WriteString("1 error")
	} else {
		fmt.Fprintf(&b, "%d errors", len(es))
	}
	return b.String()
}

// enumList renders "a, b or c" for error messages.
func enumList(vals []string) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}
