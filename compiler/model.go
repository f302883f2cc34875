// Package compiler turns a loaded inventory into the resolved model that the
// renderers consume: fleet → clusters → instances, every variable resolved
// through the layers of inventory.md §3 with its provenance, business objects
// decoded, and the Go rules of inventory.md §5 checked.
package compiler

import (
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"

	"github.com/pgcc-dev/pgcc/schema"
)

// Pos is a source position (file:line:col, or zero for a default).
type Pos = schema.Pos

// Diag is a validation error or lint warning.
type Diag = schema.Diag

// Diags is a list of diagnostics.
type Diags = schema.Diags

// Layer names, lowest first (inventory.md §3.1).
const (
	LayerDefault = "default"
	LayerGlobal  = "global"
	LayerVar     = "--var"
	LayerGroup   = "group"
	LayerFacts   = "--facts"
	LayerHost    = "host"
	LayerDerived = "derived" // computed from other variables (pg_shard = pg_cluster, …)
)

// Prov says where a resolved value came from.
type Prov struct {
	Layer string `json:"layer"`
	Group string `json:"group,omitempty"` // for the group layer
	Pos   Pos    `json:"-"`
	Path  string `json:"path,omitempty"` // YAML path of the variable that won
}

// String renders the provenance as explain prints it: "default",
// "group pg-test at pigsty.yml:10:5", "--var at --var:1:1".
func (p Prov) String() string {
	switch p.Layer {
	case LayerDefault:
		return "default"
	case LayerDerived:
		return "derived: " + p.Path
	case LayerGroup:
		return fmt.Sprintf("group %s at %s", p.Group, p.Pos)
	}
	return fmt.Sprintf("%s at %s", p.Layer, p.Pos)
}

// Value is one resolved variable. V holds plain Go values: string, int64,
// float64, bool, []any, map[string]any.
type Value struct {
	V    any
	Prov Prov
	node *schema.Node
}

// Node returns the source node of the value (positions of nested elements).
func (v Value) Node() *schema.Node { return v.node }

// Fleet is the resolved inventory.
type Fleet struct {
	AdminIP   string
	InfraIPs  []string // sorted as strings
	EtcdIPs   []string // in inventory order
	EtcdPort  int
	Groups    []string // every group name, inventory order
	Clusters  []*Cluster
	HostOrder []string
	NoFacts   []string // instances without hardware facts (lint only)

	badPaths map[string]bool
}

// ShapeFailed reports whether the value's shape failed validation (stage 2);
// rules skip such values so one mistake gives one error (inventory.md §6).
func (f *Fleet) ShapeFailed(v Value) bool { return f.badPaths[v.Prov.Path] }

// Cluster returns the cluster named name, or nil.
func (f *Fleet) Cluster(name string) *Cluster {
	for _, c := range f.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Cluster is a PGSQL cluster: every instance sharing one pg_cluster value.
type Cluster struct {
	Name         string
	Members      []*Instance // inventory order
	Primary      *Instance
	MemberIPs    []string // sorted as strings (pg_cluster_members)
	Users        []*User
	Databases    []*Database
	Services     []*Service // pg_default_services then pg_services
	HBARules     []*HBARule // pg_default_hba_rules then pg_hba_rules
	PgbHBARules  []*HBARule // pgb_default_hba_rules then pgb_hba_rules
	DefaultRoles []*User
}

// Vars returns the cluster-uniform variables (those of the primary, or the
// first member when there is no primary).
func (c *Cluster) Vars() *Instance {
	if c.Primary != nil {
		return c.Primary
	}
	return c.Members[0]
}

// Instance returns the member named name (pg-test-1), or nil.
func (c *Cluster) Instance(name string) *Instance {
	for _, m := range c.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Instance is one PGSQL host.
type Instance struct {
	Name    string // <pg_cluster>-<pg_seq>
	IP      string
	Seq     int
	Role    string
	Cluster string
	Group   string // first group that lists the host
	KeyPos  Pos    // position of the host key
	Vars    map[string]Value
	// Doc is the member document that service selectors see
	// (inventory.md §3.3): layers 2–6 only, plus four derived keys.
	Doc map[string]any

	tuned atomic.Pointer[tunedResult] // cache of Tuning (tuning.go)
	peers *tuneMemo                   // shared by the members of a cluster (tuning.go)
}

// Has reports whether a variable is resolved (from any layer, defaults included).
func (i *Instance) Has(name string) bool { _, ok := i.Vars[name]; return ok }

// Get returns a resolved variable.
func (i *Instance) Get(name string) (Value, bool) { v, ok := i.Vars[name]; return v, ok }

// Str returns a variable as a string ("" when absent); numbers are formatted.
func (i *Instance) Str(name string) string {
	v, ok := i.Vars[name]
	if !ok {
		return ""
	}
	return AsString(v.V)
}

// Int returns a variable as an int (0 when absent or not a number).
func (i *Instance) Int(name string) int {
	v, ok := i.Vars[name]
	if !ok {
		return 0
	}
	n, _ := AsInt(v.V)
	return n
}

// Bool returns a variable as a bool (false when absent).
func (i *Instance) Bool(name string) bool {
	v, ok := i.Vars[name]
	if !ok {
		return false
	}
	b, _ := v.V.(bool)
	return b
}

// Float returns a variable as a float64.
func (i *Instance) Float(name string) float64 {
	v, ok := i.Vars[name]
	if !ok {
		return 0
	}
	switch x := v.V.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}

// List returns a variable as a list (nil when absent).
func (i *Instance) List(name string) []any {
	v, ok := i.Vars[name]
	if !ok {
		return nil
	}
	l, _ := v.V.([]any)
	return l
}

// Map returns a variable as a map (nil when absent).
func (i *Instance) Map(name string) map[string]any {
	v, ok := i.Vars[name]
	if !ok {
		return nil
	}
	m, _ := v.V.(map[string]any)
	return m
}

// Strings returns a list variable as strings.
func (i *Instance) Strings(name string) []string {
	var out []string
	for _, x := range i.List(name) {
		out = append(out, AsString(x))
	}
	return out
}

// AsString formats a plain value as text.
func AsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// AsInt reads an integer (accepting numeric strings).
func AsInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), true
	case int:
		return x, true
	case float64:
		if x == float64(int64(x)) {
			return int(x), true
		}
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// SortedKeys returns the keys of a map, sorted (never range a map into output).
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
