// Command pgcc is the PostgreSQL HA configuration compiler (see README.md).
package main

import (
	"os"

	"github.com/pgcc-dev/pgcc/cmd/pgcc/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
