// Package hbafmt quotes the fields of pg_hba.conf and pgbouncer's pgb_hba.conf.
//
// Both files are tokenized the same way (PostgreSQL 15 src/backend/libpq/hba.c
// next_token; pgbouncer 1.18 src/hba.c next_token): fields are separated by blanks,
// items by commas, `#` starts a comment, and double quotes protect all of these, with
// `""` standing for one `"`. A token that begins with a quote is "quoted": it never
// matches a keyword (`"all"` is the role named all), and `+` / `@` / `/` at its
// start lose their meaning (group membership, file inclusion, PG 16+ regex). A line
// cannot be continued, so a newline can never be part of a field: it is an error.
//
// hba.md §5/§6: user values that collide with a keyword or contain syntax characters
// are double-quoted; plain names are written bare, so the common case reads like
// Pigsty's output.
package hbafmt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/render/textline"
)

// MaxToken is the longest name written: PostgreSQL before 14 and pgbouncer's
// buffers refuse longer tokens; role and database names are at most 63 bytes anyway.
const MaxToken = 255

// Errors; callers branch with errors.Is. ErrNewline, ErrNUL and ErrInvalidUTF8
// are textline's (the one-line check shared with conffmt and inifmt).
var (
	ErrEmpty       = errors.New("is empty")
	ErrNewline     = textline.ErrNewline
	ErrNUL         = textline.ErrNUL
	ErrInvalidUTF8 = textline.ErrInvalidUTF8
	ErrTooLong     = fmt.Errorf("is longer than %d bytes", MaxToken)
)

// keywords are the tokens with a meaning of their own in some field of pg_hba.conf
// or pgb_hba.conf (database and user fields; address keywords; PG 16 include
// directives). A name equal to any of them is quoted wherever it appears.
var keywords = map[string]bool{
	"all": true, "sameuser": true, "samerole": true, "samegroup": true, "replication": true,
	"samehost": true, "samenet": true,
	"include": true, "include_if_exists": true, "include_dir": true,
}

// IsKeyword reports whether s is an HBA keyword (compared exactly; PostgreSQL's
// keywords are case-sensitive).
func IsKeyword(s string) bool { return keywords[s] }

// Check reports whether s can appear in a field at all: non-empty, one line, no
// NUL, valid UTF-8, at most MaxToken bytes.
func Check(s string) error {
	if s == "" {
		return ErrEmpty
	}
	if err := textline.Check(s); err != nil {
		return err
	}
	if len(s) > MaxToken {
		return ErrTooLong
	}
	return nil
}

// needsQuote: keyword, a leading character with a meaning (+ group, @ file,
// / regex in PG 16+, " quote), or any character that ends or splits a token
// (blanks — C isspace for pgbouncer — comma, #, ").
func needsQuote(s string) bool {
	if keywords[s] {
		return true
	}
	switch s[0] {
	case '+', '@', '/':
		return true
	}
	return strings.ContainsAny(s, " \t\v\f,#\"")
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Name renders a database or user name: bare when that is unambiguous, otherwise
// double-quoted. Name("dbuser_meta") = `dbuser_meta`, Name("all") = `"all"`,
// Name("+x") = `"+x"`, Name(`a"b c`) = `"a""b c"`.
func Name(s string) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	if needsQuote(s) {
		return quote(s), nil
	}
	return s, nil
}

// Group renders the pg_hba.conf membership item for role: `+role`, the role part
// quoted when it needs it (`+"my role"`; PostgreSQL strips the quotes and keeps the
// `+` meaning because the token does not begin with a quote). pgbouncer does not
// support `+` items (hba.md §5).
func Group(role string) (string, error) {
	if err := Check(role); err != nil {
		return "", err
	}
	if len(role)+1 > MaxToken {
		return "", ErrTooLong
	}
	if strings.ContainsAny(role, " \t\v\f,#\"") {
		return "+" + quote(role), nil
	}
	return "+" + role, nil
}

// Names renders a comma-separated item list with Name.
func Names(items ...string) (string, error) {
	out := make([]string, len(items))
	for i, it := range items {
		q, err := Name(it)
		if err != nil {
			return "", fmt.Errorf("item %q %w", it, err)
		}
		out[i] = q
	}
	return strings.Join(out, ","), nil
}

// Comment returns "# " + text, refusing text that would end the comment line.
func Comment(text string) (string, error) {
	switch {
	case strings.ContainsAny(text, "\n\r"):
		return "", fmt.Errorf("comment %w", ErrNewline)
	case strings.IndexByte(text, 0) >= 0:
		return "", fmt.Errorf("comment %w", ErrNUL)
	case text == "":
		return "#", nil
	}
	return "# " + text, nil
}

// CheckLine reports whether a raw rule line (hba.md §4) is one non-empty line.
func CheckLine(s string) error {
	if strings.TrimSpace(s) == "" {
		return ErrEmpty
	}
	return textline.Check(s)
}

// Regex renders a PostgreSQL 16+ regular-expression item (`/^db_\d+$`, hba.md §5):
// bare when it has no blank, comma, `#` or quote, otherwise double-quoted. Unlike the
// other prefixes, a quoted token that begins with `/` is still a regular expression
// (PostgreSQL 16 hba.c regcomp_auth_token looks only at the first character; the
// commit that added regexps says "regular expressions that include commas need to be
// double-quoted"). pgbouncer has no regular expressions.
func Regex(re string) (string, error) {
	if err := Check(re); err != nil {
		return "", err
	}
	if re[0] != '/' || len(re) < 2 {
		return "", ErrNotRegex
	}
	if strings.ContainsAny(re, " \t\v\f,#\"") {
		return quote(re), nil
	}
	return re, nil
}

// ErrNotRegex: Regex was given something that does not start with `/`.
var ErrNotRegex = errors.New("is not a /regex item")
