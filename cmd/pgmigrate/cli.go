package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
)

// Exit codes (README): 0 success, 1 the answer is no, 2 bad input or usage.
const (
	exitOK    = 0
	exitNo    = 1
	exitUsage = 2
)

const usage = `usage: pgmigrate <command> [flags]

commands:
  plan      write plan.json, a runbook and one SQL file per step (no connection)
  doctor    check both sides (exit 1 on blockers)
  run       execute the steps up to --until (default streaming)
  status    show per-table state, lag, rates and ETA
  cutover   fence the source, catch up, switch traffic (measured write pause)
  verify    compare row counts and checksums on both sides
  rollback  switch traffic back to the source (rollback.enabled)
  cleanup   drop the subscription, publication and slots
  kit       write Pigsty-style bash scripts for the manual path
  version   print the version

Every command takes -f FILE (default migration.yml), --var KEY=VALUE,
--log-level and --log-format text|json. "pgmigrate <command> -h" lists its flags.
`

// env bundles the process's I/O for one invocation.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	closeLog       func()
}

// usageError is a bad flag or argument (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Main is pgmigrate's entry point: args without the program name.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var fn func(*env, []string) error
	switch cmd {
	case "plan":
		fn = cmdPlan
	case "doctor":
		fn = cmdDoctor
	case "run":
		fn = cmdRun
	case "status":
		fn = cmdStatus
	case "verify":
		fn = cmdVerify
	case "cleanup":
		fn = cmdCleanup
	case "kit":
		fn = cmdKit
	case "cutover":
		fn = cmdCutover
	case "rollback":
		fn = cmdRollback
	case "version", "--version":
		fmt.Fprintf(stdout, "pgmigrate %s\n", plan.Version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "pgmigrate: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	err := fn(e, rest)
	if e.closeLog != nil {
		e.closeLog()
	}
	return report(e, err)
}

// answerNo is an error that means exit 1 with a message already printed.
var errAnswerNo = errors.New("")

func report(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var cerrs config.Errors
	var uerr *usageError
	switch {
	case errors.As(err, &cerrs):
		fmt.Fprintln(e.stderr, cerrs.Error())
		return exitUsage
	case errors.As(err, &uerr):
		fmt.Fprintln(e.stderr, "pgmigrate: "+uerr.msg)
		return exitUsage
	case errors.Is(err, config.ErrUsage):
		fmt.Fprintln(e.stderr, "pgmigrate: "+config.Redact(err.Error()))
		return exitUsage
	case errors.Is(err, errAnswerNo):
		if msg := strings.TrimSpace(err.Error()); msg != "" {
			fmt.Fprintln(e.stderr, "pgmigrate: "+config.Redact(msg))
		}
		return exitNo
	}
	fmt.Fprintln(e.stderr, "pgmigrate: "+config.Redact(err.Error()))
	return exitNo
}

// common are the flags every command shares.
type common struct {
	file      string
	vars      []string
	logLevel  string
	logFormat string
}

func newFlags(name string, e *env, c *common) *pflag.FlagSet {
	fs := pflag.NewFlagSet("pgmigrate "+name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVarP(&c.file, "file", "f", "migration.yml", "migration file")
	fs.StringArrayVar(&c.vars, "var", nil, "override a key: KEY=VALUE (VALUE is YAML; dotted keys allowed)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json (stderr; log/pgmigrate.log is always JSON)")
	return fs
}

func parse(fs *pflag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > maxArgs {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(maxArgs))}
	}
	return nil
}

func (c *common) load(e *env, resolve bool) (*config.Config, error) {
	switch c.logFormat {
	case "text", "json":
	default:
		return nil, &usageError{msg: fmt.Sprintf("--log-format %q: want text or json", c.logFormat)}
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		return nil, err
	}
	return config.Load(c.file, config.LoadOptions{Vars: c.vars, ResolveSecrets: resolve, Getenv: e.getenv})
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, &usageError{msg: fmt.Sprintf("--log-level %q: want debug, info, warn or error", s)}
}

// setupLog logs to stderr (per --log-format) and, when dir is set, JSON
// lines to log/pgmigrate.log at debug.
func (c *common) setupLog(e *env, dir string) {
	lvl, _ := parseLevel(c.logLevel)
	var h slog.Handler
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: lvl})
	} else {
		h = slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl})
	}
	handlers := []slog.Handler{h}
	if dir != "" {
		f, err := os.OpenFile(filepath.Join(dir, "log", "pgmigrate.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			handlers = append(handlers, slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e.closeLog = func() { f.Close() }
		}
	}
	e.log = slog.New(fanout(handlers))
}

type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
	return nil
}

func (f fanout) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(a)
	}
	return out
}

func (f fanout) WithGroup(n string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(n)
	}
	return out
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func (e *env) opener(cfg *config.Config) *db.Opener {
	return &db.Opener{Cfg: cfg, Env: config.Env{Getenv: e.getenv}, Log: e.log}
}

// lockDir creates the migration directory and takes its flock; a busy lock
// is exit 1 naming the holder.
func lockDir(dir, command string) (*journal.Lock, error) {
	if err := journal.EnsureDir(dir); err != nil {
		return nil, err
	}
	l, err := journal.Acquire(dir, command)
	if err != nil {
		var le *journal.LockedError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%w%s", errAnswerNo, le.Error())
		}
		return nil, err
	}
	return l, nil
}

// sideLocks takes pg_try_advisory_lock on both sides for the lifetime of
// the command (migrate.md §7).
func sideLocks(ctx context.Context, cfg *config.Config, conns ...*db.Conn) error {
	for _, c := range conns {
		ok, err := c.TryAdvisoryLock(ctx, cfg.Names.ID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%wmigration %s is locked on the %s by %s", errAnswerNo, cfg.Names.ID, c.Side, c.AdvisoryLockHolder(ctx, cfg.Names.ID))
		}
	}
	return nil
}

// openSides opens both sides for purpose and takes their advisory locks
// (migrate.md §7). An unreachable side is exit 1. On error nothing is left
// open.
func openSides(ctx context.Context, cfg *config.Config, o *db.Opener, purpose string) (src, dst *db.Conn, err error) {
	src, err = o.Open(ctx, db.Source, purpose)
	if err != nil {
		return nil, nil, fmt.Errorf("%w%s", errAnswerNo, err.Error())
	}
	dst, err = o.Open(ctx, db.Destination, purpose)
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("%w%s", errAnswerNo, err.Error())
	}
	if err := sideLocks(ctx, cfg, src, dst); err != nil {
		src.Close()
		dst.Close()
		return nil, nil, err
	}
	return src, dst, nil
}
