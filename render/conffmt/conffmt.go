// Package conffmt quotes values and writes lines of postgresql.conf /
// postgresql.auto.conf, following PostgreSQL's configuration file lexer
// (src/backend/utils/misc/guc-file.l, PostgreSQL 15) and what ALTER SYSTEM writes
// (`name = 'value'`, with `'` and `\` doubled; tuning.md §7).
//
// Relevant lexer rules:
//
//	ID              {LETTER}{LETTER_OR_DIGIT}*           LETTER = [A-Za-z_\200-\377]
//	QUALIFIED_ID    {ID}"."{ID}
//	UNQUOTED_STRING {LETTER}({LETTER_OR_DIGIT}|[-._:/])*
//	INTEGER         {SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*
//	REAL            {SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}?
//	STRING          \'([^'\\\n]|\\.|\'\')*\'
//
// A quoted string cannot contain a raw newline, so no value can end its line; a
// newline, carriage return or NUL in a value is an error (ALTER SYSTEM refuses
// newlines too: "parameter value for ALTER SYSTEM must not contain a newline").
package conffmt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pgcc-dev/pgcc/render/textline"
)

// Errors; callers branch with errors.Is. ErrNewline, ErrNUL and ErrInvalidUTF8
// are textline's (the one-line check shared with hbafmt and inifmt).
var (
	ErrNewline     = textline.ErrNewline
	ErrNUL         = textline.ErrNUL
	ErrInvalidUTF8 = textline.ErrInvalidUTF8
	ErrBadName     = errors.New("is not a valid parameter name")
)

// nameRe is the lexer's ID or QUALIFIED_ID restricted to ASCII: one optional dot
// ("a.b.c" is a syntax error for PostgreSQL).
var nameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// CheckName reports whether name can be written as a parameter name.
func CheckName(name string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("parameter name %q %w", name, ErrBadName)
	}
	return nil
}

// CheckValue reports whether s can be written as a value: no newline, carriage
// return or NUL (PostgreSQL reads the value as a C string), valid UTF-8.
func CheckValue(s string) error { return textline.Check(s) }

// Value returns s as a quoted configuration string, as ALTER SYSTEM writes it:
// Value("64MB") = `'64MB'`, Value("it's") = `'it”s'`, Value(`C:\x`) = `'C:\\x'`.
// PostgreSQL reads it back as exactly s (GUC_scanstr: `”` → `'`, `\\` → `\`).
func Value(s string) (string, error) {
	if err := CheckValue(s); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(s[i])
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

var (
	unquotedRe = regexp.MustCompile(`^[A-Za-z_\x{80}-\x{10FFFF}][A-Za-z0-9_\x{80}-\x{10FFFF}.:/-]*$`)
	integerRe  = regexp.MustCompile(`^[-+]?([0-9]+|0x[0-9A-Fa-f]+)[A-Za-z]*$`)
	realRe     = regexp.MustCompile(`^[-+]?[0-9]*\.[0-9]*([Ee][-+]?[0-9]+)?$`)
	stringRe   = regexp.MustCompile(`^'([^'\\\n\r\x00]|\\[^\n\r\x00]|'')*'$`)
)

// IsBareToken reports whether s is one whole unquoted token of the lexer
// (UNQUOTED_STRING, ID, QUALIFIED_ID, INTEGER or REAL), so it can be written
// without quotes and reads back as s.
func IsBareToken(s string) bool {
	return s != "" && utf8.ValidString(s) && (unquotedRe.MatchString(s) || integerRe.MatchString(s) || realRe.MatchString(s))
}

// IsQuotedString reports whether s is exactly one complete quoted string token.
func IsQuotedString(s string) bool { return stringRe.MatchString(s) && utf8.ValidString(s) }

// ListValue renders the value of a list-valued parameter that Pigsty writes
// unquoted (search_path, shared_preload_libraries, … tuning.md §7): verbatim when it
// is already one complete quoted string or one bare token, otherwise quoted with
// Value. pgcc differs from the spec's `^[A-Za-z0-9_$./:-]+$` only where PostgreSQL's
// lexer would reject the bare form: a leading digit, `$` or `-` (e.g.
// `$libdir/passwordcheck`) is quoted.
func ListValue(s string) (string, error) {
	if err := CheckValue(s); err != nil {
		return "", err
	}
	if IsBareToken(s) || IsQuotedString(s) {
		return s, nil
	}
	return Value(s)
}

// Line returns `name = 'value'` (no trailing newline).
func Line(name, value string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	v, err := Value(value)
	if err != nil {
		return "", fmt.Errorf("parameter %s: value %w", name, err)
	}
	return name + " = " + v, nil
}

// ListLine is Line with ListValue.
func ListLine(name, value string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	v, err := ListValue(value)
	if err != nil {
		return "", fmt.Errorf("parameter %s: value %w", name, err)
	}
	return name + " = " + v, nil
}

// Comment returns "# " + text, refusing text that would end the comment line.
func Comment(text string) (string, error) {
	if err := CheckValue(text); err != nil {
		return "", fmt.Errorf("comment %w", err)
	}
	if text == "" {
		return "#", nil
	}
	return "# " + text, nil
}
