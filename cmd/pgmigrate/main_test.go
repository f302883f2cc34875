package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as "pgmigrate", and the
// integration tests run it as a subprocess they can SIGKILL.
func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		"pgmigrate": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// cleanupM removes the faultinject binary that tests share once they all
// ran (testscript.Main exits the process itself).
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if faultBin != "" {
		os.RemoveAll(filepath.Dir(faultBin))
	}
	return code
}

// TestScripts runs testdata/script/*.txtar: usage errors, exit codes and
// plan output. None of them needs a server.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
