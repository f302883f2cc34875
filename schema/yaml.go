package schema

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

func sortStrings(s []string) { sort.Strings(s) }

// yaml11Bools are the plain scalars PyYAML (and so Ansible, and so Pigsty)
// reads as booleans under YAML 1.1. yaml.v3 implements YAML 1.2 and would keep
// them as strings; `patroni_watchdog_mode: off` must mean false as in Pigsty.
var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// ParseYAML parses one YAML document into a Node tree, resolving anchors,
// aliases and << merge keys. Errors carry file:line:col.
func ParseYAML(file string, data []byte) (*Node, Diags) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Diags{yamlErrorDiag(file, err)}
	}
	if doc.Kind == 0 { // empty file
		return &Node{Kind: MapKind, Pos: Pos{File: file, Line: 1, Col: 1}}, nil
	}
	c := &yconv{file: file, budget: 1000 + 100*len(data), onStack: map[*yaml.Node]bool{}}
	root := doc.Content[0]
	n := c.conv(root, "", 0)
	return n, c.diags
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlErrorDiag(file string, err error) Diag {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Diag{Pos: Pos{File: file, Line: line, Col: 1}, Message: "yaml: " + m[2], Code: "parse"}
	}
	return Diag{Pos: Pos{File: file, Line: 1, Col: 1}, Message: strings.TrimPrefix(msg, "yaml: "), Code: "parse"}
}

type yconv struct {
	file  string
	diags Diags
	// nodes counts converted nodes: aliases can expand exponentially
	// ("billion laughs"), so the expansion has a budget.
	nodes   int
	budget  int
	onStack map[*yaml.Node]bool // aliases being expanded (cycles)
	failed  bool
}

const maxAliasDepth = 64

func (c *yconv) pos(n *yaml.Node) Pos { return Pos{File: c.file, Line: n.Line, Col: n.Column} }

func (c *yconv) conv(n *yaml.Node, path string, depth int) *Node {
	c.nodes++
	if c.failed {
		return &Node{Kind: NullKind, Pos: c.pos(n)}
	}
	if c.nodes > c.budget {
		c.failed = true
		c.diags = append(c.diags, Diag{Pos: c.pos(n), Path: path, Message: "aliases expand to too many values", Code: "parse"})
		return &Node{Kind: NullKind, Pos: c.pos(n)}
	}
	if depth > maxAliasDepth {
		c.diags = append(c.diags, Diag{Pos: c.pos(n), Path: path, Message: "aliases nested too deeply", Code: "parse"})
		return &Node{Kind: NullKind, Pos: c.pos(n)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		// A value reached through an alias carries the anchor's position.
		if c.onStack[n.Alias] {
			c.failed = true
			c.diags = append(c.diags, Diag{Pos: c.pos(n), Path: path, Message: "alias refers to a value that contains it", Code: "parse"})
			return &Node{Kind: NullKind, Pos: c.pos(n)}
		}
		c.onStack[n.Alias] = true
		defer delete(c.onStack, n.Alias)
		return c.conv(n.Alias, path, depth+1)
	case yaml.ScalarNode:
		return c.scalar(n, path)
	case yaml.SequenceNode:
		out := &Node{Kind: ListKind, Pos: c.pos(n)}
		for i, it := range n.Content {
			out.Items = append(out.Items, c.conv(it, path+Index(i), depth+1))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, path, depth)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &Node{Kind: NullKind, Pos: c.pos(n)}
		}
		return c.conv(n.Content[0], path, depth)
	}
	return &Node{Kind: NullKind, Pos: c.pos(n)}
}

func (c *yconv) scalar(n *yaml.Node, path string) *Node {
	p := c.pos(n)
	out := &Node{Pos: p, Str: n.Value}
	tag := n.ShortTag()
	if n.Style == 0 { // plain scalars follow YAML 1.1 booleans, as Ansible reads them
		if b, ok := yaml11Bools[n.Value]; ok {
			out.Kind, out.Bool = BoolKind, b
			return out
		}
	}
	switch tag {
	case "!!null":
		out.Kind = NullKind
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.diags = append(c.diags, Diag{Pos: p, Path: path, Message: "invalid boolean " + strconv.Quote(n.Value), Code: "parse"})
		}
		out.Kind, out.Bool = BoolKind, b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			// Out of int64 range: keep it as a number so range checks report it.
			var f float64
			if err2 := n.Decode(&f); err2 != nil {
				c.diags = append(c.diags, Diag{Pos: p, Path: path, Message: "invalid integer " + strconv.Quote(n.Value), Code: "parse"})
			}
			out.Kind, out.Float = FloatKind, f
			return out
		}
		out.Kind, out.Int = IntKind, i
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			c.diags = append(c.diags, Diag{Pos: p, Path: path, Message: "invalid number " + strconv.Quote(n.Value), Code: "parse"})
		}
		out.Kind, out.Float = FloatKind, f
	default: // !!str, !!timestamp (dates stay text: expire_at: 2025-12-31), !!binary, custom tags
		out.Kind = StringKind
	}
	return out
}

func (c *yconv) mapping(n *yaml.Node, path string, depth int) *Node {
	out := &Node{Kind: MapKind, Pos: c.pos(n)}
	seen := map[string]int{}
	var merged []*Entry // entries brought in by <<, applied after explicit keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0 {
			for _, src := range mergeSources(v) {
				m := c.conv(src, path, depth+1)
				if m.Kind != MapKind {
					c.diags = append(c.diags, Diag{Pos: c.pos(v), Path: path, Message: "merge key << needs a map or a list of maps", Code: "parse"})
					continue
				}
				merged = append(merged, m.Keys...)
			}
			continue
		}
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			c.diags = append(c.diags, Diag{Pos: c.pos(k), Path: path, Message: "map keys must be scalars", Code: "parse"})
			continue
		}
		key := k.Value
		kp := JoinPath(path, key)
		if _, dup := seen[key]; dup {
			c.diags = append(c.diags, Diag{Pos: c.pos(k), Path: kp, Message: fmt.Sprintf("duplicate key %q", key), Code: "parse"})
			continue
		}
		seen[key] = len(out.Keys)
		out.Keys = append(out.Keys, &Entry{Key: key, KeyPos: c.pos(k), Value: c.conv(v, kp, depth+1)})
	}
	// Explicit keys win over merged ones; among merged maps the first wins (YAML merge spec).
	for _, e := range merged {
		if _, ok := seen[e.Key]; ok {
			continue
		}
		seen[e.Key] = len(out.Keys)
		out.Keys = append(out.Keys, e)
	}
	return out
}

func mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}
