package golden

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/diff"
)

// ChangeKind says how a file differs between two bundles.
type ChangeKind string

const (
	Added    ChangeKind = "added"   // only in the new bundle
	Removed  ChangeKind = "removed" // only in the old bundle
	Changed  ChangeKind = "changed" // content differs (the mode may differ too)
	ModeOnly ChangeKind = "mode"    // same content, different permission bits
)

// Change is one differing file. Old is the zero File for Added, New for Removed.
type Change struct {
	Path string
	Kind ChangeKind
	Old  File
	New  File
}

// Compare lists the files that differ between old and new, sorted by path. A nil bundle is empty.
func Compare(old, new *Bundle) []Change {
	var oldFiles, newFiles map[string]File
	if old != nil {
		oldFiles = old.Files
	}
	if new != nil {
		newFiles = new.Files
	}
	var out []Change
	for p, o := range oldFiles {
		n, ok := newFiles[p]
		switch {
		case !ok:
			out = append(out, Change{Path: p, Kind: Removed, Old: o})
		case !bytes.Equal(o.Data, n.Data):
			out = append(out, Change{Path: p, Kind: Changed, Old: o, New: n})
		case o.Mode != n.Mode:
			out = append(out, Change{Path: p, Kind: ModeOnly, Old: o, New: n})
		}
	}
	for p, n := range newFiles {
		if _, ok := oldFiles[p]; !ok {
			out = append(out, Change{Path: p, Kind: Added, New: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Check compares b, plus the manifest.json Write would write for it, with the directory dir as it is
// on disk (`pgcc build --check`). Old is the disk, New is b. A missing dir is an empty bundle (every
// file is Added); a symlink or other non-regular file in dir is an error.
func Check(dir string, b *Bundle) ([]Change, error) {
	return CheckKeep(dir, b, nil)
}

// CheckKeep is Check for `pgcc build --check --cluster X`: the expected bundle is b plus the files
// in dir for which keep returns true (as Write with WriteOptions.Keep would produce it), so only b's
// files and the manifest can differ.
func CheckKeep(dir string, b *Bundle, keep func(path string) bool) ([]Change, error) {
	return checkFS(osFS{}, dir, b, keep)
}

func checkFS(fsys fileSystem, dir string, b *Bundle, keep func(string) bool) ([]Change, error) {
	disk := map[string]File{}
	if _, err := fsys.Lstat(dir); err == nil {
		if disk, err = readTree(fsys, dir); err != nil {
			return nil, err
		}
	} else if !isNotExist(err) {
		return nil, fmt.Errorf("check bundle %s: %w", dir, err)
	}
	var onDisk *Bundle
	if keep != nil {
		onDisk = &Bundle{Files: make(map[string]File, len(disk))}
		for p, f := range disk {
			if p != ManifestName {
				onDisk.Files[p] = f
			}
		}
	}
	want := Merge(onDisk, b, keep)
	want.Files[ManifestName] = File{Data: Manifest(want), Mode: DefaultMode}
	return Compare(&Bundle{Files: disk}, want), nil
}

// UnifiedDiff renders one change as a unified diff with labels a/<path> and b/<path> (an added or
// removed file is diffed against empty content), git-style "old mode"/"new mode" lines when the
// permission bits differ, and "Binary files a/<path> and b/<path> differ" when either side is not
// UTF-8 text. It returns "" for a change of no kind.
func UnifiedDiff(c Change) string {
	return unifiedDiff(c, false)
}

func unifiedDiff(c Change, redact bool) string {
	a, b := "a/"+c.Path, "b/"+c.Path
	var sb strings.Builder
	fmt.Fprintf(&sb, "diff %s %s\n", a, b)
	switch c.Kind {
	case Added:
		fmt.Fprintf(&sb, "new file mode %s\n", modeString(c.New.Mode))
	case Removed:
		fmt.Fprintf(&sb, "deleted file mode %s\n", modeString(c.Old.Mode))
	case Changed, ModeOnly:
		if c.Old.Mode != c.New.Mode {
			fmt.Fprintf(&sb, "old mode %s\nnew mode %s\n", modeString(c.Old.Mode), modeString(c.New.Mode))
		}
	default:
		return ""
	}
	if c.Kind == ModeOnly {
		return sb.String()
	}
	switch {
	case redact && (isSecret(c.Old) || isSecret(c.New)):
		fmt.Fprintf(&sb, "Secret files %s and %s differ (content not shown)\n", a, b)
	case isBinary(c.Old.Data) || isBinary(c.New.Data):
		fmt.Fprintf(&sb, "Binary files %s and %s differ\n", a, b)
	default:
		d := diff.Diff(a, c.Old.Data, b, c.New.Data)
		// diff.Diff starts with its own "diff a b" line, already written above with the mode lines.
		if i := bytes.IndexByte(d, '\n'); i >= 0 {
			sb.Write(d[i+1:])
		}
	}
	return sb.String()
}

func modeString(m fs.FileMode) string { return fmt.Sprintf("%04o", uint32(m.Perm())) }

// isSecret: a file nobody but its owner may read (patroni.yml, userlist.txt… are 0600).
func isSecret(f File) bool { return f.Mode != 0 && f.Mode.Perm()&0o077 == 0 }

func isBinary(data []byte) bool {
	return !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0
}
