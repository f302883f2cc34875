// Package textline is the one check the line-oriented quoters share (conffmt for
// postgresql.conf, hbafmt for pg_hba.conf / pgb_hba.conf, inifmt for pgbouncer's
// files): text written inside one line of those files may not end the line, so it
// holds no newline or carriage return, no NUL (the servers read values as C
// strings) and only valid UTF-8. It quotes nothing; each syntax keeps its own
// quoter. The quoters re-export the sentinel errors, so errors.Is(err,
// conffmt.ErrNewline) and errors.Is(err, textline.ErrNewline) are the same test.
package textline

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Errors; callers branch with errors.Is.
var (
	ErrNewline     = errors.New("contains a newline or carriage return")
	ErrNUL         = errors.New("contains a NUL byte")
	ErrInvalidUTF8 = errors.New("is not valid UTF-8")
)

// Check reports whether s can be written inside one line: ErrNewline for a `\n`
// or `\r`, else ErrNUL for a NUL byte, else ErrInvalidUTF8, else nil.
func Check(s string) error {
	switch {
	case strings.ContainsAny(s, "\n\r"):
		return ErrNewline
	case strings.IndexByte(s, 0) >= 0:
		return ErrNUL
	case !utf8.ValidString(s):
		return ErrInvalidUTF8
	}
	return nil
}
