package compiler

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/pgcc-dev/pgcc/schema"
	"github.com/pgcc-dev/pgcc/tuning"
)

// This file glues the pure calculators of package tuning to the resolved
// model (tuning.md; patroni.md §2): the tuning.Input of an instance, its cached
// parameter set, its pg_rto timings, and the stage-4 rule that reports invalid
// tuning input and the tuning / patroni warnings at the variable responsible.

// tuningVars are the variables an instance's tuning.Input is built from, in
// the order explain and the param-mismatch lint list them.
var tuningVars = []string{"node_cpu", "node_mem_mb", "node_disk_gb", "pg_conf", "pg_version",
	"pg_storage_type", "pg_max_conn", "pg_shared_buffer_ratio", "pg_libs", "pg_io_method",
	"os_package", "os_version", "pg_stat_monitor_lowmem", "pg_default_service_dest", "pg_mode",
	"pg_cluster", "pgbackrest_enabled", "pg_log_dir", "pg_primary_db", "pg_parameters"}

// TuningVars returns the variables the tuning of an instance reads.
func TuningVars() []string { return append([]string(nil), tuningVars...) }

// ErrNoFacts is returned (wrapped) by TuningInput and Tuning for an instance
// that lacks a required hardware fact; the facts rule reports those hosts.
var ErrNoFacts = errors.New("missing hardware facts")

type tunedResult struct {
	res tuning.Result
	err error
}

// missingFacts lists the required facts the instance lacks (inventory.md
// §4.6): node_cpu, node_mem_mb, node_disk_gb, plus os_package and os_version
// when pg_io_method is auto on PostgreSQL 18+.
func (i *Instance) missingFacts() []string {
	var out []string
	for _, fv := range factVars {
		if !i.Has(fv) {
			out = append(out, fv)
		}
	}
	if i.Str("pg_io_method") == "auto" && i.Int("pg_version") >= 18 {
		for _, fv := range []string{"os_package", "os_version"} {
			if !i.Has(fv) {
				out = append(out, fv)
			}
		}
	}
	return out
}

// HasFacts reports whether every hardware fact tuning needs is resolved.
func (i *Instance) HasFacts() bool { return len(i.missingFacts()) == 0 }

// TuningInput builds the tuning.Input of the instance from its resolved
// variables (tuning.md §1). The error wraps ErrNoFacts when facts are missing,
// or is a *tuning.InputError for a pg_max_conn that is neither auto nor an
// integer.
func (i *Instance) TuningInput() (tuning.Input, error) {
	if miss := i.missingFacts(); len(miss) > 0 {
		return tuning.Input{}, fmt.Errorf("%s: %w %s", i.Name, ErrNoFacts, strings.Join(miss, ", "))
	}
	in := tuning.Input{
		CPU:                i.Int("node_cpu"),
		MemMB:              i.Int("node_mem_mb"),
		DiskGB:             i.Int("node_disk_gb"),
		Template:           i.Str("pg_conf"),
		PGVersion:          i.Int("pg_version"),
		Storage:            i.Str("pg_storage_type"),
		SharedBufferRatio:  i.Float("pg_shared_buffer_ratio"),
		Libs:               i.Str("pg_libs"),
		IOMethod:           i.Str("pg_io_method"),
		OSPackage:          i.Str("os_package"),
		OSVersion:          i.Int("os_version"),
		DefaultServiceDest: i.Str("pg_default_service_dest"),
		Mode:               i.Str("pg_mode"),
		Cluster:            i.Cluster,
		PgBackRest:         i.Bool("pgbackrest_enabled"),
		LogDir:             i.Str("pg_log_dir"),
		PrimaryDB:          i.Str("pg_primary_db"),
	}
	// A derived pg_stat_monitor_lowmem (template is tiny) is tuning's own
	// default: pass nil so explain says "default".
	if v, ok := i.Get("pg_stat_monitor_lowmem"); ok && v.Prov.Layer != LayerDerived {
		if b, isBool := v.V.(bool); isBool {
			in.StatMonitorLowMem = &b
		}
	}
	if cron, ok := i.Map("pg_parameters")["cron.database_name"]; ok {
		in.CronDatabase = paramText(cron)
	}
	n, err := tuning.ParseMaxConn(i.Str("pg_max_conn"))
	if err != nil {
		return in, err
	}
	in.MaxConn = n
	return in, nil
}

// Tuning returns the PostgreSQL parameters of the instance (tuning.md), computed
// once and cached. Errors: ErrNoFacts (wrapped) or tuning input errors
// (tuning.Errors lists them).
func (i *Instance) Tuning() (tuning.Result, error) {
	if p := i.tuned.Load(); p != nil {
		return p.res, p.err
	}
	in, err := i.TuningInput()
	var res tuning.Result
	if err == nil {
		res, err = i.peers.compute(in)
	}
	// Concurrent callers compute the same value; the first store wins.
	i.tuned.CompareAndSwap(nil, &tunedResult{res: res, err: err})
	p := i.tuned.Load()
	return p.res, p.err
}

// tuneMemo shares tuning results between the members of a cluster: members
// almost always have the same tuning.Input (facts and settings are usually
// set for the whole cluster), and a Result is about 20 KB. Sharing cut what
// the tuning of a 1000-cluster fleet keeps alive from 63 MB to 21 MB, and its
// CPU by two thirds. Results are only read by their users.
type tuneMemo struct {
	mu sync.Mutex
	m  map[tuneKey]*tunedResult
}

// tuneKey is a tuning.Input made comparable by value (the pointer to
// pg_stat_monitor_lowmem replaced by what it points to).
type tuneKey struct {
	in     tuning.Input
	lowMem int8 // 0 unset, 1 false, 2 true
}

// compute is tuning.Compute(in), shared with the peers that have the same
// input. A nil memo (an Instance not made by Compile) computes.
func (t *tuneMemo) compute(in tuning.Input) (tuning.Result, error) {
	if t == nil {
		return tuning.Compute(in)
	}
	k := tuneKey{in: in}
	if in.StatMonitorLowMem != nil {
		k.lowMem = 1
		if *in.StatMonitorLowMem {
			k.lowMem = 2
		}
		k.in.StatMonitorLowMem = nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.m[k]; ok {
		return r.res, r.err
	}
	res, err := tuning.Compute(in)
	if t.m == nil {
		t.m = map[tuneKey]*tunedResult{}
	}
	t.m[k] = &tunedResult{res: res, err: err}
	return res, err
}

// paramText is the text of a pg_parameters value as postgresql.auto.conf
// writes it: booleans on/off, numbers formatted, strings verbatim (tuning.md §7).
func paramText(v any) string {
	if b, ok := v.(bool); ok {
		if b {
			return "on"
		}
		return "off"
	}
	return AsString(v)
}

// ParamText is paramText for renderers and explain.
func ParamText(v any) string { return paramText(v) }

// RTO holds the timings of a pg_rto plan (patroni.md §2): the first five go
// to Patroni, the last five to HAProxy's default-server line.
type RTO struct {
	Plan                string // plan name; "" for the integer form
	Seconds             int    // the integer form's R (0 for a plan)
	TTL                 int
	LoopWait            int
	RetryTimeout        int
	PrimaryStartTimeout int
	SafetyMargin        int
	Inter               string // HAProxy times as written in the plan (1s, 0.5s)
	FastInter           string
	DownInter           string
	Rise                int
	Fall                int
}

// normPlan is the norm plan of patroni.md §2, used by the integer form when
// pg_rto_plan has no norm entry.
var normPlan = []any{int64(30), int64(5), int64(10), int64(25), int64(5), "2s", "1s", "2s", int64(3), int64(3)}

// RTO returns the instance's pg_rto timings: a plan name of pg_rto_plan, or
// integer seconds R (ttl = R; loop_wait = retry_timeout = primary_start_timeout
// = ceil(R / 3); safety margin and HAProxy timings of norm).
func (i *Instance) RTO() (RTO, error) {
	v, ok := i.Get("pg_rto")
	if !ok {
		return RTO{}, errors.New("pg_rto is not set")
	}
	plans := i.Map("pg_rto_plan")
	if name, isStr := v.V.(string); isStr {
		raw, ok := plans[name].([]any)
		if !ok {
			return RTO{}, fmt.Errorf("pg_rto: %q is not a plan of pg_rto_plan", name)
		}
		r, err := planTimings(raw)
		if err != nil {
			return RTO{}, fmt.Errorf("pg_rto_plan.%s: %w", name, err)
		}
		r.Plan = name
		return r, nil
	}
	sec, ok := AsInt(v.V)
	if !ok {
		return RTO{}, fmt.Errorf("pg_rto: %s is not a plan name or an integer", display(v.V))
	}
	norm, ok := plans["norm"].([]any)
	if !ok {
		norm = normPlan
	}
	r, err := planTimings(norm)
	if err != nil {
		if r, err = planTimings(normPlan); err != nil {
			return RTO{}, err
		}
	}
	// float64 and Ceil as the seed formula writes it (tuning.md §1 rule).
	third := int(math.Ceil(float64(sec) / 3))
	r.Seconds, r.TTL, r.LoopWait, r.RetryTimeout, r.PrimaryStartTimeout = sec, sec, third, third, third
	return r, nil
}

func planTimings(raw []any) (RTO, error) {
	if len(raw) != 10 {
		return RTO{}, fmt.Errorf("plan has %d items; want 10", len(raw))
	}
	var ints [10]int
	var strs [10]string
	for k, x := range raw {
		if k >= 5 && k <= 7 {
			strs[k] = AsString(x)
			continue
		}
		n, ok := AsInt(x)
		if !ok {
			return RTO{}, fmt.Errorf("item %d is %s; want an integer", k, display(x))
		}
		ints[k] = n
	}
	return RTO{TTL: ints[0], LoopWait: ints[1], RetryTimeout: ints[2], PrimaryStartTimeout: ints[3],
		SafetyMargin: ints[4], Inter: strs[5], FastInter: strs[6], DownInter: strs[7], Rise: ints[8], Fall: ints[9]}, nil
}

// IsStandbyLeader reports whether the instance leads a standby cluster: the
// primary of a cluster that replicates from pg_upstream (patroni.md §6).
func (i *Instance) IsStandbyLeader() bool { return i.Role == "primary" && i.Has("pg_upstream") }

// DelayIsZero reports whether a pg_delay value means no delay (0, "0", "0ms", …).
func DelayIsZero(v any) bool {
	s := strings.TrimRight(AsString(v), "abcdefghijklmnopqrstuvwxyz")
	return strings.Trim(s, "0") == "" // "" (unset), "0", "000"
}

func init() {
	RegisterRule(ClusterRule{Name: "tuning", Check: checkTuning})
	RegisterRule(ClusterRule{Name: "patroni", Check: checkPatroni})
}

// shapeFailedAny reports whether any of the named variables failed its shape
// check (stage 4 skips rules that read them: one mistake, one error).
func shapeFailedAny(f *Fleet, m *Instance, names []string) bool {
	for _, n := range names {
		if v, ok := m.Vars[n]; ok && f.ShapeFailed(v) {
			return true
		}
	}
	return false
}

// tuningField maps an InputError field to the variable it belongs to
// ("pg_parameters.cron.database_name" → pg_parameters) and the sub-path.
func tuningField(field string) (string, string) {
	if rest, ok := strings.CutPrefix(field, "pg_parameters."); ok {
		return "pg_parameters", rest
	}
	return field, ""
}

// atVar is at() for a variable, optionally pointing inside a map variable at
// one key (pg_parameters.cron.database_name).
func atVar(m *Instance, name, key string) (Pos, string) {
	if key != "" {
		if v, ok := m.Vars[name]; ok && v.node != nil && !v.Prov.Pos.IsZero() {
			for _, e := range v.node.Keys {
				if e.Key == key {
					return e.Value.Pos, v.Prov.Path + "." + key
				}
			}
		}
	}
	return at(m, name)
}

// checkTuning computes every member's parameters and reports invalid tuning
// input as errors and tuning.md's warnings (max-conn-high, libs-order,
// ext-shmem, shmem-budget, shared-buffer-ratio, io-method-ignored) at the
// variable responsible. Members without facts are skipped: the facts rule
// reports them (and pgcc lint says so once).
func checkTuning(f *Fleet, cl *Cluster) Diags {
	var out Diags
	for _, m := range cl.Members {
		if !m.HasFacts() || shapeFailedAny(f, m, tuningVars) {
			continue
		}
		res, err := m.Tuning()
		if err != nil {
			ies := tuning.Errors(err)
			if len(ies) == 0 {
				pos, path := m.KeyPos, schema.HostPath(m.Group, m.IP)
				out = append(out, Diag{Pos: pos, Path: path, Code: "tuning", Message: err.Error()})
			}
			for _, ie := range ies {
				name, key := tuningField(ie.Field)
				pos, path := atVar(m, name, key)
				out = append(out, Diag{Pos: pos, Path: path, Code: "tuning", Message: ie.Msg})
			}
			continue
		}
		for _, w := range res.Warnings {
			pos, path := at(m, w.Field)
			// No instance prefix: equal findings of several members at one
			// group variable collapse into one line (Diags.Sorted dedups).
			out = append(out, Diag{Pos: pos, Path: path, Code: w.Code, Severity: schema.SevWarning, Message: w.Message})
		}
	}
	return out
}

// checkPatroni reports the patroni.md warnings: rto-constraint (§2),
// crit-single-node (§3), checksum-forced (§5) and delay-ignored (§6).
func checkPatroni(f *Fleet, cl *Cluster) Diags {
	var out Diags
	warn := func(pos Pos, path, code, format string, args ...any) {
		out = append(out, Diag{Pos: pos, Path: path, Code: code, Severity: schema.SevWarning, Message: fmt.Sprintf(format, args...)})
	}
	ref := cl.Vars()
	if !shapeFailedAny(f, ref, []string{"pg_rto", "pg_rto_plan"}) {
		if r, err := ref.RTO(); err == nil && r.TTL < r.LoopWait+2*r.RetryTimeout {
			pos, path := at(ref, "pg_rto")
			what := fmt.Sprintf("pg_rto %d", r.Seconds)
			if r.Plan != "" {
				what = fmt.Sprintf("pg_rto plan %s", r.Plan)
				if v := ref.Vars["pg_rto_plan"]; v.Prov.Layer != LayerDefault {
					pos, path = at(ref, "pg_rto_plan")
				}
			}
			warn(pos, path, "rto-constraint", "%s gives ttl %d < loop_wait %d + 2 * retry_timeout %d; Patroni needs ttl >= loop_wait + 2 * retry_timeout",
				what, r.TTL, r.LoopWait, r.RetryTimeout)
		}
	}
	for _, m := range cl.Members {
		crit := false
		if v := m.Vars["pg_conf"]; !f.ShapeFailed(v) {
			t, _ := tuning.TemplateName(m.Str("pg_conf"))
			crit = t == tuning.Crit
		}
		if crit && len(cl.Members) == 1 {
			pos, path := at(m, "pg_conf")
			warn(pos, path, "crit-single-node", "cluster %s uses the crit template with one member: synchronous_mode_strict blocks every write while no synchronous standby exists", cl.Name)
		}
		if crit && !m.Bool("pg_checksum") && !f.ShapeFailed(m.Vars["pg_checksum"]) {
			pos, path := at(m, "pg_checksum")
			warn(pos, path, "checksum-forced", "pg_checksum is false but the crit template always initialises %s with data-checksums", m.Name)
		}
		if v, ok := m.Get("pg_delay"); ok && !f.ShapeFailed(v) && !DelayIsZero(v.V) && !m.IsStandbyLeader() {
			pos, path := at(m, "pg_delay")
			warn(pos, path, "delay-ignored", "pg_delay %s is ignored on %s: only the primary of a standby cluster (with pg_upstream) applies a delay", AsString(v.V), m.Name)
		}
	}
	return out
}
