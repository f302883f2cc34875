package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestManifest(t *testing.T) {
	tests := []struct {
		name string
		b    *Bundle
		want string
	}{
		{"nil", nil, "{\n  \"format\": 1,\n  \"files\": {}\n}\n"},
		{"empty", New(), "{\n  \"format\": 1,\n  \"files\": {}\n}\n"},
		{"sorted", bundleOf(t, map[string]string{"z/port.conf": "port = 5432\n", "a&b/hello": "hello\n", "e": ""},
			map[string]os.FileMode{"e": 0o600}), `{
  "format": 1,
  "files": {
    "a&b/hello": "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
    "e": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "z/port.conf": "sha256:c0efd349f9da495924a845e0395b6b87312a8d2d7c364a9564c114be5b768425"
  }
}
`},
	}
	for _, tt := range tests {
		if got := string(Manifest(tt.b)); got != tt.want {
			t.Errorf("%s: Manifest =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"format":2,"files":{}}`, "parse manifest.json: unsupported format 2, want 1"},
		{`{"files":{}}`, "parse manifest.json: unsupported format 0, want 1"},
		{`[]`, "parse manifest.json: json: cannot unmarshal array into Go value of type golden.manifestDoc"},
		{`{"format":1,"files":{"../x":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`,
			`parse manifest.json: bundle path "../x": contains a ".." segment`},
		{`{"format":1,"files":{"x":"md5:00"}}`, `parse manifest.json: "x": hash "md5:00" is not sha256:<64 hex digits>`},
		{`{"format":1,"files":{"x":"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}`,
			`parse manifest.json: "x": hash "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855" is not sha256:<64 hex digits>`},
		{`{"format":1,"files":{"x":"sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`,
			`parse manifest.json: "x": hash "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" is not sha256:<64 hex digits>`},
	}
	for _, tt := range tests {
		_, err := parseManifest([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("parseManifest(%s) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestReadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	b := bundleOf(t, map[string]string{
		"pg-test/model.json":                 "{}\n",
		"pg-test/pg-test-1/patroni.yml":      "scope: pg-test\n",
		"pg-test/pg-test-1/pgbouncer/a.txt":  "",
		"haproxy/infra/pg-test-primary.cfg":  "listen x\n",
		"pg-test/pg-test-1/x/manifest.json":  "not the manifest\n",
		"pg-test/pg-test-1/binary-not-in-pg": "\x00\xff",
	}, map[string]os.FileMode{"pg-test/pg-test-1/patroni.yml": 0o600, "pg-test/model.json": 0o640})
	if err := Write(dir, b, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffFiles(got.Files, b.Files); d != "" {
		t.Errorf("Read differs from what was written:\n%s", d)
	}
}

func TestReadManifestMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	b := bundleOf(t, map[string]string{"a": "a\n", "b": "b\n", "c": "c\n", "d/e": "e\n"}, nil)
	if err := Write(dir, b, WriteOptions{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	// Edit one file, delete one, add one.
	must(t, os.WriteFile(filepath.Join(dir, "b"), []byte("edited\n"), 0o644))
	must(t, os.Remove(filepath.Join(dir, "d", "e")))
	must(t, os.WriteFile(filepath.Join(dir, "d", "extra"), []byte("x"), 0o644))

	got, err := Read(dir)
	want := "bundle " + dir + " does not match its manifest.json: b (hash mismatch), d/e (missing), d/extra (not in manifest)"
	if err == nil || err.Error() != want {
		t.Fatalf("Read error = %v\nwant %s", err, want)
	}
	var me *ManifestError
	if !errors.As(err, &me) || len(me.Problems) != 3 || me.Dir != dir {
		t.Fatalf("error %#v is not a *ManifestError with 3 problems", err)
	}
	if got == nil || string(got.Files["b"].Data) != "edited\n" || len(got.Files) != 4 {
		t.Errorf("Read did not return the bundle it read: %v", got)
	}
}

func TestReadErrors(t *testing.T) {
	tmp := t.TempDir()
	notBundle := filepath.Join(tmp, "plain")
	must(t, os.MkdirAll(notBundle, 0o755))
	must(t, os.WriteFile(filepath.Join(notBundle, "x"), nil, 0o644))
	file := filepath.Join(tmp, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	withLink := filepath.Join(tmp, "link")
	must(t, Write(withLink, New(), WriteOptions{NoSync: true}))
	must(t, os.Symlink("/etc/passwd", filepath.Join(withLink, "passwd")))
	badManifest := filepath.Join(tmp, "bad")
	must(t, os.MkdirAll(badManifest, 0o755))
	must(t, os.WriteFile(filepath.Join(badManifest, ManifestName), []byte(`{"format":7}`), 0o644))

	tests := []struct {
		dir, want string
		notBundle bool
	}{
		{notBundle, notBundle + " is not a pgcc bundle: no manifest.json", true},
		{file, file + " is not a pgcc bundle: not a directory", true},
		{filepath.Join(tmp, "missing"), "read bundle: lstat " + filepath.Join(tmp, "missing") + ": no such file or directory", false},
		{withLink, "read bundle " + withLink + ": passwd: not a regular file or directory", false},
		{badManifest, "read bundle " + badManifest + ": parse manifest.json: unsupported format 7, want 1", false},
	}
	for _, tt := range tests {
		_, err := Read(tt.dir)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Read(%s) = %v\nwant %s", tt.dir, err, tt.want)
		}
		var nb *NotBundleError
		if errors.As(err, &nb) != tt.notBundle {
			t.Errorf("Read(%s): NotBundleError = %v, want %v", tt.dir, !tt.notBundle, tt.notBundle)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// manifestJSON is how the manifest was written before encodeManifest wrote it
// directly: encoding/json, no HTML escaping, two-space indent.
func manifestJSON(t *testing.T, hashes map[string]string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(manifestDoc{Format: manifestFormat, Files: hashes}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeManifestMatchesEncoder: byte for byte what encoding/json wrote,
// for paths that need escaping too (every path ValidatePath accepts may
// appear).
func TestEncodeManifestMatchesEncoder(t *testing.T) {
	h := fileHash([]byte("x"))
	sets := []map[string]string{
		{},
		{"a": h},
		{"z/port.conf": h, "a&b/<hello>": fileHash(nil), "e": h},
		{`quote"d/file`: h, "ünï/cödé": h, "line\u2028sep/x": h, "para\u2029": h, "tab-free/日本": h, "plain-é/x": h},
		{"pg-c0000/model.json": h, "pg-c0000/pg-c0000-1/patroni.yml": h, "haproxy/infra/pg-c0000-olap.cfg": h},
	}
	for _, hashes := range sets {
		for p := range hashes {
			if err := ValidatePath(p); err != nil {
				t.Fatalf("test path %q: %v", p, err)
			}
		}
		if got, want := encodeManifest(hashes), manifestJSON(t, hashes); !bytes.Equal(got, want) {
			t.Errorf("encodeManifest differs from encoding/json:\n got %q\nwant %q", got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "ctl\x01\n\t", "é日本", "\u2028\u2029", "bad\xff", "<&>", "sha256:00ff"} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
}
