package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/kit"
	"github.com/pgcc-dev/pgcc/migrate/plan"
)

func cmdKit(e *env, args []string) error {
	var c common
	fs := newFlags("kit", e, &c)
	out := fs.StringP("output", "o", "", "output directory (default: the migration directory)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := c.load(e, false)
	if err != nil {
		return err
	}
	c.setupLog(e, "")
	dir := *out
	if dir == "" {
		dir = cfg.Dir()
		if err := journal.EnsureDir(dir); err != nil {
			return err
		}
	} else if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return fmt.Errorf("create kit directory: %w", err)
	}
	files := kit.Files(cfg)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		mode := os.FileMode(0o755)
		if n == "activate" {
			mode = 0o644
		}
		if err := plan.WriteFileAtomic(filepath.Join(dir, n), files[n], mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "kit for %s: %d scripts written to %s; start with: . %s/activate\n", cfg.Names.ID, len(names), dir, dir)
	return nil
}
