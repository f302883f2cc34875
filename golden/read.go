package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// NotBundleError is returned when a directory is not a pgcc bundle: Read of a directory without
// manifest.json, or Write asked to replace a non-empty directory without one (it could be a user's
// home directory given to -o by mistake; pgcc does not delete what it did not write).
type NotBundleError struct {
	Dir    string
	Reason string
}

func (e *NotBundleError) Error() string {
	return fmt.Sprintf("%s is not a pgcc bundle: %s", e.Dir, e.Reason)
}

// Read reads the bundle in dir: every regular file below it except the root manifest.json, with its
// permission bits. It then verifies the files against manifest.json; on a mismatch it returns the
// bundle it read together with a *ManifestError listing every mismatching file, so that `pgcc diff`
// can still show the difference. A directory without manifest.json is a *NotBundleError; a symlink or
// other non-regular file below dir, or a file name that is not a valid bundle path, is an error.
func Read(dir string) (*Bundle, error) {
	return readBundle(osFS{}, dir)
}

func readBundle(fsys fileSystem, dir string) (*Bundle, error) {
	files, err := readTree(fsys, dir)
	if err != nil {
		return nil, err
	}
	mf, ok := files[ManifestName]
	if !ok {
		return nil, &NotBundleError{Dir: dir, Reason: "no " + ManifestName}
	}
	delete(files, ManifestName)
	manifest, err := parseManifest(mf.Data)
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", dir, err)
	}
	b := &Bundle{Files: files}
	if err := verifyManifest(dir, files, manifest, nil); err != nil {
		return b, err
	}
	return b, nil
}

// readTree reads every regular file below root (manifest.json included) keyed by slash path.
func readTree(fsys fileSystem, root string) (map[string]File, error) {
	info, err := fsys.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		// The bundle directory itself may be a link (Write keeps such a link); links inside it may not.
		if root, err = filepath.EvalSymlinks(root); err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		if info, err = fsys.Lstat(root); err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
	}
	if !info.IsDir() {
		return nil, &NotBundleError{Dir: root, Reason: "not a directory"}
	}
	files := map[string]File{}
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		ents, err := fsys.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("read bundle %s: %w", root, err)
		}
		for _, e := range ents {
			p := e.Name()
			if rel != "" {
				p = rel + "/" + p
			}
			if err := ValidatePath(p); err != nil {
				return fmt.Errorf("read bundle %s: %w", root, err)
			}
			full := filepath.Join(dir, e.Name())
			info, err := fsys.Lstat(full)
			if err != nil {
				return fmt.Errorf("read bundle %s: %w", root, err)
			}
			switch {
			case info.IsDir():
				if err := walk(full, p); err != nil {
					return err
				}
			case info.Mode().IsRegular():
				data, err := fsys.ReadFile(full)
				if err != nil {
					return fmt.Errorf("read bundle %s: %w", root, err)
				}
				files[p] = File{Data: data, Mode: info.Mode().Perm()}
			default:
				return fmt.Errorf("read bundle %s: %s: %w", root, p, errNotRegular)
			}
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return nil, err
	}
	return files, nil
}

var errNotRegular = errors.New("not a regular file or directory")

// isNotExist reports whether err says the bundle directory does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
