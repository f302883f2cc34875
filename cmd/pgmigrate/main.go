// Command pgmigrate is the zero-downtime migration runner (migrate.md).
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
