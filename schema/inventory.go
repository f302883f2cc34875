package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Inventory is the merged inventory of every -i file (inventory.md §1): all.vars
// key by key, groups by name, a group's vars key by key, hosts by key, a host's
// variables key by key; a later file wins for a key and values are replaced whole.
type Inventory struct {
	Vars      *Node    // merged all.vars (always a map node)
	Groups    []*Group // in order of first appearance
	HostOrder []string // host keys in order of first appearance (inventory order, §3.3)
	Files     []string
	hostSeen  map[string]bool
}

// Group is one group of all.children.
type Group struct {
	Name   string
	KeyPos Pos
	Vars   *Node // map node (empty when absent)
	Hosts  []*Host
}

// Host is one host entry of a group.
type Host struct {
	Addr   string
	KeyPos Pos
	Vars   *Node // map node (empty when absent or null)
}

// Path helpers for messages.
func VarsPath() string               { return "all.vars" }
func GroupVarsPath(g string) string  { return "all.children." + g + ".vars" }
func HostPath(g, addr string) string { return "all.children." + g + ".hosts." + addr }
func (g *Group) Host(addr string) *Host {
	for _, h := range g.Hosts {
		if h.Addr == addr {
			return h
		}
	}
	return nil
}

var hostRangeRE = regexp.MustCompile(`\[[^\]]*:[^\]]*\]`)

// LoadFiles reads and merges inventory files in order. A name ending in .cue
// is a CUE inventory; anything else is YAML.
func LoadFiles(paths []string) (*Inventory, Diags) {
	inv := &Inventory{Vars: &Node{Kind: MapKind}}
	var diags Diags
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			diags = append(diags, Diag{Pos: Pos{File: p, Line: 1, Col: 1}, Message: "cannot read inventory: " + errText(err), Code: "io"})
			continue
		}
		var root *Node
		var ds Diags
		if strings.HasSuffix(p, ".cue") {
			root, ds = ParseCUE(p, data)
		} else {
			root, ds = ParseYAML(p, data)
		}
		diags = append(diags, ds...)
		if root == nil {
			continue
		}
		diags = append(diags, inv.merge(p, root)...)
	}
	return inv, diags
}

// LoadBytes is LoadFiles for in-memory inputs (tests, fuzzing). names[i] is
// the file name used in positions; a .cue suffix selects CUE.
func LoadBytes(names []string, datas [][]byte) (*Inventory, Diags) {
	inv := &Inventory{Vars: &Node{Kind: MapKind}}
	var diags Diags
	for i, p := range names {
		var root *Node
		var ds Diags
		if strings.HasSuffix(p, ".cue") {
			root, ds = ParseCUE(p, datas[i])
		} else {
			root, ds = ParseYAML(p, datas[i])
		}
		diags = append(diags, ds...)
		if root != nil {
			diags = append(diags, inv.merge(p, root)...)
		}
	}
	return inv, diags
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return strings.ToLower(pe.Err.Error())
	}
	return strings.ToLower(err.Error())
}

func typeDiag(n *Node, path, want string) Diag {
	return Diag{Pos: n.Pos, Path: path, Message: fmt.Sprintf("%s is %s; want %s", n.Display(), article(n.Kind), want), Code: "layout"}
}

func article(k Kind) string {
	switch k {
	case IntKind:
		return "an integer"
	case FloatKind:
		return "a number"
	case BoolKind:
		return "a boolean"
	case StringKind:
		return "a string"
	case MapKind:
		return "a map"
	case ListKind:
		return "a list"
	}
	return "null"
}

// asMap returns n as a map node; a null (or absent) value counts as empty
// (Ansible convention for hosts/vars/host entries).
func asMap(n *Node, path string, diags *Diags) *Node {
	if n == nil || n.Kind == NullKind {
		p := Pos{}
		if n != nil {
			p = n.Pos
		}
		return &Node{Kind: MapKind, Pos: p}
	}
	if n.Kind != MapKind {
		*diags = append(*diags, typeDiag(n, path, "a map"))
		return &Node{Kind: MapKind, Pos: n.Pos}
	}
	return n
}

func (inv *Inventory) merge(file string, root *Node) Diags {
	var diags Diags
	inv.Files = append(inv.Files, file)
	if root.Kind == NullKind {
		return nil
	}
	if root.Kind != MapKind {
		return Diags{typeDiag(root, "", "a map with the key all")}
	}
	var all *Node
	for _, e := range root.Keys {
		if e.Key != "all" {
			diags = append(diags, Diag{Pos: e.KeyPos, Path: e.Key, Message: fmt.Sprintf("unknown top-level key %q; want all (put groups under all.children)", e.Key), Code: "layout"})
			continue
		}
		all = asMap(e.Value, "all", &diags)
	}
	if all == nil {
		return diags
	}
	for _, e := range all.Keys {
		switch e.Key {
		case "vars":
			vars := asMap(e.Value, "all.vars", &diags)
			mergeMap(inv.Vars, vars)
			if inv.Vars.Pos.IsZero() {
				inv.Vars.Pos = vars.Pos
			}
		case "children":
			children := asMap(e.Value, "all.children", &diags)
			for _, ge := range children.Keys {
				diags = append(diags, inv.mergeGroup(ge)...)
			}
		case "hosts":
			diags = append(diags, Diag{Pos: e.KeyPos, Path: "all.hosts", Message: "all.hosts is not supported; put hosts in a group under all.children", Code: "layout"})
		default:
			diags = append(diags, unknownField(e, "all", []string{"vars", "children"}))
		}
	}
	return diags
}

func unknownField(e *Entry, parent string, known []string) Diag {
	msg := fmt.Sprintf("unknown field %q", e.Key)
	if s := DidYouMean(e.Key, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return Diag{Pos: e.KeyPos, Path: JoinPath(parent, e.Key), Message: msg, Code: "unknown-field"}
}

func (inv *Inventory) mergeGroup(ge *Entry) Diags {
	var diags Diags
	name := ge.Key
	gpath := "all.children." + name
	gnode := asMap(ge.Value, gpath, &diags)
	var g *Group
	for _, x := range inv.Groups {
		if x.Name == name {
			g = x
		}
	}
	if g == nil {
		g = &Group{Name: name, KeyPos: ge.KeyPos, Vars: &Node{Kind: MapKind, Pos: ge.KeyPos}}
		inv.Groups = append(inv.Groups, g)
	}
	for _, e := range gnode.Keys {
		switch e.Key {
		case "vars":
			vars := asMap(e.Value, gpath+".vars", &diags)
			mergeMap(g.Vars, vars)
		case "hosts":
			hosts := asMap(e.Value, gpath+".hosts", &diags)
			for _, he := range hosts.Keys {
				if hostRangeRE.MatchString(he.Key) {
					diags = append(diags, Diag{Pos: he.KeyPos, Path: gpath + ".hosts." + he.Key, Message: "host ranges are not supported; list each host", Code: "layout"})
					continue
				}
				hv := asMap(he.Value, gpath+".hosts."+he.Key, &diags)
				h := g.Host(he.Key)
				if h == nil {
					h = &Host{Addr: he.Key, KeyPos: he.KeyPos, Vars: &Node{Kind: MapKind, Pos: he.KeyPos}}
					g.Hosts = append(g.Hosts, h)
				}
				mergeMap(h.Vars, hv)
				if inv.hostSeen == nil {
					inv.hostSeen = map[string]bool{}
				}
				if !inv.hostSeen[he.Key] {
					inv.hostSeen[he.Key] = true
					inv.HostOrder = append(inv.HostOrder, he.Key)
				}
			}
		case "children":
			diags = append(diags, Diag{Pos: e.KeyPos, Path: gpath + ".children", Message: "nested groups (children inside a group) are not supported", Code: "layout"})
		default:
			diags = append(diags, unknownField(e, gpath, []string{"vars", "hosts"}))
		}
	}
	return diags
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mergeMap sets every key of src on dst, replacing values whole (later wins).
func mergeMap(dst, src *Node) {
	for _, e := range src.Keys {
		replaced := false
		for i, d := range dst.Keys {
			if d.Key == e.Key {
				dst.Keys[i] = e
				replaced = true
				break
			}
		}
		if !replaced {
			dst.Keys = append(dst.Keys, e)
		}
	}
}

// DisplayName shortens a path for messages relative to the working directory.
func DisplayName(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return p
}
