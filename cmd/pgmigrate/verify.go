package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/migrate/verify"
)

func cmdVerify(e *env, args []string) error {
	var c common
	fs := newFlags("verify", e, &c)
	reportOnly := fs.Bool("report", false, "print the last verify.json instead of verifying")
	tables := fs.StringArray("tables", nil, "verify only tables matching GLOB (schema.table), repeatable")
	format := fs.String("format", "text", "text or json")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return &usageError{msg: fmt.Sprintf("--format %q: want text or json", *format)}
	}
	for _, g := range *tables {
		// A malformed glob matches nothing: verify would compare no table
		// and pass.
		if _, err := path.Match(g, ""); err != nil {
			return &usageError{msg: fmt.Sprintf("--tables %q: %v", g, err)}
		}
	}
	cfg, err := c.load(e, !*reportOnly)
	if err != nil {
		return err
	}
	dir := cfg.Dir()
	report := filepath.Join(dir, "verify.json")
	if *reportOnly {
		c.setupLog(e, "")
		data, err := os.ReadFile(report)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%w: no verify.json yet in %s; run pgmigrate verify", config.ErrUsage, dir)
			}
			return err
		}
		var rep verify.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			return fmt.Errorf("read verify.json: %w", err)
		}
		return printVerify(e, &rep, *format)
	}
	lock, err := lockDir(dir, "verify")
	if err != nil {
		return err
	}
	defer lock.Release()
	c.setupLog(e, dir)
	recs, err := journal.Read(dir)
	if err != nil {
		return err
	}
	st := journal.Reduce(recs)
	if st.Done("cutover") && !cfg.Rollback.Enabled {
		return fmt.Errorf("%w: after cutover without reverse replication live verification cannot converge; see the pinned report: pgmigrate verify --report", config.ErrUsage)
	}
	ctx, cancel := signalContext()
	defer cancel()
	o := e.opener(cfg)
	src, dst, err := openSides(ctx, cfg, o, "verify-lock")
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()
	v := &verify.Verifier{Cfg: cfg, Opener: o, State: st, Log: e.log, Opts: verify.Options{Tables: *tables}}
	// Test hook: a short wait for the replica before a recheck.
	if d, err := time.ParseDuration(e.getenv("PGMIGRATE_CATCHUP_TIMEOUT")); err == nil {
		v.Opts.CatchupTimeout = d
	}
	rep, err := v.Run(ctx)
	if err != nil {
		return fmt.Errorf("%w%s", errAnswerNo, err.Error())
	}
	if err := plan.WriteFileAtomic(report, rep.JSON(), 0o600); err != nil {
		return err
	}
	return printVerify(e, rep, *format)
}

func printVerify(e *env, rep *verify.Report, format string) error {
	if format == "json" {
		e.stdout.Write(rep.JSON())
	} else {
		rep.WriteText(e.stdout)
	}
	if rep.Failed() {
		return errAnswerNo
	}
	return nil
}
