package yamlfmt

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/pgcc-dev/pgcc/golden/testenv"
)

func TestScalar(t *testing.T) {
	for in, want := range map[string]string{
		"pg-test":                   "pg-test",
		"/pg/data":                  "/pg/data",
		"postgresql-%a.log":         "postgresql-%a.log",
		"$libdir/passwordcheck":     "$libdir/passwordcheck",
		"10.10.10.11:8008":          "10.10.10.11:8008",
		"10.10.10.11,127.0.0.1:543": "10.10.10.11,127.0.0.1:543",
		"8192MB":                    "8192MB",
		"15min":                     "15min",
		"DBUser.Replicator":         "DBUser.Replicator",
		"on":                        "'on'",
		"Off":                       "'Off'",
		"YES":                       "'YES'",
		"y":                         "'y'",
		"N":                         "'N'",
		"null":                      "'null'",
		"~":                         "'~'",
		"":                          "''",
		"18":                        "'18'",
		"0640":                      "'0640'",
		"0.95":                      "'0.95'",
		"1e3":                       "'1e3'",
		"1_000":                     "'1_000'",
		"1:30":                      "'1:30'",
		"2001-12-14":                "'2001-12-14'",
		"0x1F":                      "'0x1F'",
		"0xff":                      "'0xff'",
		"0XAAAAAA":                  "'0XAAAAAA'",
		".inf":                      "'.inf'",
		"1.5":                       "'1.5'",
		"8C.32G.500G":               "'8C.32G.500G'",
		"*:5432":                    "'*:5432'",
		"a: b":                      "'a: b'",
		"a #b":                      "'a #b'",
		"key:":                      "'key:'",
		"-1":                        "'-1'",
		"- x":                       "'- x'",
		"it's":                      "'it''s'",
		"%(asctime)s %(levelname)s": "'%(asctime)s %(levelname)s'",
		"'0640'":                    "'''0640'''",
		"<<":                        "'<<'",
		"=":                         "'='",
		"@x":                        "'@x'",
		"!tag":                      "'!tag'",
		"&a":                        "'&a'",
		"{a}":                       "'{a}'",
		" lead":                     "' lead'",
		"trail ":                    "'trail '",
		"ü":                         "'ü'",
		"a\nb":                      `"a\nb"`,
		"tab\there":                 `"tab\there"`,
		"q\"\\":                     `'q"\'`,
		"nl\n\"\\":                  `"nl\n\"\\"`,
		"nul\x00":                   `"nul\x00"`,
		"del\x7f":                   `"del\x7f"`,
		"nel\u0085":                 `"nel\x85"`,
		"ls\u2028":                  `"ls\u2028"`,
		"bom\ufeff":                 `"bom\ufeff"`,
		"nonchar\uffff":             `"nonchar\uffff"`,
		"emoji😀":                    "'emoji😀'",
	} {
		got, err := Scalar(in)
		if err != nil {
			t.Errorf("Scalar(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("Scalar(%q) = %s, want %s", in, got, want)
		}
	}
	if _, err := Scalar("bad\xff"); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: err = %v, want ErrInvalidUTF8", err)
	}
}

func TestEncode(t *testing.T) {
	m := NewMap().
		Add("name", "pg-test-1").
		Add("count", 5).
		Add("big", int64(33554432)).
		Add("f", true).
		Add("num", Number("0.95")).
		Add("empty", NewMap()).
		Add("none", List{}).
		Add("nested", NewMap().Add("a", "on").Add("b", NewMap().Add("c", "x"))).
		Add("list", List{"data-checksums", NewMap().Add("encoding", "UTF8"), NewMap().Add("k1", "v1").Add("k2", 2)}).
		Add("strs", []string{"10.10.10.10", "x y"})
	got, err := Encode([]string{"pgcc: test"}, m)
	if err != nil {
		t.Fatal(err)
	}
	want := `# pgcc: test
name: pg-test-1
count: 5
big: 33554432
f: true
num: 0.95
empty: {}
none: []
nested:
  a: 'on'
  b:
    c: x
list:
  - data-checksums
  - encoding: UTF8
  - k1: v1
    k2: 2
strs:
  - 10.10.10.10
  - 'x y'
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Encode(nil, NewMap().Add("x", Number("01"))); err == nil {
		t.Error("Number 01 accepted")
	}
	if _, err := Encode(nil, NewMap().Add("x", 1.5)); err == nil {
		t.Error("float64 accepted (write a Number)")
	}
	if _, err := Encode([]string{"a\nb"}, NewMap()); err == nil {
		t.Error("multi-line header accepted")
	}
}

// roundTrip encodes s as a value and as a key and parses it back with yaml.v3.
func roundTrip(t *testing.T, s string) {
	t.Helper()
	key := s
	if q, _ := Scalar(s); len(q) > MaxKeyLen {
		if _, err := Encode(nil, NewMap().Add(s, "v")); err == nil {
			t.Fatalf("key of %d characters accepted", len(q))
		}
		key = "long"
	}
	doc, err := Encode(nil, NewMap().Add("k", s).Add(key, "v").Add("l", List{s}))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	var got yaml.Node
	if err := yaml.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%q: yaml.v3 cannot parse:\n%s\n%v", s, doc, err)
	}
	m := got.Content[0]
	if len(m.Content) != 6 {
		t.Fatalf("%q: %d nodes in\n%s", s, len(m.Content), doc)
	}
	check := func(n *yaml.Node, want, what string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Value != want {
			t.Fatalf("%q as %s reads back as %s %q:\n%s", want, what, n.Tag, n.Value, doc)
		}
	}
	check(m.Content[1], s, "value")
	check(m.Content[2], key, "key")
	check(m.Content[5].Content[0], s, "list item")
}

// The hand-written matchers are these regular expressions (package doc).
var (
	testPlainRE  = regexp.MustCompile(`^[A-Za-z_/$][A-Za-z0-9_./$%@+=,:-]*$`)
	testAddrRE   = regexp.MustCompile(`^[0-9]+(\.[0-9]+){2,}(:[0-9]+)?(,[0-9]+(\.[0-9]+){2,}(:[0-9]+)?)*$`)
	testUnitRE   = regexp.MustCompile(`^[0-9]+[A-Za-z]+$`)
	testHexRE    = regexp.MustCompile(`^0[xX]`)
	testNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
)

func regexPlain(s string) bool {
	if s == "" || specialWords[strings.ToLower(s)] || strings.HasSuffix(s, ":") {
		return false
	}
	return testPlainRE.MatchString(s) || testAddrRE.MatchString(s) || testUnitRE.MatchString(s) && !testHexRE.MatchString(s)
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, s := range []string{"", "0", "00", "-0", "-", "1.", "1.5", "01.5", "-12.034", "1.2.3", "1.2.3:4", "1.2.3:", "1..3",
		"1.2.3,4.5.6:7", "1.2.3,", ",1.2.3", "10.10.10.11:8008", "8192MB", "8192", "MB", "1e3", "a", "a:", "a:b", "_x", "/p",
		"$x", "x y", "on", "ON", "yes", "nO", "~", "y", "TRUE", "nulls", "1.2.3:4:5", "1.2.3.4.5", "1a.2", "a%b@c+d=e,f-g",
		"0xff", "0XAAAAAA", "0x", "0xyz", "00xff", "10xff", "0b", "0o"} {
		if got, want := plain(s), regexPlain(s); got != want {
			t.Errorf("plain(%q) = %v, regexps say %v", s, got, want)
		}
		if got, want := IsNumber(s), testNumberRE.MatchString(s); got != want {
			t.Errorf("IsNumber(%q) = %v, regexp says %v", s, got, want)
		}
	}
}

func FuzzMatchers(f *testing.F) {
	for _, s := range []string{"1.2.3:4", "8192MB", "0.95", "a:b", "on"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := plain(s), regexPlain(s); got != want {
			t.Fatalf("plain(%q) = %v, regexps say %v", s, got, want)
		}
		if got, want := IsNumber(s), testNumberRE.MatchString(s); got != want {
			t.Fatalf("IsNumber(%q) = %v, regexp says %v", s, got, want)
		}
	})
}

func FuzzScalar(f *testing.F) {
	for _, s := range []string{"", "on", "a: b", "x #y", "'", "\"", "\\", "\n", "0640", "1:30", "- a", "? x",
		"10.10.10.10", "8192MB", "\u2028", "\ufeff", "\x85", "~", "&a *a", "!!str", "%YAML", "---", "...", " ",
		"a\r\nb", "1e3", "0x10", "0o17", "+1", ".5", "1.", "2001-12-14t21:59:43.10-05:00", "<<", "="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			if _, err := Scalar(s); err == nil {
				t.Fatalf("invalid UTF-8 %q accepted", s)
			}
			return
		}
		q, err := Scalar(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(q, "\n\r") {
			t.Fatalf("%q quoted onto several lines: %s", s, q)
		}
		roundTrip(t, s)
	})
}

// TestPyYAML is the oracle for Patroni's reader: PyYAML (YAML 1.1), run by
// the interpreter of Patroni's own shebang, must read every tricky scalar back
// as the same string.
func TestPyYAML(t *testing.T) {
	testenv.Need(t, "patroni")
	py := "/usr/bin/python3" // testing.md §1: patroni's shebang
	if head, err := os.ReadFile(testenv.Bin("patroni")); err == nil {
		if line, _, _ := strings.Cut(string(head), "\n"); strings.HasPrefix(line, "#!/") {
			py = strings.Fields(strings.TrimPrefix(line, "#!"))[0]
		}
	}
	if err := exec.Command(py, "-c", "import yaml").Run(); err != nil {
		t.Fatalf("patroni's %s cannot import yaml: %v", py, err)
	}
	inputs := []string{"on", "Off", "YES", "no", "y", "n", "true", "False", "null", "Null", "~", "", "18", "0640",
		"0.95", "1e3", "1_000", "1:30", "190:20:30.15", "2001-12-14", "2001-12-14 21:59:43.10 -5", "0x1F",
		"0b101", ".inf", "-.inf", ".NaN", "+1", "1.", "8C.32G.500G", "*:5432", "a: b", "a #b", "key:", "-1",
		"it's", "%(asctime)s %(levelname)s: %(message)s", "'%Y-%m-%d %H:%M:%S %z'", "<<", "=", "@x", "`x",
		"!tag", "&a", "*a", "{a}", "[a]", "|", ">", "?", "? x", " lead", "trail ", "ü", "a\nb", "a\r\nb",
		"tab\there", "q\"\\", "nul\x00", "del\x7f", "nel\u0085", "ls\u2028", "ps\u2029", "bom\ufeff",
		"nonchar\uffff", "emoji😀", "10.10.10.11:8008", "10.10.10.11,10.10.10.2,127.0.0.1:5432", "8192MB",
		"pgbackrest --stanza=pg-test archive-push %p", "/pg/bin/pg-failover-callback", "DBUser.Replicator",
		"$libdir/passwordcheck_cracklib, pg_stat_statements", "a,b", "a:b", "x\\y", "1000M", "0"}
	var docs []string
	for _, s := range inputs {
		doc, err := Encode(nil, NewMap().Add("k", s).Add("l", List{s}))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		docs = append(docs, string(doc))
	}
	in, _ := json.Marshal(docs)
	script := `import sys, json, yaml
out = []
for d in json.load(sys.stdin):
    v = yaml.safe_load(d)
    out.append([v["k"] if isinstance(v["k"], str) else repr(v["k"]), isinstance(v["k"], str) and isinstance(v["l"][0], str) and v["l"][0] == v["k"]])
json.dump(out, sys.stdout)`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got [][2]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i, s := range inputs {
		if got[i][0] != s || got[i][1] != true {
			t.Errorf("PyYAML reads %q (written %q) as %v", s, strings.TrimSpace(docs[i]), got[i])
		}
	}
}
