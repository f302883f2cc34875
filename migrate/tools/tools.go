// Package tools finds PostgreSQL's client programs (pg_dump, pg_restore,
// psql) and runs them without putting a password on a command line.
package tools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// BinDirEnv overrides where the PostgreSQL client programs are looked up.
const BinDirEnv = "PGMIGRATE_PG_BINDIR"

// Find returns the path of a PostgreSQL client program: $PGMIGRATE_PG_BINDIR,
// then the newest /usr/lib/postgresql/<N>/bin (Debian keeps the real
// binaries there; /usr/bin/pg_dump is a version-picking wrapper), then PATH.
// "" when not found.
func Find(name string) string {
	if d := os.Getenv(BinDirEnv); d != "" {
		p := filepath.Join(d, name)
		if isExec(p) {
			return p
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return dirVersion(dirs[i]) > dirVersion(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if isExec(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func dirVersion(d string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) ([0-9]+(?:\.[0-9]+)?)`)

// Version runs `<tool> --version` and returns "15.20", or "" if missing.
func Version(name string) string {
	p := Find(name)
	if p == "" {
		return ""
	}
	out, err := exec.Command(p, "--version").Output()
	if err != nil {
		return ""
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// Run runs a tool with env (which carries PGPASSWORD) and returns its
// stdout; the error carries stderr's last lines, redacted by the caller.
func Run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	p := Find(name)
	if p == "" {
		return nil, fmt.Errorf("%s not found (set %s)", name, BinDirEnv)
	}
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if lines := strings.Split(msg, "\n"); len(lines) > 8 {
			msg = strings.Join(lines[len(lines)-8:], "\n")
		}
		return stdout.Bytes(), fmt.Errorf("%s: %w: %s", name, err, msg)
	}
	return stdout.Bytes(), nil
}
