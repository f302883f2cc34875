// Package schema reads inventories (Pigsty YAML or CUE) into a position-carrying
// tree, validates their shape against the embedded CUE schema, and exports that
// schema (CUE or JSON Schema). It is the only package that imports cuelang.org/go.
package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Pos is a position in an input file. Line and Col are 1-based; a zero Pos
// means "no position" (a default value).
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.File == "" {
		return "default"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsZero reports whether p carries no position.
func (p Pos) IsZero() bool { return p.File == "" }

// Kind is the type of a Node.
type Kind int

const (
	NullKind Kind = iota
	BoolKind
	IntKind
	FloatKind
	StringKind
	MapKind
	ListKind
)

func (k Kind) String() string {
	switch k {
	case NullKind:
		return "null"
	case BoolKind:
		return "boolean"
	case IntKind:
		return "integer"
	case FloatKind:
		return "number"
	case StringKind:
		return "string"
	case MapKind:
		return "map"
	case ListKind:
		return "list"
	}
	return "unknown"
}

// Node is one value of an inventory with the position of its first character.
// Maps keep key order as written (YAML order), which drives inventory order.
type Node struct {
	Kind  Kind
	Pos   Pos
	Bool  bool
	Int   int64
	Float float64
	Str   string // the string value; for other scalars, the source text
	Keys  []*Entry
	Items []*Node
}

// Entry is a key of a map node.
type Entry struct {
	Key    string
	KeyPos Pos
	Value  *Node
}

// Get returns the value of key k in a map node, or nil.
func (n *Node) Get(k string) *Node {
	if n == nil || n.Kind != MapKind {
		return nil
	}
	for _, e := range n.Keys {
		if e.Key == k {
			return e.Value
		}
	}
	return nil
}

// Entry returns the entry for key k in a map node, or nil.
func (n *Node) Entry(k string) *Entry {
	if n == nil || n.Kind != MapKind {
		return nil
	}
	for _, e := range n.Keys {
		if e.Key == k {
			return e
		}
	}
	return nil
}

// Interface converts the node into plain Go values: map[string]any, []any,
// int64, float64, bool, string or nil. Map key order is lost; use Keys for order.
func (n *Node) Interface() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case BoolKind:
		return n.Bool
	case IntKind:
		return n.Int
	case FloatKind:
		return n.Float
	case StringKind:
		return n.Str
	case MapKind:
		m := make(map[string]any, len(n.Keys))
		for _, e := range n.Keys {
			m[e.Key] = e.Value.Interface()
		}
		return m
	case ListKind:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Interface()
		}
		return l
	}
	return nil
}

// Display renders a scalar for messages: strings quoted, numbers and booleans
// bare, compound values by kind.
func (n *Node) Display() string {
	if n == nil {
		return "null"
	}
	switch n.Kind {
	case StringKind:
		return strconv.Quote(n.Str)
	case IntKind:
		return strconv.FormatInt(n.Int, 10)
	case FloatKind:
		if n.Float == math.Trunc(n.Float) && math.Abs(n.Float) < 1e15 {
			return strconv.FormatFloat(n.Float, 'f', 1, 64)
		}
		return strconv.FormatFloat(n.Float, 'g', -1, 64)
	case BoolKind:
		return strconv.FormatBool(n.Bool)
	case NullKind:
		return "null"
	case MapKind:
		return "a map"
	case ListKind:
		return "a list"
	}
	return "?"
}

// FromInterface builds a node tree from plain Go values (used for defaults,
// --var values and CUE inventories). Map keys are sorted for determinism unless
// the caller provides ordered input via FromOrdered.
func FromInterface(v any, pos Pos) *Node {
	switch x := v.(type) {
	case nil:
		return &Node{Kind: NullKind, Pos: pos}
	case bool:
		return &Node{Kind: BoolKind, Bool: x, Pos: pos, Str: strconv.FormatBool(x)}
	case int:
		return &Node{Kind: IntKind, Int: int64(x), Pos: pos, Str: strconv.Itoa(x)}
	case int64:
		return &Node{Kind: IntKind, Int: x, Pos: pos, Str: strconv.FormatInt(x, 10)}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			// JSON numbers decode as float64; integral ones are integers.
			return &Node{Kind: IntKind, Int: int64(x), Pos: pos, Str: strconv.FormatInt(int64(x), 10)}
		}
		return &Node{Kind: FloatKind, Float: x, Pos: pos, Str: strconv.FormatFloat(x, 'g', -1, 64)}
	case string:
		return &Node{Kind: StringKind, Str: x, Pos: pos}
	case []any:
		n := &Node{Kind: ListKind, Pos: pos}
		for _, it := range x {
			n.Items = append(n.Items, FromInterface(it, pos))
		}
		return n
	case map[string]any:
		n := &Node{Kind: MapKind, Pos: pos}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			n.Keys = append(n.Keys, &Entry{Key: k, KeyPos: pos, Value: FromInterface(x[k], pos)})
		}
		return n
	}
	return &Node{Kind: StringKind, Str: fmt.Sprint(v), Pos: pos}
}

// Path helpers build the YAML paths used in messages: a.b[1].c, with host keys
// (IP addresses) written as they are (the spec's format: hosts.10.10.10.11.pg_role).
func JoinPath(base string, elems ...string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, e := range elems {
		if strings.HasPrefix(e, "[") {
			b.WriteString(e)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e)
	}
	return b.String()
}

// Index formats a list index path element.
func Index(i int) string { return "[" + strconv.Itoa(i) + "]" }
