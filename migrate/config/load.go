package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Vars are --var KEY=VALUE overrides, in command-line order. Keys may be
	// dotted (schema.keep_owner); VALUE is parsed as YAML.
	Vars []string
	// Getenv resolves {env: NAME} secrets; nil means os.Getenv. When
	// ResolveSecrets is false, {env:} is only syntax-checked (plan and kit
	// open no connection and need no password).
	Getenv         func(string) string
	ResolveSecrets bool
}

// ErrUsage marks errors that are bad input (exit 2). Errors (validation) is
// one of them; callers test with errors.Is or errors.As.
var ErrUsage = errors.New("bad input")

// Load reads and validates a migration file.
func Load(path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read migration file: %w: %w", ErrUsage, err)
	}
	return Parse(path, data, opts)
}

// Parse validates migration file bytes; path names the file in errors.
func Parse(path string, data []byte, opts LoadOptions) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{yamlError(path, err)}
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if root == nil || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	}
	d := &decoder{file: path, getenv: opts.Getenv, resolve: opts.ResolveSecrets}
	if d.getenv == nil {
		d.getenv = os.Getenv
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", "the migration file must be a mapping of variables")
		return nil, d.errs
	}
	for i, v := range opts.Vars {
		d.applyVar(root, i+1, v)
	}
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	cfg := &Config{File: path, Options: Defaults()}
	d.top(root, cfg)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	cfg.derive()
	d.crossChecks(root, cfg)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(path string, err error) Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Error{File: path, Line: line, Col: 1, Msg: m[2]}
	}
	return Error{File: path, Line: 1, Col: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

type decoder struct {
	file    string
	errs    Errors
	getenv  func(string) string
	resolve bool
}

// Nodes that came from --var carry a negative line: -(index of the --var).
func (d *decoder) pos(n *yaml.Node) (string, int, int) {
	if n.Line < 0 {
		return "--var", -n.Line, 1
	}
	return d.file, n.Line, n.Column
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	f, l, c := d.pos(n)
	d.errs = append(d.errs, Error{File: f, Line: l, Col: c, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func markVar(n *yaml.Node, idx int) {
	n.Line, n.Column = -idx, 1
	for _, c := range n.Content {
		markVar(c, idx)
	}
}

// applyVar sets a dotted key in the document, creating mappings as needed.
func (d *decoder) applyVar(root *yaml.Node, idx int, kv string) {
	marker := &yaml.Node{Line: -idx, Column: 1}
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		d.errorf(marker, "", "--var %q: want KEY=VALUE", kv)
		return
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(v), &val); err != nil {
		d.errorf(marker, k, "value is not valid YAML")
		return
	}
	var vn *yaml.Node
	if val.Kind == yaml.DocumentNode && len(val.Content) == 1 {
		vn = val.Content[0]
	} else {
		vn = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	}
	markVar(vn, idx)
	parts := strings.Split(k, ".")
	cur := root
	for i, p := range parts {
		if p == "" {
			d.errorf(marker, k, "empty key segment")
			return
		}
		var found *yaml.Node
		for j := 0; j+1 < len(cur.Content); j += 2 {
			if cur.Content[j].Value == p {
				found = cur.Content[j+1]
				if i == len(parts)-1 {
					cur.Content[j+1] = vn
				}
				break
			}
		}
		if i == len(parts)-1 {
			if found == nil {
				kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p, Line: -idx, Column: 1}
				cur.Content = append(cur.Content, kn, vn)
			}
			return
		}
		if found == nil {
			found = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: -idx, Column: 1}
			kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p, Line: -idx, Column: 1}
			cur.Content = append(cur.Content, kn, found)
		}
		if found.Kind != yaml.MappingNode {
			d.errorf(marker, strings.Join(parts[:i+1], "."), "is not a mapping")
			return
		}
		cur = found
	}
}

type fieldFn func(n *yaml.Node, path string)

// mapping walks a mapping node in file order; unknown keys are errors.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]fieldFn, order []string) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return seen
		}
		d.errorf(n, path, "must be a mapping")
		return seen
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := kn.Value
		p := join(path, key)
		fn, ok := fields[key]
		if !ok {
			d.errorf(kn, p, "unknown key; want one of %s", strings.Join(order, ", "))
			continue
		}
		if _, dup := seen[key]; dup {
			d.errorf(kn, p, "duplicate key")
			continue
		}
		seen[key] = vn
		fn(vn, p)
	}
	return seen
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) str(dst *string) fieldFn {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, path, "must be a string")
			return
		}
		if n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" {
			d.errorf(n, path, "must be a string")
			return
		}
		*dst = n.Value
	}
}

// optStr is a string that may be empty or null.
func (d *decoder) optStr(dst *string) fieldFn {
	return func(n *yaml.Node, path string) {
		if isNull(n) {
			*dst = ""
			return
		}
		d.str(dst)(n, path)
	}
}

func (d *decoder) boolean(dst *bool) fieldFn {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, path, "must be true or false")
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "must be true or false")
			return
		}
		*dst = b
	}
}

func (d *decoder) integer(dst *int, min int) fieldFn {
	return func(n *yaml.Node, path string) {
		var v int64
		if !d.intValue(n, path, &v) {
			return
		}
		if v < int64(min) {
			d.errorf(n, path, "%d is below the minimum %d", v, min)
			return
		}
		*dst = int(v)
	}
}

func (d *decoder) integer64(dst *int64, min int64) fieldFn {
	return func(n *yaml.Node, path string) {
		var v int64
		if !d.intValue(n, path, &v) {
			return
		}
		if v < min {
			d.errorf(n, path, "%d is below the minimum %d", v, min)
			return
		}
		*dst = v
	}
}

func (d *decoder) intValue(n *yaml.Node, path string, v *int64) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "must be an integer")
		return false
	}
	if err := n.Decode(v); err != nil {
		d.errorf(n, path, "must be an integer")
		return false
	}
	return true
}

func (d *decoder) enum(dst *string, vals ...string) fieldFn {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, path, "must be one of %s", enumList(vals))
			return
		}
		for _, v := range vals {
			if n.Value == v {
				*dst = v
				return
			}
		}
		d.errorf(n, path, "%q is not allowed; want %s", n.Value, enumList(vals))
	}
}

// autoOnOff is an auto/on/off enum that also takes YAML booleans as on/off.
func (d *decoder) autoOnOff(dst *string) fieldFn {
	return func(n *yaml.Node, p string) {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
			var b bool
			_ = n.Decode(&b)
			*dst = map[bool]string{true: "on", false: "off"}[b]
			return
		}
		d.enum(dst, "auto", "on", "off")(n, p)
	}
}

var sizeRE = regexp.MustCompile(`^([0-9]+)\s*(B|kB|MB|GB|TB)?$`)

// ParseSize reads a size in PostgreSQL units (kB = 1024 bytes, MB = 2^20 …);
// a bare number is bytes.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size; want a number with B, kB, MB, GB or TB", s)
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	mult := map[string]int64{"": 1, "B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[m[2]]
	if v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return v * mult, nil
}

func (d *decoder) size(dst *int64) fieldFn {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, path, "must be a size such as 16MB")
			return
		}
		v, err := ParseSize(n.Value)
		if err != nil {
			d.errorf(n, path, "%s", err.Error())
			return
		}
		*dst = v
	}
}

func (d *decoder) duration(dst *Duration) fieldFn {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, path, "must be a duration such as 200ms")
			return
		}
		v, err := time.ParseDuration(n.Value)
		if err != nil || v < 0 {
			d.errorf(n, path, "%q is not a duration; want Go syntax such as 200ms, 5s or 10m", n.Value)
			return
		}
		*dst = Duration(v)
	}
}

func (d *decoder) strList(dst *[]string) fieldFn {
	return func(n *yaml.Node, path string) {
		if isNull(n) {
			*dst = []string{}
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "must be a list of strings")
			return
		}
		out := []string{}
		for i, c := range n.Content {
			var s string
			d.str(&s)(c, fmt.Sprintf("%s[%d]", path, i))
			out = append(out, s)
		}
		*dst = out
	}
}

func (d *decoder) secret(dst *Secret) fieldFn {
	return func(n *yaml.Node, path string) {
		switch {
		case isNull(n):
			*dst = Secret{}
		case n.Kind == yaml.ScalarNode:
			*dst = Secret{Inline: n.Value, set: true, value: n.Value, ok: n.Value != ""}
		case n.Kind == yaml.MappingNode:
			var env string
			seen := d.mapping(n, path, map[string]fieldFn{"env": d.str(&env)}, []string{"env"})
			if _, ok := seen["env"]; !ok {
				d.errorf(n, path, "want a password string or {env: NAME}")
				return
			}
			s := Secret{Env: env, set: true}
			if d.resolve {
				v := d.getenv(env)
				if v == "" {
					d.errorf(seen["env"], path+".env", "environment variable %s is not set", env)
					return
				}
				s.value, s.ok = v, true
			}
			*dst = s
		default:
			d.errorf(n, path, "want a password string or {env: NAME}")
		}
	}
}

// any accepts a value that Pigsty defines but does not use.
func (d *decoder) ignored() fieldFn { return func(*yaml.Node, string) {} }

var topOrder = []string{
	"context_dir", "src_cls", "src_db", "src_ip", "src_list", "src_dns", "src_vip", "src_pg", "sub_conn",
	"dst_cls", "dst_db", "dst_ip", "dst_dns", "dst_vip", "dst_user", "dst_pg",
	"pg_dbsu", "pg_replication_username", "pg_replication_password", "pg_admin_username", "pg_admin_password",
	"pg_monitor_username", "pg_monitor_password",
	"tables", "schema", "objects", "copy", "subscription", "seq_offset", "lag", "pause_budget", "catchup",
	"fence", "ddl_guard", "switch", "verify", "rollback", "metrics_listen",
}

func (d *decoder) top(root *yaml.Node, c *Config) {
	c.ContextDir = "~/migration"
	c.PgDbsu = "postgres"
	c.ReplUser, c.AdminUser, c.MonitorUser = "replicator", "dbuser_dba", "dbuser_monitor"
	o := &c.Options
	var excl []string
	exclNode := (*yaml.Node)(nil)
	globNodes := map[string]*yaml.Node{}
	fields := map[string]fieldFn{
		"context_dir":             d.str(&c.ContextDir),
		"src_cls":                 d.str(&c.SrcCls),
		"src_db":                  d.str(&c.SrcDB),
		"src_ip":                  d.str(&c.SrcIP),
		"src_list":                d.ignored(),
		"src_dns":                 d.ignored(),
		"src_vip":                 d.ignored(),
		"src_pg":                  d.optStr(&c.SrcPG),
		"sub_conn":                d.optStr(&c.SubConn),
		"dst_cls":                 d.str(&c.DstCls),
		"dst_db":                  d.str(&c.DstDB),
		"dst_ip":                  d.str(&c.DstIP),
		"dst_dns":                 d.ignored(),
		"dst_vip":                 d.ignored(),
		"dst_user":                d.ignored(),
		"dst_pg":                  d.optStr(&c.DstPG),
		"pg_dbsu":                 d.str(&c.PgDbsu),
		"pg_replication_username": d.str(&c.ReplUser),
		"pg_replication_password": d.secret(&c.ReplPassword),
		"pg_admin_username":       d.str(&c.AdminUser),
		"pg_admin_password":       d.secret(&c.AdminPassword),
		"pg_monitor_username":     d.str(&c.MonitorUser),
		"pg_monitor_password":     d.secret(&c.MonitorPassword),
		"tables": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"include": func(n *yaml.Node, p string) { globNodes["tables.include"] = n; d.strList(&o.Tables.Include)(n, p) },
				"exclude": func(n *yaml.Node, p string) { globNodes["tables.exclude"] = n; d.strList(&o.Tables.Exclude)(n, p) },
				"no_key":  d.enum(&o.Tables.NoKey, "block", "skip", "apply_fix"),
			}, []string{"include", "exclude", "no_key"})
		},
		"schema": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"copy": d.boolean(&o.Schema.Copy),
				"exclude_schemas": func(n *yaml.Node, p string) {
					exclNode = n
					if n.Kind == yaml.ScalarNode && n.Value == "default" {
						excl = nil
						return
					}
					d.strList(&excl)(n, p)
					if excl == nil {
						excl = []string{}
					}
				},
				"keep_owner":      d.boolean(&o.Schema.KeepOwner),
				"keep_privileges": d.boolean(&o.Schema.KeepPrivileges),
			}, []string{"copy", "exclude_schemas", "keep_owner", "keep_privileges"})
		},
		"objects": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"large_objects": d.enum(&o.Objects.LargeObjects, "block", "skip"),
				"unlogged":      d.enum(&o.Objects.Unlogged, "skip", "block"),
				"matviews":      d.enum(&o.Objects.Matviews, "refresh", "skip"),
			}, []string{"large_objects", "unlogged", "matviews"})
		},
		"copy": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"method":          d.enum(&o.Copy.Method, "snapshot", "subscription"),
				"workers":         d.integer(&o.Copy.Workers, 1),
				"chunk_bytes":     d.size(&o.Copy.ChunkBytes),
				"format":          d.enum(&o.Copy.Format, "auto", "binary", "text"),
				"post_data_jobs":  d.integer(&o.Copy.PostDataJobs, 1),
				"truncate_target": d.boolean(&o.Copy.TruncateTarget),
				"freeze":          d.autoOnOff(&o.Copy.Freeze),
			}, []string{"method", "workers", "chunk_bytes", "format", "post_data_jobs", "truncate_target", "freeze"})
		},
		"subscription": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"streaming":         d.autoOnOff(&o.Subscription.Streaming),
				"binary":            d.boolean(&o.Subscription.Binary),
				"conninfo_password": d.boolean(&o.Subscription.ConninfoPassword),
			}, []string{"streaming", "binary", "conninfo_password"})
		},
		"seq_offset": d.integer64(&o.SeqOffset, 0),
		"lag": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"ready_bytes":     d.size(&o.Lag.ReadyBytes),
				"enter_bytes":     d.size(&o.Lag.EnterBytes),
				"stable_samples":  d.integer(&o.Lag.StableSamples, 1),
				"sample_interval": d.duration(&o.Lag.SampleInterval),
				"enter_timeout":   d.duration(&o.Lag.EnterTimeout),
			}, []string{"ready_bytes", "enter_bytes", "stable_samples", "sample_interval", "enter_timeout"})
		},
		"pause_budget": d.duration(&o.PauseBudget),
		"catchup":      d.enum(&o.Catchup, "marker", "slot"),
		"fence": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"methods": func(n *yaml.Node, p string) {
					var ms []string
					d.strList(&ms)(n, p)
					for i, m := range ms {
						switch m {
						case "lock", "trigger", "revoke", "connlimit", "terminate":
						default:
							d.errorf(n.Content[i], fmt.Sprintf("%s[%d]", p, i), "%q is not allowed; want lock, trigger, revoke, connlimit or terminate", m)
						}
					}
					o.Fence.Methods = ms
				},
				"lock_timeout":          d.duration(&o.Fence.LockTimeout),
				"lock_retries":          d.integer(&o.Fence.LockRetries, 0),
				"terminate_passes":      d.integer(&o.Fence.TerminatePasses, 1),
				"terminate_interval":    d.duration(&o.Fence.TerminateInterval),
				"exempt_roles":          d.strList(&o.Fence.ExemptRoles),
				"require_full_coverage": d.boolean(&o.Fence.RequireFullCoverage),
				"release_timeout":       d.duration(&o.Fence.ReleaseTimeout),
			}, []string{"methods", "lock_timeout", "lock_retries", "terminate_passes", "terminate_interval", "exempt_roles", "require_full_coverage", "release_timeout"})
		},
		"ddl_guard": d.enum(&o.DDLGuard, "block", "off"),
		"switch": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"mechanism": d.enum(&o.Switch.Mechanism, "none", "pgbouncer", "command"),
				"pgbouncer": func(n *yaml.Node, p string) {
					if isNull(n) {
						o.Switch.Pgbouncer = []PgbouncerEntry{}
						return
					}
					if n.Kind != yaml.SequenceNode {
						d.errorf(n, p, "must be a list of entries")
						return
					}
					out := []PgbouncerEntry{}
					for i, c := range n.Content {
						var e PgbouncerEntry
						d.mapping(c, fmt.Sprintf("%s[%d]", p, i), map[string]fieldFn{
							"admin_url":   d.str(&e.AdminURL),
							"database":    d.str(&e.Database),
							"config_file": d.str(&e.ConfigFile),
							"ssh":         d.optStr(&e.SSH),
							"target":      d.str(&e.Target),
						}, []string{"admin_url", "database", "config_file", "ssh", "target"})
						out = append(out, e)
					}
					o.Switch.Pgbouncer = out
				},
				"command": func(n *yaml.Node, p string) {
					d.mapping(n, p, map[string]fieldFn{
						"run":     d.optStr(&o.Switch.Command.Run),
						"revert":  d.optStr(&o.Switch.Command.Revert),
						"timeout": d.duration(&o.Switch.Command.Timeout),
					}, []string{"run", "revert", "timeout"})
				},
			}, []string{"mechanism", "pgbouncer", "command"})
		},
		"verify": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"mode":            d.enum(&o.Verify.Mode, "hash", "count", "off"),
				"after_cutover":   d.boolean(&o.Verify.AfterCutover),
				"jobs":            d.integer(&o.Verify.Jobs, 1),
				"chunk_rows":      d.integer64(&o.Verify.ChunkRows, 1),
				"leaf_rows":       d.integer64(&o.Verify.LeafRows, 1),
				"max_report_rows": d.integer(&o.Verify.MaxReportRows, 0),
				"recheck":         d.integer(&o.Verify.Recheck, 0),
			}, []string{"mode", "after_cutover", "jobs", "chunk_rows", "leaf_rows", "max_report_rows", "recheck"})
		},
		"rollback": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]fieldFn{
				"enabled": d.boolean(&o.Rollback.Enabled),
				"conn":    d.optStr(&o.Rollback.Conn),
			}, []string{"enabled", "conn"})
		},
		"metrics_listen": d.optStr(&o.MetricsListen),
	}
	seen := d.mapping(root, "", fields, topOrder)
	for _, k := range []string{"src_cls", "src_db", "src_ip", "dst_cls", "dst_db", "dst_ip"} {
		if _, ok := seen[k]; !ok {
			d.errorf(root, k, "required key is missing")
		}
	}
	if _, ok := seen["sub_conn"]; ok && c.SubConn != "" {
		c.SubConnGiven = true
	}
	if exclNode != nil && excl != nil {
		for i, g := range excl {
			if !schemaGlobRE.MatchString(g) {
				d.errorf(exclNode.Content[i], fmt.Sprintf("schema.exclude_schemas[%d]", i), "%q is not a schema pattern; want letters, digits, _, $, - and the wildcards * and ?", g)
			}
		}
		// pgmigrate's own schema is never migrated, whatever the list says.
		o.Schema.ExcludeSchemas = append(excl, "pgmigrate")
	}
	for _, pv := range []struct {
		name string
		v    []string
	}{{"tables.include", o.Tables.Include}, {"tables.exclude", o.Tables.Exclude}} {
		for i, g := range pv.v {
			if !tableGlobRE.MatchString(g) {
				at := root
				if n := globNodes[pv.name]; n != nil && i < len(n.Content) {
					at = n.Content[i]
				}
				d.errorf(at, fmt.Sprintf("%s[%d]", pv.name, i), "%q is not a table pattern; want schema.table with the wildcards * and ?", g)
			}
		}
	}
	for k, v := range map[string]*string{"src_cls": &c.SrcCls, "src_db": &c.SrcDB, "dst_cls": &c.DstCls, "dst_db": &c.DstDB} {
		if n, ok := seen[k]; ok && *v == "" {
			d.errorf(n, k, "must not be empty")
		}
	}
}

var (
	schemaGlobRE = regexp.MustCompile(`^\^?[A-Za-z0-9_$*?-]+$`)
	tableGlobRE  = regexp.MustCompile(`^[A-Za-z0-9_$*?.-]+$`)
)

func (d *decoder) crossChecks(root *yaml.Node, c *Config) {
	o := &c.Options
	if o.Lag.EnterBytes > o.Lag.ReadyBytes {
		d.errorf(root, "lag.enter_bytes", "%d bytes is above lag.ready_bytes (%d bytes)", o.Lag.EnterBytes, o.Lag.ReadyBytes)
	}
	if o.Switch.Mechanism == "pgbouncer" && len(o.Switch.Pgbouncer) == 0 {
		d.errorf(root, "switch.pgbouncer", "switch.mechanism pgbouncer needs at least one entry")
	}
	if o.Switch.Mechanism == "command" && strings.TrimSpace(o.Switch.Command.Run) == "" {
		d.errorf(root, "switch.command.run", "switch.mechanism command needs a run command")
	}
	hasPermanent := false
	for _, m := range o.Fence.Methods {
		if m == "trigger" || m == "revoke" {
			hasPermanent = true
		}
	}
	if !hasPermanent {
		d.errorf(root, "fence.methods", "needs trigger or revoke: only a permanent layer keeps a released queue off the source")
	}
	for _, u := range []struct{ k, v string }{{"src_pg", c.SrcPG}, {"dst_pg", c.DstPG}} {
		if _, err := ParseURL(u.v); err != nil {
			d.errorf(root, u.k, "%s", err.Error())
		}
	}
	if _, err := ParseConninfo(c.SubConn); err != nil {
		d.errorf(root, "sub_conn", "%s", err.Error())
	}
	if o.Rollback.Conn != "" {
		if _, err := ParseConninfo(o.Rollback.Conn); err != nil {
			d.errorf(root, "rollback.conn", "%s", err.Error())
		}
	}
}
