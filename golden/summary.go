package golden

import (
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Summarizer turns the change of one file into one line per changed parameter for `pgcc diff`
// (`pg-test-1 work_mem: 64MB → 128MB`). It is passed in by the caller (DiffOptions) so that golden
// needs no knowledge of the renderers; it must be pure. old is nil for an added file, new for a
// removed one.
type Summarizer interface {
	Match(path string) bool
	Summarize(path string, old, new []byte) ([]string, error)
}

// DiffOptions tunes FormatChanges.
type DiffOptions struct {
	// Summarizers are tried in order; the first that matches a changed file summarises it.
	Summarizers []Summarizer

	// RedactSecrets replaces the content diff of files readable by their owner only (mode 0600:
	// patroni.yml, userlist.txt, pgbackrest.conf, vip-manager.yml hold plaintext credentials) with
	// one line, for output that ends up in CI logs. Summaries are still printed.
	RedactSecrets bool
}

// Unset is shown for a parameter that one side does not set.
const Unset = "(unset)"

// DefaultSummarizers summarise the PostgreSQL parameters of the pgcc bundle (README, `pgcc diff`):
// postgresql.auto.conf entries, and patroni.yml's bootstrap.dcs.postgresql.parameters (shown by
// name) and postgresql.parameters (the local section, shown as "postgresql.parameters.<name>" so the
// two sets cannot be confused).
func DefaultSummarizers() []Summarizer {
	return []Summarizer{
		ConfSummarizer{Name: "postgresql.auto.conf"},
		YAMLSummarizer{Name: "patroni.yml", Maps: []YAMLMap{
			{Path: []string{"bootstrap", "dcs", "postgresql", "parameters"}},
			{Path: []string{"postgresql", "parameters"}, Prefix: "postgresql.parameters."},
		}},
	}
}

// Summarize runs the first matching summariser over every added, removed or changed file, in the
// order of changes. Errors of single files are joined; the lines of the other files are still returned.
func Summarize(changes []Change, summarizers []Summarizer) ([]string, error) {
	var lines []string
	var errs []error
	for _, c := range changes {
		if c.Kind == ModeOnly {
			continue
		}
		var old, new []byte
		if c.Kind != Added {
			old = nonNil(c.Old.Data)
		}
		if c.Kind != Removed {
			new = nonNil(c.New.Data)
		}
		for _, s := range summarizers {
			if !s.Match(c.Path) {
				continue
			}
			ls, err := s.Summarize(c.Path, old, new)
			if err != nil {
				errs = append(errs, fmt.Errorf("summarize %s: %w", c.Path, err))
			}
			lines = append(lines, ls...)
			break
		}
	}
	return lines, errors.Join(errs...)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// FormatChanges writes the unified diff of every change, then (after an empty line) the summary
// lines. A summariser error is returned after everything else has been written.
func FormatChanges(w io.Writer, changes []Change, opts DiffOptions) error {
	for _, c := range changes {
		if _, err := io.WriteString(w, unifiedDiff(c, opts.RedactSecrets)); err != nil {
			return err
		}
	}
	lines, serr := Summarize(changes, opts.Summarizers)
	if len(lines) > 0 {
		var sb strings.Builder
		if len(changes) > 0 {
			sb.WriteString("\n")
		}
		for _, l := range lines {
			sb.WriteString(l)
			sb.WriteString("\n")
		}
		if _, err := io.WriteString(w, sb.String()); err != nil {
			return err
		}
	}
	return serr
}

// instanceLabel is the directory a per-instance file lives in: "pg-test/pg-test-1/patroni.yml" →
// "pg-test-1". A file at the root is labelled by its own path.
func instanceLabel(p string) string {
	d := path.Dir(p)
	if d == "." {
		return p
	}
	return path.Base(d)
}

// paramLines compares two key → display-value maps: one line per differing key, sorted by key.
func paramLines(label, prefix string, old, new map[string]string) []string {
	keys := make([]string, 0, len(old)+len(new))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range new {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		o, ook := old[k]
		n, nok := new[k]
		if ook && nok && o == n {
			continue
		}
		if !ook {
			o = Unset
		}
		if !nok {
			n = Unset
		}
		name := k
		if hasControl(name) {
			name = strconv.Quote(name)
		}
		out = append(out, fmt.Sprintf("%s %s%s: %s → %s", label, prefix, name, o, n))
	}
	return out
}

// ConfSummarizer summarises files in postgresql.conf syntax (postgresql.auto.conf) whose base name is
// Name: `name = value` or `name value`, `#` comments, values bare or single-quoted with doubled single quotes and
// backslash escapes (https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-CONFIGURATION-FILE).
// Names are case-insensitive and the last setting of a name wins, as in PostgreSQL. Values are shown
// unquoted (the empty string as two single quotes).
type ConfSummarizer struct{ Name string }

func (s ConfSummarizer) Match(p string) bool { return path.Base(p) == s.Name }

func (s ConfSummarizer) Summarize(p string, old, new []byte) ([]string, error) {
	o, err := parseConf(old)
	if err != nil {
		return nil, fmt.Errorf("old: %w", err)
	}
	n, err := parseConf(new)
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	return paramLines(instanceLabel(p), "", o, n), nil
}

// confSpace and confName follow PostgreSQL's configuration file lexer (src/backend/utils/misc/guc-file.l:
// space [ \t\n\r\f\v], ID [A-Za-z_][A-Za-z0-9_$]*, QUALIFIED_ID {ID}"."{ID}).
const confSpace = " \t\r\f\v"

var confName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$`)

// parseConf reads postgresql.conf syntax into name → display value. include directives are kept as
// ordinary names: a bundle file never includes another.
func parseConf(data []byte) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.Trim(line, confSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, confSpace+"=")
		if end < 0 {
			return nil, fmt.Errorf("line %d: no value for %q", i+1, line)
		}
		if !confName.MatchString(line[:end]) {
			return nil, fmt.Errorf("line %d: %q is not a parameter name", i+1, line[:end])
		}
		name := strings.ToLower(line[:end])
		rest := strings.TrimLeft(line[end:], confSpace)
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], confSpace)
		}
		val, tail, err := confValue(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", i+1, name, err)
		}
		if tail = strings.Trim(tail, confSpace); tail != "" && tail[0] != '#' {
			return nil, fmt.Errorf("line %d: %s: unexpected %q after the value", i+1, name, tail)
		}
		out[name] = displayValue(val)
	}
	return out, nil
}

// confValue reads one value at the start of s and returns it unquoted with the rest of the line.
func confValue(s string) (val, rest string, err error) {
	if s == "" || s[0] == '#' {
		return "", s, errors.New("missing value")
	}
	if s[0] != '\'' {
		end := strings.IndexAny(s, confSpace+"#")
		if end < 0 {
			end = len(s)
		}
		return s[:end], s[end:], nil
	}
	var sb strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			sb.WriteByte('\'')
			i++
		case c == '\'':
			return sb.String(), s[i+1:], nil
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '\''):
			// Only \\ and \' are undone; other escapes (\n, \t, octal) are shown as written so a
			// summary line stays one line.
			sb.WriteByte(s[i+1])
			i++
		default:
			sb.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quoted string")
}

// YAMLSummarizer summarises the entries of mappings at fixed key paths in YAML files whose base name
// is Name (patroni.yml's parameter maps). It is a generic YAML-path diff: scalars are shown as written
// (quoted scalars in single quotes, so '0640' and 0640 differ), other values in YAML flow style.
type YAMLSummarizer struct {
	Name string
	Maps []YAMLMap
}

// YAMLMap is one mapping to summarise: Path are the keys from the document root, Prefix is put before
// each entry name in the lines.
type YAMLMap struct {
	Path   []string
	Prefix string
}

func (s YAMLSummarizer) Match(p string) bool { return path.Base(p) == s.Name }

func (s YAMLSummarizer) Summarize(p string, old, new []byte) ([]string, error) {
	o, err := yamlRoot(old)
	if err != nil {
		return nil, fmt.Errorf("old: %w", err)
	}
	n, err := yamlRoot(new)
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	label := instanceLabel(p)
	var out []string
	for _, m := range s.Maps {
		om, err := yamlEntries(o, m.Path)
		if err != nil {
			return nil, fmt.Errorf("old: %w", err)
		}
		nm, err := yamlEntries(n, m.Path)
		if err != nil {
			return nil, fmt.Errorf("new: %w", err)
		}
		out = append(out, paramLines(label, m.Prefix, om, nm)...)
	}
	return out, nil
}

// yamlRoot parses the first document; empty input is an empty document (nil).
func yamlRoot(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return deref(doc.Content[0]), nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// yamlEntries walks keys from root; a missing key or null value means no entries. A non-mapping on
// the path is an error (the file does not have the expected shape).
func yamlEntries(root *yaml.Node, keys []string) (map[string]string, error) {
	out := map[string]string{}
	n := root
	for i := 0; ; i++ {
		if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
			return out, nil
		}
		if n.Kind != yaml.MappingNode {
			where := "the document root"
			if i > 0 {
				where = strings.Join(keys[:i], ".")
			}
			return nil, fmt.Errorf("%s is not a mapping", where)
		}
		if i == len(keys) {
			break
		}
		n = mapGet(n, keys[i])
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := deref(n.Content[j]), deref(n.Content[j+1])
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: non-scalar key", strings.Join(keys, "."))
		}
		s, err := yamlDisplay(v)
		if err != nil {
			return nil, err
		}
		out[k.Value] = s // a repeated key: the last wins, as when PyYAML loads it
	}
	return out, nil
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	var found *yaml.Node
	for j := 0; j+1 < len(m.Content); j += 2 {
		if k := deref(m.Content[j]); k.Kind == yaml.ScalarNode && k.Value == key {
			found = deref(m.Content[j+1])
		}
	}
	return found
}

func yamlDisplay(v *yaml.Node) (string, error) {
	if v.Kind == yaml.ScalarNode {
		if v.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 && !hasControl(v.Value) {
			return "'" + strings.ReplaceAll(v.Value, "'", "''") + "'", nil
		}
		return displayValue(v.Value), nil
	}
	c := *v
	setFlow(&c)
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// setFlow turns a copied subtree into flow style so it fits on one line. Children are copied too:
// the nodes belong to the parsed document.
func setFlow(n *yaml.Node) {
	n.Style |= yaml.FlowStyle
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	kids := make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c := *deref(k)
		setFlow(&c)
		kids[i] = &c
	}
	n.Content = kids
}

// displayValue keeps a summary line on one line: the empty string is shown as two single quotes, a value with
// control characters (a newline in a YAML block scalar) Go-quoted.
func displayValue(v string) string {
	switch {
	case v == "":
		return "''"
	case hasControl(v):
		return strconv.Quote(v)
	}
	return v
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}
