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
	"sync/atomic"

	"github.com/pgcc-dev/pgcc/compiler"
)

// scratchPool holds buffers renderers build text in before copying the
// result out (or when the text is an intermediate): growing a fresh buffer
// per file allocates about twice the file. Put back with length 0.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 64*1024); return &b }}

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
	verifiers map[string]string           // password → verifier made or reused in this build
	pending   map[string]*pendingVerifier // password → verifier being made
	checked   map[string]bool             // verifier\x00password → does it validate
	saltKey   []byte                      // read once from Opts.Rand; keys new salts
	prev      map[string]*prevLines       // cluster → verifier lines of the previous bundle
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
	var (
		mu    sync.Mutex
		files []File
	)
	warnings, err := Stream(f, opts, func(fs []File) error {
		mu.Lock()
		files = append(files, fs...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, warnings, nil
}

// Stream renders like Render but hands the files to emit as they are made
// instead of returning them: each cluster's files as soon as that cluster is
// rendered (emit is called concurrently from the render workers, in no fixed
// order), then the fleet-wide files. `pgcc build` writes them out and drops
// them, so a large fleet's bundle is never in memory at once (1000 clusters:
// 180 MB of files). An error of emit stops the render and is returned; so is
// the first render error in cluster order. Warnings are sorted.
func Stream(f *compiler.Fleet, opts Options, emit func([]File) error) (compiler.Diags, error) {
	ctx := &Context{Fleet: f, Opts: opts}
	if ctx.Opts.Previous == nil {
		ctx.Opts.Previous = func(string) []byte { return nil }
	}
	if opts.Rand != nil {
		ctx.saltKey = make([]byte, 32)
		if _, err := io.ReadFull(opts.Rand, ctx.saltKey); err != nil {
			return nil, fmt.Errorf("random source: %w", err)
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
	// Two renderers must never write the same path; this catches it
	// whatever emit does with the files.
	var (
		pmu   sync.Mutex
		paths = map[string]bool{}
	)
	checkedEmit := func(fs []File) error {
		pmu.Lock()
		for _, fl := range fs {
			if paths[fl.Path] {
				pmu.Unlock()
				return fmt.Errorf("two renderers wrote %s", fl.Path)
			}
			paths[fl.Path] = true
		}
		pmu.Unlock()
		return emit(fs)
	}
	// Clusters are independent: render them on GOMAXPROCS workers. The
	// output does not depend on timing: every file's bytes depend only on
	// the model (and the verifiers, which depend on the password alone).
	errs := make([]error, len(clusters))
	var (
		wg       sync.WaitGroup
		firstBad atomic.Int64 // lowest index of a cluster that failed
	)
	firstBad.Store(int64(len(clusters)))
	next := make(chan int)
	for w := 0; w < max(1, min(runtime.GOMAXPROCS(0), len(clusters))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if int64(i) > firstBad.Load() {
					// A cluster before this one failed: its error is the
					// one returned, whatever happens here.
					continue
				}
				cl := clusters[i]
				var per []File
				for _, r := range clusterRenderers {
					fs, err := r.Render(ctx, cl)
					if err != nil {
						errs[i] = fmt.Errorf("render %s for cluster %s: %w", r.Name, cl.Name, err)
						break
					}
					per = append(per, fs...)
				}
				if errs[i] == nil {
					errs[i] = checkedEmit(per)
				}
				for bad := firstBad.Load(); errs[i] != nil && int64(i) < bad; bad = firstBad.Load() {
					if firstBad.CompareAndSwap(bad, int64(i)) {
						break
					}
				}
			}
		}()
	}
	for i := range clusters {
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range clusters {
		if errs[i] != nil {
			return nil, errs[i]
		}
	}
	for _, r := range fleetRenderers {
		fs, err := r.Render(ctx, clusters)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", r.Name, err)
		}
		if err := checkedEmit(fs); err != nil {
			return nil, err
		}
	}
	ctx.wmu.Lock()
	warnings := ctx.Warnings.Sorted()
	ctx.wmu.Unlock()
	return warnings, nil
}
