package compiler

import (
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/schema"
)

// Options control a compilation.
type Options struct {
	Files []string // -i files, merged in order
	Names []string // with Datas: in-memory inputs (tests, fuzzing); used when Files is empty
	Datas [][]byte
	Vars  []string // --var KEY=VALUE
	Facts string   // --facts FILE
	// SkipFactErrors makes missing hardware facts a note instead of an
	// error (pgcc lint, which has no --facts). Hosts without facts are listed
	// in Fleet.NoFacts.
	SkipFactErrors bool
}

// Result of a compilation. Fleet is nil when there are errors.
type Result struct {
	Fleet *Fleet
	Diags Diags // errors (and warnings from resolution), sorted
	Inv   *schema.Inventory
}

// factVars are the hardware facts every PGSQL host needs (inventory.md §4.6).
var factVars = []string{"node_cpu", "node_mem_mb", "node_disk_gb"}

// Compile loads, validates and resolves an inventory.
func Compile(opts Options) *Result {
	c := &compilation{opts: opts, ifaces: map[*schema.Node]any{}}
	return c.run()
}

type compilation struct {
	opts     Options
	inv      *schema.Inventory
	diags    Diags
	cliVars  []*schema.Entry // --var entries, positions --var:N:1
	facts    map[string]*schema.Node
	factsKey map[string]schema.Pos
	ifaces   map[*schema.Node]any
	// ifacesFrozen: ifaces is read-only (hosts resolve concurrently).
	ifacesFrozen bool
	badPaths     map[string]bool // variable paths whose shape failed (stage 4 skips them)
	groupsOf     map[string][]*schema.Group
	defaults     map[string]*schema.Node
	// curBroken is set while decoding a list item whose shape failed.
	curBroken bool
	// noFacts collects, in stage 4, instances without hardware facts
	// (Fleet.NoFacts).
	noFacts []string
	// clusterConflict marks hosts given two clusters: their other
	// same-layer conflicts follow from it and are not reported again.
	clusterConflict map[string]bool
}

func (c *compilation) iface(n *schema.Node) any {
	if v, ok := c.ifaces[n]; ok {
		return v
	}
	v := n.Interface()
	if !c.ifacesFrozen {
		c.ifaces[n] = v
	}
	return v
}

// warmIfaces converts every node that several hosts share (defaults,
// all.vars, --var, group vars) and freezes the cache, so that hosts can be
// resolved concurrently: they read the shared values (and share them, as
// before) and convert their own host and facts entries uncached.
func (c *compilation) warmIfaces() {
	for _, n := range c.defaults {
		c.iface(n)
	}
	for _, e := range c.inv.Vars.Keys {
		c.iface(e.Value)
	}
	for _, e := range c.cliVars {
		c.iface(e.Value)
	}
	for _, g := range c.inv.Groups {
		if g.Vars != nil {
			for _, e := range g.Vars.Keys {
				c.iface(e.Value)
			}
		}
	}
	c.ifacesFrozen = true
}

func (c *compilation) errorf(pos Pos, path, code, format string, args ...any) {
	c.diags = append(c.diags, Diag{Pos: pos, Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (c *compilation) warnf(pos Pos, path, code, format string, args ...any) {
	c.diags = append(c.diags, Diag{Pos: pos, Path: path, Code: code, Severity: schema.SevWarning, Message: fmt.Sprintf(format, args...)})
}

func (c *compilation) run() *Result {
	// Stage 1: parse.
	var ds Diags
	if len(c.opts.Files) > 0 {
		c.inv, ds = schema.LoadFiles(c.opts.Files)
	} else {
		c.inv, ds = schema.LoadBytes(c.opts.Names, c.opts.Datas)
	}
	c.diags = append(c.diags, ds...)
	c.parseCLIVars()
	c.loadFacts()
	defs, err := schema.Defaults()
	if err != nil {
		c.errorf(Pos{}, "", "internal", "%v", err)
		return c.result(nil)
	}
	c.defaults = defs
	if len(c.diags.Errors()) > 0 && c.inv == nil {
		return c.result(nil)
	}
	// Which hosts are PGSQL hosts: their resolved pg_cluster is defined.
	c.groupsOf = map[string][]*schema.Group{}
	for _, g := range c.inv.Groups {
		for _, h := range g.Hosts {
			c.groupsOf[h.Addr] = append(c.groupsOf[h.Addr], g)
		}
	}
	pgHosts := map[string]bool{}
	for _, addr := range c.inv.HostOrder {
		if c.rawLookup(addr, "pg_cluster") != nil {
			pgHosts[addr] = true
		}
	}
	// Stage 2: shape, per unit, concurrently.
	units := []schema.Unit{{Maps: []schema.VarMap{{Path: "all.vars", Vars: c.inv.Vars}}}}
	for _, e := range c.cliVars {
		units = append(units, schema.Unit{Maps: []schema.VarMap{{Path: "", Vars: &schema.Node{Kind: schema.MapKind, Keys: []*schema.Entry{e}}}}})
	}
	for _, g := range c.inv.Groups {
		holds := false
		for _, h := range g.Hosts {
			holds = holds || pgHosts[h.Addr]
		}
		if !holds {
			continue
		}
		u := schema.Unit{Maps: []schema.VarMap{{Path: schema.GroupVarsPath(g.Name), Vars: g.Vars}}}
		for _, h := range g.Hosts {
			u.Maps = append(u.Maps, schema.VarMap{Path: schema.HostPath(g.Name, h.Addr), Vars: h.Vars})
		}
		units = append(units, u)
	}
	for _, ip := range sortedKeys(c.facts) {
		units = append(units, schema.Unit{Maps: []schema.VarMap{{Path: ip, Vars: c.facts[ip]}}})
	}
	shape := schema.Validate(units)
	c.diags = append(c.diags, shape...)
	c.badPaths = map[string]bool{}
	for _, d := range shape {
		c.badPaths[varPathOf(d.Path)] = true
	}
	// Stage 3: resolve.
	fleet := c.resolveFleet(pgHosts)
	// Stage 4: rules.
	if fleet != nil {
		c.checkRules(fleet)
	}
	return c.result(fleet)
}

// varPathOf cuts a diagnostic path down to the variable it belongs to:
// all.children.g.vars.pg_users[1].name → all.children.g.vars.pg_users.
func varPathOf(p string) string {
	var base string
	rest := p
	switch {
	case strings.HasPrefix(p, "all.vars."):
		base, rest = "all.vars.", p[len("all.vars."):]
	case strings.HasPrefix(p, "all.children."):
		if i := strings.Index(p, ".vars."); i >= 0 {
			base, rest = p[:i+6], p[i+6:]
		} else if i := strings.Index(p, ".hosts."); i >= 0 {
			// host key is an IP with dots: the variable follows the 4th dot after hosts.
			after := p[i+7:]
			dots := 0
			for j := 0; j < len(after); j++ {
				if after[j] == '.' {
					dots++
					if dots == 4 {
						base, rest = p[:i+7+j+1], after[j+1:]
						break
					}
				}
			}
			if base == "" {
				return p
			}
		}
	default:
		return p
	}
	if i := strings.IndexAny(rest, ".["); i >= 0 {
		// An error inside a list item marks only that item (var[i]): rules
		// skip the item, not the whole list (no cascades, but no lost checks).
		if rest[i] == '[' {
			if j := strings.IndexByte(rest[i:], ']'); j > 0 {
				return base + rest[:i+j+1]
			}
		}
		rest = rest[:i]
	}
	return base + rest
}

func sortedKeys[V any](m map[string]V) []string { return SortedKeys(m) }

func (c *compilation) result(f *Fleet) *Result {
	sorted := c.diags.Sorted()
	if len(sorted.Errors()) > 0 {
		f = nil
	}
	return &Result{Fleet: f, Diags: sorted, Inv: c.inv}
}

func (c *compilation) parseCLIVars() {
	for i, kv := range c.opts.Vars {
		pos := Pos{File: "--var", Line: i + 1, Col: 1}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			c.errorf(pos, "", "usage", "%q is not KEY=VALUE", kv)
			continue
		}
		n, ds := schema.ParseYAML("--var", []byte(v))
		if len(ds) > 0 || n == nil {
			c.errorf(pos, k, "parse", "value is not valid YAML")
			continue
		}
		if n.Kind == schema.MapKind && len(n.Keys) == 0 && strings.TrimSpace(v) == "" {
			n = &schema.Node{Kind: schema.StringKind, Str: ""}
		}
		setPos(n, pos)
		c.cliVars = append(c.cliVars, &schema.Entry{Key: k, KeyPos: pos, Value: n})
	}
}

func setPos(n *schema.Node, p Pos) {
	n.Pos = p
	for _, e := range n.Keys {
		e.KeyPos = p
		setPos(e.Value, p)
	}
	for _, it := range n.Items {
		setPos(it, p)
	}
}

func (c *compilation) loadFacts() {
	c.facts = map[string]*schema.Node{}
	c.factsKey = map[string]schema.Pos{}
	if c.opts.Facts == "" {
		return
	}
	data, err := os.ReadFile(c.opts.Facts)
	if err != nil {
		c.errorf(Pos{File: c.opts.Facts, Line: 1, Col: 1}, "", "io", "cannot read facts: %s", strings.ToLower(errText(err)))
		return
	}
	root, ds := schema.ParseYAML(c.opts.Facts, data)
	c.diags = append(c.diags, ds...)
	if root == nil {
		return
	}
	if root.Kind != schema.MapKind {
		c.errorf(root.Pos, "", "layout", "facts must be a map of host IP to variables")
		return
	}
	for _, e := range root.Keys {
		if e.Value.Kind == schema.NullKind {
			continue
		}
		if e.Value.Kind != schema.MapKind {
			c.errorf(e.Value.Pos, e.Key, "layout", "%s is %s; want a map", e.Value.Display(), kindArticle(e.Value.Kind))
			continue
		}
		c.facts[e.Key] = e.Value
		c.factsKey[e.Key] = e.KeyPos
	}
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func kindArticle(k schema.Kind) string {
	switch k {
	case schema.IntKind:
		return "an integer"
	case schema.FloatKind:
		return "a number"
	case schema.BoolKind:
		return "a boolean"
	case schema.StringKind:
		return "a string"
	case schema.MapKind:
		return "a map"
	case schema.ListKind:
		return "a list"
	}
	return "null"
}

// rawLookup finds the winning node of one variable for a host without
// defaults (used to find PGSQL hosts before validation).
func (c *compilation) rawLookup(addr, name string) *schema.Node {
	var win *schema.Node
	if n := c.inv.Vars.Get(name); n != nil {
		win = n
	}
	for _, e := range c.cliVars {
		if e.Key == name {
			win = e.Value
		}
	}
	for _, g := range c.groupsOf[addr] {
		if n := g.Vars.Get(name); n != nil {
			win = n
		}
	}
	if f := c.facts[addr]; f != nil {
		if n := f.Get(name); n != nil {
			win = n
		}
	}
	for _, g := range c.groupsOf[addr] {
		if n := g.Host(addr).Vars.Get(name); n != nil {
			win = n
		}
	}
	return win
}

// hostVars resolves every variable of one host through layers 2–6, checking
// same-layer conflicts (inventory.md §3.1). It returns the winning values.
func (c *compilation) hostVars(addr string) map[string]Value {
	out := map[string]Value{}
	set := func(name string, n *schema.Node, p Prov) {
		out[name] = Value{V: c.iface(n), Prov: p, node: n}
	}
	for _, e := range c.inv.Vars.Keys {
		set(e.Key, e.Value, Prov{Layer: LayerGlobal, Pos: e.Value.Pos, Path: "all.vars." + e.Key})
	}
	for _, e := range c.cliVars {
		set(e.Key, e.Value, Prov{Layer: LayerVar, Pos: e.KeyPos, Path: e.Key})
	}
	groups := c.groupsOf[addr]
	layerSet := func(layer string, entries func(g *schema.Group) (*schema.Node, string)) {
		seen := map[string]Value{}
		for _, g := range groups {
			m, base := entries(g)
			if m == nil {
				continue
			}
			for _, e := range m.Keys {
				p := Prov{Layer: layer, Group: g.Name, Pos: e.Value.Pos, Path: base + "." + e.Key}
				if prev, ok := seen[e.Key]; ok {
					if !reflect.DeepEqual(prev.V, c.iface(e.Value)) {
						if e.Key == "pg_cluster" {
							c.errorf(e.Value.Pos, p.Path, "id-host", "host %s is already in cluster %s (all.children.%s)", addr, AsString(prev.V), prev.Prov.Group)
							if c.clusterConflict == nil {
								c.clusterConflict = map[string]bool{}
							}
							c.clusterConflict[addr] = true
						} else if !c.clusterConflict[addr] {
							c.errorf(e.Value.Pos, p.Path, "conflict", "host %s gets a different value from all.children.%s; set it in one place", addr, prev.Prov.Group)
						}
					}
					continue
				}
				v := Value{V: c.iface(e.Value), Prov: p, node: e.Value}
				seen[e.Key] = v
				out[e.Key] = v
			}
		}
	}
	layerSet(LayerGroup, func(g *schema.Group) (*schema.Node, string) { return g.Vars, schema.GroupVarsPath(g.Name) })
	if f := c.facts[addr]; f != nil {
		for _, e := range f.Keys {
			set(e.Key, e.Value, Prov{Layer: LayerFacts, Pos: e.Value.Pos, Path: addr + "." + e.Key})
		}
	}
	layerSet(LayerHost, func(g *schema.Group) (*schema.Node, string) {
		return g.Host(addr).Vars, schema.HostPath(g.Name, addr)
	})
	return out
}

func (c *compilation) resolveFleet(pgHosts map[string]bool) *Fleet {
	f := &Fleet{HostOrder: c.inv.HostOrder, badPaths: c.badPaths}
	for _, g := range c.inv.Groups {
		f.Groups = append(f.Groups, g.Name)
	}
	// Global facts: admin_ip, infra, etcd.
	if n := c.globalVar("admin_ip"); n != nil {
		f.AdminIP = n.Str
	} else if len(pgHosts) > 0 {
		c.errorf(c.inv.Vars.Pos, "all.vars", "required", "missing required variable \"admin_ip\"")
	}
	f.EtcdPort = 2379
	if n := c.globalVar("etcd_port"); n != nil && n.Kind == schema.IntKind {
		f.EtcdPort = int(n.Int)
	}
	var infraGroup, etcdGroup *schema.Group
	for _, g := range c.inv.Groups {
		switch g.Name {
		case "infra":
			infraGroup = g
		case "etcd":
			etcdGroup = g
		}
	}
	if infraGroup != nil {
		for _, h := range infraGroup.Hosts {
			if c.checkIPv4Host(infraGroup, h) {
				f.InfraIPs = append(f.InfraIPs, h.Addr)
			}
		}
		sort.Strings(f.InfraIPs)
		f.InfraIPs = uniq(f.InfraIPs)
	}
	if (etcdGroup == nil || len(etcdGroup.Hosts) == 0) && len(pgHosts) > 0 {
		pos := Pos{}
		if etcdGroup != nil {
			pos = etcdGroup.KeyPos
		} else if len(c.inv.Files) > 0 {
			pos = Pos{File: c.inv.Files[0], Line: 1, Col: 1}
		}
		c.errorf(pos, "all.children.etcd", "required", "an etcd group with at least one host is required (Patroni's DCS)")
	} else if etcdGroup != nil {
		for _, h := range etcdGroup.Hosts {
			if c.checkIPv4Host(etcdGroup, h) {
				f.EtcdIPs = append(f.EtcdIPs, h.Addr)
			}
		}
	}
	// Instances. Hosts are independent: they are resolved on GOMAXPROCS
	// workers, each into its own diagnostics, merged in host order (the
	// result is what resolving them one after the other gives).
	var addrs []string
	for _, addr := range c.inv.HostOrder {
		if pgHosts[addr] {
			addrs = append(addrs, addr)
		}
	}
	c.warmIfaces()
	insts := make([]*Instance, len(addrs))
	diags := make([]Diags, len(addrs))
	parallel(len(addrs), func(i int) {
		cc := c.fork()
		insts[i] = cc.resolveInstance(addrs[i])
		diags[i] = cc.diags
	})
	byCluster := map[string]*Cluster{}
	memos := map[string]*tuneMemo{}
	var order []string
	for i, inst := range insts {
		c.diags = append(c.diags, diags[i]...)
		if inst == nil {
			continue
		}
		cl := byCluster[inst.Cluster]
		if cl == nil {
			cl = &Cluster{Name: inst.Cluster}
			byCluster[inst.Cluster] = cl
			order = append(order, inst.Cluster)
			memos[inst.Cluster] = &tuneMemo{}
		}
		inst.peers = memos[inst.Cluster]
		cl.Members = append(cl.Members, inst)
	}
	sort.Strings(order)
	for _, name := range order {
		cl := byCluster[name]
		for _, m := range cl.Members {
			if m.Role == "primary" && cl.Primary == nil {
				cl.Primary = m
			}
			cl.MemberIPs = append(cl.MemberIPs, m.IP)
		}
		sort.Strings(cl.MemberIPs)
		cl.MemberIPs = uniq(cl.MemberIPs)
		f.Clusters = append(f.Clusters, cl)
	}
	return f
}

func uniq(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func (c *compilation) globalVar(name string) *schema.Node {
	var win *schema.Node
	if n := c.inv.Vars.Get(name); n != nil {
		win = n
	}
	for _, e := range c.cliVars {
		if e.Key == name {
			win = e.Value
		}
	}
	return win
}

func (c *compilation) checkIPv4Host(g *schema.Group, h *schema.Host) bool {
	if _, err := netip.ParseAddr(h.Addr); err == nil && isDottedQuad(h.Addr) {
		return true
	}
	c.errorf(h.KeyPos, schema.HostPath(g.Name, h.Addr), "host-ip", "host key %q must be an IPv4 address (group %s)", h.Addr, g.Name)
	return false
}

func isDottedQuad(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 || (len(p) > 1 && p[0] == '0') {
			return false
		}
	}
	return true
}

func (c *compilation) resolveInstance(addr string) *Instance {
	groups := c.groupsOf[addr]
	g0 := groups[0]
	h0 := g0.Host(addr)
	inst := &Instance{IP: addr, Group: g0.Name, KeyPos: h0.KeyPos}
	if !isDottedQuad(addr) {
		c.errorf(h0.KeyPos, schema.HostPath(g0.Name, addr), "host-ip", "host key %q of a PGSQL host must be an IPv4 address", addr)
		return nil
	}
	written := c.hostVars(addr)
	for _, g := range groups {
		if n := g.Host(addr).Vars.Get("ansible_host"); n != nil {
			// inventory.md §1 makes this an error, but Pigsty's own build/oss.yml
			// sets ansible_host (an ssh alias) on PGSQL hosts and the corpus must
			// compile unchanged: warn that it is not used as the address.
			c.warnf(n.Pos, schema.HostPath(g.Name, addr)+".ansible_host", "ansible-host-ignored", "ansible_host is not used as the address; pgcc uses the host key %s", addr)
		}
	}
	if v, ok := written["pg_instances"]; ok {
		c.errorf(v.Prov.Pos, v.Prov.Path, "unsupported", "pg_instances (several instances per host) is not supported")
	}
	// Member document: layers 2–6, plus derived keys.
	doc := make(map[string]any, len(written)+4)
	for k, v := range written {
		doc[k] = v.V
	}
	vars := make(map[string]Value, len(written)+len(c.defaults))
	for k, n := range c.defaults {
		vars[k] = Value{V: c.iface(n), Prov: Prov{Layer: LayerDefault}, node: n}
	}
	for k, v := range written {
		vars[k] = v
	}
	inst.Vars = vars
	inst.Cluster = inst.Str("pg_cluster")
	// Report host-level problems in the group that makes this a PGSQL host.
	if pc := vars["pg_cluster"]; pc.Prov.Group != "" {
		if g := c.groupByName(pc.Prov.Group); g != nil && g.Host(addr) != nil {
			inst.Group, inst.KeyPos = g.Name, g.Host(addr).KeyPos
		}
	}
	inst.Role = inst.Str("pg_role")
	if seq, ok := AsInt(vars["pg_seq"].V); ok && vars["pg_seq"].V != nil {
		inst.Seq = seq
	}
	inst.Name = inst.Cluster + "-" + strconv.Itoa(inst.Seq)
	// Derived defaults (inventory.md §4): values that depend on others.
	derive := func(name, from string, v any) {
		if _, ok := written[name]; !ok {
			vars[name] = Value{V: v, Prov: Prov{Layer: LayerDerived, Path: from}}
		}
	}
	derive("pg_shard", "pg_cluster", inst.Cluster)
	if _, ok := written["pg_group"]; !ok {
		derive("pg_group", "default 0", int64(0))
	}
	derive("pg_etcd_password", "the etcd user name (pg_cluster)", inst.Cluster)
	tpl := strings.TrimSuffix(inst.Str("pg_conf"), ".yml")
	derive("pg_stat_monitor_lowmem", "pg_conf is tiny", tpl == "tiny")
	doc["inventory_hostname"] = addr
	doc["pg_instance"] = inst.Name
	doc["pg_shard"] = vars["pg_shard"].V
	doc["pg_group"] = vars["pg_group"].V
	inst.Doc = doc
	return inst
}

func (c *compilation) groupByName(name string) *schema.Group {
	for _, g := range c.inv.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}
