//go:build !faultinject

package faultinject

// Enabled reports whether this is a faultinject build.
const Enabled = false

// Hit does nothing outside faultinject builds.
func Hit(step, when string) {}
