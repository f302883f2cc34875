package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/conffmt"
	"github.com/pgcc-dev/pgcc/render/yamlfmt"
	"github.com/pgcc-dev/pgcc/tuning"
)

// patroni.yml (patroni.md) and postgresql.auto.conf (tuning.md §7), one of each
// per instance. The format's quirks are in patroni.md next to this file.

func init() {
	RegisterCluster(ClusterRenderer{Name: "patroni", Render: renderPatroni})
}

func renderPatroni(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	var files []File
	for _, m := range cl.Members {
		data, err := PatroniYAML(ctx.Fleet, cl, m)
		if err != nil {
			return nil, fmt.Errorf("%s/patroni.yml: %w", m.Name, err)
		}
		files = append(files, File{Path: cl.Name + "/" + m.Name + "/patroni.yml", Data: data, Mode: ModeSecret})
		auto, err := AutoConf(cl, m)
		if err != nil {
			return nil, fmt.Errorf("%s/postgresql.auto.conf: %w", m.Name, err)
		}
		if auto != nil {
			files = append(files, File{Path: cl.Name + "/" + m.Name + "/postgresql.auto.conf", Data: auto, Mode: ModePublic})
		}
	}
	return files, nil
}

// Fixed paths of Pigsty's node layout (patroni.md §4, §7).
const (
	certCA     = "/pg/cert/ca.crt"
	certServer = "/pg/cert/server.crt"
	certKey    = "/pg/cert/server.key"
	callback   = "/pg/bin/pg-failover-callback"
)

// PatroniYAML renders <cluster>/<instance>/patroni.yml (patroni.md). The keys
// are in the order of patroni.md §4, §5 and §7.
func PatroniYAML(f *compiler.Fleet, cl *compiler.Cluster, m *compiler.Instance) ([]byte, error) {
	res, err := m.Tuning()
	if err != nil {
		return nil, err
	}
	rto, err := m.RTO()
	if err != nil {
		return nil, err
	}
	tmpl := res.Template
	crit := tmpl == tuning.Crit
	citus := m.Str("pg_mode") == "citus"
	scope := m.Cluster
	if citus {
		scope = m.Str("pg_shard")
	}
	doc := yamlfmt.NewMapSize(16)

	// §4 identity.
	doc.Add("namespace", strings.TrimSuffix(m.Str("pg_namespace"), "/")+"/")
	doc.Add("name", m.Name)
	doc.Add("scope", scope)
	if citus {
		doc.Add("citus", yamlfmt.NewMap().Add("group", int64(m.Int("pg_group"))).Add("database", m.Str("pg_primary_db")))
	}
	fileNum := 4
	if crit {
		fileNum = 16
	}
	doc.Add("log", yamlfmt.NewMap().
		Add("level", "INFO").
		Add("dir", m.Str("patroni_log_dir")).
		Add("file_size", 33554432). // 32 MiB per file before rotation
		Add("file_num", fileNum).
		Add("dateformat", "%Y-%m-%d %H:%M:%S %z").
		Add("format", "%(asctime)s %(levelname)s: %(message)s"))

	// etcd3: every etcd member, IPs sorted as strings, one comma-joined string.
	etcd := append([]string(nil), f.EtcdIPs...)
	sort.Strings(etcd)
	hosts := make([]string, 0, len(etcd))
	for i, ip := range etcd {
		if i > 0 && ip == etcd[i-1] {
			continue
		}
		hosts = append(hosts, fmt.Sprintf("%s:%d", ip, f.EtcdPort))
	}
	// pg_etcd_password '' (or unset) means "the etcd user name".
	etcdPass := m.Str("pg_etcd_password")
	if v, ok := m.Get("pg_etcd_password"); !ok || v.Prov.Layer == compiler.LayerDerived || etcdPass == "" {
		etcdPass = scope
	}
	doc.Add("etcd3", yamlfmt.NewMap().
		Add("hosts", strings.Join(hosts, ",")).
		Add("cacert", certCA).
		Add("cert", certServer).
		Add("key", certKey).
		Add("protocol", "https").
		Add("username", scope).
		Add("password", etcdPass))

	ssl := m.Bool("patroni_ssl_enabled")
	ctl := yamlfmt.NewMap()
	if ssl {
		ctl.Add("insecure", false).Add("cacert", certCA).Add("certfile", certServer).Add("keyfile", certKey)
	} else {
		ctl.Add("insecure", true)
	}
	doc.Add("ctl", ctl)

	api := yamlfmt.NewMap()
	if ssl {
		api.Add("cacert", certCA).Add("certfile", certServer).Add("keyfile", certKey).Add("verify_client", "none")
	}
	restAddr := fmt.Sprintf("%s:%d", m.IP, m.Int("patroni_port"))
	api.Add("listen", restAddr).Add("connect_address", restAddr)
	api.Add("authentication", yamlfmt.NewMap().
		Add("username", m.Str("patroni_username")).
		Add("password", m.Str("patroni_password")))
	api.Add("allowlist", allowlist(f, cl))
	doc.Add("restapi", api)

	tags := yamlfmt.NewMap().
		Add("nofailover", false).
		Add("clonefrom", true).
		Add("noloadbalance", false).
		Add("nosync", false)
	if up := m.Str("pg_upstream"); up != "" {
		tags.Add("replicatefrom", up)
	}
	memG := (m.Int("node_mem_mb") + 1023) / 1024 // ceil(M / 1024) on integers
	tags.Add("version", m.Str("pg_version")).
		Add("spec", fmt.Sprintf("%dC.%dG.%dG", m.Int("node_cpu"), max(memG, 1), m.Int("node_disk_gb"))).
		Add("conf", tmpl+".yml")
	doc.Add("tags", tags)

	doc.Add("watchdog", yamlfmt.NewMap().
		Add("mode", watchdogMode(m, crit)).
		Add("device", "/dev/watchdog").
		Add("safety_margin", rto.SafetyMargin))

	// §5 bootstrap.
	boot := yamlfmt.NewMap().Add("method", "initdb").Add("initdb", initdbOptions(m, crit))
	dcs := yamlfmt.NewMap()
	if m.IsStandbyLeader() {
		sc := yamlfmt.NewMap().Add("host", m.Str("pg_upstream")).Add("port", m.Int("pg_port"))
		if d, ok := m.Get("pg_delay"); ok && !compiler.DelayIsZero(d.V) {
			if n, isInt := d.V.(int64); isInt {
				sc.Add("recovery_min_apply_delay", n) // a bare number is milliseconds
			} else {
				sc.Add("recovery_min_apply_delay", compiler.AsString(d.V))
			}
		}
		sc.Add("create_replica_methods", []string{"basebackup"})
		dcs.Add("standby_cluster", sc)
	}
	sync := m.Int("pg_rpo") == 0 || crit
	dcs.Add("ttl", rto.TTL).
		Add("loop_wait", rto.LoopWait).
		Add("retry_timeout", rto.RetryTimeout).
		Add("primary_start_timeout", rto.PrimaryStartTimeout).
		Add("maximum_lag_on_failover", int64(m.Int("pg_rpo"))).
		Add("maximum_lag_on_syncnode", -1).
		Add("primary_stop_timeout", 30).
		Add("synchronous_mode", sync).
		Add("synchronous_mode_strict", crit).
		Add("failsafe_mode", true).
		Add("pg_version", m.Int("pg_version")).
		Add("pg_cluster", m.Cluster).
		Add("pg_shard", m.Str("pg_shard")).
		Add("pg_group", m.Int("pg_group"))
	params, err := paramMap(res.Params, tuning.DCS)
	if err != nil {
		return nil, err
	}
	dcs.Add("postgresql", yamlfmt.NewMap().
		Add("use_slots", true).
		Add("use_pg_rewind", true).
		Add("remove_data_directory_on_rewind_failure", true).
		Add("parameters", params))
	boot.Add("dcs", dcs)
	doc.Add("bootstrap", boot)

	// §7 the local postgresql section.
	listen, err := listenAddr(m)
	if err != nil {
		return nil, err
	}
	local, err := paramMap(res.Params, tuning.Local)
	if err != nil {
		return nil, err
	}
	su := yamlfmt.NewMap().Add("username", m.Str("pg_dbsu"))
	if pw := m.Str("pg_dbsu_password"); pw != "" {
		su.Add("password", pw)
	}
	repl := func() *yamlfmt.Map {
		return yamlfmt.NewMap().Add("username", m.Str("pg_replication_username")).Add("password", m.Str("pg_replication_password"))
	}
	cb := yamlfmt.NewMap()
	for _, ev := range []string{"on_start", "on_stop", "on_reload", "on_restart", "on_role_change"} {
		cb.Add(ev, callback)
	}
	methods := []string{"basebackup"}
	backrest := m.Bool("pgbackrest_enabled")
	if backrest && m.Str("pgbackrest_method") != "local" {
		// A local repository lives on the primary's disk: replicas cannot restore from it.
		methods = append(methods, "pgbackrest")
	}
	pg := yamlfmt.NewMap().
		Add("bin_dir", m.Str("pg_bin_dir")).
		Add("data_dir", m.Str("pg_data")).
		Add("config_dir", m.Str("pg_data")).
		Add("pgpass", strings.TrimSuffix(m.Str("pg_dbsu_home"), "/")+"/.pgpass").
		Add("listen", listen).
		Add("connect_address", fmt.Sprintf("%s:%d", m.IP, m.Int("pg_port"))).
		Add("use_unix_socket", true).
		Add("parameters", local).
		Add("authentication", yamlfmt.NewMap().Add("superuser", su).Add("replication", repl()).Add("rewind", repl())).
		Add("callbacks", cb).
		Add("use_pg_rewind", true).
		Add("remove_data_directory_on_rewind_failure", true).
		Add("remove_data_directory_on_diverged_timelines", false).
		Add("create_replica_methods", methods).
		Add("basebackup", yamlfmt.List{
			yamlfmt.NewMap().Add("max-rate", "1000M"),
			yamlfmt.NewMap().Add("checkpoint", "fast"),
			"verbose", "progress"})
	if backrest {
		pg.Add("pgbackrest", yamlfmt.NewMap().
			Add("command", "/usr/bin/pgbackrest --stanza="+m.Cluster+" --delta restore").
			Add("keep_data", true).
			Add("no_params", true).
			Add("no_leader", true))
	}
	doc.Add("postgresql", pg)

	return yamlfmt.Encode([]string{fmt.Sprintf("pgcc: patroni.yml for %s (cluster %s)", m.Name, cl.Name)}, doc)
}

// allowlist is unique(admin_ip + cluster member IPs + infra IPs), sorted as
// strings (patroni.md §4).
func allowlist(f *compiler.Fleet, cl *compiler.Cluster) []string {
	all := append(append([]string{f.AdminIP}, cl.MemberIPs...), f.InfraIPs...)
	sort.Strings(all)
	out := all[:0]
	for i, ip := range all {
		if ip == "" || (i > 0 && ip == all[i-1]) {
			continue
		}
		out = append(out, ip)
	}
	return out
}

// watchdogMode lower-cases patroni_watchdog_mode (YAML false = off); crit
// turns off into automatic (patroni.md §4). Written as a string: an unquoted
// off is YAML false, which Patroni 3.0.2 rejects.
func watchdogMode(m *compiler.Instance, crit bool) string {
	mode := "off"
	if v, ok := m.Get("patroni_watchdog_mode"); ok {
		if s, isStr := v.V.(string); isStr {
			mode = strings.ToLower(s)
		}
	}
	if crit && mode == "off" {
		mode = "automatic"
	}
	return mode
}

// initdbOptions are bootstrap.initdb (patroni.md §5): checksums, locale
// (builtin provider on 17+ for C / C.UTF-8 with UTF-8), lc-collate/lc-ctype,
// Oracle compatibility.
func initdbOptions(m *compiler.Instance, crit bool) yamlfmt.List {
	v := m.Int("pg_version")
	var l yamlfmt.List
	switch {
	case crit || m.Bool("pg_checksum"):
		l = append(l, "data-checksums")
	case v >= 18:
		// PG 18 initdb enables checksums by default.
		l = append(l, "no-data-checksums")
	}
	item := func(k, val string) { l = append(l, yamlfmt.NewMap().Add(k, val)) }
	enc, loc := m.Str("pg_encoding"), m.Str("pg_locale")
	up := strings.ToUpper(loc)
	if v >= 17 && (enc == "UTF8" || enc == "UTF-8") && (up == "C" || up == "C.UTF-8") {
		item("encoding", enc)
		item("locale-provider", "builtin")
		item("builtin-locale", loc)
	} else {
		if enc != "" {
			item("encoding", enc)
		}
		if loc != "" {
			item("locale", loc)
		}
	}
	if s := m.Str("pg_lc_collate"); s != "" {
		item("lc-collate", s)
	}
	if s := m.Str("pg_lc_ctype"); s != "" {
		item("lc-ctype", s)
	}
	if m.Str("pg_mode") == "oracle" {
		item("compatibility_mode", "ora")
	}
	return l
}

// listenAddr resolves pg_listen: ${ip} → host IP, ${lo} → 127.0.0.1, ${vip}
// → VIP without mask; items trimmed and comma-joined, then :pg_port.
func listenAddr(m *compiler.Instance) (string, error) {
	vip, _, _ := strings.Cut(m.Str("pg_vip_address"), "/")
	var items []string
	for _, it := range strings.Split(m.Str("pg_listen"), ",") {
		switch it = strings.TrimSpace(it); it {
		case "":
			continue
		case "${ip}":
			it = m.IP
		case "${lo}":
			it = "127.0.0.1"
		case "${vip}":
			if !m.Bool("pg_vip_enabled") {
				return "", fmt.Errorf("pg_listen uses ${vip} but pg_vip_enabled is false")
			}
			it = vip
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return "", fmt.Errorf("pg_listen is empty")
	}
	return fmt.Sprintf("%s:%d", strings.Join(items, ","), m.Int("pg_port")), nil
}

// paramMap writes the tuned parameters of one scope (sorted by name): a value
// that reads as a plain number is a YAML number, every other value a string
// (patroni.md §1).
func paramMap(ps []tuning.Param, scope tuning.Scope) (*yamlfmt.Map, error) {
	n := 1
	if scope == tuning.DCS {
		n = len(ps)
	}
	out := yamlfmt.NewMapSize(n)
	for i := range ps {
		p := &ps[i]
		if p.Scope != scope {
			continue
		}
		// Names are package tuning's constants; values may carry user text
		// (pg_log_dir, cron.database_name, pg_libs).
		s := p.Value.String()
		if err := conffmt.CheckValue(s); err != nil {
			return nil, fmt.Errorf("parameter %s: value %w", p.Name, err)
		}
		k := p.Value.Kind()
		if k != tuning.KindString && k != tuning.KindList && yamlfmt.IsNumber(s) {
			out.Add(p.Name, yamlfmt.Number(s))
		} else {
			out.Add(p.Name, s)
		}
	}
	return out, nil
}

// verbatimKeys are written unquoted by Pigsty (tuning.md §7): pgcc keeps a
// value that is one bare token or one complete quoted string, and quotes
// anything else (Pigsty's unquoted `a, b` is a syntax error for PostgreSQL).
var verbatimKeys = map[string]bool{"search_path": true, "temp_tablespaces": true, "local_preload_libraries": true,
	"session_preload_libraries": true, "log_destination": true, "shared_preload_libraries": true,
	"unix_socket_directories": true, "debug_io_direct": true}

// ConfValue is the postgresql.conf form of a parameter value (tuning.md §7):
// a quoted string, or for the list keys above the verbatim token or quoted
// string. It is the tuning.Quoter of `pgcc tune --format conf`.
func ConfValue(name, value string) (string, error) {
	if verbatimKeys[strings.ToLower(name)] {
		return conffmt.ListValue(value)
	}
	return conffmt.Value(value)
}

// AutoConf renders postgresql.auto.conf from pg_parameters (tuning.md §7):
// a header line, then `key = value` in inventory order. nil when empty.
func AutoConf(cl *compiler.Cluster, m *compiler.Instance) ([]byte, error) {
	v, ok := m.Get("pg_parameters")
	params, _ := v.V.(map[string]any)
	if !ok || len(params) == 0 {
		return nil, nil
	}
	var keys []string
	if n := v.Node(); n != nil && len(n.Keys) == len(params) {
		for _, e := range n.Keys {
			keys = append(keys, e.Key)
		}
	} else {
		keys = compiler.SortedKeys(params)
	}
	var b strings.Builder
	b.WriteString("# pgcc: postgresql.auto.conf for " + m.Name + " (cluster " + cl.Name + "): pg_parameters\n")
	for _, k := range keys {
		if err := conffmt.CheckName(k); err != nil {
			return nil, err
		}
		q, err := ConfValue(k, compiler.ParamText(params[k]))
		if err != nil {
			return nil, fmt.Errorf("pg_parameters.%s: value %w", k, err)
		}
		b.WriteString(k + " = " + q + "\n")
	}
	return []byte(b.String()), nil
}
