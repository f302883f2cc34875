// Package cli implements the pgcc command line (spec README "pgcc command
// line"). Main is testable: it takes arguments and streams and returns the
// exit code (0 success, 1 the answer is "no", 2 bad input or usage).
package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/golden"
	"github.com/pgcc-dev/pgcc/render"
	"github.com/pgcc-dev/pgcc/schema"
)

// Exit codes shared by both programs.
const (
	ExitOK    = 0
	ExitNo    = 1
	ExitUsage = 2
)

// Version is set at link time (-ldflags -X); otherwise the module version.
var Version = ""

const usage = `pgcc - PostgreSQL HA configuration compiler

usage:
  pgcc build    [-i FILE]... [-o DIR] [--cluster NAME]... [--var KEY=VALUE]... [--facts FILE] [--check] [--strict] [--format text|json]
  pgcc validate [-i FILE]... [--var KEY=VALUE]... [--facts FILE] [--format text|json]
  pgcc explain  [-i FILE]... [--var KEY=VALUE]... [--facts FILE] CLUSTER[/INSTANCE] [PARAM]...
  pgcc diff     OLD_DIR NEW_DIR
  pgcc lint     [-i FILE]... [--var KEY=VALUE]... [--strict] [--format text|json]
  pgcc tune     --cpu N --mem SIZE --disk SIZE [--template oltp|olap|crit|tiny] [--pg-version N] [--storage SSD|HDD] [--format conf|json]
  pgcc schema   [--format cue|jsonschema]
  pgcc version
`

type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// Main runs pgcc with args (without the program name).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "build":
		return e.build(rest)
	case "validate":
		return e.validate(rest)
	case "explain":
		return e.explain(rest)
	case "diff":
		return e.diff(rest)
	case "lint":
		return e.lint(rest)
	case "tune":
		return e.tune(rest)
	case "schema":
		return e.schema(rest)
	case "version", "--version":
		fmt.Fprintf(stdout, "pgcc %s\n", version())
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "pgcc: unknown command %q\n\n%s", cmd, usage)
	return ExitUsage
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// flagSet makes a pflag set that reports errors to stderr without exiting.
func (e *env) flagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage of pgcc %s:\n%s", name, fs.FlagUsages())
	}
	return fs
}

// parse parses flags; on failure it reports the error and returns the exit
// code (0 for --help, 2 otherwise) and false.
func (e *env) parse(fs *pflag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	if err == nil {
		return 0, true
	}
	if errors.Is(err, pflag.ErrHelp) {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return ExitOK, false
	}
	fmt.Fprintf(e.stderr, "pgcc %s: %v\n", fs.Name(), err)
	fs.Usage()
	return ExitUsage, false
}

func (e *env) usageErr(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "pgcc: "+format+"\n", args...)
	return ExitUsage
}

// inputFlags are the flags shared by the commands that read an inventory.
type inputFlags struct {
	files  []string
	vars   []string
	facts  string
	format string
}

func (in *inputFlags) register(fs *pflag.FlagSet, facts bool) {
	fs.StringArrayVarP(&in.files, "inventory", "i", nil, "inventory file (YAML, or CUE when it ends in .cue); repeatable, later files win (default pigsty.yml)")
	fs.StringArrayVar(&in.vars, "var", nil, "set a global variable KEY=VALUE (VALUE is YAML); repeatable")
	if facts {
		fs.StringVar(&in.facts, "facts", "", "YAML/JSON file mapping host IP to variables (hardware facts)")
	}
}

func (in *inputFlags) options() compiler.Options {
	files := in.files
	if len(files) == 0 {
		files = []string{"pigsty.yml"}
	}
	return compiler.Options{Files: files, Vars: in.vars, Facts: in.facts}
}

func checkFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return fmt.Errorf("--format %q is not allowed; want %s", f, strings.Join(allowed, " or "))
}

// printDiags writes diagnostics (errors and warnings) to w in text or JSON.
func printDiags(w io.Writer, ds schema.Diags, format string) {
	if format == "json" {
		_ = ds.WriteJSON(w)
		return
	}
	ds.WriteText(w)
}

func (e *env) compile(in *inputFlags, opts compiler.Options) (*compiler.Result, int) {
	res := compiler.Compile(opts)
	if errs := res.Diags.Errors(); len(errs) > 0 {
		printDiags(e.stderr, errs, in.format)
		return res, ExitUsage
	}
	return res, ExitOK
}

func (e *env) validate(args []string) int {
	fs := e.flagSet("validate")
	var in inputFlags
	in.register(fs, true)
	fs.StringVar(&in.format, "format", "text", "output format: text or json")
	if code, ok := e.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageErr("validate takes no arguments (got %q)", fs.Arg(0))
	}
	if err := checkFormat(in.format, "text", "json"); err != nil {
		return e.usageErr("%v", err)
	}
	res, code := e.compile(&in, in.options())
	if code != ExitOK {
		return code
	}
	warns := res.Diags.Warnings()
	if in.format == "json" {
		printDiags(e.stdout, warns, "json")
		return ExitOK
	}
	if len(warns) > 0 {
		printDiags(e.stderr, warns, "text")
	}
	n := 0
	for _, c := range res.Fleet.Clusters {
		n += len(c.Members)
	}
	fmt.Fprintf(e.stdout, "ok: %d clusters, %d instances\n", len(res.Fleet.Clusters), n)
	return ExitOK
}

func (e *env) build(args []string) int {
	fs := e.flagSet("build")
	var in inputFlags
	in.register(fs, true)
	out := fs.StringP("output", "o", "bundle", "bundle directory")
	clusters := fs.StringArray("cluster", nil, "build only this cluster (repeatable); other clusters' files in -o are kept")
	check := fs.Bool("check", false, "build in memory and compare with -o: exit 1 and print a diff when they differ")
	strict := fs.Bool("strict", false, "treat warnings as errors (exit 1)")
	fs.StringVar(&in.format, "format", "text", "output format: text or json")
	if code, ok := e.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageErr("build takes no arguments (got %q)", fs.Arg(0))
	}
	if err := checkFormat(in.format, "text", "json"); err != nil {
		return e.usageErr("%v", err)
	}
	res, code := e.compile(&in, in.options())
	if code != ExitOK {
		return code
	}
	for _, name := range *clusters {
		if res.Fleet.Cluster(name) == nil {
			return e.usageErr("--cluster %q: no such cluster in the inventory", name)
		}
	}
	// The previous bundle (for verifier reuse): files of -o as they are on
	// disk, read on demand (renderers ask for a few files per cluster; a
	// whole fleet's bundle is tens of thousands of files).
	ropts := render.Options{
		Clusters: *clusters,
		Previous: previousReader(*out),
		Rand:     rand.Reader,
	}
	keep := keepFunc(res.Fleet, *clusters)
	if *check {
		return e.buildCheck(&in, res, ropts, *out, keep, *strict)
	}
	// Files are written as each cluster is rendered and then dropped: a
	// 1000-cluster bundle is 180 MB, and holding all of it made the build
	// peak at 730 MB (now under 500 MB). The writer fills a temporary
	// directory; nothing replaces -o before Commit. When -o cannot be
	// written (not a bundle, …) the error is reported where it was before
	// streaming, after render errors, warnings and --strict.
	w, werr := golden.NewWriter(*out, golden.WriteOptions{Keep: keep})
	warns, err := render.Stream(res.Fleet, ropts, func(files []render.File) error {
		if werr != nil {
			return nil
		}
		for _, f := range files {
			if err := w.Add(f.Path, f.Data, f.Mode); err != nil {
				return err
			}
		}
		return nil
	})
	abort := func() {
		if werr == nil {
			w.Abort()
		}
	}
	if err != nil {
		abort()
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
		return ExitUsage
	}
	allWarn := append(res.Diags.Warnings(), warns...).Sorted()
	if in.format == "text" && len(allWarn) > 0 {
		printDiags(e.stderr, allWarn, "text")
	}
	if *strict && len(allWarn) > 0 {
		abort()
		if in.format == "json" {
			printDiags(e.stdout, allWarn, "json")
		}
		fmt.Fprintln(e.stderr, "pgcc: --strict: warnings are errors; nothing written")
		return ExitNo
	}
	if werr != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", werr)
		return ExitUsage
	}
	if err := w.Commit(); err != nil {
		var cleanup *golden.CleanupError
		if errors.As(err, &cleanup) {
			fmt.Fprintf(e.stderr, "pgcc: warning: %v\n", err)
		} else {
			fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
			return ExitUsage
		}
	}
	if in.format == "json" {
		return e.printBuildJSON(*out, w.Paths(), allWarn)
	}
	fmt.Fprintf(e.stderr, "pgcc: wrote %d files for %d clusters to %s\n", w.Len()+1, countSelected(res.Fleet, *clusters), *out)
	return ExitOK
}

// buildCheck is `pgcc build --check`: render into memory and compare with
// the bundle in out.
func (e *env) buildCheck(in *inputFlags, res *compiler.Result, ropts render.Options, out string, keep func(string) bool, strict bool) int {
	files, warns, err := render.Render(res.Fleet, ropts)
	if err != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
		return ExitUsage
	}
	allWarn := append(res.Diags.Warnings(), warns...).Sorted()
	b := golden.New()
	for _, f := range files {
		if err := b.Add(f.Path, f.Data, f.Mode); err != nil {
			fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
			return ExitUsage
		}
	}
	if in.format == "text" && len(allWarn) > 0 {
		printDiags(e.stderr, allWarn, "text")
	}
	if strict && len(allWarn) > 0 {
		if in.format == "json" {
			printDiags(e.stdout, allWarn, "json")
		}
		fmt.Fprintln(e.stderr, "pgcc: --strict: warnings are errors; nothing written")
		return ExitNo
	}
	changes, err := golden.CheckKeep(out, b, keep)
	if err != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
		return ExitUsage
	}
	if in.format == "json" {
		return e.printCheckJSON(changes, allWarn)
	}
	if len(changes) == 0 {
		fmt.Fprintf(e.stderr, "pgcc: %s is up to date (%d files)\n", out, len(b.Files)+1)
		return ExitOK
	}
	if err := golden.FormatChanges(e.stdout, changes, golden.DiffOptions{Summarizers: golden.DefaultSummarizers(), RedactSecrets: true}); err != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
	}
	fmt.Fprintf(e.stderr, "pgcc: %s differs from the inventory: %d files\n", out, len(changes))
	return ExitNo
}

func countSelected(f *compiler.Fleet, sel []string) int {
	if len(sel) == 0 {
		return len(f.Clusters)
	}
	return len(sel)
}

// keepFunc returns, for --cluster builds, which files of the existing bundle
// to carry over: those of clusters not being built.
func keepFunc(f *compiler.Fleet, sel []string) func(string) bool {
	if len(sel) == 0 {
		return nil
	}
	chosen := map[string]bool{}
	for _, c := range sel {
		chosen[c] = true
	}
	return func(p string) bool {
		parts := strings.Split(p, "/")
		if parts[0] == "haproxy" && len(parts) == 3 {
			// haproxy/<group>/<cluster>-<service>.cfg: keep other clusters' services.
			for c := range chosen {
				if strings.HasPrefix(path.Base(p), c+"-") {
					if cl := f.Cluster(c); cl != nil {
						for _, s := range cl.Services {
							if path.Base(p) == c+"-"+s.Name+".cfg" {
								return false
							}
						}
					}
				}
			}
			return true
		}
		return !chosen[parts[0]]
	}
}

func (e *env) diff(args []string) int {
	fs := e.flagSet("diff")
	if code, ok := e.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		return e.usageErr("diff needs OLD_DIR and NEW_DIR")
	}
	old, err := golden.Read(fs.Arg(0))
	if err != nil {
		return e.usageErr("%v", err)
	}
	nw, err := golden.Read(fs.Arg(1))
	if err != nil {
		return e.usageErr("%v", err)
	}
	changes := golden.Compare(old, nw)
	if len(changes) == 0 {
		return ExitOK
	}
	if err := golden.FormatChanges(e.stdout, changes, golden.DiffOptions{Summarizers: golden.DefaultSummarizers()}); err != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
	}
	return ExitNo
}

func (e *env) lint(args []string) int {
	fs := e.flagSet("lint")
	var in inputFlags
	in.register(fs, false)
	strict := fs.Bool("strict", false, "exit 1 when there are warnings")
	fs.StringVar(&in.format, "format", "text", "output format: text or json")
	if code, ok := e.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return e.usageErr("lint takes no arguments (got %q)", fs.Arg(0))
	}
	if err := checkFormat(in.format, "text", "json"); err != nil {
		return e.usageErr("%v", err)
	}
	opts := in.options()
	opts.SkipFactErrors = true
	res, code := e.compile(&in, opts)
	if code != ExitOK {
		return code
	}
	if len(res.Fleet.NoFacts) > 0 {
		fmt.Fprintf(e.stderr, "pgcc: lint: no hardware facts for %s; fact-dependent lints skipped for them\n", strings.Join(res.Fleet.NoFacts, ", "))
	}
	warns := append(append(res.Diags.Warnings(), compiler.Lint(res.Fleet)...), render.Lint(res.Fleet)...).Sorted()
	if in.format == "json" {
		printDiags(e.stdout, warns, "json")
	} else {
		printDiags(e.stdout, warns, "text")
	}
	if *strict && len(warns) > 0 {
		return ExitNo
	}
	return ExitOK
}

func (e *env) schema(args []string) int {
	fs := e.flagSet("schema")
	format := fs.String("format", "cue", "cue or jsonschema")
	if code, ok := e.parse(fs, args); !ok {
		return code
	}
	if err := checkFormat(*format, "cue", "jsonschema"); err != nil {
		return e.usageErr("%v", err)
	}
	var data []byte
	var err error
	if *format == "cue" {
		data, err = schema.CUESource()
	} else {
		data, err = schema.JSONSchema()
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
		return ExitUsage
	}
	e.stdout.Write(data)
	return ExitOK
}

// readFileOrNil is used by tests.
var readFile = os.ReadFile

// previousReader returns the Previous hook of render.Options for bundle
// directory dir: a file's bytes, or nil when it is absent or unreadable.
// Only regular files strictly inside dir are read.
func previousReader(dir string) func(string) []byte {
	return func(p string) []byte {
		if golden.ValidatePath(p) != nil {
			return nil
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		fi, err := os.Lstat(full)
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return nil
		}
		return data
	}
}
