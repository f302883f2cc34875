package run

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/migrate/tools"
)

var tocFilter = regexp.MustCompile(plan.TOCFilterRegex)

func (e *Exec) tool(ctx context.Context, step, side, name string, args ...string) ([]byte, error) {
	_, env := e.Opener.ToolEnv(side, step, os.Environ())
	start := time.Now()
	out, err := tools.Run(ctx, env, name, args...)
	redacted := e.Src.Redact(name + " " + strings.Join(args, " "))
	_, _ = e.Journal.Append(step, journal.EventExec, side, journal.ExecInfo{SQL: redacted, Millis: time.Since(start).Milliseconds()})
	if err != nil {
		return out, fmt.Errorf("%s", e.Src.Redact(err.Error()))
	}
	return out, nil
}

func (e *Exec) applyCopySchema(ctx context.Context) (any, error) {
	marker := plan.MarkerSQL()
	if !e.Cfg.Schema.Copy {
		if err := e.exec(ctx, plan.CopySchema, e.Dst, marker); err != nil {
			return nil, err
		}
		return map[string]any{"objects": []journal.ObjectInfo{{Kind: "schema", Name: "pgmigrate", Side: db.Destination}}}, nil
	}
	tables, err := e.migratedTables(ctx)
	if err != nil {
		return nil, err
	}
	n, err := e.dstExisting(ctx, tables)
	if err != nil {
		return nil, err
	}
	if n == 0 || n != len(tables) {
		srcURL, _ := e.Opener.ToolEnv(db.Source, "copy-schema", nil)
		dstURL, _ := e.Opener.ToolEnv(db.Destination, "copy-schema", nil)
		data := filepath.Join(e.Dir, "data")
		dump := filepath.Join(data, "schema.dump")
		args := append(plan.PgDumpArgs(e.Cfg), "-f", dump, "-d", srcURL)
		if _, err := e.tool(ctx, plan.CopySchema, db.Source, "pg_dump", args...); err != nil {
			return nil, err
		}
		if err := os.Chmod(dump, 0o600); err != nil {
			return nil, err
		}
		list, err := e.tool(ctx, plan.CopySchema, "", "pg_restore", "-l", dump)
		if err != nil {
			return nil, err
		}
		if err := plan.WriteFileAtomic(filepath.Join(data, "schema.list"), filterTOC(list), 0o600); err != nil {
			return nil, err
		}
		pre := filepath.Join(data, "schema-pre.sql")
		rargs := []string{"--use-list=" + filepath.Join(data, "schema.list"), "-f", pre, dump}
		if e.Cfg.Copy.Method == "snapshot" {
			rargs = append([]string{"--section=pre-data"}, rargs...)
		}
		if _, err := e.tool(ctx, plan.CopySchema, "", "pg_restore", rargs...); err != nil {
			return nil, err
		}
		_ = os.Chmod(pre, 0o600)
		if _, err := e.tool(ctx, plan.CopySchema, db.Destination, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", dstURL, "-f", pre); err != nil {
			return nil, err
		}
	}
	if err := e.exec(ctx, plan.CopySchema, e.Dst, marker); err != nil {
		return nil, err
	}
	return map[string]any{"objects": []journal.ObjectInfo{{Kind: "schema", Name: "pgmigrate", Side: db.Destination}}}, nil
}

// filterTOC drops pgmigrate's own entries from a pg_restore -l listing.
func filterTOC(list []byte) []byte {
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(list)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, ";") && tocFilter.MatchString(line) {
			continue
		}
		out.WriteString(line + "\n")
	}
	return []byte(out.String())
}

// tocEntry is one parsed pg_restore -l line:
// "123; 1259 16390 INDEX public pgbench_accounts_pkey postgres".
type tocEntry struct {
	line   string
	desc   string
	schema string
	name   string
}

var tocDescs = []string{"FK CONSTRAINT", "INDEX ATTACH", "CONSTRAINT", "INDEX", "TRIGGER", "POLICY", "RULE"}

func parseTOC(line string) (tocEntry, bool) {
	if strings.HasPrefix(line, ";") || strings.TrimSpace(line) == "" {
		return tocEntry{}, false
	}
	_, rest, ok := strings.Cut(line, "; ")
	if !ok {
		return tocEntry{}, false
	}
	f := strings.Fields(rest)
	if len(f) < 3 {
		return tocEntry{}, false
	}
	rest = strings.Join(f[2:], " ")
	for _, d := range tocDescs {
		if strings.HasPrefix(rest, d+" ") {
			parts := strings.Fields(strings.TrimPrefix(rest, d+" "))
			if len(parts) < 2 {
				return tocEntry{}, false
			}
			// schema, name words…, owner: the name may be "table constraint".
			return tocEntry{line: line, desc: d, schema: parts[0], name: strings.Join(parts[1:len(parts)-1], " ")}, true
		}
	}
	return tocEntry{line: line}, true
}

// exists reports whether a post-data entry's object is on the destination
// (each TOC entry is atomic, so an existing one was fully restored).
func (e *Exec) tocExists(ctx context.Context, t tocEntry) bool {
	var ok bool
	var err error
	switch t.desc {
	case "INDEX":
		err = e.Dst.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)", t.schema, t.name).Scan(&ok)
	case "INDEX ATTACH":
		err = e.Dst.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid WHERE n.nspname = $1 AND c.relname = $2)`, t.schema, t.name).Scan(&ok)
	case "CONSTRAINT", "FK CONSTRAINT", "TRIGGER", "POLICY", "RULE":
		rel, obj, found := strings.Cut(t.name, " ")
		if !found {
			return false
		}
		q := map[string]string{
			"CONSTRAINT":    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint x JOIN pg_catalog.pg_class c ON c.oid = x.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND x.conname = $3)",
			"FK CONSTRAINT": "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint x JOIN pg_catalog.pg_class c ON c.oid = x.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND x.conname = $3)",
			"TRIGGER":       "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger x JOIN pg_catalog.pg_class c ON c.oid = x.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND x.tgname = $3)",
			"POLICY":        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_policy x JOIN pg_catalog.pg_class c ON c.oid = x.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND x.polname = $3)",
			"RULE":          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite x JOIN pg_catalog.pg_class c ON c.oid = x.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND x.rulename = $3)",
		}[t.desc]
		err = e.Dst.QueryRow(ctx, q, t.schema, rel, obj).Scan(&ok)
	default:
		return false
	}
	return err == nil && ok
}

func (e *Exec) applyPostData(ctx context.Context) (any, error) {
	if !e.Cfg.Schema.Copy {
		return nil, e.analyze(ctx, plan.PostData)
	}
	data := filepath.Join(e.Dir, "data")
	list, err := os.ReadFile(filepath.Join(data, "schema.list"))
	if err != nil {
		return nil, fmt.Errorf("post-data needs copy-schema's data/schema.list: %w", err)
	}
	var out strings.Builder
	skipped := 0
	sc := bufio.NewScanner(strings.NewReader(string(list)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if t, ok := parseTOC(line); ok && t.desc != "" && e.tocExists(ctx, t) {
			skipped++
			continue
		}
		out.WriteString(line + "\n")
	}
	postList := filepath.Join(data, "post-data.list")
	if err := plan.WriteFileAtomic(postList, []byte(out.String()), 0o600); err != nil {
		return nil, err
	}
	dstURL, _ := e.Opener.ToolEnv(db.Destination, "post-data", nil)
	if _, err := e.tool(ctx, plan.PostData, db.Destination, "pg_restore", "--section=post-data",
		"--jobs="+strconv.Itoa(e.Cfg.Copy.PostDataJobs), "--exit-on-error", "--use-list="+postList,
		"-d", dstURL, filepath.Join(data, "schema.dump")); err != nil {
		return nil, err
	}
	if err := e.analyze(ctx, plan.PostData); err != nil {
		return nil, err
	}
	return map[string]int{"already_present": skipped}, nil
}

func (e *Exec) analyze(ctx context.Context, step string) error {
	tables, err := e.tablesForDst(ctx)
	if err != nil || len(tables) == 0 {
		return err
	}
	if e.Dst.Version >= 110000 {
		return e.exec(ctx, step, e.Dst, "ANALYZE "+strings.Join(tables, ", "))
	}
	return e.exec(ctx, step, e.Dst, "ANALYZE")
}
