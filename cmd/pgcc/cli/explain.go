package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/golden"
	"github.com/pgcc-dev/pgcc/schema"
)

func (e *env) explain(args []string) int {
	fs := e.flagSet("explain")
	var in inputFlags
	in.register(fs, true)
	hba := fs.Bool("hba", false, "list the effective pg_hba.conf rules of the instance in order, with where each came from")
	pgbHBA := fs.Bool("pgb-hba", false, "the same for pgbouncer's pgb_hba.conf")
	if code, ok := e.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() < 1 {
		return e.usageErr("explain needs CLUSTER[/INSTANCE]")
	}
	if (*hba || *pgbHBA) && fs.NArg() > 1 {
		return e.usageErr("explain --hba/--pgb-hba takes no PARAM (got %q)", fs.Arg(1))
	}
	target, params := fs.Arg(0), fs.Args()[1:]
	res, code := e.compile(&in, in.options())
	if code != ExitOK {
		return code
	}
	clName, instName, _ := strings.Cut(target, "/")
	cl := res.Fleet.Cluster(clName)
	if cl == nil {
		return e.usageErr("no cluster %q in the inventory", clName)
	}
	inst := cl.Vars()
	if instName != "" {
		if inst = cl.Instance(instName); inst == nil {
			return e.usageErr("no instance %q in cluster %s", instName, clName)
		}
	}
	if *hba || *pgbHBA {
		return e.explainHBA(res.Fleet, cl, inst, *hba, *pgbHBA)
	}
	lines, unknown := explainLines(inst, params)
	for _, l := range lines {
		fmt.Fprintln(e.stdout, l)
	}
	if len(unknown) > 0 {
		return e.usageErr("unknown parameter or variable %s", strings.Join(unknown, ", "))
	}
	return ExitOK
}

// explainLines prints each requested value with its origin: a tuning
// formula, or the inventory layer and file:line that set it.
func explainLines(inst *compiler.Instance, params []string) ([]string, []string) {
	var lines, unknown []string
	tuned := tunedParams(inst)
	if len(params) == 0 {
		if tuned != nil {
			for _, p := range tuned.order {
				lines = append(lines, tuned.lines[p])
			}
			return lines, nil
		}
		params = compiler.SortedKeys(inst.Vars)
	}
	for _, p := range params {
		if tuned != nil {
			if l, ok := tuned.lines[p]; ok {
				lines = append(lines, l)
				continue
			}
		}
		v, ok := inst.Get(p)
		if !ok {
			unknown = append(unknown, p)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s = %s: %s", p, explainValue(p, v.V), v.Prov))
	}
	return lines, unknown
}

func explainValue(name string, v any) string {
	if strings.Contains(name, "password") {
		return "(secret)"
	}
	switch x := v.(type) {
	case string:
		return x
	case []any, map[string]any:
		b, _ := json.Marshal(redactAny(x))
		s := string(b)
		if len(s) > 120 {
			s = s[:117] + "..."
		}
		return s
	}
	return compiler.AsString(v)
}

func redactAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if strings.Contains(strings.ToLower(k), "pass") || strings.Contains(strings.ToLower(k), "secret") {
				out[k] = "(secret)"
			} else {
				out[k] = redactAny(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactAny(e)
		}
		return out
	}
	return v
}

type jsonBuild struct {
	Output   string       `json:"output,omitempty"`
	Files    []string     `json:"files"`
	Changes  []jsonChange `json:"changes,omitempty"`
	Warnings []jsonDiag   `json:"warnings"`
}

type jsonChange struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

type jsonDiag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Path     string `json:"path"`
	Message  string `json:"message"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
}

func toJSONDiags(ds schema.Diags) []jsonDiag {
	out := []jsonDiag{}
	for _, d := range ds {
		sev := string(d.Severity)
		if sev == "" {
			sev = "error"
		}
		out = append(out, jsonDiag{d.Pos.File, d.Pos.Line, d.Pos.Col, d.Path, d.Message, d.Code, sev})
	}
	return out
}

func (e *env) printBuildJSON(out string, paths []string, warns schema.Diags) int {
	r := jsonBuild{Output: out, Files: append(paths, "manifest.json"), Warnings: toJSONDiags(warns)}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
	return ExitOK
}

func (e *env) printCheckJSON(changes []golden.Change, warns schema.Diags) int {
	r := jsonBuild{Files: []string{}, Changes: []jsonChange{}, Warnings: toJSONDiags(warns)}
	for _, c := range changes {
		r.Files = append(r.Files, c.Path)
		r.Changes = append(r.Changes, jsonChange{c.Path, string(c.Kind)})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
	if len(changes) > 0 {
		return ExitNo
	}
	return ExitOK
}
