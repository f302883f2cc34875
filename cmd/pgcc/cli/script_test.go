package cli

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pgcc": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts in testdata/script (testscript format).
// Besides the `pgcc` program, scripts have `pgccx CODE ARGS...`, which runs
// pgcc in-process and fails unless it exits with exactly CODE, and the
// environment variable SHARED pointing at ../shared (or scripts that need it
// `skip` when it is empty).
func TestScripts(t *testing.T) {
	shared := sharedDir()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("SHARED", shared)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"pgccx": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("pgccx takes no !: give the exit code")
				}
				if len(args) < 1 {
					ts.Fatalf("usage: pgccx CODE ARGS...")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("pgccx: bad exit code %q", args[0])
				}
				err = ts.Exec("pgcc", args[1:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("pgcc: %v", err)
				}
				if got != want {
					ts.Fatalf("pgcc %s: exit %d, want %d", strings.Join(args[1:], " "), got, want)
				}
			},
		},
	})
}

func sharedDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	// cmd/pgcc/cli → repository root → ../shared
	dir := wd + "/../../../../shared"
	if _, err := os.Stat(dir + "/spec"); err != nil {
		return ""
	}
	return dir
}
