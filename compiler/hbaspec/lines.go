package hbaspec

import (
	"net/netip"
	"strings"
)

// token is one item of a raw line field.
type token struct {
	text   string
	quoted bool // began with a double quote: never a keyword
}

// tokenize splits a raw line like PostgreSQL 15's tokenize_auth_file/next_token
// (src/backend/libpq/hba.c): fields are separated by blanks, items within a field by
// commas (blanks after a comma are skipped), `#` outside quotes starts a comment,
// double quotes protect blanks, commas and `#`, and `""` inside quotes is one quote.
// An unterminated quote fails.
func tokenize(s string) ([][]token, bool) {
	var fields [][]token
	i, n := 0, len(s)
	isBlank := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' }
	for {
		for i < n && isBlank(s[i]) {
			i++
		}
		if i >= n || s[i] == '#' {
			return fields, true
		}
		var field []token
		for {
			var b strings.Builder
			quoted := i < n && s[i] == '"'
			inQuote := false
			for i < n {
				c := s[i]
				if inQuote {
					if c == '"' {
						if i+1 < n && s[i+1] == '"' {
							b.WriteByte('"')
							i += 2
							continue
						}
						inQuote = false
						i++
						continue
					}
					b.WriteByte(c)
					i++
					continue
				}
				if isBlank(c) || c == ',' || c == '#' {
					break
				}
				if c == '"' {
					inQuote = true
					i++
					continue
				}
				b.WriteByte(c)
				i++
			}
			if inQuote {
				return nil, false
			}
			field = append(field, token{b.String(), quoted})
			if i < n && s[i] == ',' {
				i++
				for i < n && isBlank(s[i]) {
					i++
				}
				continue
			}
			break
		}
		fields = append(fields, field)
	}
}

var connTypes = map[string]bool{
	"local": true, "host": true, "hostssl": true, "hostnossl": true, "hostgssenc": true, "hostnogssenc": true,
}

// ParseRaw reads a raw rule line for the lints (hba.md §8). ok is false for a line
// that cannot be tokenised or is not a rule (comment, include*), or that uses
// `@file`, a hostname, samehost or samenet: such a line takes no part in the lints.
// Options after the method are ignored.
func ParseRaw(s string) (Line, bool) {
	fields, ok := tokenize(s)
	if !ok || len(fields) == 0 {
		return Line{}, false
	}
	one := func(f []token) (string, bool) {
		if len(f) != 1 || f[0].quoted {
			return "", false
		}
		return f[0].text, true
	}
	typ, ok := one(fields[0])
	if !ok || !connTypes[typ] {
		return Line{}, false
	}
	l := Line{Type: typ}
	need := 5
	if typ == "local" {
		need = 4
	}
	if len(fields) < need {
		return Line{}, false
	}
	if l.DB, ok = rawItems(fields[1], true); !ok {
		return Line{}, false
	}
	if l.User, ok = rawItems(fields[2], false); !ok {
		return Line{}, false
	}
	next := 3
	if typ != "local" {
		addr, ok := one(fields[3])
		if !ok {
			return Line{}, false
		}
		next = 4
		switch {
		case addr == "all":
			l.AnyIP = true
		case strings.Contains(addr, "/"):
			p, ok := parseNet(addr)
			if !ok {
				return Line{}, false
			}
			l.Net = p.Masked()
		default:
			a, err := netip.ParseAddr(addr)
			if err != nil || a.Zone() != "" {
				return Line{}, false // hostname, samehost, samenet, junk
			}
			mask, ok := one(fields[4])
			if !ok {
				return Line{}, false
			}
			bits, ok := maskBits(mask, a)
			if !ok {
				return Line{}, false
			}
			l.Net = netip.PrefixFrom(a, bits).Masked()
			next = 5
		}
		l.Addr = addr
	}
	if len(fields) <= next {
		return Line{}, false
	}
	m, ok := one(fields[next])
	if !ok {
		return Line{}, false
	}
	l.Method = m
	return l, true
}

// maskBits converts a netmask column (255.255.0.0) to a prefix length.
func maskBits(mask string, a netip.Addr) (int, bool) {
	m, err := netip.ParseAddr(mask)
	if err != nil || m.Is4() != a.Is4() || m.Zone() != "" {
		return 0, false
	}
	bits, seenZero := 0, false
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) != 0 {
				if seenZero {
					return 0, false
				}
				bits++
			} else {
				seenZero = true
			}
		}
	}
	return bits, true
}

// rawItems classifies the items of a raw database (db) or user field.
func rawItems(f []token, db bool) ([]Item, bool) {
	out := make([]Item, 0, len(f))
	for _, t := range f {
		if t.quoted {
			// A quoted keyword, +group or @file is a plain name; a quoted /regex stays
			// a regular expression in PostgreSQL 16 (regcomp_auth_token checks only
			// the first character, so regexps with commas are written quoted).
			kind := ItemName
			if strings.HasPrefix(t.text, "/") {
				kind = ItemRegex
			}
			out = append(out, Item{Kind: kind, Value: t.text})
			continue
		}
		switch {
		case t.text == "":
			return nil, false
		case t.text == "all":
			out = append(out, Item{Kind: ItemAll, Value: t.text})
		case strings.HasPrefix(t.text, "@"):
			return nil, false
		case strings.HasPrefix(t.text, "/"):
			out = append(out, Item{Kind: ItemRegex, Value: t.text})
		case db:
			if k, ok := dbKeywords[t.text]; ok {
				out = append(out, Item{Kind: k, Value: t.text})
			} else {
				out = append(out, Item{Kind: ItemName, Value: t.text})
			}
		case strings.HasPrefix(t.text, "+"):
			if len(t.text) == 1 {
				return nil, false
			}
			out = append(out, Item{Kind: ItemGroup, Value: t.text[1:]})
		default:
			out = append(out, Item{Kind: ItemName, Value: t.text})
		}
	}
	return out, true
}

// Covers reports whether an earlier line l matches every connection a later line m
// matches (hba.md §8 "Covers"); the method plays no part.
func Covers(l, m Line) bool {
	if !typeCovers(l.Type, m.Type) {
		return false
	}
	if !itemsCover(l.DB, m.DB, true) || !itemsCover(l.User, m.User, false) {
		return false
	}
	if m.Type == "local" {
		return true
	}
	return netCovers(l, m)
}

func typeCovers(l, m string) bool {
	if l == m {
		return true
	}
	if l != "host" {
		return false
	}
	switch m {
	case "hostssl", "hostnossl", "hostgssenc", "hostnogssenc":
		return true
	}
	return false
}

// itemsCover: every item of m is covered by an item of l. `all` covers everything,
// except that in the database field it does not cover `replication` (PostgreSQL's
// `all` does not match physical replication connections); otherwise only an identical
// item covers (+g only +g: membership is unknown at build time).
func itemsCover(l, m []Item, db bool) bool {
	for _, mi := range m {
		covered := false
		for _, li := range l {
			if li.Kind == ItemAll && !(db && mi.Kind == ItemReplication) || li == mi {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return len(m) > 0
}

func netCovers(l, m Line) bool {
	switch {
	case l.AnyIP:
		return true
	case m.AnyIP || !l.Net.IsValid() || !m.Net.IsValid():
		return false
	case l.Net.Addr().Is4() != m.Net.Addr().Is4():
		return false
	case l.Net.Bits() > m.Net.Bits():
		return false
	}
	return netip.PrefixFrom(m.Net.Addr(), l.Net.Bits()).Masked() == l.Net
}

var (
	loop4 = netip.MustParsePrefix("127.0.0.0/8")
	loop6 = netip.MustParsePrefix("::1/128")
)

// Loopback reports whether a TCP line's network lies within 127.0.0.0/8 or ::1/128.
func (l Line) Loopback() bool {
	if l.AnyIP || !l.Net.IsValid() {
		return false
	}
	if l.Net.Addr().Is4() {
		return l.Net.Bits() >= 8 && loop4.Contains(l.Net.Addr())
	}
	return l.Net == loop6
}

// World reports whether the line's network is a /0 (or the address keyword all).
func (l Line) World() bool {
	return l.AnyIP || (l.Net.IsValid() && l.Net.Bits() == 0)
}

// TCP reports whether the line is of a TCP type.
func (l Line) TCP() bool { return l.Type != "local" }
