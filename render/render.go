// Package render turns the resolved model into bundle files. It sees only the
// model (package compiler) and does no I/O: the caller passes in whatever it
// needs from outside (previous verifiers, a random source) and writes the
// files with package golden.
package render

import (
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sort"
	"sync"

	"github.com/pgcc-dev/pgcc/compiler"
)

// File is one rendered bundle file.
type File struct {
	Path string // slash-separated, relative to the bundle root
	Data []byte
	Mode fs.FileMode
}

// Modes used by the bundle (README "Bundle layout").
const (
	ModePublic fs.FileMode = 0o644
	ModeSecret fs.FileMode = 0o600 // files holding credentials
)

// Options for a render.
type Options struct {
	// Clusters limits rendering to these clusters (all when empty).
	Clusters []string
	// Previous returns the bytes of a file of the previous bundle (the -o
	// directory or the --check target), or nil. Renderers use it to reuse
	// SCRAM verifiers that still validate, so rebuilds change no byte.
	Previous func(path string) []byte
	// Rand is the source of random salts for new SCRAM verifiers.
	Rand io.Reader
}

// Context is what a renderer gets besides the model.
type Context struct {
	Fleet *compiler.Fleet
	Opts  Options
	// Warnings collects non-fatal findings of renderers; renderers run
	// concurrently (one cluster each), so add them with Warn.
	Warnings compiler.Diags
	wmu      sync.Mutex

	vmu       sync.Mutex
	verifiers map[string]string // password → verifier made or reused in this build
	checked   map[string]bool   // verifier\x00password → does it validate
	saltKey   []byte            // read once from Opts.Rand; keys new salts
}

// Warn records a renderer warning (safe for concurrent renderers).
func (ctx *Context) Warn(d compiler.Diag) {
	ctx.wmu.Lock()
	ctx.Warnings = append(ctx.Warnings, d)
	ctx.wmu.Unlock()
}

// ClusterRenderer renders the files of one cluster.
type ClusterRenderer struct {
	Name   string
	Render func(ctx *Context, cl *compiler.Cluster) ([]File, error)
}

// clusterRenderers is the list of renderers. Each renderer file registers
// itself from init (Go runs them in file-name order, so the order is fixed;
// it does not matter anyway: Render sorts the files by path).
var clusterRenderers = []ClusterRenderer{
	{Name: "model", Render: renderModel},
}

// RegisterCluster adds a cluster renderer (call from init).
func RegisterCluster(r ClusterRenderer) { clusterRenderers = append(clusterRenderers, r) }

// RegisterFleet adds a fleet renderer (call from init).
func RegisterFleet(r FleetRenderer) { fleetRenderers = append(fleetRenderers, r) }

// Linter is a lint pass that needs renderer logic (e.g. HBA lines after
// alias expansion). compiler.Lint covers lints on the model alone.
type Linter struct {
	Name string
	Run  func(f *compiler.Fleet) compiler.Diags
}

var linters []Linter

// RegisterLinter adds a render-level lint pass (call from init).
func RegisterLinter(l Linter) { linters = append(linters, l) }

// Lint runs every render-level lint pass.
func Lint(f *compiler.Fleet) compiler.Diags {
	var out compiler.Diags
	for _, l := range linters {
		out = append(out, l.Run(f)...)
	}
	return out.Sorted()
}

// FleetRenderer renders files that do not belong to one cluster
// (haproxy/<group>/ for delegated services).
type FleetRenderer struct {
	Name   string
	Render func(ctx *Context, clusters []*compiler.Cluster) ([]File, error)
}

var fleetRenderers = []FleetRenderer{}

// Render renders the bundle files of the selected clusters, sorted by path.
func Render(f *compiler.Fleet, opts Options) ([]File, compiler.Diags, error) {
	ctx := &Context{Fleet: f, Opts: opts}
	if ctx.Opts.Previous == nil {
		ctx.Opts.Previous = func(string) []byte { return nil }
	}
	if opts.Rand != nil {
		ctx.saltKey = make([]byte, 32)
		if _, err := io.ReadFull(opts.Rand, ctx.saltKey); err != nil {
			return nil, nil, fmt.Errorf("random source: %w", err)
		}
	}
	selected := map[string]bool{}
	for _, c := range opts.Clusters {
		selected[c] = true
	}
	var clusters []*compiler.Cluster
	for _, cl := range f.Clusters {
		if len(selected) == 0 || selected[cl.Name] {
			clusters = append(clusters, cl)
		}
	}
	// Clusters are independent: render them on GOMAXPROCS workers, then
	// concatenate in cluster order (the output does not depend on timing).
	per := make([][]File, len(clusters))
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(1, min(runtime.GOMAXPROCS(0), len(clusters))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cl := clusters[i]
				for _, r := range clusterRenderers {
					fs, err := r.Render(ctx, cl)
					if err != nil {
						errs[i] = fmt.Errorf("render %s for cluster %s: %w", r.Name, cl.Name, err)
						break
					}
					per[i] = append(per[i], fs...)
				}
			}
		}()
	}
	for i := range clusters {
		next <- i
	}
	close(next)
	wg.Wait()
	var files []File
	for i := range clusters {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		files = append(files, per[i]...)
	}
	for _, r := range fleetRenderers {
		fs, err := r.Render(ctx, clusters)
		if err != nil {
			return nil, nil, fmt.Errorf("render %s: %w", r.Name, err)
		}
		files = append(files, fs...)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	ctx.wmu.Lock()
	warnings := ctx.Warnings.Sorted()
	ctx.wmu.Unlock()
	for i := 1; i < len(files); i++ {
		if files[i].Path == files[i-1].Path {
			return nil, nil, fmt.Errorf("two renderers wrote %s", files[i].Path)
		}
	}
	return files, warnings, nil
}
