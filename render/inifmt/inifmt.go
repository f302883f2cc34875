// Package inifmt writes pgbouncer's configuration syntaxes: ini lines
// (pgbouncer.ini, database.txt, useropts.txt), libpq-style connection strings in
// [databases] entries, and auth_file (userlist.txt) lines.
//
// pgbouncer 1.18 parses ini files with libusual's parse_ini_file (usual/cfparser.c):
// a key is a run of [A-Za-z0-9_.*-]; the value is the rest of the line after `=`
// with leading blanks and trailing whitespace removed. There is no quoting or
// escaping, so a value cannot hold a newline, NUL or edge whitespace: those are
// errors (pooling-services.md §1.1 adds: no `;`/`#` at the start).
//
// Connection strings (src/loader.c cstr_get_value): key=value pairs separated by
// spaces; a value may be single-quoted with `”` for `'`; empty values are refused.
//
// auth_file (src/loader.c load_auth_file): `"user" "secret"` per line, `""` for `"`
// inside the quotes; user shorter than 128 bytes, secret than 2048 (as written).
package inifmt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pgcc-dev/pgcc/render/textline"
)

// KeyWidth is the key column width of pgcc's pgbouncer files (`%-27s = value`,
// pooling-services.md §1).
const KeyWidth = 27

// pgbouncer 1.18 limits (include/bouncer.h), counted on the quoted text.
const (
	MaxUsername = 128
	MaxPassword = 2048
)

// Errors; callers branch with errors.Is. ErrNewline, ErrNUL and ErrInvalidUTF8
// are textline's (the one-line check shared with conffmt and hbafmt).
var (
	ErrBadKey       = errors.New("is not a valid pgbouncer ini key: want [A-Za-z0-9_.*-]+")
	ErrNewline      = textline.ErrNewline
	ErrNUL          = textline.ErrNUL
	ErrInvalidUTF8  = textline.ErrInvalidUTF8
	ErrEdgeSpace    = errors.New("starts or ends with whitespace, which pgbouncer strips")
	ErrCommentStart = errors.New("starts with ; or #")
	ErrEmpty        = errors.New("is empty")
	ErrTooLong      = errors.New("is too long for pgbouncer")
	ErrBadConnKey   = errors.New("is not a valid connection string key")
)

// CheckKey reports whether k is a key pgbouncer's ini parser reads whole. Database
// and user names outside [A-Za-z0-9_.*-] (e.g. `dbuser_meta@pigsty`) cannot be keys
// of [databases] / [users]: pgbouncer stops with "syntax error in configuration".
// (A byte loop for ^[A-Za-z0-9_.*-]+$: every pgbouncer.ini line is checked, and the
// regexp was 2% of a 1000-cluster build.)
func CheckKey(k string) error {
	ok := k != ""
	for i := 0; i < len(k) && ok; i++ {
		c := k[i]
		ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '*' || c == '-'
	}
	if !ok {
		return fmt.Errorf("key %q %w", k, ErrBadKey)
	}
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\n' || c == '\r'
}

// Value returns s unchanged when pgbouncer reads it back as exactly s, else an error.
func Value(s string) (string, error) {
	if err := textline.Check(s); err != nil {
		return "", err
	}
	if s == "" {
		return s, nil
	}
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return "", ErrEdgeSpace
	}
	if s[0] == ';' || s[0] == '#' {
		return "", ErrCommentStart
	}
	return s, nil
}

// Line returns `key = value` with the key padded to KeyWidth (no trailing newline;
// an empty value gives `key = `, which pgbouncer reads as "").
func Line(key, value string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	v, err := Value(value)
	if err != nil {
		return "", fmt.Errorf("value of %s %w", key, err)
	}
	return fmt.Sprintf("%-*s = %s", KeyWidth, key, v), nil
}

// Section returns `[name]`.
func Section(name string) (string, error) {
	if err := textline.Check(name); err != nil || name == "" || strings.ContainsAny(name, "[]") {
		return "", fmt.Errorf("section %q is not valid", name)
	}
	return "[" + name + "]", nil
}

// Include returns `%include path` (libusual: the rest of the line, trimmed).
func Include(path string) (string, error) {
	v, err := Value(path)
	if err != nil || v == "" {
		return "", fmt.Errorf("include path %q is not valid", path)
	}
	return "%include " + v, nil
}

// Comment returns "; " + text, refusing text that would end the line.
func Comment(text string) (string, error) {
	if err := textline.Check(text); err != nil {
		return "", fmt.Errorf("comment %w", err)
	}
	if text == "" {
		return ";", nil
	}
	return "; " + text, nil
}

var connKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// bareConn: characters that keep an unquoted connection-string value one token.
var bareConnRe = regexp.MustCompile(`^[A-Za-z0-9_.,:/@+=%-]+$`)

// ConnValue renders one connection-string value: bare when it is a plain token,
// otherwise single-quoted with `'` doubled (host=/var/run/postgresql,
// dbname='my db', application_name='it”s').
func ConnValue(v string) (string, error) {
	if err := textline.Check(v); err != nil {
		return "", err
	}
	if v == "" {
		return "", ErrEmpty
	}
	if bareConnRe.MatchString(v) {
		return v, nil
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'", nil
}

// ConnString joins key=value pairs with single spaces, in the given order:
// ConnString("host", "/var/run/postgresql", "port", "5433").
func ConnString(kv ...string) (string, error) {
	if len(kv)%2 != 0 {
		return "", errors.New("connection string: odd number of arguments")
	}
	parts := make([]string, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		if !connKeyRe.MatchString(kv[i]) {
			return "", fmt.Errorf("connection string key %q %w", kv[i], ErrBadConnKey)
		}
		v, err := ConnValue(kv[i+1])
		if err != nil {
			return "", fmt.Errorf("connection string value of %s %w", kv[i], err)
		}
		parts = append(parts, kv[i]+"="+v)
	}
	return strings.Join(parts, " "), nil
}

// AuthLine returns one auth_file line, `"user" "secret"`, with `"` doubled inside
// the quotes. The secret is a SCRAM verifier, an md5 hash or "" (pooling-services.md §1.4).
func AuthLine(user, secret string) (string, error) {
	if err := textline.Check(user); err != nil {
		return "", fmt.Errorf("auth_file user %w", err)
	}
	if user == "" {
		return "", fmt.Errorf("auth_file user %w", ErrEmpty)
	}
	if err := textline.Check(secret); err != nil {
		// never echo the secret
		return "", fmt.Errorf("auth_file secret of %q %w", user, err)
	}
	u := strings.ReplaceAll(user, `"`, `""`)
	s := strings.ReplaceAll(secret, `"`, `""`)
	if len(u) >= MaxUsername {
		return "", fmt.Errorf("auth_file user %q %w (max %d bytes)", user, ErrTooLong, MaxUsername-1)
	}
	if len(s) >= MaxPassword {
		return "", fmt.Errorf("auth_file secret of %q %w (max %d bytes)", user, ErrTooLong, MaxPassword-1)
	}
	return `"` + u + `" "` + s + `"`, nil
}
