// Package sqltext is pgcc's one SQL quoter: identifiers, literals, dollar-quoted
// bodies and lists of them, for the psql scripts pgcc renders (sql.md §1).
//
// Every function here is total (never panics) and no input can make its output
// end the quoted token early: a value either round-trips exactly through
// PostgreSQL's lexer or the output is a token PostgreSQL rejects at parse time
// (so a script run with ON_ERROR_STOP stops instead of storing a changed value).
// Callers validate user input with CheckText / CheckIdent first to get a proper
// error message at build time.
//
// References: PostgreSQL 15 docs §4.1.1 "Identifiers and Key Words", §4.1.2.1-4.1.2.4
// (string constants, escape strings, dollar quoting); quote_ident(), quote_literal().
package sqltext

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxIdentLen is NAMEDATALEN-1: PostgreSQL truncates longer identifiers (with a NOTICE),
// which would silently make two distinct names collide.
const MaxIdentLen = 63

// Errors returned by CheckText and CheckIdent; callers branch with errors.Is.
var (
	ErrNUL          = errors.New("contains a NUL byte")
	ErrInvalidUTF8  = errors.New("is not valid UTF-8")
	ErrEmptyIdent   = errors.New("is an empty identifier")
	ErrIdentTooLong = fmt.Errorf("is longer than %d bytes", MaxIdentLen)
)

// CheckText reports whether s can be stored in a PostgreSQL text value of a UTF8
// database: no NUL byte (text cannot hold one, and psql truncates a script line at
// NUL) and valid UTF-8.
func CheckText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return ErrNUL
	}
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	return nil
}

// CheckIdent reports whether s is usable as a quoted identifier: CheckText, not
// empty (a zero-length delimited identifier is a syntax error) and at most 63 bytes.
func CheckIdent(s string) error {
	if s == "" {
		return ErrEmptyIdent
	}
	if err := CheckText(s); err != nil {
		return err
	}
	if len(s) > MaxIdentLen {
		return ErrIdentTooLong
	}
	return nil
}

// Ident returns s as a delimited identifier: always double-quoted, `"` doubled
// (sql.md §1: "identifiers always double-quoted"). Ident("x") = `"x"`.
//
// An identifier containing NUL is rendered in the U&"..." form with the NUL as
// \0000, which PostgreSQL rejects ("invalid Unicode escape value"); the value can
// never be truncated by psql into something else.
func Ident(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return unicodeIdent(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b.WriteByte('"')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// unicodeIdent writes U&"..." with every non-printable-ASCII byte sequence escaped.
// Used only for invalid input; the result is always rejected by the server because
// it contains \0000.
func unicodeIdent(s string) string {
	var b strings.Builder
	b.WriteString(`U&"`)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			b.WriteString(`\0000`)
		case c == '"':
			b.WriteString(`""`)
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20 || c >= 0x7f:
			// Bytes, not code points: invalid input anyway; keeps the output ASCII.
			fmt.Fprintf(&b, `\%04X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// IdentIfNeeded quotes s only when it is not a plain lower-case identifier, like
// PostgreSQL's quote_ident(): it stays bare when it matches [a-z_][a-z0-9_]* and is
// not a reserved, column-name or type/function-name keyword (pg_get_keywords()
// catcode <> 'U', PostgreSQL 15). For places where Pigsty-like output reads better;
// pgcc's SQL uses Ident.
func IdentIfNeeded(s string) string {
	if isSimpleIdent(s) && !IsKeyword(s) {
		return s
	}
	return Ident(s)
}

func isSimpleIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// IsKeyword reports whether s (compared exactly, lower case) is a PostgreSQL 15
// keyword that cannot be used as a bare column or role name.
func IsKeyword(s string) bool {
	_, ok := keywords[s]
	return ok
}

// Keywords returns the keyword list IsKeyword uses, sorted.
func Keywords() []string {
	out := strings.Fields(keywordList)
	return out
}

// QualifiedIdent quotes each part and joins them with dots:
// QualifiedIdent("auto_explain", "log_min_duration") = `"auto_explain"."log_min_duration"`.
func QualifiedIdent(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = Ident(p)
	}
	return strings.Join(q, ".")
}

// DottedIdent quotes a dotted name per part (sql.md §1: dotted GUC names quoted per
// part): DottedIdent("auto_explain.log_min_duration") = `"auto_explain"."log_min_duration"`.
func DottedIdent(name string) string {
	return QualifiedIdent(strings.Split(name, ".")...)
}

// IdentList quotes each name and joins them with ", ".
func IdentList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Ident(n)
	}
	return strings.Join(q, ", ")
}

// Literal returns s as a string constant, exactly like PostgreSQL's quote_literal():
// single quotes doubled; when s contains a backslash, the escape-string form E'...'
// with backslashes doubled. The E form keeps the value exact whatever
// standard_conforming_strings is (pgcc's scripts set it on, but a literal must not
// depend on the session). Literal("it's") = `'it”s'`; Literal(`a\b`) = `E'a\\b'`.
//
// A NUL byte is written as the escape \000, which PostgreSQL rejects ("invalid byte
// sequence for encoding "UTF8": 0x00"), so the statement fails instead of storing a
// truncated value. Invalid UTF-8 is passed through and rejected by the server.
func Literal(s string) string {
	hasNUL := strings.IndexByte(s, 0) >= 0
	esc := hasNUL || strings.IndexByte(s, '\\') >= 0
	var b strings.Builder
	b.Grow(len(s) + 3)
	if esc {
		b.WriteByte('E')
	}
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			b.WriteString("''")
		case c == '\\' && esc:
			b.WriteString(`\\`)
		case c == 0:
			b.WriteString(`\000`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// LiteralChecked is CheckText followed by Literal.
func LiteralChecked(s string) (string, error) {
	if err := CheckText(s); err != nil {
		return "", err
	}
	return Literal(s), nil
}

// LiteralList quotes each value as a literal and joins them with ", "
// (`SET "search_path" = 'app', 'public'`, sql.md §2).
func LiteralList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = Literal(v)
	}
	return strings.Join(q, ", ")
}

// DollarTag is the dollar-quote tag pgcc uses for DO bodies (sql.md §1).
const DollarTag = "pgcc"

// DollarQuote wraps body in $pgcc$…$pgcc$, or $pgcc1$, $pgcc2$… when the body
// contains the delimiter (sql.md §1). The delimiter is chosen so that its first
// occurrence after the opening tag is the closing one, including the case of a body
// ending in "$pgcc". Dollar-quoted text takes no escapes (docs §4.1.2.4), so the
// body is written verbatim; a body containing NUL cannot be represented and is
// returned inside a string PostgreSQL rejects (see Literal).
func DollarQuote(body string) string {
	if strings.IndexByte(body, 0) >= 0 {
		// Not representable verbatim; E'...' with \000 fails at parse time.
		return Literal(body)
	}
	for n := 0; ; n++ {
		tag := DollarTag
		if n > 0 {
			tag += strconv.Itoa(n)
		}
		delim := "$" + tag + "$"
		if strings.Index(body+delim, delim) == len(body) {
			return delim + body + delim
		}
	}
}

var keywords = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(keywordList) {
		m[w] = struct{}{}
	}
	return m
}()

// keywordList: PostgreSQL 15.20 `SELECT string_agg(word, ' ' ORDER BY word) FROM
// pg_get_keywords() WHERE catcode <> 'U'` (reserved, column-name and
// type/function-name keywords: the ones quote_ident() quotes). A real-daemon test
// compares it with the server.
const keywordList = `all analyse analyze and any array as asc asymmetric authorization between bigint
binary bit boolean both case cast char character check coalesce collate collation column concurrently
constraint create cross current_catalog current_date current_role current_schema current_time
current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists
extract false fetch float for foreign freeze from full grant greatest group grouping having ilike in
initially inner inout int integer intersect interval into is isnull join lateral leading least left like
limit localtime localtimestamp national natural nchar none normalize not notnull null nullif numeric
offset on only or order out outer overlaps overlay placing position precision primary real references
returning right row select session_user setof similar smallint some substring symmetric table
tablesample then time timestamp to trailing treat trim true union unique user using values varchar
variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest
xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable`
