// Package golden is the last stage of pgcc: bytes in, files out. It holds a bundle (relative path →
// content and mode), writes it atomically with a manifest, reads it back, compares two bundles and
// formats the differences (unified diffs plus per-parameter summaries) for `pgcc build --check` and
// `pgcc diff`.
//
// It imports nothing from schema, compiler or render: renderers hand it finished bytes, and anything
// file-format specific it needs for summaries (Summarizer) is passed in as a value.
package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf8"
)

// ManifestName is the bundle's manifest at the bundle root. It is written by Write, never part of a
// Bundle's Files, and a root-level file of that name cannot be added.
const ManifestName = "manifest.json"

// DefaultMode is the mode of a file added with mode 0.
const DefaultMode fs.FileMode = 0o644

// dirMode is the mode of every directory Write creates below the bundle root.
const dirMode fs.FileMode = 0o755

// maxSegment is NAME_MAX on Linux and most other systems: a longer segment cannot be created, so it is
// rejected when the path is added rather than halfway through a write.
const maxSegment = 255

// File is the content and permission bits of one bundle file.
type File struct {
	Data []byte
	Mode fs.FileMode // permission bits only, applied exactly (umask does not apply)
}

// Bundle is a set of files keyed by slash-separated relative path. Use Add to fill it: it validates the
// path and rejects duplicates. Write validates the whole set again, so a Bundle whose Files map was
// filled directly cannot write outside its directory either.
type Bundle struct {
	Files map[string]File

	// dirs holds every directory prefix of the paths added through Add, to reject a file that would
	// also have to be a directory ("a" and "a/b"). Built lazily from Files.
	dirs map[string]struct{}
}

// New returns an empty bundle.
func New() *Bundle { return &Bundle{Files: map[string]File{}} }

// Sentinels for errors.Is on a *PathError.
var (
	ErrInvalidPath   = errors.New("invalid bundle path")
	ErrReservedPath  = errors.New("reserved bundle path")
	ErrDuplicatePath = errors.New("duplicate bundle path")
	ErrPathConflict  = errors.New("bundle path conflict")
	ErrInvalidMode   = errors.New("invalid file mode")
)

// PathError reports a path (or a file mode) the bundle cannot hold. Err is one of the sentinels above.
type PathError struct {
	Path   string
	Reason string
	Err    error
}

func (e *PathError) Error() string {
	return fmt.Sprintf("bundle path %q: %s", e.Path, e.Reason)
}

func (e *PathError) Unwrap() error { return e.Err }

// ValidatePath checks that p is a slash-separated path that stays inside the bundle directory on every
// platform: relative, no empty, "." or ".." segments, no backslash, NUL or other control characters,
// valid UTF-8 (the manifest is JSON, which cannot round-trip invalid UTF-8), segments of at most 255
// bytes. It does not reject the reserved manifest name; Add does.
func ValidatePath(p string) error {
	bad := func(reason string) error { return &PathError{Path: p, Reason: reason, Err: ErrInvalidPath} }
	if p == "" {
		return bad("empty")
	}
	if !utf8.ValidString(p) {
		return bad("not valid UTF-8")
	}
	if p[0] == '/' {
		return bad("absolute")
	}
	for _, r := range p {
		switch {
		case r == '\\':
			return bad(`contains a backslash`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return bad("contains a control character")
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			return bad("contains an empty segment")
		case seg == ".":
			return bad(`contains a "." segment`)
		case seg == "..":
			return bad(`contains a ".." segment`)
		case len(seg) > maxSegment:
			return bad("has a segment longer than 255 bytes")
		}
	}
	return nil
}

func validateMode(p string, m fs.FileMode) error {
	if m&^fs.ModePerm != 0 {
		return &PathError{Path: p, Reason: fmt.Sprintf("mode %v has bits other than permissions", m), Err: ErrInvalidMode}
	}
	return nil
}

// validateWriteMode also rejects 0: Add turns 0 into DefaultMode, so a 0 here comes from a File put
// into Files directly and would be written as an unreadable file.
func validateWriteMode(p string, m fs.FileMode) error {
	if m == 0 {
		return &PathError{Path: p, Reason: "mode 0000 (Add uses DefaultMode for 0)", Err: ErrInvalidMode}
	}
	return validateMode(p, m)
}

func reservedPathError(p string) error {
	return &PathError{Path: p, Reason: "reserved for the bundle manifest", Err: ErrReservedPath}
}

// validateAdd is what Bundle.Add and Writer.Add check first: a valid path, not the manifest's,
// permission bits only (0 is allowed: it means DefaultMode).
func validateAdd(p string, m fs.FileMode) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	if p == ManifestName {
		return reservedPathError(p)
	}
	return validateMode(p, m)
}

// Add puts data at path p with the given permission bits (0 → DefaultMode). It fails on an invalid or
// reserved path, a path already present, and a path that is a directory of another file or has a file
// as one of its directories.
func (b *Bundle) Add(p string, data []byte, mode fs.FileMode) error {
	if err := validateAdd(p, mode); err != nil {
		return err
	}
	if b.Files == nil {
		b.Files = map[string]File{}
	}
	if _, dup := b.Files[p]; dup {
		return &PathError{Path: p, Reason: "already in the bundle", Err: ErrDuplicatePath}
	}
	if b.dirs == nil {
		b.dirs = map[string]struct{}{}
		for q := range b.Files {
			addDirs(b.dirs, q)
		}
	}
	if _, isDir := b.dirs[p]; isDir && hasFileUnder(b.Files, p) {
		return &PathError{Path: p, Reason: "is a directory of another file in the bundle", Err: ErrPathConflict}
	}
	for d := range parents(p) {
		if _, isFile := b.Files[d]; isFile {
			return &PathError{Path: p, Reason: fmt.Sprintf("its directory %q is a file in the bundle", d), Err: ErrPathConflict}
		}
	}
	if mode == 0 {
		mode = DefaultMode
	}
	b.Files[p] = File{Data: data, Mode: mode}
	addDirs(b.dirs, p)
	return nil
}

// Paths returns the bundle's paths in byte order.
func (b *Bundle) Paths() []string {
	if b == nil {
		return nil
	}
	ps := make([]string, 0, len(b.Files))
	for p := range b.Files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Validate checks every path and mode (permission bits only, not 0) and that no path is a directory
// of another. Write calls it.
func (b *Bundle) Validate() error {
	var errs []error
	for _, p := range b.Paths() {
		if err := ValidatePath(p); err != nil {
			errs = append(errs, err)
			continue
		}
		if p == ManifestName {
			errs = append(errs, reservedPathError(p))
			continue
		}
		if err := validateWriteMode(p, b.Files[p].Mode); err != nil {
			errs = append(errs, err)
		}
		for d := range parents(p) {
			if _, isFile := b.Files[d]; isFile {
				errs = append(errs, &PathError{Path: p, Reason: fmt.Sprintf("its directory %q is a file in the bundle", d), Err: ErrPathConflict})
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Merge returns a bundle with every file of b plus the files of old for which keep returns true and
// that b does not have (b wins). It is how `pgcc build --cluster X` keeps the other clusters' files.
// A nil keep keeps nothing. File data is shared, not copied.
func Merge(old, b *Bundle, keep func(path string) bool) *Bundle {
	out := New()
	if b != nil {
		for p, f := range b.Files {
			out.Files[p] = f
		}
	}
	if old != nil && keep != nil {
		for p, f := range old.Files {
			if _, ok := out.Files[p]; !ok && keep(p) {
				out.Files[p] = f
			}
		}
	}
	return out
}

// parents yields the directory prefixes of p: "a/b/c" → "a", "a/b".
func parents(p string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for i := 0; i < len(p); i++ {
			if p[i] == '/' && !yield(p[:i]) {
				return
			}
		}
	}
}

func addDirs(dirs map[string]struct{}, p string) {
	for d := range parents(p) {
		dirs[d] = struct{}{}
	}
}

// hasFileUnder confirms a b.dirs hit: dirs is not pruned when a caller deletes from Files directly.
func hasFileUnder(files map[string]File, dir string) bool {
	for q := range files {
		if strings.HasPrefix(q, dir+"/") {
			return true
		}
	}
	return false
}
