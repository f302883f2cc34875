package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as "pgmigrate", and the
// integration tests run it as a subprocess they can SIGKILL.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pgmigrate": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar: usage errors, exit codes and
// plan output. None of them needs a server.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
