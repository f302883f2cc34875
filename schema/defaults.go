package schema

import (
	"fmt"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
)

var (
	defOnce sync.Once
	defVals map[string]*Node
	defErr  error
)

// Defaults returns the Pigsty v4.5 default of every variable that has one
// (the `defaults` value of the embedded schema). Nodes carry no position
// (provenance "default"); callers must not modify them.
func Defaults() (map[string]*Node, error) {
	defOnce.Do(func() {
		ev, err := newEvaluator()
		if err != nil {
			defErr = err
			return
		}
		d := ev.root.LookupPath(cue.ParsePath("defaults"))
		if err := d.Validate(cue.Concrete(true)); err != nil {
			defErr = fmt.Errorf("embedded schema: defaults: %w", err)
			return
		}
		n, err := cueToNode(d, false)
		if err != nil {
			defErr = fmt.Errorf("embedded schema: defaults: %w", err)
			return
		}
		defVals = map[string]*Node{}
		for _, e := range n.Keys {
			defVals[e.Key] = e.Value
		}
		putEvaluator(ev)
	})
	return defVals, defErr
}

// cueToNode converts a concrete CUE value into a Node tree, keeping field
// order and (when withPos) positions.
func cueToNode(v cue.Value, withPos bool) (*Node, error) {
	var pos Pos
	if withPos {
		if p := v.Pos(); p.IsValid() {
			pos = Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
		}
	}
	switch v.Kind() {
	case cue.NullKind:
		return &Node{Kind: NullKind, Pos: pos}, nil
	case cue.BoolKind:
		b, _ := v.Bool()
		return &Node{Kind: BoolKind, Bool: b, Pos: pos}, nil
	case cue.IntKind:
		i, err := v.Int64()
		if err != nil {
			return nil, err
		}
		return &Node{Kind: IntKind, Int: i, Pos: pos}, nil
	case cue.FloatKind, cue.NumberKind:
		f, err := v.Float64()
		if err != nil {
			return nil, err
		}
		return &Node{Kind: FloatKind, Float: f, Pos: pos}, nil
	case cue.StringKind:
		s, _ := v.String()
		return &Node{Kind: StringKind, Str: s, Pos: pos}, nil
	case cue.ListKind:
		n := &Node{Kind: ListKind, Pos: pos}
		it, err := v.List()
		if err != nil {
			return nil, err
		}
		for it.Next() {
			c, err := cueToNode(it.Value(), withPos)
			if err != nil {
				return nil, err
			}
			n.Items = append(n.Items, c)
		}
		return n, nil
	case cue.StructKind:
		n := &Node{Kind: MapKind, Pos: pos}
		it, err := v.Fields()
		if err != nil {
			return nil, err
		}
		for it.Next() {
			c, err := cueToNode(it.Value(), withPos)
			if err != nil {
				return nil, err
			}
			kp := c.Pos
			n.Keys = append(n.Keys, &Entry{Key: it.Selector().Unquoted(), KeyPos: kp, Value: c})
		}
		return n, nil
	}
	return nil, fmt.Errorf("value at %v is not concrete", v.Path())
}

// ParseCUE evaluates a CUE inventory (inventory.md §1) with the schema's
// definitions (#Inventory, #Vars, …) in scope and returns its `all` value as
// a Node tree with positions in the .cue file.
func ParseCUE(file string, data []byte) (*Node, Diags) {
	f, err := parser.ParseFile(file, data)
	if err != nil {
		return nil, cueDiags(err, file)
	}
	for imp := range f.ImportSpecs() {
		path := strings.Trim(imp.Path.Value, `"`)
		if strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
			p := imp.Pos()
			return nil, Diags{{Pos: Pos{File: file, Line: p.Line(), Col: p.Column()}, Message: fmt.Sprintf("import %q is not allowed; only the CUE standard library", path), Code: "parse"}}
		}
	}
	ev, err := newEvaluator() // a fresh context: user values must not leak into the pool
	if err != nil {
		return nil, Diags{{Message: err.Error(), Code: "internal"}}
	}
	all, err := evalCUEInventory(ev, f, file, ev.root)
	if err != nil {
		// The schema in scope turns a shape mistake into a pile of CUE
		// disjunction errors. Evaluate again with the definitions opened up:
		// if that gives concrete data, pgcc's own validation reports the
		// mistake in the canonical form; otherwise the problem is CUE's own
		// (non-concrete or conflicting values) and CUE's errors are shown.
		f2, perr := parser.ParseFile(file, data)
		if perr != nil {
			return nil, cueDiags(perr, file)
		}
		lenient, lerr := evalCUEInventory(ev, f2, file, lenientScope(ev))
		if lerr != nil {
			return nil, cueDiags(lerr, file)
		}
		all = lenient
	}
	n, err := cueToNode(all, true)
	if err != nil {
		return nil, cueDiags(err, file)
	}
	p := all.Pos()
	root := &Node{Kind: MapKind, Pos: Pos{File: file, Line: 1, Col: 1}}
	root.Keys = []*Entry{{Key: "all", KeyPos: Pos{File: file, Line: p.Line(), Col: p.Column()}, Value: n}}
	return root, nil
}

// cueDiags converts CUE's own errors (non-concrete or conflicting values in
// a CUE inventory) to diagnostics with CUE's positions.
func cueDiags(err error, file string) Diags {
	var out Diags
	for _, e := range cueerrors.Errors(err) {
		pos := Pos{File: file, Line: 1, Col: 1}
		if p := e.Position(); p.IsValid() {
			pos = Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
		}
		for _, ip := range e.InputPositions() {
			if ip.IsValid() && ip.Filename() == file {
				pos = Pos{File: ip.Filename(), Line: ip.Line(), Col: ip.Column()}
				break
			}
		}
		format, args := e.Msg()
		out = append(out, Diag{Pos: pos, Path: strings.Join(e.Path(), "."), Message: strings.ToLower(fmt.Sprintf(format, args...)), Code: "cue"})
	}
	if len(out) == 0 {
		out = Diags{{Pos: Pos{File: file, Line: 1, Col: 1}, Message: strings.ToLower(err.Error()), Code: "cue"}}
	}
	return out
}

func evalCUEInventory(ev *evaluator, f *ast.File, file string, scope cue.Value) (cue.Value, error) {
	v := ev.ctx.BuildFile(f, cue.Filename(file), cue.Scope(scope))
	if err := v.Err(); err != nil {
		return cue.Value{}, err
	}
	all := v.LookupPath(cue.ParsePath("all"))
	if !all.Exists() {
		return cue.Value{}, fmt.Errorf("a CUE inventory must define the field all")
	}
	if err := all.Validate(cue.Concrete(true)); err != nil {
		return cue.Value{}, err
	}
	return all, nil
}

// lenientScope has the schema's definition names with no constraints, so a
// CUE inventory that uses them evaluates to its plain data.
func lenientScope(ev *evaluator) cue.Value {
	s, _ := loadSource()
	var b strings.Builder
	b.WriteString("#Inventory: {all: _}\n")
	for name := range s.decls {
		if strings.HasPrefix(name, "#") && name != "#Inventory" {
			b.WriteString(name + ": _\n")
		}
	}
	return ev.ctx.CompileString(b.String())
}
