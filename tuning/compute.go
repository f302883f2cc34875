package tuning

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Scope says where Patroni takes a parameter from (patroni.md §5, §7).
type Scope uint8

const (
	// DCS parameters go to bootstrap.dcs.postgresql.parameters: the cluster-wide
	// set the first leader writes to etcd.
	DCS Scope = iota
	// Local parameters go to the instance's postgresql.parameters
	// (unix_socket_directories only).
	Local
)

func (s Scope) String() string {
	if s == Local {
		return "local"
	}
	return "dcs"
}

// Param is one computed or fixed PostgreSQL parameter.
type Param struct {
	Name  string
	Value Value
	// Formula explains the value with its inputs, e.g.
	// "oltp: clamp(floor(shared_buffers 8192MB / max_connections 500), 64MB, 1GB)".
	Formula string
	// Restart is true for postmaster-context parameters: a change needs a
	// server restart, not a reload (PostgreSQL docs, pg_settings.context).
	Restart bool
	Scope   Scope
}

// Explain renders the `pgcc explain` line "name = value: formula".
func (p Param) Explain() string { return p.Name + " = " + p.Value.String() + ": " + p.Formula }

// Warning is a lint finding of tuning.md (codes max-conn-high, libs-order,
// ext-shmem, shmem-budget, shared-buffer-ratio, io-method-ignored). Field is
// the inventory variable to point at.
type Warning struct {
	Code    string
	Field   string
	Message string
}

func (w Warning) String() string { return w.Field + ": warning: " + w.Message + " [" + w.Code + "]" }

// Result is the parameter set of one instance.
type Result struct {
	Template       string // oltp, olap, crit, tiny
	PGVersion      int
	MaxConnections int     // N
	SharedBuffers  int     // SB, MiB
	ExtShmemMB     int     // E: extension shared memory counted by the budget lint (pg_stat_monitor)
	Params         []Param // sorted by name
	Warnings       []Warning
}

// Get returns the parameter called name.
func (r Result) Get(name string) (Param, bool) {
	i := sort.Search(len(r.Params), func(i int) bool { return r.Params[i].Name >= name })
	if i < len(r.Params) && r.Params[i].Name == name {
		return r.Params[i], true
	}
	return Param{}, false
}

// Scoped returns the parameters of one scope, sorted by name (DCS →
// bootstrap.dcs.postgresql.parameters, Local → postgresql.parameters).
func (r Result) Scoped(s Scope) []Param {
	var out []Param
	for _, p := range r.Params {
		if p.Scope == s {
			out = append(out, p)
		}
	}
	return out
}

// Names returns the parameter names, sorted.
func (r Result) Names() []string {
	out := make([]string, len(r.Params))
	for i, p := range r.Params {
		out[i] = p.Name
	}
	return out
}

// Compute returns the parameters Pigsty v4.5's template renders for in
// (tuning.md §2–§6). It is pure and deterministic. Invalid input gives the
// joined *InputError values of Validate.
func Compute(in Input) (Result, error) {
	if err := in.Validate(); err != nil {
		return Result{}, err
	}
	t, _ := TemplateName(in.Template)
	b := &builder{t: t, v: in.PGVersion, params: make([]Param, 0, 128)}
	libs := libTokens(in.Libs)
	has := func(tok string) bool {
		for _, l := range libs {
			if l == tok {
				return true
			}
		}
		return false
	}
	citus, tsdb := has("citus"), has("timescaledb")

	// All formulas in float64 on run-time values, then converted (tuning.md §1):
	// the templates (Jinja2, Python floats = IEEE double) multiply by decimal
	// literals whose binary values matter: M = 300, r = 0.14 gives
	// 42.00000000000001 and shared_buffers 43MB. (tuning.md's example
	// 1000 × 0.3 is exactly 300 in IEEE double, so 300MB; see TestFloatEdge.)
	C, M, D := float64(in.CPU), float64(in.MemMB), float64(in.DiskGB)
	r := in.SharedBufferRatio

	// §2 max_connections.
	N, nFormula := in.MaxConn, fmt.Sprintf("pg_max_conn %d", in.MaxConn)
	if in.MaxConn == MaxConnAuto {
		switch t {
		case OLTP, Crit:
			N = 1000
			if in.DefaultServiceDest == "pgbouncer" {
				N = 500
			}
			nFormula = fmt.Sprintf("pg_max_conn auto: 500 if pg_default_service_dest is pgbouncer, else 1000 (pg_default_service_dest %s)", in.DefaultServiceDest)
		case OLAP:
			N, nFormula = 500, "pg_max_conn auto: 500"
		case Tiny:
			N, nFormula = 250, "pg_max_conn auto: 250"
		}
	}
	b.add("max_connections", intv(N), nFormula)

	// §3 memory.
	SB := int(math.Ceil(M * r))
	b.add("shared_buffers", mb(SB), fmt.Sprintf("ceil(node_mem_mb %d * pg_shared_buffer_ratio %s)", in.MemMB, ftoa(r)))
	maintK, maintS := 0.25, "0.25"
	if t == OLAP {
		maintK, maintS = 0.5, "0.5"
	}
	sbf := float64(SB)
	b.add("maintenance_work_mem", mb(int(math.Ceil(sbf*maintK))), fmt.Sprintf("ceil(shared_buffers %dMB * %s)", SB, maintS))
	b.add("effective_cache_size", mb(in.MemMB-SB), fmt.Sprintf("node_mem_mb %d - shared_buffers %dMB", in.MemMB, SB))
	wmLo, wmHi := 64, 1024
	switch t {
	case OLAP:
		wmHi = 8192
	case Tiny:
		wmLo, wmHi = 16, 256
	}
	nf := float64(N)
	b.add("work_mem", mb(clamp(int(math.Floor(sbf/nf)), wmLo, wmHi)),
		fmt.Sprintf("clamp(floor(shared_buffers %dMB / max_connections %d), %s, %s)", SB, N, mbText(wmLo), mbText(wmHi)))

	// §3 CPU. W is the worker budget before the +8 the v4.5 templates add.
	var W int
	var wF string
	switch t {
	case OLTP, Crit:
		W, wF = max(in.CPU+8, 16), fmt.Sprintf("max(node_cpu %d + 8, 16)", in.CPU)
	case OLAP:
		W, wF = max(in.CPU+12, 20), fmt.Sprintf("max(node_cpu %d + 12, 20)", in.CPU)
	case Tiny:
		W, wF = max(in.CPU+4, 12), fmt.Sprintf("max(node_cpu %d + 4, 12)", in.CPU)
	}
	b.add("max_worker_processes", intv(W+8), wF+" + 8")
	cpu := in.CPU
	switch t {
	case OLTP, Crit:
		b.add("max_parallel_workers", intv(max(int(math.Ceil(C*0.5)), 2)), fmt.Sprintf("max(ceil(node_cpu %d * 0.5), 2)", cpu))
	case OLAP:
		b.add("max_parallel_workers", intv(max(int(math.Ceil(C*0.8)), 2)), fmt.Sprintf("max(ceil(node_cpu %d * 0.8), 2)", cpu))
	case Tiny:
		b.add("max_parallel_workers", intv(max(int(math.Floor(C*0.5)), 1)), fmt.Sprintf("max(floor(node_cpu %d * 0.5), 1)", cpu))
	}
	switch t {
	case OLTP:
		b.add("max_parallel_workers_per_gather", intv(clamp(int(math.Floor(C*0.2)), 2, 8)), fmt.Sprintf("clamp(floor(node_cpu %d * 0.2), 2, 8)", cpu))
	case OLAP:
		b.add("max_parallel_workers_per_gather", intv(max(int(math.Floor(C*0.5)), 2)), fmt.Sprintf("max(floor(node_cpu %d * 0.5), 2)", cpu))
	default:
		b.add("max_parallel_workers_per_gather", intv(0), "0 (parallel query off; enable as needed)")
	}
	if t == Tiny {
		b.add("max_parallel_maintenance_workers", intv(max(int(math.Floor(C*0.33)), 1)), fmt.Sprintf("max(floor(node_cpu %d * 0.33), 1)", cpu))
	} else {
		b.add("max_parallel_maintenance_workers", intv(max(int(math.Ceil(C*0.33)), 2)), fmt.Sprintf("max(ceil(node_cpu %d * 0.33), 2)", cpu))
	}
	// io_workers exists from PG 18; the v4.5 template emits it for 18 only (§5).
	if in.PGVersion == 18 {
		switch t {
		case OLTP:
			b.add("io_workers", intv(clamp(int(math.Ceil(C*0.25)), 4, 16)), fmt.Sprintf("clamp(ceil(node_cpu %d * 0.25), 4, 16) (pg_version 18)", cpu))
		case OLAP:
			b.add("io_workers", intv(clamp(int(math.Ceil(C*0.5)), 4, 32)), fmt.Sprintf("clamp(ceil(node_cpu %d * 0.5), 4, 32) (pg_version 18)", cpu))
		case Crit:
			b.add("io_workers", intv(clamp(int(math.Ceil(C*0.25)), 4, 8)), fmt.Sprintf("clamp(ceil(node_cpu %d * 0.25), 4, 8) (pg_version 18)", cpu))
		case Tiny:
			b.add("io_workers", intv(3), "3 (pg_version 18)")
		}
	}

	// §3 pg_libs-dependent limits.
	if citus {
		b.add("max_prepared_transactions", intv(N), fmt.Sprintf("max_connections %d (citus in pg_libs)", N))
	} else {
		b.add("max_prepared_transactions", intv(0), "0 (citus not in pg_libs)")
	}
	lockK, lockF := 1, "max_connections %d"
	if t == OLAP {
		lockK, lockF = 2, "2 * max_connections %d"
	}
	if citus || tsdb {
		lockK *= 2
		lockF = strconv.Itoa(lockK) + " * max_connections %d (citus or timescaledb in pg_libs)"
	}
	b.add("max_locks_per_transaction", intv(lockK*N), fmt.Sprintf(lockF, N))

	// §3 disk: D20 = clamp(ceil(D / 20), 1, 100). Pigsty divides the bytes of
	// df by 20 GiB; identical in float64.
	d20 := clamp(int(math.Ceil(D/20)), 1, 100)
	d20F := fmt.Sprintf("D20 %d = clamp(ceil(node_disk_gb %d / 20), 1, 100)", d20, in.DiskGB)
	b.add("min_wal_size", gb(min(d20, 200)), "min(D20, 200)GB; "+d20F)
	b.add("max_wal_size", gb(min(4*d20, 2000)), "min(4 * D20, 2000)GB; "+d20F)
	b.add("max_slot_wal_keep_size", gb(min(6*d20, 3000)), "min(6 * D20, 3000)GB; "+d20F)
	if t == OLAP {
		b.add("temp_file_limit", gb(min(4*d20, 2000)), "min(4 * D20, 2000)GB; "+d20F)
	} else {
		b.add("temp_file_limit", gb(min(d20, 200)), "min(D20, 200)GB; "+d20F)
	}

	// io_method (PG 18+).
	if in.PGVersion >= 18 {
		m, f := in.IOMethod, "pg_io_method "+in.IOMethod
		if m == "auto" {
			m = "worker"
			if in.OSPackage == "deb" || in.OSVersion >= 10 {
				m = "io_uring"
			}
			f = fmt.Sprintf("pg_io_method auto: io_uring if os_package is deb or os_version >= 10, else worker (os_package %s, os_version %d)", in.OSPackage, in.OSVersion)
		}
		b.add("io_method", enum(m), f)
	}

	fixedTemplate(b, t, in.PGVersion)
	fixedCommon(b, in)

	// §6 pg_libs effects.
	if tsdb {
		b.add("timescaledb.telemetry_level", enum("off"), "off (timescaledb in pg_libs)")
		b.add("timescaledb.max_background_workers", intv(W), wF+" (timescaledb in pg_libs)")
	}
	if has("pgsodium") {
		b.add("pgsodium.getkey_script", str("/pg/bin/pgsodium_getkey"), "fixed (pgsodium in pg_libs)")
		b.add("pgsodium.enable_event_trigger", onOff(false), "fixed (pgsodium in pg_libs)")
	}
	if has("pg_duckdb") && t != Crit {
		b.add("duckdb.allow_community_extensions", trueFalse(true), "fixed (pg_duckdb in pg_libs)")
	}
	E := 0
	if has("pg_stat_monitor") {
		low := t == Tiny
		lowF := "pg_stat_monitor_lowmem default (true for tiny, false otherwise)"
		if in.StatMonitorLowMem != nil {
			low, lowF = *in.StatMonitorLowMem, "pg_stat_monitor_lowmem "+strconv.FormatBool(*in.StatMonitorLowMem)
		}
		pgsmMax, qbuf, buckets, qlen := 256, 20, 10, 2048 // upstream pg_stat_monitor 2.x defaults
		src := "upstream defaults; " + lowF
		if low {
			pgsmMax, qbuf, buckets, qlen = 2, 1, 2, 1536 // low-memory fork (seed 003)
			src = "low-memory build; " + lowF
		}
		b.add("pg_stat_monitor.pgsm_max", mb(pgsmMax), src)
		b.add("pg_stat_monitor.pgsm_query_shared_buffer", mb(qbuf), src)
		b.add("pg_stat_monitor.pgsm_max_buckets", intv(buckets), src)
		b.add("pg_stat_monitor.pgsm_query_max_len", intv(qlen), src)
		E = pgsmMax + qbuf
	}

	slices.SortFunc(b.params, func(x, y Param) int { return strings.Compare(x.Name, y.Name) })
	for i := 1; i < len(b.params); i++ {
		if b.params[i].Name == b.params[i-1].Name {
			panic("tuning: duplicate parameter " + b.params[i].Name)
		}
	}

	res := Result{Template: t, PGVersion: in.PGVersion, MaxConnections: N, SharedBuffers: SB, ExtShmemMB: E, Params: b.params}
	res.Warnings = warnings(in, libs, citus, SB, E)
	return res, nil
}

// builder collects parameters with their template-prefixed formulas.
type builder struct {
	t      string
	v      int
	params []Param
}

func (b *builder) add(name string, v Value, formula string) {
	sc := DCS
	if name == "unix_socket_directories" {
		sc = Local
	}
	b.params = append(b.params, Param{Name: name, Value: v, Formula: b.t + ": " + formula, Restart: needsRestart(name, b.v), Scope: sc})
}

// fixedTemplate adds the values of tuning.md §4.1 that differ by template.
func fixedTemplate(b *builder, t string, v int) {
	oltpLike := t == OLTP || t == Crit
	if oltpLike {
		// Doubled parallel costs make oltp/crit plans prefer serial execution.
		b.add("parallel_setup_cost", realv("2000"), "fixed (double the default 1000)")
		b.add("parallel_tuple_cost", realv("0.2"), "fixed (double the default 0.1)")
		b.add("min_parallel_table_scan_size", mb(32), "fixed")
		b.add("min_parallel_index_scan_size", mb(2), "fixed")
	}
	if t == OLAP {
		b.add("vacuum_cost_delay", dur(10, "ms"), "fixed")
		b.add("vacuum_cost_limit", intv(10000), "fixed")
	} else {
		b.add("vacuum_cost_delay", dur(20, "ms"), "fixed")
		b.add("vacuum_cost_limit", intv(2000), "fixed")
	}
	if t == Crit {
		// crit flushes WAL sooner: wal_writer_flush_after 0 = flush immediately.
		b.add("wal_writer_delay", dur(10, "ms"), "fixed")
		b.add("wal_writer_flush_after", memRaw(0, "8kB"), "fixed (flush immediately)")
	} else {
		b.add("wal_writer_delay", dur(20, "ms"), "fixed")
		b.add("wal_writer_flush_after", mb(1), "fixed")
	}
	if v >= 18 {
		days := 7
		if t == Crit {
			days = 3
		}
		b.add("idle_replication_slot_timeout", dur(days, "d"), "fixed (pg_version >= 18)")
	}
	if t == Crit && v <= 15 {
		// Removed in PG 16.
		b.add("vacuum_defer_cleanup_age", intv(500000), "fixed (pg_version <= 15)")
	}
	if t == OLAP {
		b.add("enable_partitionwise_join", onOff(true), "fixed")
		b.add("enable_partitionwise_aggregate", onOff(true), "fixed")
	}
	stats := map[string]int{OLTP: 400, OLAP: 1000, Crit: 400, Tiny: 200}[t]
	b.add("default_statistics_target", intv(stats), "fixed")
	slow := 100
	if t == OLAP {
		slow = 1000
	}
	b.add("log_min_duration_statement", durRaw(slow, "ms"), "fixed")
	if oltpLike && v >= 18 {
		b.add("log_lock_failures", onOff(true), "fixed (pg_version >= 18)")
	}
	switch {
	case t == Crit && v >= 18:
		b.add("log_connections", list("receipt,authentication,authorization"), "fixed (pg_version >= 18: a list)")
	case t == Crit:
		b.add("log_connections", onOff(true), "fixed (pg_version < 18: a boolean)")
	case (t == OLTP || t == OLAP) && v >= 18:
		b.add("log_connections", list("authorization"), "fixed (pg_version >= 18: a list)")
	}
	if t == Crit {
		b.add("log_disconnections", onOff(true), "fixed")
	}
	if (t == OLAP || t == Crit) && v >= 18 {
		b.add("track_cost_delay_timing", onOff(true), "fixed (pg_version >= 18)")
	}
	qsize := 8192
	if t == Crit {
		qsize = 32768
	}
	b.add("track_activity_query_size", memRaw(qsize, "B"), "fixed")
	avw := 3
	if t == Tiny {
		avw = 2
	}
	b.add("autovacuum_max_workers", intv(avw), "fixed")
	if t == OLAP {
		b.add("autovacuum_vacuum_threshold", intv(1000), "fixed")
		b.add("autovacuum_analyze_threshold", intv(500), "fixed")
	} else {
		b.add("autovacuum_vacuum_threshold", intv(500), "fixed")
		b.add("autovacuum_analyze_threshold", intv(250), "fixed")
	}
	if t != Tiny {
		b.add("autovacuum_vacuum_scale_factor", realv("0.08"), "fixed")
		b.add("autovacuum_analyze_scale_factor", realv("0.04"), "fixed")
	}
	switch t {
	case OLAP:
		b.add("idle_in_transaction_session_timeout", durRaw(0, "ms"), "fixed (0 = no timeout)")
	case Crit:
		b.add("idle_in_transaction_session_timeout", dur(1, "min"), "fixed")
	default:
		b.add("idle_in_transaction_session_timeout", dur(10, "min"), "fixed")
	}
	pss := 10000
	if t == Tiny {
		pss = 2500
	}
	b.add("pg_stat_statements.max", intv(pss), "fixed")
}

// fixedCommon adds the values of tuning.md §4.2 common to all templates,
// the conditional ones, the storage-dependent ones and the version gates of §5.
func fixedCommon(b *builder, in Input) {
	v := in.PGVersion
	f := "fixed"
	b.add("superuser_reserved_connections", intv(10), f)
	b.add("track_commit_timestamp", onOff(true), f)
	b.add("wal_level", enum("logical"), f)
	b.add("output_plugin_libraries", list("pgoutput, test_decoding, wal2json"), f)
	b.add("wal_log_hints", onOff(true), f)
	b.add("max_wal_senders", intv(50), f)
	b.add("max_replication_slots", intv(50), f)
	b.add("password_encryption", enum("scram-sha-256"), f)
	b.add("ssl", onOff(true), f)
	b.add("ssl_cert_file", str("/pg/cert/server.crt"), f)
	b.add("ssl_key_file", str("/pg/cert/server.key"), f)
	b.add("ssl_ca_file", str("/pg/cert/ca.crt"), f)
	b.add("hash_mem_multiplier", realv("8.0"), f)
	b.add("huge_pages", enum("try"), f)
	b.add("bgwriter_delay", dur(10, "ms"), f)
	b.add("bgwriter_lru_maxpages", intv(800), f)
	b.add("bgwriter_lru_multiplier", realv("5.0"), f)
	b.add("wal_buffers", mb(16), f)
	b.add("commit_delay", intv(20), f)
	b.add("commit_siblings", intv(10), f)
	b.add("checkpoint_timeout", dur(15, "min"), f)
	b.add("checkpoint_completion_target", realv("0.95"), f)
	b.add("max_standby_archive_delay", dur(10, "min"), f)
	b.add("max_standby_streaming_delay", dur(3, "min"), f)
	b.add("wal_receiver_status_interval", dur(1, "s"), f)
	b.add("hot_standby_feedback", onOff(true), f)
	b.add("wal_receiver_timeout", dur(60, "s"), f)
	b.add("max_logical_replication_workers", intv(8), f)
	b.add("max_sync_workers_per_subscription", intv(6), f)
	b.add("logging_collector", onOff(true), f)
	b.add("log_directory", str(in.LogDir), "pg_log_dir "+in.LogDir)
	b.add("log_timezone", str("UTC"), f)
	b.add("log_filename", str("postgresql-%a.log"), f)
	b.add("log_file_mode", octal("0640"), f)
	b.add("log_rotation_age", dur(1, "d"), f)
	b.add("log_rotation_size", memRaw(0, "kB"), f+" (0 = rotate by age only)")
	b.add("log_truncate_on_rotation", onOff(true), f)
	b.add("log_checkpoints", onOff(true), f)
	b.add("log_lock_waits", onOff(true), f)
	b.add("log_temp_files", memRaw(1024, "kB"), f)
	b.add("log_replication_commands", onOff(true), f)
	b.add("log_statement", enum("ddl"), f)
	b.add("track_io_timing", onOff(true), f)
	b.add("track_functions", enum("all"), f)
	b.add("log_autovacuum_min_duration", dur(1, "s"), f)
	b.add("autovacuum_naptime", dur(1, "min"), f)
	b.add("autovacuum_vacuum_cost_delay", durRaw(-1, "ms"), f+" (-1 = use vacuum_cost_delay)")
	b.add("autovacuum_vacuum_cost_limit", intv(-1), f+" (-1 = use vacuum_cost_limit)")
	b.add("autovacuum_freeze_max_age", intv(1000000000), f)
	b.add("deadlock_timeout", dur(50, "ms"), f)
	b.add("shared_preload_libraries", list(strings.TrimSpace(in.Libs)), "pg_libs, verbatim")
	b.add("auto_explain.log_min_duration", dur(1, "s"), f)
	b.add("auto_explain.log_analyze", onOff(true), f)
	b.add("auto_explain.log_verbose", onOff(true), f)
	b.add("auto_explain.log_timing", onOff(true), f)
	b.add("auto_explain.log_nested_statements", trueFalse(true), f)
	b.add("pg_stat_statements.track", enum("all"), f)
	b.add("pg_stat_statements.track_utility", onOff(false), f)
	b.add("pg_stat_statements.track_planning", onOff(false), f)
	b.add("pg_wait_sampling.profile_pid", trueFalse(false), f)
	b.add("pg_wait_sampling.profile_queries", enum("all"), f)
	b.add("pg_wait_sampling.history_size", intv(100000), f)
	if in.CronDatabase != "" {
		b.add("cron.database_name", str(in.CronDatabase), "pg_parameters['cron.database_name'] "+in.CronDatabase)
	} else {
		b.add("cron.database_name", str(in.PrimaryDB), "pg_primary_db "+in.PrimaryDB)
	}
	// unix_socket_directories is instance-local (postgresql.parameters, patroni.md §7).
	b.add("unix_socket_directories", list("/var/run/postgresql, /tmp"), f+" (local: postgresql.parameters)")

	// Conditional (§4.2).
	if in.Mode != "oracle" && in.Mode != "polar" {
		b.add("log_destination", list("csvlog"), fmt.Sprintf("csvlog (pg_mode %s is not oracle or polar)", in.Mode))
	}
	if v >= 18 && in.Mode != "ivory" {
		b.add("file_copy_method", enum("clone"), fmt.Sprintf("clone (pg_version %d >= 18, pg_mode %s is not ivory)", v, in.Mode))
	}
	if in.PgBackRest {
		b.add("archive_mode", enum("on"), "on (pgbackrest_enabled)")
		b.add("archive_timeout", durRaw(300, "s"), "300 (pgbackrest_enabled)")
		b.add("archive_command", str("pgbackrest --stanza="+in.Cluster+" archive-push %p"), "pgbackrest --stanza=<pg_cluster "+in.Cluster+"> archive-push %p (pgbackrest_enabled)")
	}
	if in.Mode == "polar" {
		b.add("polar_resource_manager.enable_resource_manager", onOff(false), "off (pg_mode polar)")
	}
	if in.Storage == "SSD" {
		// HDD emits none of the three: PostgreSQL's defaults 4 / 1 / 10 apply.
		b.add("random_page_cost", realv("1.1"), "1.1 (pg_storage_type SSD)")
		b.add("effective_io_concurrency", intv(200), "200 (pg_storage_type SSD)")
		b.add("maintenance_io_concurrency", intv(100), "100 (pg_storage_type SSD)")
	}
	// Version gates (§5).
	if v >= 15 {
		b.add("wal_compression", enum("lz4"), fmt.Sprintf("lz4 (pg_version %d >= 15)", v))
	}
	if v >= 17 {
		b.add("sync_replication_slots", onOff(true), fmt.Sprintf("on (pg_version %d >= 17)", v))
	}
}

// warnings computes the lints of tuning.md §2, §6 and §8 that one instance's
// inputs decide.
func warnings(in Input, libs []string, citus bool, sb, e int) []Warning {
	var ws []Warning
	if in.MaxConn > 5000 {
		ws = append(ws, Warning{"max-conn-high", "pg_max_conn",
			fmt.Sprintf("pg_max_conn %d is above 5000; every connection is a process and reserves lock and memory slots", in.MaxConn)})
	}
	if citus && libs[0] != "citus" {
		ws = append(ws, Warning{"libs-order", "pg_libs",
			fmt.Sprintf("citus should be the first entry of pg_libs (it is entry %d of %q)", indexOf(libs, "citus")+1, strings.TrimSpace(in.Libs))})
	}
	M := float64(in.MemMB)
	if e > 0 && float64(e) > 0.05*M {
		ws = append(ws, Warning{"ext-shmem", "pg_libs",
			fmt.Sprintf("pg_stat_monitor shared memory %dMB exceeds 5%% of node memory (%sMB); set pg_stat_monitor_lowmem with the low-memory build or lower pg_stat_monitor.pgsm_max", e, ftoa(0.05*M))})
	}
	if total := sb + 16 + e; float64(total) > 0.5*M {
		ws = append(ws, Warning{"shmem-budget", "pg_shared_buffer_ratio",
			fmt.Sprintf("shared memory shared_buffers %dMB + wal_buffers 16MB + extensions %dMB = %dMB exceeds half of node memory (%sMB)", sb, e, total, ftoa(0.5*M))})
	}
	if in.SharedBufferRatio > 0.4 {
		ws = append(ws, Warning{"shared-buffer-ratio", "pg_shared_buffer_ratio",
			fmt.Sprintf("pg_shared_buffer_ratio %s is above the documented range 0.1..0.4", ftoa(in.SharedBufferRatio))})
	}
	if in.IOMethod != "worker" && in.PGVersion < 18 {
		ws = append(ws, Warning{"io-method-ignored", "pg_io_method",
			fmt.Sprintf("pg_io_method %s is ignored: io_method exists from PostgreSQL 18 (pg_version %d)", in.IOMethod, in.PGVersion)})
	}
	return ws
}

// libTokens splits pg_libs into match tokens: split on ",", trim, drop a
// leading "$libdir/" and a trailing ".so" (tuning.md §1). pgcc matches whole
// tokens where Pigsty tests substrings (citus_columnar alone is not citus).
func libTokens(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		it = strings.TrimSpace(it)
		it = strings.TrimPrefix(it, "$libdir/")
		it = strings.TrimSuffix(it, ".so")
		if it != "" {
			out = append(out, it)
		}
	}
	return out
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func clamp(x, lo, hi int) int { return min(max(x, lo), hi) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// mbText writes a work_mem bound as the templates' comments do (1024 → 1GB).
func mbText(n int) string {
	if n%1024 == 0 {
		return strconv.Itoa(n/1024) + "GB"
	}
	return strconv.Itoa(n) + "MB"
}

// MarshalText writes "dcs" or "local".
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
