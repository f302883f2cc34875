package schema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// VarMap is one map of variables to validate (all.vars, a group's vars, a
// host entry, a --facts entry, a --var) with the YAML path of the map.
type VarMap struct {
	Path string
	Vars *Node
}

// Unit is validated by one worker (inventory.md §6: all.vars once, then each
// group holding a PGSQL host with all its host maps).
type Unit struct {
	Maps []VarMap
}

// Validate checks the shape of every unit with the CUE schema, concurrently
// with Workers workers, and returns every error (unsorted). It also coerces
// numeric strings of @numstr variables (pg_seq: '2') to integers in place.
//
// Each variable is unified with its own field constraint (#Vars.<name>),
// not the map with all of #Vars, and a value that validated once is not
// validated again within the call (fleets repeat most values: pg_role:
// primary, the default services, …).
func Validate(units []Unit) Diags {
	s, err := loadSource()
	if err != nil {
		return Diags{{Message: err.Error(), Code: "internal"}}
	}
	results := make([]Diags, len(units))
	workers := max(1, min(Workers, len(units)))
	memo := &validMemo{ok: map[string]bool{}}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := getEvaluator()
			if err != nil {
				for i := range next {
					results[i] = Diags{{Message: err.Error(), Code: "internal"}}
				}
				return
			}
			for i := range next {
				for _, m := range units[i].Maps {
					results[i] = append(results[i], s.validateMap(ev, m, memo)...)
				}
				if ev.uses > evaluatorLifetime {
					// A cue.Context only grows: start a fresh one now and then.
					if fresh, err := newEvaluator(); err == nil {
						ev = fresh
					}
				}
			}
			putEvaluator(ev)
		}()
	}
	for i := range units {
		next <- i
	}
	close(next)
	wg.Wait()
	var out Diags
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// evaluatorLifetime is how many values one cue.Context validates before it
// is replaced (CUE keeps every value it has seen).
const evaluatorLifetime = 4000

// validMemo remembers values that validated without error.
type validMemo struct {
	mu sync.Mutex
	ok map[string]bool
}

func (m *validMemo) key(name string, v any) (string, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return name + "\x00" + string(b), true
}

func (m *validMemo) seen(k string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ok[k]
}

func (m *validMemo) add(k string) {
	m.mu.Lock()
	m.ok[k] = true
	m.mu.Unlock()
}

var digitsRE = regexp.MustCompile(`^[0-9]+$`)

func hasAttr(f *ast.Field, name string) (string, bool) {
	for _, a := range f.Attrs {
		k, body := a.Split()
		if k == name {
			return body, true
		}
	}
	return "", false
}

func (s *schemaSource) validateMap(ev *evaluator, m VarMap, memo *validMemo) Diags {
	var diags Diags
	for _, e := range m.Vars.Keys {
		path := JoinPath(m.Path, e.Key)
		if nulls := findNulls(e.Value, path); len(nulls) > 0 {
			diags = append(diags, nulls...)
			continue
		}
		fld, ok := s.varExprs[e.Key]
		if !ok {
			if isCheckedName(e.Key) && !s.registry[e.Key] {
				msg := fmt.Sprintf("unknown variable %q", e.Key)
				if sug := DidYouMean(e.Key, s.known); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
				diags = append(diags, Diag{Pos: e.KeyPos, Path: path, Message: msg, Code: "unknown-variable"})
			}
			continue
		}
		if _, numstr := hasAttr(fld, "numstr"); numstr && e.Value.Kind == StringKind && digitsRE.MatchString(e.Value.Str) {
			if i, err := strconv.ParseInt(e.Value.Str, 10, 64); err == nil {
				e.Value.Kind, e.Value.Int = IntKind, i
			}
		}
		if _, text := hasAttr(fld, "text"); text && (e.Value.Kind == IntKind || e.Value.Kind == FloatKind) {
			// A version written as a YAML number (pgbouncer_version: 1.18,
			// --var pgbouncer_version=1.18) means its text: 1.20 is "1.20",
			// not the float 1.2.
			if e.Value.Str == "" {
				e.Value.Str = e.Value.Display()
			}
			e.Value.Kind = StringKind
		}
		val := e.Value.Interface()
		key, memoOK := memo.key(e.Key, val)
		if memoOK && memo.seen(key) {
			continue
		}
		ev.uses++
		sch := ev.field(e.Key)
		u := sch.Unify(ev.ctx.Encode(val))
		if err := u.Validate(cue.Concrete(true)); err != nil {
			one := VarMap{Path: m.Path, Vars: &Node{Kind: MapKind, Keys: []*Entry{e}}}
			diags = append(diags, s.explain(ev, err, one, []string{e.Key}, 0)...)
			continue
		}
		if memoOK {
			memo.add(key)
		}
	}
	return diags
}

// findNulls reports every null value below n: a null is never a value
// (inventory.md §3.1); the user should remove the key instead.
func findNulls(n *Node, path string) Diags {
	switch n.Kind {
	case NullKind:
		return Diags{{Pos: n.Pos, Path: path, Message: "null is not a value; remove the key instead", Code: "null"}}
	case MapKind:
		var out Diags
		for _, e := range n.Keys {
			out = append(out, findNulls(e.Value, JoinPath(path, e.Key))...)
		}
		return out
	case ListKind:
		var out Diags
		for i, it := range n.Items {
			out = append(out, findNulls(it, path+Index(i))...)
		}
		return out
	}
	return nil
}

// explain turns CUE errors into canonical diagnostics. prefix is the schema
// path of the value that was validated (nil: #Vars); it is used when a
// disjunction error is re-validated against its struct alternative.
func (s *schemaSource) explain(ev *evaluator, err error, m VarMap, prefix []string, depth int) Diags {
	var diags Diags
	seen := map[string]bool{}
	for _, ce := range flattenCUE(err) {
		rel := cleanPath(ce.path)
		// A value unified with a #Vars field reports paths that start with
		// the field's own name (#Vars.pg_role…): drop what the prefix has.
		if len(prefix) > 0 && len(rel) > 0 && len(ce.path) > 0 && strings.HasPrefix(ce.path[0], "#Vars") && rel[0] == prefix[0] {
			rel = rel[1:]
		}
		path := append(append([]string(nil), prefix...), rel...)
		if len(path) == 0 {
			continue
		}
		key := strings.Join(path, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		node, parent, yamlPath := locate(m, path)
		switch {
		case strings.Contains(ce.format, "not allowed") && node != nil && parent != nil && parent.Kind == MapKind:
			last := path[len(path)-1]
			e := parent.Entry(last)
			diags = append(diags, Diag{Pos: e.KeyPos, Path: yamlPath, Message: s.unknownFieldMsg(path, last), Code: "unknown-field"})
		case node == nil && parent != nil:
			diags = append(diags, Diag{Pos: parent.Pos, Path: parentPath(yamlPath), Message: fmt.Sprintf("missing required field %q", path[len(path)-1]), Code: "missing-field"})
		case node != nil:
			if node.Kind == MapKind && depth < 4 {
				if def := s.structAlt(path); def != "" {
					if sub := s.revalidate(ev, def, node, m, path, depth); sub != nil {
						diags = append(diags, sub...)
						continue
					}
				}
			}
			if node.Kind == ListKind || node.Kind == MapKind {
				// An error on a compound value whose kind is right is reported
				// on its elements; if none was, describe the value as a whole.
				if msg := s.message(path, node); msg != "" {
					diags = append(diags, Diag{Pos: node.Pos, Path: yamlPath, Message: msg, Code: "shape"})
				}
				continue
			}
			diags = append(diags, Diag{Pos: node.Pos, Path: yamlPath, Message: s.message(path, node), Code: "shape"})
		}
	}
	return diags
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return p
}

func cleanPath(p []string) []string {
	out := make([]string, 0, len(p))
	for i, e := range p {
		if i == 0 && strings.HasPrefix(e, "#") {
			continue // the definition the value was unified with (#Vars, #User, …)
		}
		if uq, err := strconv.Unquote(e); err == nil && strings.HasPrefix(e, `"`) {
			e = uq
		}
		out = append(out, e)
	}
	return out
}

// locate finds the node at a schema path inside a VarMap; it returns the node
// (nil when the last element is absent), its parent and the YAML path.
func locate(m VarMap, path []string) (node, parent *Node, yamlPath string) {
	cur := m.Vars
	yamlPath = m.Path
	for i, el := range path {
		parent = cur
		var next *Node
		switch cur.Kind {
		case MapKind:
			next = cur.Get(el)
			yamlPath = JoinPath(yamlPath, el)
		case ListKind:
			idx, err := strconv.Atoi(el)
			if err == nil && idx >= 0 && idx < len(cur.Items) {
				next = cur.Items[idx]
			}
			yamlPath += Index(idx)
		default:
			return nil, nil, yamlPath
		}
		if next == nil {
			if i == len(path)-1 {
				return nil, parent, yamlPath
			}
			return nil, nil, yamlPath
		}
		cur = next
	}
	return cur, parent, yamlPath
}

// ---- schema lookup by path (syntactic) ----

// lookup returns the constraint expression at a schema path and its @want.
func (s *schemaSource) lookup(path []string) (ast.Expr, *ast.Field) {
	fld := s.varExprs[path[0]]
	if fld == nil {
		return nil, nil
	}
	expr := fld.Value
	for _, el := range path[1:] {
		var f *ast.Field
		expr, f = s.step(expr, el, 0)
		if expr == nil {
			return nil, nil
		}
		if f != nil {
			fld = f
		}
	}
	return expr, fld
}

func (s *schemaSource) resolve(e ast.Expr) ast.Expr {
	for i := 0; i < 16; i++ {
		switch x := e.(type) {
		case *ast.Ident:
			if d, ok := s.decls[x.Name]; ok {
				e = d
				continue
			}
			return e
		case *ast.ParenExpr:
			e = x.X
			continue
		}
		return e
	}
	return e
}

// step descends one path element (field name or list index) into e.
func (s *schemaSource) step(e ast.Expr, el string, depth int) (ast.Expr, *ast.Field) {
	if depth > 16 {
		return nil, nil
	}
	e = s.resolve(e)
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if r, f := s.step(x.X, el, depth+1); r != nil {
			return r, f
		}
		return s.step(x.Y, el, depth+1)
	case *ast.UnaryExpr:
		if x.Op == token.MUL { // default marker
			return s.step(x.X, el, depth+1)
		}
	case *ast.ListLit:
		if _, err := strconv.Atoi(el); err != nil {
			return nil, nil
		}
		for _, it := range x.Elts {
			if ell, ok := it.(*ast.Ellipsis); ok && ell.Type != nil {
				return ell.Type, nil
			}
		}
		if len(x.Elts) > 0 { // fixed-length list: use the indexed element
			idx, _ := strconv.Atoi(el)
			if idx < len(x.Elts) {
				return x.Elts[idx], nil
			}
		}
	case *ast.StructLit:
		var pattern ast.Expr
		for _, it := range x.Elts {
			switch f := it.(type) {
			case *ast.Field:
				if lbl, _, err := ast.LabelName(f.Label); err == nil && lbl == el {
					return f.Value, f
				}
				if _, ok := f.Label.(*ast.ListLit); ok {
					pattern = f.Value
				}
			case *ast.EmbedDecl:
				if r, fl := s.step(f.Expr, el, depth+1); r != nil {
					return r, fl
				}
			}
		}
		if pattern != nil {
			return pattern, nil
		}
	}
	return nil, nil
}

// structFields lists the field names of the struct at a schema path.
func (s *schemaSource) structFields(e ast.Expr, depth int) []string {
	if depth > 16 || e == nil {
		return nil
	}
	e = s.resolve(e)
	var out []string
	switch x := e.(type) {
	case *ast.BinaryExpr:
		out = append(s.structFields(x.X, depth+1), s.structFields(x.Y, depth+1)...)
	case *ast.StructLit:
		for _, it := range x.Elts {
			switch f := it.(type) {
			case *ast.Field:
				if lbl, _, err := ast.LabelName(f.Label); err == nil {
					out = append(out, lbl)
				}
			case *ast.EmbedDecl:
				out = append(out, s.structFields(f.Expr, depth+1)...)
			}
		}
	}
	return out
}

// aliasHints are documented aliases Pigsty silently ignores (inventory.md §4.2).
var aliasHints = map[string]string{
	"pool_size_reserve": "pool_reserve",
	"pool_max_db_conn":  "pool_connlimit",
	"search_path":       "parameters.search_path",
}

func (s *schemaSource) unknownFieldMsg(path []string, key string) string {
	msg := fmt.Sprintf("unknown field %q", key)
	parentExpr, _ := s.lookup(path[:len(path)-1])
	if len(path) == 1 {
		return msg
	}
	fields := s.structFields(parentExpr, 0)
	if hint, ok := aliasHints[key]; ok && (containsStr(fields, hint) || strings.Contains(hint, ".")) {
		return msg + fmt.Sprintf("; did you mean %q?", hint)
	}
	if sug := DidYouMean(key, fields); sug != "" {
		msg += fmt.Sprintf("; did you mean %q?", sug)
	}
	return msg
}

// structAlt returns the definition name of a struct alternative of a
// disjunction at path (e.g. a role given as string | #UserRoleObject).
func (s *schemaSource) structAlt(path []string) string {
	e, _ := s.lookup(path)
	if e == nil {
		return ""
	}
	var find func(e ast.Expr, d int) string
	find = func(e ast.Expr, d int) string {
		if d > 8 {
			return ""
		}
		switch x := e.(type) {
		case *ast.Ident:
			if st, ok := s.resolve(x).(*ast.StructLit); ok && st != nil {
				return x.Name
			}
			if r := s.resolve(x); r != x {
				return find(r, d+1)
			}
		case *ast.BinaryExpr:
			if x.Op == token.OR {
				if r := find(x.X, d+1); r != "" {
					return r
				}
				return find(x.Y, d+1)
			}
		case *ast.ParenExpr:
			return find(x.X, d+1)
		}
		return ""
	}
	if _, isOr := e.(*ast.BinaryExpr); !isOr {
		return ""
	}
	return find(e, 0)
}

func (s *schemaSource) revalidate(ev *evaluator, def string, node *Node, m VarMap, path []string, depth int) Diags {
	sch := ev.root.LookupPath(cue.ParsePath(def))
	if !sch.Exists() {
		return nil
	}
	u := sch.Unify(ev.ctx.Encode(node.Interface()))
	err := u.Validate(cue.Concrete(true))
	if err == nil {
		return nil
	}
	return s.explain(ev, err, m, path, depth+1)
}
