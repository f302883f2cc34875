package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/status"
)

func cmdStatus(e *env, args []string) error {
	var c common
	fs := newFlags("status", e, &c)
	watch := fs.Bool("watch", false, "refresh until interrupted")
	interval := fs.Duration("interval", 2*time.Second, "refresh interval with --watch")
	format := fs.String("format", "", "text or json (default: text with progress bars on a terminal, JSON otherwise)")
	metrics := fs.String("metrics-listen", "", "serve Prometheus metrics on ADDR (/metrics) while watching")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	switch *format {
	case "", "text", "json":
	default:
		return &usageError{msg: fmt.Sprintf("--format %q: want text or json", *format)}
	}
	if *interval <= 0 {
		return &usageError{msg: "--interval must be positive"}
	}
	cfg, err := c.load(e, true)
	if err != nil {
		return err
	}
	c.setupLog(e, "")
	tty := isTerminal(e.stdout)
	if *format == "" {
		*format = map[bool]string{true: "text", false: "json"}[tty]
	}
	o := e.opener(cfg)
	o.Monitor = true
	w := &status.Watcher{Cfg: cfg, Opener: o, Dir: cfg.Dir()}
	defer w.Close()
	ctx, cancel := signalContext()
	defer cancel()
	listen := *metrics
	if listen == "" {
		listen = cfg.MetricsListen
	}
	var mu sync.Mutex
	var last *status.Status
	if listen != "" && *watch {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return &usageError{msg: "--metrics-listen: " + err.Error()}
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			mu.Lock()
			s := last
			mu.Unlock()
			rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
			if s != nil {
				rw.Write(s.Metrics())
			}
			recs, err := journal.Read(cfg.Dir())
			if err != nil {
				// No step metrics rather than all-empty ones that look like "not started".
				fmt.Fprintf(rw, "# cannot read the journal: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
				return
			}
			st := journal.Reduce(recs)
			steps := map[string]string{}
			for k, v := range st.Steps {
				steps[k] = v.Status
			}
			fmt.Fprint(rw, status.StepMetrics(steps))
		})}
		go srv.Serve(ln)
		defer srv.Close()
	}
	for {
		s := w.Sample(ctx)
		mu.Lock()
		last = s
		mu.Unlock()
		if *format == "json" {
			e.stdout.Write(s.JSON())
		} else {
			if *watch && tty {
				fmt.Fprint(e.stdout, "\x1b[H\x1b[2J")
			}
			s.WriteText(e.stdout, tty)
		}
		if !*watch {
			if !s.Healthy() {
				return errAnswerNo
			}
			return nil
		}
		select {
		case <-ctx.Done():
			if !s.Healthy() {
				return errAnswerNo
			}
			return nil
		case <-time.After(*interval):
		}
	}
}
