package tuning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
)

// Quoter turns a parameter's unit-formatted text into its postgresql.conf
// form. tuning does not quote: the one postgresql.conf quoter lives in render
// (tuning.md §7 rules, including the verbatim list keys); the CLI passes it in.
type Quoter func(name, value string) (string, error)

// FormatConf renders `pgcc tune --format conf`: one `name = value` line per
// parameter, sorted by name, each value through quote. It fails only when
// quote does.
func FormatConf(r Result, quote Quoter) ([]byte, error) {
	var buf bytes.Buffer
	for _, p := range r.Params {
		q, err := quote(p.Name, p.Value.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		buf.WriteString(p.Name)
		buf.WriteString(" = ")
		buf.WriteString(q)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// numberRE is patroni.md §1's rule for values written as numbers.
var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// FormatJSON renders `pgcc tune --format json`: one object, keys sorted,
// two-space indent, trailing newline. Booleans are JSON booleans, values that
// read as plain numbers (500, 0.95, -1) are JSON numbers, everything else is
// the unit-formatted text (8192MB, 15min, 0640, "pg_stat_statements, auto_explain").
func FormatJSON(r Result) []byte {
	var buf bytes.Buffer
	buf.WriteString("{")
	for i, p := range r.Params {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n  ")
		k, _ := json.Marshal(p.Name)
		buf.Write(k)
		buf.WriteString(": ")
		buf.Write(jsonValue(p.Value))
	}
	if len(r.Params) > 0 {
		buf.WriteByte('\n')
	}
	buf.WriteString("}\n")
	return buf.Bytes()
}

func jsonValue(v Value) []byte {
	s := v.String()
	switch {
	case v.Kind() == KindBool:
		if v.Bool() {
			return []byte("true")
		}
		return []byte("false")
	case v.Kind() != KindString && v.Kind() != KindList && numberRE.MatchString(s):
		return []byte(s)
	}
	// json.Marshal escapes <, > and & for HTML; keep the text readable.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Explain returns `pgcc explain` lines ("work_mem = 64MB: oltp: clamp(…)")
// for the named parameters in the order given, or for all parameters
// (sorted) when names is empty. A name the template does not set gets a line
// saying the PostgreSQL default applies.
func (r Result) Explain(names ...string) []string {
	if len(names) == 0 {
		out := make([]string, len(r.Params))
		for i, p := range r.Params {
			out[i] = p.Explain()
		}
		return out
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if p, ok := r.Get(n); ok {
			out = append(out, p.Explain())
		} else {
			out = append(out, fmt.Sprintf("%s: not set by the %s template for PostgreSQL %d (the server default applies)", n, r.Template, r.PGVersion))
		}
	}
	return out
}
