package golden

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidatePath(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		path string
		want string // "" = valid, else the error text
	}{
		{"manifest.json", ""}, // valid path; reserved only for Add
		{"pg-test/pg-test-1/patroni.yml", ""},
		{"haproxy/infra/pg-meta-primary.cfg", ""},
		{"a b/ü.txt", ""},
		{strings.Repeat("x", 255), ""},
		{"", `bundle path "": empty`},
		{"/etc/passwd", `bundle path "/etc/passwd": absolute`},
		{"a/../b", `bundle path "a/../b": contains a ".." segment`},
		{"..", `bundle path "..": contains a ".." segment`},
		{"./a", `bundle path "./a": contains a "." segment`},
		{"a//b", `bundle path "a//b": contains an empty segment`},
		{"a/", `bundle path "a/": contains an empty segment`},
		{`a\b`, `bundle path "a\\b": contains a backslash`},
		{`..\x`, `bundle path "..\\x": contains a backslash`},
		{"a\x00b", `bundle path "a\x00b": contains a control character`},
		{"a\nb", `bundle path "a\nb": contains a control character`},
		{"a\u0085b", `bundle path "a\u0085b": contains a control character`},
		{"a\xffb", `bundle path "a\xffb": not valid UTF-8`},
		{long, `bundle path "` + long + `": has a segment longer than 255 bytes`},
	}
	for _, tt := range tests {
		err := ValidatePath(tt.path)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrInvalidPath) {
				t.Errorf("ValidatePath(%q) = %v, not ErrInvalidPath", tt.path, err)
			}
		}
		if got != tt.want {
			t.Errorf("ValidatePath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		path     string
		mode     fs.FileMode
		want     string
		sentinel error
		wantMode fs.FileMode
	}{
		{name: "default mode", path: "a/b.conf", wantMode: 0o644},
		{name: "secret", path: "a/patroni.yml", mode: 0o600, wantMode: 0o600},
		{name: "nested manifest is fine", path: "a/manifest.json", wantMode: 0o644},
		{name: "manifest reserved", path: "manifest.json", want: `bundle path "manifest.json": reserved for the bundle manifest`, sentinel: ErrReservedPath},
		{name: "duplicate", existing: []string{"a/b"}, path: "a/b", want: `bundle path "a/b": already in the bundle`, sentinel: ErrDuplicatePath},
		{name: "file under file", existing: []string{"a/b"}, path: "a/b/c", want: `bundle path "a/b/c": its directory "a/b" is a file in the bundle`, sentinel: ErrPathConflict},
		{name: "file over dir", existing: []string{"a/b/c"}, path: "a/b", want: `bundle path "a/b": is a directory of another file in the bundle`, sentinel: ErrPathConflict},
		{name: "sibling prefix is no conflict", existing: []string{"a/b-c"}, path: "a/b", wantMode: 0o644},
		{name: "invalid", path: "../x", want: `bundle path "../x": contains a ".." segment`, sentinel: ErrInvalidPath},
		{name: "setuid", path: "x", mode: fs.ModeSetuid | 0o755, want: `bundle path "x": mode urwxr-xr-x has bits other than permissions`, sentinel: ErrInvalidMode},
		{name: "directory bit", path: "x", mode: fs.ModeDir | 0o755, want: `bundle path "x": mode drwxr-xr-x has bits other than permissions`, sentinel: ErrInvalidMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bundle // the zero Bundle is usable
			for _, p := range tt.existing {
				if err := b.Add(p, nil, 0); err != nil {
					t.Fatal(err)
				}
			}
			err := b.Add(tt.path, []byte("x"), tt.mode)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if got := b.Files[tt.path].Mode; got != tt.wantMode {
					t.Errorf("mode %04o, want %04o", got, tt.wantMode)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Add error = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v is not %v", err, tt.sentinel)
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != tt.path {
				t.Errorf("error %v is not a *PathError for %q", err, tt.path)
			}
		})
	}
}

func TestAddAfterDirectDelete(t *testing.T) {
	b := New()
	if err := b.Add("a/b", nil, 0); err != nil {
		t.Fatal(err)
	}
	delete(b.Files, "a/b") // the directory index is now stale
	if err := b.Add("a", nil, 0); err != nil {
		t.Fatalf("Add after delete: %v", err)
	}
}

func TestPaths(t *testing.T) {
	b := bundleOf(t, map[string]string{"b": "", "a/z": "", "a-x": "", "a/b/c": "", "A": ""}, nil)
	want := []string{"A", "a-x", "a/b/c", "a/z", "b"}
	if got := b.Paths(); !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
	var nilb *Bundle
	if got := nilb.Paths(); got != nil {
		t.Errorf("nil bundle Paths() = %q", got)
	}
}

func TestValidate(t *testing.T) {
	b := &Bundle{Files: map[string]File{
		"ok":            {Mode: 0o644},
		"a":             {Mode: 0o644},
		"a/b":           {Mode: 0o644},
		"../x":          {Mode: 0o644},
		"manifest.json": {Mode: 0o644},
		"zero":          {},
	}}
	want := strings.Join([]string{
		`bundle path "../x": contains a ".." segment`,
		`bundle path "a/b": its directory "a" is a file in the bundle`,
		`bundle path "manifest.json": reserved for the bundle manifest`,
		`bundle path "zero": mode 0000 (Add uses DefaultMode for 0)`,
	}, "\n")
	err := b.Validate()
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

func TestMerge(t *testing.T) {
	old := bundleOf(t, map[string]string{"pg-a/x": "old x", "pg-a/w": "old w", "pg-b/y": "old y"}, nil)
	b := bundleOf(t, map[string]string{"pg-a/x": "new x", "pg-b/y": "new y"}, nil)
	keepB := func(p string) bool { return strings.HasPrefix(p, "pg-b/") || p == "pg-a/x" }
	got := Merge(old, b, keepB)
	want := map[string]string{"pg-a/x": "new x", "pg-b/y": "new y"} // b wins; pg-a/w not kept
	if len(got.Files) != len(want) {
		t.Fatalf("Merge = %v", got.Paths())
	}
	for p, d := range want {
		if string(got.Files[p].Data) != d {
			t.Errorf("%s = %q, want %q", p, got.Files[p].Data, d)
		}
	}
	got = Merge(old, New(), func(p string) bool { return p != "pg-a/w" })
	if ps := got.Paths(); !slices.Equal(ps, []string{"pg-a/x", "pg-b/y"}) {
		t.Errorf("Merge kept %q", ps)
	}
	if ps := Merge(old, b, nil).Paths(); !slices.Equal(ps, []string{"pg-a/x", "pg-b/y"}) {
		t.Errorf("Merge with nil keep = %q", ps)
	}
}

// FuzzValidatePath: whatever ValidatePath accepts stays inside the bundle directory, is its own
// clean form, survives the manifest round trip and keeps a diff header on one line.
func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../a", "a/./b", "/a", "a//b", `a\b`, "a\x00", "é/ü", "C:/x",
		"a/..", "...", ".a/..b", "a\nb", "\xc3", "manifest.json", "x/manifest.json", "~/x", "$HOME"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := ValidatePath(p)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("error %v is not ErrInvalidPath", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error message spans lines: %q", err.Error())
			}
			return
		}
		if !utf8.ValidString(p) || strings.ContainsAny(p, "\\\x00\n\r") {
			t.Fatalf("accepted %q", p)
		}
		if path.Clean(p) != p || path.IsAbs(p) || !filepath.IsLocal(filepath.FromSlash(p)) {
			t.Fatalf("accepted non-local or unclean %q", p)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "" || seg == "." || seg == ".." || len(seg) > 255 {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
		root := filepath.FromSlash("/bundle")
		if j := filepath.Join(root, filepath.FromSlash(p)); !strings.HasPrefix(j, root+string(filepath.Separator)) {
			t.Fatalf("%q joins to %q outside %q", p, j, root)
		}
		if p != ManifestName {
			b := &Bundle{Files: map[string]File{p: {Data: []byte("x"), Mode: 0o644}}}
			m, err := parseManifest(Manifest(b))
			if err != nil {
				t.Fatalf("manifest of %q: %v", p, err)
			}
			if _, ok := m[p]; !ok || len(m) != 1 {
				t.Fatalf("manifest round trip of %q gave %q", p, m)
			}
		}
		d := UnifiedDiff(Change{Path: p, Kind: ModeOnly, Old: File{Mode: 0o644}, New: File{Mode: 0o600}})
		if first, _, _ := strings.Cut(d, "\n"); first != "diff a/"+p+" b/"+p {
			t.Fatalf("diff header of %q: %q", p, first)
		}
	})
}
