// Package haproxyfmt writes values into HAProxy configuration lines: the one
// quoter for HAProxy's syntax (BRIEF: one quoter per syntax).
//
// HAProxy 2.6 splits a line into words (configuration.txt §2.2 "Quoting and
// escaping"; src/tools.c parse_line): blanks separate words, `#` starts a
// comment, `\` escapes the next character outside single quotes, double quotes
// are weak (they still expand `$VAR`/`${VAR}` environment variables and
// backslash escapes) and single quotes are strong (nothing inside is
// interpreted). Adjacent quoted parts join into one word. There is no way to
// continue a line, so a newline, carriage return or NUL can never be part of a
// value: those are errors.
//
// Word writes a plain token bare and anything else in single quotes, with an
// embedded `'` written as `'\”` (close, escaped quote, reopen), the shell
// idiom HAProxy also accepts. HAProxy's own documentation recommends single
// quotes for passwords (configuration.txt, "user … insecure-password").
package haproxyfmt

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Errors; callers branch with errors.Is. Messages never echo the value (it may
// be a password).
var (
	ErrNewline = errors.New("contains a newline or carriage return, which would end the configuration line")
	ErrNUL     = errors.New("contains a NUL byte")
)

// bare: characters that HAProxy reads literally outside quotes.
var bare = regexp.MustCompile(`^[A-Za-z0-9_.,:/@+=%*-]+$`)

func check(s string) error {
	switch {
	case strings.ContainsAny(s, "\n\r"):
		return ErrNewline
	case strings.IndexByte(s, 0) >= 0:
		return ErrNUL
	}
	return nil
}

// Word returns s as one HAProxy configuration word that reads back as exactly s.
func Word(s string) (string, error) {
	if err := check(s); err != nil {
		return "", err
	}
	if bare.MatchString(s) {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// Words quotes each item and joins them with single spaces.
func Words(items ...string) (string, error) {
	out := make([]string, len(items))
	for i, s := range items {
		w, err := Word(s)
		if err != nil {
			return "", fmt.Errorf("word %d %w", i+1, err)
		}
		out[i] = w
	}
	return strings.Join(out, " "), nil
}

// Fragment checks a user-written fragment of HAProxy syntax that is inserted
// as several words (a service's `options`, which replaces the whole
// default-server argument list, pooling-services.md §3.4): it may not leave its
// line. Its words are the user's responsibility, as in Pigsty.
func Fragment(s string) (string, error) {
	if err := check(s); err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}
