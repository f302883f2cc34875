package sqltext

import "strings"

// Comment returns text as one SQL line comment: "-- " + text, with every
// control character (CR, LF, TAB, NUL, …) and U+2028/U+2029 replaced by a
// space, so no value written into a comment can start a new line of the
// script (a newline would end the comment and turn the rest into SQL or a
// psql meta-command).
func Comment(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 3)
	b.WriteString("-- ")
	for _, r := range text {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || (r >= 0x80 && r < 0xa0) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}
