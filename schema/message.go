package schema

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// alt is one alternative of a constraint, read syntactically from the schema:
// a kind with optional bounds and regex, or a literal.
type alt struct {
	kind   string // int number string bool list struct null any
	isLit  bool
	lit    string // display text of a literal
	lo, hi string
	regex  string
}

func (a alt) admits(k Kind) bool {
	switch a.kind {
	case "any":
		return true
	case "int":
		return k == IntKind
	case "number":
		return k == IntKind || k == FloatKind
	case "string":
		return k == StringKind
	case "bool":
		return k == BoolKind
	case "list":
		return k == ListKind
	case "struct":
		return k == MapKind
	case "null":
		return k == NullKind
	}
	return false
}

func (s *schemaSource) alts(e ast.Expr, depth int) []alt {
	if e == nil || depth > 24 {
		return []alt{{kind: "any"}}
	}
	switch x := e.(type) {
	case *ast.ParenExpr:
		return s.alts(x.X, depth+1)
	case *ast.Ident:
		switch x.Name {
		case "int", "uint":
			return []alt{{kind: "int"}}
		case "number", "float":
			return []alt{{kind: "number"}}
		case "string", "bytes":
			return []alt{{kind: "string"}}
		case "bool":
			return []alt{{kind: "bool"}}
		case "_":
			return []alt{{kind: "any"}}
		case "null":
			return []alt{{kind: "null"}}
		}
		if d, ok := s.decls[x.Name]; ok {
			return s.alts(d, depth+1)
		}
		return []alt{{kind: "any"}}
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING:
			v, err := strconv.Unquote(x.Value)
			if err != nil {
				v = strings.Trim(x.Value, `"`)
			}
			return []alt{{kind: "string", isLit: true, lit: v}}
		case token.INT:
			return []alt{{kind: "int", isLit: true, lit: x.Value}}
		case token.FLOAT:
			return []alt{{kind: "number", isLit: true, lit: x.Value}}
		case token.TRUE, token.FALSE:
			return []alt{{kind: "bool", isLit: true, lit: x.Value}}
		case token.NULL:
			return []alt{{kind: "null", isLit: true, lit: "null"}}
		}
	case *ast.ListLit:
		return []alt{{kind: "list"}}
	case *ast.StructLit:
		return []alt{{kind: "struct"}}
	case *ast.UnaryExpr:
		switch x.Op {
		case token.MUL:
			return s.alts(x.X, depth+1)
		case token.GEQ, token.GTR:
			return []alt{{kind: numKind(x.X), lo: litText(x.X, x.Op == token.GTR)}}
		case token.LEQ, token.LSS:
			return []alt{{kind: numKind(x.X), hi: litText(x.X, x.Op == token.LSS)}}
		case token.MAT:
			return []alt{{kind: "string", regex: regexText(x.X)}}
		case token.SUB:
			if bl, ok := x.X.(*ast.BasicLit); ok {
				return []alt{{kind: "int", isLit: true, lit: "-" + bl.Value}}
			}
		}
	case *ast.BinaryExpr:
		l, r := s.alts(x.X, depth+1), s.alts(x.Y, depth+1)
		if x.Op == token.OR {
			return append(l, r...)
		}
		if x.Op == token.AND {
			// Conjunction: combine pairwise (the schema keeps conjunctions simple).
			var out []alt
			for _, a := range l {
				for _, b := range r {
					out = append(out, andAlt(a, b))
				}
			}
			return out
		}
	case *ast.CallExpr:
		return []alt{{kind: "any"}}
	}
	return []alt{{kind: "any"}}
}

func numKind(e ast.Expr) string {
	if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.FLOAT {
		return "number"
	}
	return "number" // a bare bound admits any number; int & bound narrows it
}

func litText(e ast.Expr, exclusive bool) string {
	t := ""
	switch x := e.(type) {
	case *ast.BasicLit:
		t = x.Value
	case *ast.UnaryExpr:
		if bl, ok := x.X.(*ast.BasicLit); ok && x.Op == token.SUB {
			t = "-" + bl.Value
		}
	}
	if exclusive {
		t = "(" + t + ")"
	}
	return t
}

func regexText(e ast.Expr) string {
	if bl, ok := e.(*ast.BasicLit); ok {
		raw := bl.Value
		if strings.HasPrefix(raw, "#\"") {
			return strings.TrimSuffix(strings.TrimPrefix(raw, "#\""), "\"#")
		}
		if v, err := strconv.Unquote(raw); err == nil {
			return v
		}
		return raw
	}
	return "?"
}

func andAlt(a, b alt) alt {
	out := a
	switch {
	case a.kind == "any":
		out.kind = b.kind
	case b.kind == "any":
	case a.kind == "number" && b.kind == "int", a.kind == "int" && b.kind == "number":
		out.kind = "int"
	}
	if b.isLit {
		out.isLit, out.lit = true, b.lit
	}
	if b.lo != "" {
		out.lo = b.lo
	}
	if b.hi != "" {
		out.hi = b.hi
	}
	if b.regex != "" {
		out.regex = b.regex
	}
	return out
}

func kindArticle(k string) string {
	switch k {
	case "int":
		return "an integer"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "list":
		return "a list"
	case "struct":
		return "a map"
	}
	return "another value"
}

// joinOr joins items as "a, b or c".
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// message derives the canonical message (inventory.md §7) for a value that
// failed its constraint at a schema path. It returns "" for compound values
// whose kind matches (their elements carry the errors).
func (s *schemaSource) message(path []string, n *Node) string {
	expr, fld := s.lookup(path)
	want := ""
	if fld != nil {
		if w, ok := hasAttr(fld, "want"); ok {
			want = unquoteAttr(w)
		}
	}
	alts := s.alts(expr, 0)
	_, numstr := "", false
	if fld != nil {
		_, numstr = hasAttr(fld, "numstr")
	}
	var ok []alt
	for _, a := range alts {
		if a.admits(n.Kind) {
			ok = append(ok, a)
		}
	}
	if numstr && n.Kind == StringKind && !digitsRE.MatchString(n.Str) {
		w := "an integer"
		if want != "" {
			w = want
			if !strings.ContainsAny(w, "0123456789") {
				return fmt.Sprintf("%s is not allowed; want %s", n.Display(), w)
			}
		}
		hasLit := false
		for _, a := range ok {
			hasLit = hasLit || a.isLit
		}
		if hasLit && want != "" {
			return fmt.Sprintf("%s is not allowed; want %s", n.Display(), w)
		}
		return fmt.Sprintf("%s is a string; want %s", n.Display(), w)
	}
	if len(ok) == 0 {
		if want != "" {
			return fmt.Sprintf("%s is %s; want %s", n.Display(), article(n.Kind), want)
		}
		var kinds []string
		for _, a := range alts {
			k := kindArticle(a.kind)
			if !containsStr(kinds, k) {
				kinds = append(kinds, k)
			}
		}
		return fmt.Sprintf("%s is %s; want %s", n.Display(), article(n.Kind), joinOr(kinds))
	}
	if n.Kind == ListKind || n.Kind == MapKind {
		return ""
	}
	var lits []string
	allLit := true
	for _, a := range alts {
		if a.isLit {
			lits = append(lits, a.lit)
		}
	}
	for _, a := range ok {
		if !a.isLit {
			allLit = false
		}
	}
	if n.Kind == IntKind || n.Kind == FloatKind {
		for _, a := range ok {
			if a.lo != "" || a.hi != "" {
				w := want
				if w == "" {
					w = rangeText(a.lo, a.hi)
				}
				return fmt.Sprintf("%s is out of range; want %s", n.Display(), w)
			}
		}
	}
	if allLit || want != "" {
		w := want
		if w == "" {
			w = joinOr(lits)
		}
		return fmt.Sprintf("%s is not allowed; want %s", n.Display(), w)
	}
	for _, a := range ok {
		if a.regex != "" {
			return fmt.Sprintf("%s must match %s", n.Display(), a.regex)
		}
	}
	return fmt.Sprintf("%s is not allowed", n.Display())
}

func rangeText(lo, hi string) string {
	switch {
	case lo != "" && hi != "":
		return lo + ".." + hi
	case lo != "":
		return "at least " + lo
	default:
		return "at most " + hi
	}
}

func unquoteAttr(body string) string {
	body = strings.TrimSpace(body)
	if v, err := strconv.Unquote(body); err == nil {
		return v
	}
	return body
}
