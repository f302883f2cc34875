package render

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
)

// The oracle: model.json as encoding/json wrote it before renderModel wrote
// the JSON itself (structs, a redacted copy of each value, Encoder with
// SetEscapeHTML(false) and SetIndent("", "  ")).

type modelVar struct {
	Value any    `json:"value"`
	From  string `json:"from"`
}

type modelInstance struct {
	Name  string              `json:"name"`
	IP    string              `json:"ip"`
	Seq   int                 `json:"seq"`
	Role  string              `json:"role"`
	Group string              `json:"group"`
	Vars  map[string]modelVar `json:"vars"`
}

type modelCluster struct {
	Format    int                 `json:"format"`
	Cluster   string              `json:"cluster"`
	Primary   string              `json:"primary"`
	MemberIPs []string            `json:"member_ips"`
	AdminIP   string              `json:"admin_ip"`
	InfraIPs  []string            `json:"infra_ips"`
	EtcdIPs   []string            `json:"etcd_ips"`
	Vars      map[string]modelVar `json:"vars"`
	Instances []modelInstance     `json:"instances"`
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if secretKey(k) {
				out[k] = redacted
			} else {
				out[k] = redact(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e)
		}
		return out
	}
	return v
}

func oracleModel(t *testing.T, f *compiler.Fleet, cl *compiler.Cluster) []byte {
	m := modelCluster{Format: 1, Cluster: cl.Name, MemberIPs: cl.MemberIPs, AdminIP: f.AdminIP,
		InfraIPs: nonNil(f.InfraIPs), EtcdIPs: nonNil(f.EtcdIPs), Vars: map[string]modelVar{}}
	if cl.Primary != nil {
		m.Primary = cl.Primary.Name
	}
	conv := func(in *compiler.Instance, k string) modelVar {
		v := in.Vars[k]
		val := v.V
		if secretKey(k) {
			val = redacted
		} else {
			val = redact(val)
		}
		return modelVar{Value: val, From: v.Prov.String()}
	}
	first := cl.Members[0]
	shared := map[string]bool{}
	for _, k := range compiler.SortedKeys(first.Vars) {
		same := true
		a := first.Vars[k]
		for _, in := range cl.Members[1:] {
			b, ok := in.Vars[k]
			if !ok || b.Prov != a.Prov || !reflect.DeepEqual(a.V, b.V) {
				same = false
				break
			}
		}
		if same {
			shared[k] = true
			m.Vars[k] = conv(first, k)
		}
	}
	for _, in := range cl.Members {
		mi := modelInstance{Name: in.Name, IP: in.IP, Seq: in.Seq, Role: in.Role, Group: in.Group, Vars: map[string]modelVar{}}
		for _, k := range compiler.SortedKeys(in.Vars) {
			if !shared[k] {
				mi.Vars[k] = conv(in, k)
			}
		}
		m.Instances = append(m.Instances, mi)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestModelJSONMatchesEncoder: renderModel writes what encoding/json wrote,
// for every cluster of the example inventory and of the Pigsty corpus.
func TestModelJSONMatchesEncoder(t *testing.T) {
	root := sqlRepoRoot(t)
	type input struct {
		name string
		opts compiler.Options
	}
	inputs := []input{{"example", compiler.Options{Files: []string{filepath.Join(root, "examples", "pigsty.yml")}}}}
	corpus := filepath.Join(root, "..", "shared", "testdata", "pigsty-conf")
	if _, err := os.Stat(corpus); err == nil {
		err := filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yml") {
				rel, _ := filepath.Rel(corpus, p)
				inputs = append(inputs, input{rel, compiler.Options{Files: []string{p},
					Vars: []string{"node_cpu=4", "node_mem_mb=8192", "node_disk_gb=100"}}})
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(inputs) < 41 { // the example + at least 40 corpus inventories
			t.Fatalf("only %d corpus inventories found under %s", len(inputs)-1, corpus)
		}
	} else {
		t.Logf("corpus not found at %s; example inventory only", corpus)
	}
	clusters := 0
	for _, in := range inputs {
		res := compiler.Compile(in.opts)
		if res.Fleet == nil {
			t.Fatalf("%s: %v", in.name, res.Diags.Errors())
		}
		ctx := &Context{Fleet: res.Fleet}
		for _, cl := range res.Fleet.Clusters {
			files, err := renderModel(ctx, cl)
			if err != nil {
				t.Fatalf("%s %s: %v", in.name, cl.Name, err)
			}
			if want := oracleModel(t, res.Fleet, cl); !bytes.Equal(files[0].Data, want) {
				t.Errorf("%s %s: model.json differs from encoding/json's:\n got %.300q\nwant %.300q", in.name, cl.Name, files[0].Data, want)
			}
			clusters++
		}
	}
	if clusters == 0 {
		t.Fatal("no clusters rendered")
	}
}

// TestJSONWriterValues: values of every shape, strings that need escapes,
// floats, nesting, empty and nil containers and secret keys, against the
// encoder at several depths.
func TestJSONWriterValues(t *testing.T) {
	values := []any{
		nil, "", "plain", `quote " and \ backslash`, "tab\tnl\ncr\r\x00\x1f\x7f", "<html> & 'x'",
		"ünïcödé 日本", "line\u2028sep\u2029", "bad \xff utf8", int64(0), int64(-42), int64(math.MaxInt64),
		0.0, 1.5, -2.25e-7, 1e21, 123456789.125, true, false,
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		[]any{"a", int64(1), []any{map[string]any{"x": true}}, map[string]any{}},
		map[string]any{"b": int64(2), "a": []any{"x", 1.25}, "db_password": "hunter2", "nested": map[string]any{"token": "t", "ok": "v"}},
		map[string]any{"k\"ey": "v", "ключ": "значение"},
		int(7), uint8(3), []string{"typed", "slice"},
	}
	for _, depth := range []int{0, 1, 3} {
		for _, v := range values {
			w := jsonWriter{depth: depth}
			w.value(v)
			if w.err != nil {
				t.Fatalf("%#v: %v", v, w.err)
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent(strings.Repeat("  ", depth), "  ")
			if err := enc.Encode(redact(v)); err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(b.String(), "\n")
			if string(w.buf) != want {
				t.Errorf("depth %d %#v:\n got %s\nwant %s", depth, v, w.buf, want)
			}
		}
	}
	w := jsonWriter{}
	w.value(math.NaN())
	if w.err == nil {
		t.Error("NaN: no error")
	}
}
