package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/render"
	"github.com/pgcc-dev/pgcc/tuning"
)

// tuneFlags maps tuning input fields to the flags of `pgcc tune`.
var tuneFlags = map[string]string{
	"node_cpu": "--cpu", "node_mem_mb": "--mem", "node_disk_gb": "--disk",
	"pg_conf": "--template", "pg_version": "--pg-version", "pg_storage_type": "--storage",
}

// tune is the standalone calculator (tuning.md §1): the parameters of one
// template for the given hardware, no inventory.
func (e *env) tune(args []string) int {
	fs := e.flagSet("tune")
	cpu := fs.Int("cpu", 0, "CPU cores (node_cpu), 1..1024")
	mem := fs.String("mem", "", "memory, <number>[M|MB|MiB|G|GB|GiB|T|TB|TiB] (binary units; a bare number is MiB)")
	disk := fs.String("disk", "", "disk of the data filesystem, a size like --mem (a bare number is GiB)")
	tmpl := fs.String("template", tuning.OLTP, "oltp, olap, crit or tiny")
	version := fs.Int("pg-version", 18, "PostgreSQL major version, 13..19")
	storage := fs.String("storage", "SSD", "SSD or HDD")
	format := fs.String("format", "conf", "output format: conf or json")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return e.usageErr("tune takes no arguments (got %q)", fs.Arg(0))
	}
	var missing []string
	for _, f := range []string{"cpu", "mem", "disk"} {
		if !fs.Changed(f) {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return e.usageErr("tune needs %s", strings.Join(missing, ", "))
	}
	if err := checkFormat(*format, "conf", "json"); err != nil {
		return e.usageErr("%v", err)
	}
	// Report every bad flag at once: a size that does not parse is replaced
	// by a valid placeholder so Compute still checks the other flags.
	var errs []error
	memMB, err := tuning.ParseMemMB(*mem)
	if err != nil {
		errs, memMB = append(errs, err), 256
	}
	diskGB, err := tuning.ParseDiskGB(*disk)
	if err != nil {
		errs, diskGB = append(errs, err), 1
	}
	in := tuning.NewInput(*cpu, memMB, diskGB)
	in.Template = *tmpl
	in.PGVersion = *version
	in.Storage = *storage
	if u := strings.ToUpper(*storage); u == "SSD" || u == "HDD" {
		in.Storage = u
	}
	res, err := tuning.Compute(in)
	if err != nil || len(errs) > 0 {
		return e.tuneErr(errors.Join(append(errs, err)...))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "pgcc: warning: %s [%s]\n", w.Message, w.Code)
	}
	if *format == "json" {
		e.stdout.Write(tuning.FormatJSON(res))
		return ExitOK
	}
	out, err := tuning.FormatConf(res, render.ConfValue)
	if err != nil {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
		return ExitUsage
	}
	e.stdout.Write(out)
	return ExitOK
}

// tuneErr prints every input error with the flag it came from; exit 2.
func (e *env) tuneErr(err error) int {
	ies := tuning.Errors(err)
	if len(ies) == 0 {
		fmt.Fprintf(e.stderr, "pgcc: %v\n", err)
		return ExitUsage
	}
	for _, ie := range ies {
		name := tuneFlags[ie.Field]
		if name == "" {
			name = ie.Field
		}
		fmt.Fprintf(e.stderr, "pgcc: %s: %s\n", name, ie.Msg)
	}
	return ExitUsage
}
