// Package yamlfmt writes block-style YAML documents deterministically: an
// ordered Map of scalars, Lists and nested Maps, one line per scalar. It is the
// one YAML quoter of the bundle (patroni.yml; see render/patroni.md).
//
// The reader that matters is PyYAML (Patroni, YAML 1.1), which resolves more
// plain scalars to non-strings than YAML 1.2 does: on/off/yes/no, 0640 (octal),
// 1_000, 1:30 (sexagesimal), 2001-12-14 (a date). A string is therefore written
// plain only when it is obviously a string under both YAML 1.1 and 1.2
// (conservative allow-list); otherwise single-quoted; and double-quoted with
// escapes when it holds characters YAML may not carry raw (controls, line
// breaks, BOM, non-characters). Any valid UTF-8 string round-trips.
package yamlfmt

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned for a string YAML cannot represent.
var ErrInvalidUTF8 = errors.New("is not valid UTF-8")

// MaxKeyLen bounds a written key: YAML limits implicit keys to 1024
// characters (PyYAML and libyaml refuse longer ones).
const MaxKeyLen = 1000

// Map is an ordered YAML mapping. The zero value is empty and ready to use.
type Map struct {
	keys []string
	vals []any
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{} }

// NewMapSize returns an empty Map with room for n entries.
func NewMapSize(n int) *Map { return &Map{keys: make([]string, 0, n), vals: make([]any, 0, n)} }

// Add appends key: val and returns m. val is a string, bool, int, int64,
// Number, *Map, List or []string; anything else makes Encode fail.
func (m *Map) Add(key string, val any) *Map {
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, val)
	return m
}

// Len is the number of entries.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// List is a YAML sequence.
type List []any

// Number is a numeric literal written plain. It must satisfy IsNumber.
type Number string

// IsNumber reports whether s has the form of a Number: an optional minus, an
// integer without leading zeros, an optional fraction (500, -1, 0.95, 8.0),
// i.e. ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$. Both YAML 1.1 and 1.2 read it as the
// same int or float. (Hand-written: renderers call it for every parameter.)
func IsNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start || (s[start] == '0' && i-start > 1) {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	frac := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > frac && i == len(s)
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// Encode writes the document: the header lines as comments ("# " + line),
// then the mapping in block style, LF line endings, a final newline.
func Encode(header []string, root *Map) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(8 << 10) // patroni.yml is about 6 KiB
	for _, h := range header {
		if strings.ContainsAny(h, "\r\n") || !utf8.ValidString(h) {
			return nil, fmt.Errorf("header comment %q must be one line of UTF-8", h)
		}
		b.WriteString("#")
		if h != "" {
			b.WriteString(" " + h)
		}
		b.WriteByte('\n')
	}
	if root == nil || root.Len() == 0 {
		b.WriteString("{}\n")
		return b.Bytes(), nil
	}
	if err := writeMap(&b, root, 0, false); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeMap(b *bytes.Buffer, m *Map, indent int, inline bool) error {
	pad := strings.Repeat(" ", indent)
	for i, k := range m.keys {
		key, err := Scalar(k)
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		if len(key) > MaxKeyLen {
			return fmt.Errorf("key %.40q…: longer than %d characters", k, MaxKeyLen)
		}
		if !(inline && i == 0) {
			b.WriteString(pad)
		}
		b.WriteString(key)
		b.WriteByte(':')
		if err := writeValue(b, m.vals[i], indent); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// writeValue writes the part after "key:" (or "-"): " scalar\n" or a nested
// block on the following lines.
func writeValue(b *bytes.Buffer, v any, indent int) error {
	switch x := v.(type) {
	case *Map:
		if x == nil || x.Len() == 0 {
			b.WriteString(" {}\n")
			return nil
		}
		b.WriteByte('\n')
		return writeMap(b, x, indent+2, false)
	case []string:
		l := make(List, len(x))
		for i, s := range x {
			l[i] = s
		}
		return writeValue(b, l, indent)
	case List:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return nil
		}
		b.WriteByte('\n')
		return writeList(b, x, indent+2)
	}
	s, err := scalarOf(v)
	if err != nil {
		return err
	}
	b.WriteByte(' ')
	b.WriteString(s)
	b.WriteByte('\n')
	return nil
}

func writeList(b *bytes.Buffer, l List, indent int) error {
	pad := strings.Repeat(" ", indent)
	for i, it := range l {
		b.WriteString(pad)
		b.WriteByte('-')
		var err error
		switch x := it.(type) {
		case *Map:
			if x == nil || x.Len() == 0 {
				b.WriteString(" {}\n")
				continue
			}
			b.WriteByte(' ')
			err = writeMap(b, x, indent+2, true)
		default:
			err = writeValue(b, it, indent)
		}
		if err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return nil
}

func scalarOf(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return Scalar(x)
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case Number:
		if !IsNumber(string(x)) {
			return "", fmt.Errorf("%q is not a number literal", string(x))
		}
		return string(x), nil
	}
	return "", fmt.Errorf("cannot write a %T as YAML", v)
}

// specialWords are plain scalars that YAML 1.1 (PyYAML) or 1.2 read as
// booleans or null; compared case-insensitively (PyYAML accepts
// yes/Yes/YES…, other YAML 1.1 readers also y/n).
var specialWords = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "true": true, "false": true,
	"on": true, "off": true, "null": true, "~": true}

// The plain-scalar allow-list, written out by hand because renderers call it
// for every scalar (the equivalent regular expressions are in the tests):
//
//	^[A-Za-z_/$][A-Za-z0-9_./$%@+=,:-]*$   starts like no YAML indicator, number
//	                                       or date; no blanks, flow or comment
//	                                       indicators; ':' may not end it
//	^[0-9]+(\.[0-9]+){2,}(:[0-9]+)?(,…)*$  dotted quads with ports, comma lists
//	^[0-9]+[A-Za-z]+$                      an integer then letters only (8192MB,
//	                                       15min; "1e3" has a digit after), but
//	                                       not ^0[xX]: 0xff is a YAML 1.1 / 1.2
//	                                       hex integer, 0XFF one for yaml.v3

func plainFirst(c byte) bool { return isLetter(c) || c == '_' || c == '/' || c == '$' }

func plainRest(c byte) bool {
	if isLetter(c) || isDigit(c) {
		return true
	}
	switch c {
	case '_', '.', '/', '$', '%', '@', '+', '=', ',', ':', '-':
		return true
	}
	return false
}

// isAddrList matches ^[0-9]+(\.[0-9]+){2,}(:[0-9]+)?(,[0-9]+(\.[0-9]+){2,}(:[0-9]+)?)*$.
func isAddrList(s string) bool {
	for _, item := range strings.Split(s, ",") {
		host, port, hasPort := strings.Cut(item, ":")
		if hasPort && !allDigits(port) {
			return false
		}
		parts := strings.Split(host, ".")
		if len(parts) < 3 {
			return false
		}
		for _, p := range parts {
			if !allDigits(p) {
				return false
			}
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isUnitAmount matches ^[0-9]+[A-Za-z]+$ except ^0[xX] (hex integers: 0xff,
// and 0XFF for Go's yaml.v3, which reads ints with strconv's base prefixes).
func isUnitAmount(s string) bool {
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return false
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

// Scalar returns s as a YAML scalar that reads back as exactly the string s
// under YAML 1.1 and 1.2: plain, 'single-quoted' or "double-quoted".
func Scalar(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q %w", s, ErrInvalidUTF8)
	}
	if plain(s) {
		return s, nil
	}
	if needsEscape(s) {
		return doubleQuote(s), nil
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

func plain(s string) bool {
	if s == "" || s[len(s)-1] == ':' || len(s) <= 5 && specialWords[strings.ToLower(s)] {
		return false
	}
	if plainFirst(s[0]) {
		for i := 1; i < len(s); i++ {
			if !plainRest(s[i]) {
				return false
			}
		}
		return true
	}
	return isDigit(s[0]) && (isUnitAmount(s) || isAddrList(s))
}

// raw reports whether r may appear unescaped inside a quoted scalar: YAML's
// printable set without tab and the YAML 1.1 line breaks (NEL, LS, PS), and
// without the byte order mark (PyYAML strips or rejects it).
func raw(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7e:
		return true
	case r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff:
		return false
	case r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

func needsEscape(s string) bool {
	for _, r := range s {
		if !raw(r) {
			return true
		}
	}
	return false
}

// doubleQuote escapes with the escapes PyYAML and YAML 1.2 both know.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case raw(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
