package schema

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
)

//go:embed cue/*.cue cue/pigsty_vars.txt
var cueFS embed.FS

// schemaSource is the parsed schema: used to build evaluators (one per worker,
// because cue.Context is not safe for concurrent use) and, syntactically, to
// derive the canonical messages of inventory.md §7 from the constraints.
type schemaSource struct {
	files    []*ast.File
	names    []string // file names, for `pgcc schema`
	texts    [][]byte
	decls    map[string]ast.Expr // top-level fields and definitions by label
	varExprs map[string]*ast.Field
	varNames []string // sorted names of #Vars fields
	registry map[string]bool
	known    []string // registry ∪ #Vars, sorted, for did-you-mean
}

var (
	srcOnce sync.Once
	src     *schemaSource
	srcErr  error
)

func loadSource() (*schemaSource, error) {
	srcOnce.Do(func() {
		s := &schemaSource{decls: map[string]ast.Expr{}, varExprs: map[string]*ast.Field{}, registry: map[string]bool{}}
		entries, err := fs.Glob(cueFS, "cue/*.cue")
		if err != nil {
			srcErr = err
			return
		}
		sort.Strings(entries)
		for _, name := range entries {
			data, err := cueFS.ReadFile(name)
			if err != nil {
				srcErr = err
				return
			}
			f, err := parser.ParseFile(name, data, parser.ParseComments)
			if err != nil {
				srcErr = fmt.Errorf("embedded schema %s: %w", name, err)
				return
			}
			s.files = append(s.files, f)
			s.names = append(s.names, name)
			s.texts = append(s.texts, data)
			for _, d := range f.Decls {
				if fld, ok := d.(*ast.Field); ok {
					if lbl, _, err := ast.LabelName(fld.Label); err == nil {
						s.decls[lbl] = fld.Value
					}
				}
			}
		}
		vars, ok := s.decls["#Vars"].(*ast.StructLit)
		if !ok {
			srcErr = fmt.Errorf("embedded schema: #Vars is not a struct")
			return
		}
		for _, el := range vars.Elts {
			if fld, ok := el.(*ast.Field); ok {
				if lbl, _, err := ast.LabelName(fld.Label); err == nil {
					s.varExprs[lbl] = fld
					s.varNames = append(s.varNames, lbl)
				}
			}
		}
		sort.Strings(s.varNames)
		reg, err := cueFS.ReadFile("cue/pigsty_vars.txt")
		if err != nil {
			srcErr = err
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(reg))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			s.registry[line] = true
		}
		seen := map[string]bool{}
		for n := range s.registry {
			seen[n] = true
		}
		for _, n := range s.varNames {
			seen[n] = true
		}
		for n := range seen {
			s.known = append(s.known, n)
		}
		sort.Strings(s.known)
		src = s
	})
	return src, srcErr
}

// evaluator holds one compiled copy of the schema in its own cue.Context.
type evaluator struct {
	ctx    *cue.Context
	root   cue.Value
	vars   cue.Value
	fields map[string]cue.Value
	uses   int
}

// field returns the constraint of one #Vars field.
func (e *evaluator) field(name string) cue.Value {
	if v, ok := e.fields[name]; ok {
		return v
	}
	v := e.vars.LookupPath(cue.MakePath(cue.Str(name).Optional()))
	e.fields[name] = v
	return v
}

var evalPool = sync.Pool{}

func newEvaluator() (*evaluator, error) {
	s, err := loadSource()
	if err != nil {
		return nil, err
	}
	ctx := cuecontext.New()
	// The files form one CUE package: build them as one instance so that
	// definitions may refer to each other across files.
	// Each evaluator parses its own AST: building an instance resolves
	// identifiers by writing into the AST, so a shared one would race
	// (s.files is only read, by the message derivation).
	inst := build.NewContext().NewInstance("pgcc", nil)
	for i, name := range s.names {
		f, err := parser.ParseFile(name, s.texts[i], parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", name, err)
		}
		if err := inst.AddSyntax(f); err != nil {
			return nil, fmt.Errorf("embedded schema: %w", err)
		}
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	return &evaluator{ctx: ctx, root: root, vars: root.LookupPath(cue.ParsePath("#Vars")), fields: map[string]cue.Value{}}, nil
}

func getEvaluator() (*evaluator, error) {
	if e, ok := evalPool.Get().(*evaluator); ok {
		return e, nil
	}
	return newEvaluator()
}

func putEvaluator(e *evaluator) { evalPool.Put(e) }

// Workers is the size of the validation worker pool (GOMAXPROCS by default;
// tests set 1 to prove the result does not depend on it).
var Workers = runtime.GOMAXPROCS(0)

// KnownVariable reports whether name is a variable pgcc constrains (#Vars) or
// accepts as a Pigsty v4.5 PGSQL variable (the registry).
func KnownVariable(name string) bool {
	s, err := loadSource()
	if err != nil {
		return false
	}
	_, ok := s.varExprs[name]
	return ok || s.registry[name]
}

// checkedPrefixes are the prefixes whose unknown names are errors (§4.7).
var checkedPrefixes = []string{"pg_", "pgb_", "pgbouncer_", "pgbackrest_", "patroni_"}

func isCheckedName(name string) bool {
	for _, p := range checkedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// cueErrors flattens a CUE error into (path, message-format) pairs.
type cueErr struct {
	path   []string
	format string
}

func flattenCUE(err error) []cueErr {
	var out []cueErr
	for _, e := range cueerrors.Errors(err) {
		f, _ := e.Msg()
		out = append(out, cueErr{path: e.Path(), format: f})
	}
	return out
}
