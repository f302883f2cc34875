// Package faultinject kills the process at a step boundary for crash tests
// (migrate.md §7): builds tagged faultinject read
// PGMIGRATE_FAULT=<step-id>:<before|after> and SIGKILL themselves there.
// Normal builds compile Hit to a no-op.
package faultinject

// Env is the variable faultinject builds read.
const Env = "PGMIGRATE_FAULT"
