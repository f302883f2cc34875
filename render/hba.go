package render

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/compiler/hbaspec"
	"github.com/pgcc-dev/pgcc/render/hbafmt"
)

// pg_hba.conf and pgbouncer/pgb_hba.conf (hba.md). Both files are re-read on reload
// (PostgreSQL: SIGHUP / pg_reload_conf(); pgbouncer: RELOAD), no restart needed.

func init() {
	RegisterCluster(ClusterRenderer{Name: "hba", Render: renderHBA})
}

// HBAFile is one instance's pg_hba.conf or pgb_hba.conf, expanded: the rules in file
// order with their lines. The renderer, the lints and `pgcc explain --hba` share it.
type HBAFile struct {
	PGB     bool
	Cluster *compiler.Cluster
	Inst    *compiler.Instance
	Env     hbaspec.Env
	Aliases hbaspec.Aliases
	Blocks  []HBABlock
}

// HBABlock is one rule object as rendered on an instance.
type HBABlock struct {
	Rule    *compiler.HBARule
	Role    string // as written, "default" when absent
	Enabled bool
	Raw     bool
	Lines   []HBALine
	// Empty is set when an address alias expanded to nothing (hba-empty-alias).
	Empty bool
}

// HBALine is one rule line.
type HBALine struct {
	Text string       // the line when enabled; a disabled line is "#" + Text
	Spec hbaspec.Line // what the lints see
	Lint bool         // false: a raw line the lints cannot read (hba.md §8)
}

// HBAEnabled reports whether a rule with role is enabled on inst (hba.md §3): default
// and common everywhere, a role on the instances with that pg_role, and offline also
// on instances with pg_offline_query: true.
func HBAEnabled(role string, inst *compiler.Instance) bool {
	switch role {
	case "", "default", "common":
		return true
	case inst.Role:
		return true
	}
	return role == "offline" && inst.Bool("pg_offline_query")
}

// SortHBARules orders rule objects as hba.md §2 says: rules with an order stable-
// sorted by it (ties keep list order, so defaults precede user rules), then the rules
// without one in list order.
func SortHBARules(rules []*compiler.HBARule) []*compiler.HBARule {
	var ordered, rest []*compiler.HBARule
	for _, r := range rules {
		if r.Order != nil {
			ordered = append(ordered, r)
		} else {
			rest = append(rest, r)
		}
	}
	sort.SliceStable(ordered, func(i, j int) bool { return *ordered[i].Order < *ordered[j].Order })
	return append(ordered, rest...)
}

// BuildHBA expands the pg_hba.conf (pgb false) or pgb_hba.conf rules of inst.
func BuildHBA(f *compiler.Fleet, cl *compiler.Cluster, inst *compiler.Instance, pgb bool) (*HBAFile, error) {
	return buildHBA(f, cl, inst, pgb, nil)
}

// hbaCache keeps the expanded lines of each rule object between the members of one
// cluster: they depend only on the aliases, pg_version and the address environment,
// which are the same on every member in practice, while role filtering is per member.
type hbaCache struct {
	key   string
	rules map[*compiler.HBARule]hbaExpanded
}

type hbaExpanded struct {
	lines []HBALine
	raw   bool
	empty bool
}

func (c *hbaCache) reset(key string) {
	if c.rules == nil || c.key != key {
		c.key, c.rules = key, map[*compiler.HBARule]hbaExpanded{}
	}
}

func hbaEnvKey(h *HBAFile, t hbaspec.Target) string {
	a, e := h.Aliases, h.Env
	parts := append([]string{a.DBSU, a.Repl, a.Monitor, a.Admin, fmt.Sprint(t.PGVersion), e.AdminIP}, e.Intranet...)
	return strings.Join(parts, "\x00")
}

func buildHBA(f *compiler.Fleet, cl *compiler.Cluster, inst *compiler.Instance, pgb bool, cache *hbaCache) (*HBAFile, error) {
	h := &HBAFile{PGB: pgb, Cluster: cl, Inst: inst, Env: compiler.HBAEnv(f, cl, inst), Aliases: compiler.HBAAliases(inst)}
	t := compiler.HBATarget(inst, pgb)
	if cache == nil {
		cache = &hbaCache{}
	}
	cache.reset(hbaEnvKey(h, t))
	rules := SortHBARules(compiler.HBARulesOf(f, cl, inst, pgb))
	h.Blocks = make([]HBABlock, 0, len(rules))
	for _, r := range rules {
		x, ok := cache.rules[r]
		if !ok {
			var err error
			if x, err = expandHBARule(r, h, t); err != nil {
				return nil, err
			}
			cache.rules[r] = x
		}
		b := HBABlock{Rule: r, Role: r.Role, Enabled: HBAEnabled(r.Role, inst), Raw: x.raw, Lines: x.lines, Empty: x.empty}
		if b.Role == "" {
			b.Role = "default"
		}
		h.Blocks = append(h.Blocks, b)
	}
	return h, nil
}

func expandHBARule(r *compiler.HBARule, h *HBAFile, t hbaspec.Target) (hbaExpanded, error) {
	var x hbaExpanded
	spec := r.HBASpec()
	if spec.Raw() {
		x.raw = true
		x.lines = make([]HBALine, 0, len(r.Rules))
		for _, s := range r.Rules {
			if err := hbafmt.CheckLine(s); err != nil {
				return x, fmt.Errorf("%s: raw rule line %w", r.Src.Path, err)
			}
			l, ok := hbaspec.ParseRaw(s)
			x.lines = append(x.lines, HBALine{Text: s, Spec: l, Lint: ok})
		}
		return x, nil
	}
	p, errs := hbaspec.Parse(spec, h.Aliases, t)
	if len(errs) > 0 {
		// Stage 4 reports these; a fleet that reaches render has none.
		return x, fmt.Errorf("%s: %w", r.Src.Path, errs[0])
	}
	lines := hbaspec.Expand(p, h.Env, t)
	x.empty = len(lines) == 0
	x.lines = make([]HBALine, 0, len(lines))
	for _, l := range lines {
		text, err := hbaLineText(l)
		if err != nil {
			return x, fmt.Errorf("%s: %w", r.Src.Path, err)
		}
		x.lines = append(x.lines, HBALine{Text: text, Spec: l, Lint: true})
	}
	return x, nil
}

// hbaLineText formats one alias-form line (hba.md §6): the column widths of Pigsty's
// template, values longer than a column are not cut, trailing blanks trimmed.
func hbaLineText(l hbaspec.Line) (string, error) {
	db, err := hbaItems(l.DB)
	if err != nil {
		return "", fmt.Errorf("db %w", err)
	}
	user, err := hbaItems(l.User)
	if err != nil {
		return "", fmt.Errorf("user %w", err)
	}
	s := fmt.Sprintf("%-8s %-18s %-18s %-18s %s", l.Type, db, user, l.Addr, l.Method)
	return strings.TrimRight(s, " "), nil
}

// hbaItems writes a comma list with the one HBA quoter: keywords bare, names quoted
// when they would read as a keyword or contain syntax characters.
func hbaItems(items []hbaspec.Item) (string, error) {
	out := make([]string, len(items))
	for i, it := range items {
		var s string
		var err error
		switch it.Kind {
		case hbaspec.ItemName:
			s, err = hbafmt.Name(it.Value)
		case hbaspec.ItemGroup:
			s, err = hbafmt.Group(it.Value)
		case hbaspec.ItemRegex:
			s, err = hbafmt.Regex(it.Value)
		default: // keywords
			s = it.Value
		}
		if err != nil {
			return "", fmt.Errorf("item %q %w", it.String(), err)
		}
		out[i] = s
	}
	return strings.Join(out, ","), nil
}

// Bytes renders the file (hba.md §6).
func (h *HBAFile) Bytes() ([]byte, error) {
	var b bytes.Buffer
	size := 640
	for _, blk := range h.Blocks {
		size += len(blk.Rule.Title) + 32
		for _, l := range blk.Lines {
			size += len(l.Text) + 2
		}
	}
	b.Grow(size)
	comment := func(text string) error {
		c, err := hbafmt.Comment(text)
		if err != nil {
			return err
		}
		b.WriteString(strings.TrimRight(c, " "))
		b.WriteByte('\n')
		return nil
	}
	name := "pg_hba.conf"
	if h.PGB {
		name = "pgb_hba.conf"
	}
	in := h.Inst
	if err := comment(fmt.Sprintf("pgcc: %s for %s [%s], cluster %s", name, in.Name, in.Role, h.Cluster.Name)); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	if h.PGB {
		if err := comment(fmt.Sprintf("PGBOUNCER HBA RULES FOR %s @ %s:%d", in.Name, in.IP, in.Int("pgbouncer_port"))); err != nil {
			return nil, err
		}
		b.WriteByte('\n')
	}
	header := [][2]string{
		{"", "addr alias"},
		{"local", in.Str("pg_localhost")},
		{"admin", h.Env.AdminIP},
		{"infra", strings.Join(h.Env.InfraIPs, ", ")},
		{"intra", strings.Join(h.Env.Intranet, ", ")},
		{"cluster", strings.Join(h.Env.ClusterIPs, ", ")},
	}
	for _, kv := range header {
		text := kv[1]
		if kv[0] != "" {
			text = fmt.Sprintf("%-10s: %s", kv[0], kv[1])
		}
		if err := comment(text); err != nil {
			return nil, fmt.Errorf("header %s %w", kv[0], err)
		}
	}
	b.WriteByte('\n')
	users := [][2]string{
		{"", "user alias"},
		{"dbsu", h.Aliases.DBSU},
		{"repl", h.Aliases.Repl},
		{"monitor", h.Aliases.Monitor},
		{"admin", h.Aliases.Admin},
	}
	for _, kv := range users {
		text := kv[1]
		if kv[0] != "" {
			text = fmt.Sprintf("%-8s:  %s", kv[0], kv[1])
		}
		if err := comment(text); err != nil {
			return nil, fmt.Errorf("header %s %w", kv[0], err)
		}
	}
	for _, blk := range h.Blocks {
		b.WriteByte('\n')
		title := strings.TrimSpace(blk.Rule.Title + " [" + blk.Role + "]")
		if !blk.Enabled {
			title += " [DISABLED]"
		}
		if err := comment(title); err != nil {
			return nil, fmt.Errorf("%s: title %w", blk.Rule.Src.Path, err)
		}
		for _, l := range blk.Lines {
			if !blk.Enabled {
				b.WriteByte('#')
			}
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}

// HBAPath returns the bundle path of an instance's pg_hba.conf or pgb_hba.conf.
func HBAPath(cl *compiler.Cluster, inst *compiler.Instance, pgb bool) string {
	if pgb {
		return cl.Name + "/" + inst.Name + "/pgbouncer/pgb_hba.conf"
	}
	return cl.Name + "/" + inst.Name + "/pg_hba.conf"
}

func renderHBA(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	var files []File
	caches := [2]hbaCache{}
	for _, inst := range cl.Members {
		for k, pgb := range []bool{false, true} {
			if pgb && !inst.Bool("pgbouncer_enabled") {
				continue
			}
			h, err := buildHBA(ctx.Fleet, cl, inst, pgb, &caches[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", inst.Name, err)
			}
			data, err := h.Bytes()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", inst.Name, err)
			}
			files = append(files, File{Path: HBAPath(cl, inst, pgb), Data: data, Mode: ModePublic})
		}
	}
	return files, nil
}
