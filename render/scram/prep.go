package scram

import (
	"strings"
	"unicode/utf8"
)

// Prepare returns the byte string PostgreSQL hashes for password, following
// pg_saslprep() in PostgreSQL 15 src/common/saslprep.c and its caller
// pg_be_scram_build_secret() (which uses the raw password whenever SASLprep fails):
//
//  1. longer than 1024 bytes: PostgreSQL errors ("password too long") → ErrPasswordTooLong;
//  2. pure ASCII (any bytes < 0x80, control characters included): unchanged;
//  3. not valid UTF-8: unchanged (SASLPREP_INVALID_UTF8 → raw bytes);
//  4. map: non-ASCII spaces (RFC 3454 C.1.2) → U+0020, "commonly mapped to nothing"
//     (B.1) removed; empty result → raw bytes;
//  5. prohibited (C.1.2–C.9) characters in the mapped string → raw bytes
//     (PostgreSQL checks the mapped string, before normalization);
//  6. otherwise NFKC of the mapped string, after the unassigned (A.1) and bidi (D.1/D.2) checks.
//
// Steps 1–5 are implemented exactly. Step 6 needs NFKC and Unicode 3.2 tables that
// the Go standard library does not have, so it is implemented only for code points
// in stableRanges (NFKC-stable, assigned, left-to-right, never composing with a
// neighbour: Latin-1 Supplement, Latin Extended-A, basic Greek and Cyrillic) plus
// the compatibility mappings in compat; a password with any other non-ASCII code
// point (and no prohibited one, which would decide step 5) gets ErrUnsupportedPassword.
// Every supported code point is checked against a real PostgreSQL 15 in the tests.
func Prepare(password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	if len(password) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	if isASCII(password) {
		return password, nil
	}
	if !utf8.ValidString(password) {
		return password, nil
	}
	mapped := make([]rune, 0, len(password))
	for _, r := range password {
		switch {
		case inTable(r, nonASCIISpace):
			mapped = append(mapped, ' ')
		case inTable(r, mappedToNothing):
			// removed
		default:
			mapped = append(mapped, r)
		}
	}
	if len(mapped) == 0 {
		return password, nil
	}
	for _, r := range mapped {
		if inTable(r, prohibited) {
			return password, nil
		}
	}
	var b strings.Builder
	for _, r := range mapped {
		switch {
		case r < 0x80 || inTable(r, stableRanges):
			b.WriteRune(r)
		default:
			c, ok := compat[r]
			if !ok {
				return "", ErrUnsupportedPassword
			}
			b.WriteString(c)
		}
	}
	return b.String(), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

type span struct{ lo, hi rune }

func inTable(r rune, t []span) bool {
	for _, s := range t {
		if r >= s.lo && r <= s.hi {
			return true
		}
	}
	return false
}

// RFC 3454 C.1.2 Non-ASCII space characters (mapped to SPACE by RFC 4013 §2.1).
// PostgreSQL tests this table before B.1, so U+200B (in both) becomes a space.
var nonASCIISpace = []span{
	{0x00A0, 0x00A0}, {0x1680, 0x1680}, {0x2000, 0x200B}, {0x202F, 0x202F},
	{0x205F, 0x205F}, {0x3000, 0x3000},
}

// RFC 3454 B.1 Commonly mapped to nothing.
var mappedToNothing = []span{
	{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x1806, 0x1806}, {0x180B, 0x180D},
	{0x200B, 0x200D}, {0x2060, 0x2060}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF},
}

// RFC 4013 §2.3 prohibited output: RFC 3454 C.1.2, C.2.1, C.2.2, C.3, C.4, C.5,
// C.6, C.7, C.8, C.9 (PostgreSQL's prohibited_output_ranges).
var prohibited = []span{
	// C.1.2 (already mapped to space, listed for completeness)
	{0x00A0, 0x00A0}, {0x1680, 0x1680}, {0x2000, 0x200B}, {0x202F, 0x202F},
	{0x205F, 0x205F}, {0x3000, 0x3000},
	// C.2.1 ASCII control characters
	{0x0000, 0x001F}, {0x007F, 0x007F},
	// C.2.2 Non-ASCII control characters
	{0x0080, 0x009F}, {0x06DD, 0x06DD}, {0x070F, 0x070F}, {0x180E, 0x180E},
	{0x200C, 0x200D}, {0x2028, 0x2029}, {0x2060, 0x2063}, {0x206A, 0x206F},
	{0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFC}, {0x1D173, 0x1D17A},
	// C.3 Private use
	{0xE000, 0xF8FF}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
	// C.4 Non-character code points
	{0xFDD0, 0xFDEF}, {0xFFFE, 0xFFFF}, {0x1FFFE, 0x1FFFF}, {0x2FFFE, 0x2FFFF},
	{0x3FFFE, 0x3FFFF}, {0x4FFFE, 0x4FFFF}, {0x5FFFE, 0x5FFFF}, {0x6FFFE, 0x6FFFF},
	{0x7FFFE, 0x7FFFF}, {0x8FFFE, 0x8FFFF}, {0x9FFFE, 0x9FFFF}, {0xAFFFE, 0xAFFFF},
	{0xBFFFE, 0xBFFFF}, {0xCFFFE, 0xCFFFF}, {0xDFFFE, 0xDFFFF}, {0xEFFFE, 0xEFFFF},
	{0xFFFFE, 0xFFFFF}, {0x10FFFE, 0x10FFFF},
	// C.5 Surrogate codes (cannot occur in valid UTF-8)
	{0xD800, 0xDFFF},
	// C.6 Inappropriate for plain text
	{0xFFF9, 0xFFFD},
	// C.7 Inappropriate for canonical representation
	{0x2FF0, 0x2FFB},
	// C.8 Change display properties or are deprecated
	{0x0340, 0x0341}, {0x200E, 0x200F}, {0x202A, 0x202E}, {0x206A, 0x206F},
	// C.9 Tagging characters
	{0xE0001, 0xE0001}, {0xE0020, 0xE007F},
}

// stableRanges: code points assigned in Unicode 3.2, bidi class L (or neutral),
// that NFKC leaves unchanged and that never compose with a neighbour in a string
// made only of ASCII, these and compat's outputs. Exceptions with compatibility
// decompositions are left out here and handled by compat.
var stableRanges = []span{
	// Latin-1 Supplement, minus ¨ ª ­ ¯ ² ³ ´ µ ¸ ¹ º ¼ ½ ¾ (compat / B.1) and U+00A0 (C.1.2)
	{0x00A1, 0x00A7}, {0x00A9, 0x00A9}, {0x00AB, 0x00AC}, {0x00AE, 0x00AE},
	{0x00B0, 0x00B1}, {0x00B6, 0x00B7}, {0x00BB, 0x00BB}, {0x00BF, 0x00FF},
	// Latin Extended-A, minus Ĳ ĳ Ŀ ŀ ŉ ſ
	{0x0100, 0x0131}, {0x0134, 0x013E}, {0x0141, 0x0148}, {0x014A, 0x017E},
	// Greek capital and small letters without accents (U+03A2 is unassigned)
	{0x0391, 0x03A1}, {0x03A3, 0x03A9}, {0x03B1, 0x03C9},
	// Cyrillic U+0400–U+045F (Russian, Ukrainian, Belarusian, Serbian, Macedonian, Bulgarian letters)
	{0x0400, 0x045F},
}

// compat: NFKC of the Latin-1 / Latin Extended-A characters with compatibility
// decompositions (UnicodeData.txt). Outputs contain only ASCII, U+00B7, U+03BC,
// U+02BC, U+2044 and combining marks after a space, none of which compose further.
var compat = map[rune]string{
	0x00A8: " \u0308",  // ¨ DIAERESIS
	0x00AA: "a",        // ª
	0x00AF: " \u0304",  // ¯ MACRON
	0x00B2: "2",        // ²
	0x00B3: "3",        // ³
	0x00B4: " \u0301",  // ´ ACUTE ACCENT
	0x00B5: "\u03BC",   // µ MICRO SIGN → μ
	0x00B8: " \u0327",  // ¸ CEDILLA
	0x00B9: "1",        // ¹
	0x00BA: "o",        // º
	0x00BC: "1\u20444", // ¼ → 1⁄4
	0x00BD: "1\u20442", // ½ → 1⁄2
	0x00BE: "3\u20444", // ¾ → 3⁄4
	0x0132: "IJ",       // Ĳ
	0x0133: "ij",       // ĳ
	0x013F: "L\u00B7",  // Ŀ
	0x0140: "l\u00B7",  // ŀ
	0x0149: "\u02BCn",  // ŉ
	0x017F: "s",        // ſ LONG S
}
