package render

import (
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/compiler/hbaspec"
	"github.com/pgcc-dev/pgcc/schema"
)

// The HBA lints of hba.md §8. They read the expanded files (BuildHBA), so they see
// exactly the lines pgcc writes, per instance, enabled lines only, in file order.

func init() {
	RegisterLinter(Linter{Name: "hba", Run: LintHBA})
}

// LintHBA runs the HBA lints over every cluster's pg_hba.conf and pgb_hba.conf.
func LintHBA(f *compiler.Fleet) compiler.Diags {
	var out compiler.Diags
	for _, cl := range f.Clusters {
		for _, pgb := range []bool{false, true} {
			out = append(out, hbaLintFiles(f, cl, pgb)...)
		}
	}
	return out.Sorted()
}

// hbaFinding collects the instances on which one message holds for one rule.
type hbaFinding struct {
	src   compiler.Src
	code  string
	msg   string // with %s for the instance list, or complete when perInst is false
	insts []string
	inst  bool // the message names instances
}

type hbaFindings struct {
	byKey map[string]*hbaFinding
	order []string
}

func (fs *hbaFindings) add(src compiler.Src, code, msg, inst string) {
	key := src.Pos.String() + "\x00" + src.Path + "\x00" + code + "\x00" + msg
	f := fs.byKey[key]
	if f == nil {
		f = &hbaFinding{src: src, code: code, msg: msg, inst: inst != ""}
		fs.byKey[key] = f
		fs.order = append(fs.order, key)
	}
	if inst != "" && (len(f.insts) == 0 || f.insts[len(f.insts)-1] != inst) {
		f.insts = append(f.insts, inst)
	}
}

func (fs *hbaFindings) diags() compiler.Diags {
	var out compiler.Diags
	for _, k := range fs.order {
		f := fs.byKey[k]
		msg := f.msg
		if f.inst {
			msg = fmt.Sprintf(f.msg, strings.Join(f.insts, ", "))
		}
		out = append(out, compiler.Diag{Pos: f.src.Pos, Path: f.src.Path, Code: f.code, Severity: schema.SevWarning, Message: msg})
	}
	return out
}

func hbaRuleKey(r *compiler.HBARule) string { return r.Src.Pos.String() + "\x00" + r.Src.Path }

// orderText is how a rule is named next to its title: "(order 450)" / "(no order)".
func hbaOrderText(r *compiler.HBARule) string {
	if r.Order == nil {
		return "(no order)"
	}
	return fmt.Sprintf("(order %d)", *r.Order)
}

func hbaRuleRef(r *compiler.HBARule) string { return fmt.Sprintf("%q %s", r.Label(), hbaOrderText(r)) }

func hbaLintFiles(f *compiler.Fleet, cl *compiler.Cluster, pgb bool) compiler.Diags {
	fs := &hbaFindings{byKey: map[string]*hbaFinding{}}
	ref := cl.Vars()
	defined := hbaDefinedRoles(cl, ref)
	roles := map[string]bool{}
	for _, m := range cl.Members {
		roles[m.Role] = true
	}
	once := map[string]bool{}
	var cache hbaCache
	for _, inst := range cl.Members {
		if pgb && !inst.Bool("pgbouncer_enabled") {
			continue
		}
		h, err := buildHBA(f, cl, inst, pgb, &cache)
		if err != nil {
			continue // a fleet with errors is not linted; nothing to say here
		}
		hbaLintShadow(h, fs)
		for _, b := range h.Blocks {
			r := b.Rule
			rk := hbaRuleKey(r)
			if !once[rk] {
				once[rk] = true
				hbaLintRuleOnce(h, b, defined, roles, fs)
			}
			if !b.Enabled {
				continue
			}
			if b.Empty {
				fs.add(r.KeySrc("addr"), "hba-empty-alias",
					fmt.Sprintf("addr %s expands to no address; rule %q renders only its title", r.Addr, r.Label()), "")
			}
			world := ""
			for _, l := range b.Lines {
				if !l.Lint || !l.Spec.TCP() {
					continue
				}
				s := l.Spec
				if s.Method == "trust" && !s.Loopback() {
					users, _ := hbaItems(s.User)
					fs.add(r.Src, "hba-trust-remote", fmt.Sprintf("trust from %s lets anyone connect as %s without a password", hbaNetText(s), users), "")
				}
				if s.World() {
					switch {
					case s.Method == "md5":
						world = "weak md5 authentication from anywhere"
					case s.Method == "scram-sha-256" && s.Type == "host" && world == "":
						world = "password authentication from anywhere without SSL"
					}
				}
			}
			if world != "" {
				fs.add(r.Src, "hba-world-password", world, "")
			}
		}
	}
	return fs.diags()
}

func hbaNetText(l hbaspec.Line) string {
	if l.AnyIP {
		return "all"
	}
	return l.Net.String()
}

// lintRuleOnce runs the lints that do not depend on the instance.
func hbaLintRuleOnce(h *HBAFile, b HBABlock, defined map[string]bool, roles map[string]bool, fs *hbaFindings) {
	r := b.Rule
	if (b.Role == "standby" || b.Role == "delayed") && !roles[b.Role] {
		fs.add(r.KeySrc("role"), "hba-role-never", fmt.Sprintf("rule %q is never enabled (pg_role is never standby/delayed)", r.Label()), "")
	}
	if b.Raw {
		var set []string
		for _, k := range []string{"addr", "user", "db", "auth"} {
			if v, ok := r.Raw[k]; ok && compiler.AsString(v) != "" {
				set = append(set, k)
			}
		}
		if len(set) > 0 {
			fs.add(r.KeySrc("rules"), "hba-rules-addr", fmt.Sprintf("rule %q has rules and also %s; the raw rules win and %s ignored",
				r.Label(), strings.Join(set, ", "), map[bool]string{true: "it is", false: "those are"}[len(set) == 1]), "")
		}
	}
	userSrc := r.KeySrc("user")
	if b.Raw {
		userSrc = r.KeySrc("rules")
	}
	for _, l := range b.Lines {
		if !l.Lint {
			continue
		}
		for _, it := range l.Spec.User {
			if (it.Kind == hbaspec.ItemName || it.Kind == hbaspec.ItemGroup) && !defined[it.Value] &&
				!compiler.PredefinedIn(it.Value, h.Inst.Int("pg_version")) {
				fs.add(userSrc, "hba-unknown-role", fmt.Sprintf("role %q is not defined", it.Value), "")
			}
		}
	}
}

// definedRoles: pg_default_roles, pg_users that are not absent, and the dbsu
// (created by initdb).
func hbaDefinedRoles(cl *compiler.Cluster, ref *compiler.Instance) map[string]bool {
	out := map[string]bool{ref.Str("pg_dbsu"): true}
	for _, list := range [][]*compiler.User{cl.DefaultRoles, cl.Users} {
		for _, u := range list {
			if u.State != "absent" {
				out[u.Name] = true
			}
		}
	}
	return out
}

// lintShadow finds the rules whose every enabled line is covered by enabled lines of
// earlier rules (hba-shadowed, hba-dead-reject, hba-reject-blocks; only the most
// specific is reported).
func hbaLintShadow(h *HBAFile, fs *hbaFindings) {
	type flat struct {
		block int
		line  hbaspec.Line
	}
	var lines []flat
	for bi, b := range h.Blocks {
		if !b.Enabled {
			continue
		}
		for _, l := range b.Lines {
			if l.Lint {
				lines = append(lines, flat{bi, l.Spec})
			}
		}
	}
	pos := 0 // index in lines of the first line of the current block
	for _, b := range h.Blocks {
		if !b.Enabled || len(b.Lines) == 0 {
			continue
		}
		n := 0
		lintable := true
		for _, l := range b.Lines {
			if !l.Lint {
				lintable = false
			} else {
				n++
			}
		}
		start := pos
		pos += n
		if !lintable {
			continue
		}
		var covers []int // covering blocks, in file order
		seen := map[int]bool{}
		shadowed, allReject, selfReject := true, true, true
		for i := start; i < start+n; i++ {
			m := lines[i].line
			if m.Method != "reject" {
				selfReject = false
			}
			found := -1
			for j := 0; j < start; j++ {
				if hbaspec.Covers(lines[j].line, m) {
					found = j
					break
				}
			}
			if found < 0 {
				shadowed = false
				break
			}
			if lines[found].line.Method != "reject" {
				allReject = false
			}
			if cb := lines[found].block; !seen[cb] {
				seen[cb] = true
				covers = append(covers, cb)
			}
		}
		if !shadowed {
			continue
		}
		// covering blocks in file order
		hbaSortInts(covers)
		var refs []string
		for _, cb := range covers {
			refs = append(refs, hbaRuleRef(h.Blocks[cb].Rule))
		}
		list := strings.Join(refs, ", ")
		r := b.Rule
		label := strings.ReplaceAll(fmt.Sprintf("%q", r.Label()), "%", "%%")
		list = strings.ReplaceAll(list, "%", "%%")
		switch {
		case allReject:
			verb := "reject rule " + list + " matches first"
			if len(covers) > 1 {
				verb = "reject rules " + list + " match first"
			}
			fs.add(r.Src, "hba-reject-blocks", "rule "+label+" is unreachable on %s: "+verb, h.Inst.Name)
		case selfReject:
			verb := " accepts those connections first"
			if len(covers) > 1 {
				verb = " accept those connections first"
			}
			fs.add(r.Src, "hba-dead-reject", "reject rule "+label+" never applies on %s: "+list+verb, h.Inst.Name)
		default:
			fs.add(r.Src, "hba-shadowed", "rule "+label+" never matches on %s: covered by "+list, h.Inst.Name)
		}
	}
}

func hbaSortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
