package textline_test

import (
	"testing"

	"github.com/pgcc-dev/pgcc/render/conffmt"
	"github.com/pgcc-dev/pgcc/render/hbafmt"
	"github.com/pgcc-dev/pgcc/render/inifmt"
	"github.com/pgcc-dev/pgcc/render/textline"
)

// TestReexported: the quoters' sentinels are textline's, so errors.Is with either
// name matches what Check returns.
func TestReexported(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want error
	}{
		{"conffmt.ErrNewline", conffmt.ErrNewline, textline.ErrNewline},
		{"conffmt.ErrNUL", conffmt.ErrNUL, textline.ErrNUL},
		{"conffmt.ErrInvalidUTF8", conffmt.ErrInvalidUTF8, textline.ErrInvalidUTF8},
		{"hbafmt.ErrNewline", hbafmt.ErrNewline, textline.ErrNewline},
		{"hbafmt.ErrNUL", hbafmt.ErrNUL, textline.ErrNUL},
		{"hbafmt.ErrInvalidUTF8", hbafmt.ErrInvalidUTF8, textline.ErrInvalidUTF8},
		{"inifmt.ErrNewline", inifmt.ErrNewline, textline.ErrNewline},
		{"inifmt.ErrNUL", inifmt.ErrNUL, textline.ErrNUL},
		{"inifmt.ErrInvalidUTF8", inifmt.ErrInvalidUTF8, textline.ErrInvalidUTF8},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v is not textline's %v", tc.name, tc.got, tc.want)
		}
	}
}
