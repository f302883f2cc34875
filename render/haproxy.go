package render

// HAProxy: the node's main configuration and one listen section per service
// (pooling-services.md §2–§3; Pigsty v4.5 templates haproxy.cfg.j2 and
// service.cfg). Members are chosen by the JMESPath selectors, evaluated by
// package compiler (the only importer of the library). See haproxy.md for
// the format's quirks.

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/haproxyfmt"
)

func init() {
	RegisterCluster(ClusterRenderer{Name: "haproxy", Render: renderHAProxy})
	RegisterFleet(FleetRenderer{Name: "haproxy-delegated", Render: renderDelegatedServices})
}

// renderHAProxy writes <cluster>/<instance>/haproxy/haproxy.cfg for every
// member with haproxy_enabled and, when the cluster does not delegate its
// services (pg_service_provider ”), one <cluster>-<service>.cfg per service
// next to it, rendered from that instance's point of view.
func renderHAProxy(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	local := cl.Vars().Str("pg_service_provider") == ""
	var sels []*compiler.Selection
	if local {
		var err error
		if sels, err = hpSelectAll(cl); err != nil {
			return nil, err
		}
	}
	var files []File
	for _, m := range cl.Members {
		if !m.Bool("haproxy_enabled") {
			continue
		}
		dir := path.Join(cl.Name, m.Name, "haproxy")
		data, err := haproxyMain(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		files = append(files, File{Path: path.Join(dir, "haproxy.cfg"), Data: data, Mode: ModePublic})
		if !local {
			continue
		}
		for i, s := range cl.Services {
			data, err := hpServiceConfig(cl, s, sels[i], m)
			if err != nil {
				return nil, fmt.Errorf("%s: service %s: %w", m.Name, s.Name, err)
			}
			files = append(files, File{Path: path.Join(dir, cl.Name+"-"+s.Name+".cfg"), Data: data, Mode: ModePublic})
		}
	}
	return files, nil
}

// renderDelegatedServices writes haproxy/<group>/<cluster>-<service>.cfg for
// clusters whose pg_service_provider names a group: one copy, from the
// primary's point of view (pooling-services.md §3.1).
func renderDelegatedServices(ctx *Context, clusters []*compiler.Cluster) ([]File, error) {
	var files []File
	for _, cl := range clusters {
		view := cl.Vars()
		group := view.Str("pg_service_provider")
		if group == "" {
			continue
		}
		sels, err := hpSelectAll(cl)
		if err != nil {
			return nil, err
		}
		for i, s := range cl.Services {
			data, err := hpServiceConfig(cl, s, sels[i], view)
			if err != nil {
				return nil, fmt.Errorf("cluster %s: service %s: %w", cl.Name, s.Name, err)
			}
			files = append(files, File{Path: path.Join("haproxy", group, cl.Name+"-"+s.Name+".cfg"), Data: data, Mode: ModePublic})
		}
	}
	return files, nil
}

// hpSelectAll evaluates every service's selectors once per cluster: the result
// does not depend on the rendering instance.
func hpSelectAll(cl *compiler.Cluster) ([]*compiler.Selection, error) {
	sel := compiler.NewSelector(cl)
	out := make([]*compiler.Selection, len(cl.Services))
	for i, s := range cl.Services {
		res, err := sel.Select(s)
		if err != nil {
			return nil, fmt.Errorf("service %s: %s: %w", s.Name, s.KeySrc("selector").Path, err)
		}
		out[i] = res
	}
	return out, nil
}

// haproxyNode is the HAProxy `node` name: the instance name, unless
// node_id_from_pg is false and nodename is set (inventory.md §4.1).
func haproxyNode(m *compiler.Instance) string {
	if !m.Bool("node_id_from_pg") && m.Str("nodename") != "" {
		return m.Str("nodename")
	}
	return m.Name
}

// hpWriter collects lines and the first quoting error.
type hpWriter struct {
	b   strings.Builder
	err error
}

// line writes one directive, indented when ind: literal keywords, then
// values quoted by haproxyfmt.
func (w *hpWriter) line(ind bool, keywords string, values ...string) {
	if ind {
		w.b.WriteString("    ")
	}
	w.b.WriteString(keywords)
	for _, v := range values {
		q, err := haproxyfmt.Word(v)
		if err != nil && w.err == nil {
			w.err = fmt.Errorf("value after %q %w", keywords, err)
		}
		w.b.WriteString(" ")
		w.b.WriteString(q)
	}
	w.b.WriteString("\n")
}

func (w *hpWriter) raw(s string) { w.b.WriteString(s) }

// haproxyMain renders the node's main configuration (pooling-services.md §2).
func haproxyMain(m *compiler.Instance) ([]byte, error) {
	node := haproxyNode(m)
	w := &hpWriter{}
	w.raw(fmt.Sprintf("# pgcc: haproxy.cfg for %s (cluster %s)\n", m.Name, m.Cluster))
	w.raw("global\n")
	w.line(true, "user haproxy")
	w.line(true, "group haproxy")
	w.line(true, "node", node)
	w.line(true, "pidfile /var/run/haproxy.pid")
	w.line(true, "stats socket /var/run/haproxy.sock mode 600 level admin")
	w.line(true, "maxconn 65535")
	w.raw("\ndefaults\n")
	w.line(true, "mode tcp")
	w.line(true, "retries 3")
	w.line(true, "timeout queue 3s")
	w.line(true, "timeout connect 3s")
	w.line(true, "timeout client", m.Str("haproxy_client_timeout"))
	w.line(true, "timeout server", m.Str("haproxy_server_timeout"))
	w.line(true, "timeout check 3s")
	// Authentication is always on (pooling-services.md §2: haproxy_auth_enabled
	// is read by no Pigsty template).
	admin := m.Str("haproxy_admin_username")
	w.raw("\nuserlist stats-auth\n")
	w.line(true, "group admin users", admin)
	w.line(true, "user", admin, "insecure-password", m.Str("haproxy_admin_password"))
	w.line(true, "group readonly users haproxy")
	w.line(true, "user haproxy insecure-password haproxy")
	w.raw("\nlisten stats\n")
	w.line(true, "bind", "*:"+strconv.Itoa(m.Int("haproxy_exporter_port")))
	w.line(true, "mode http")
	w.line(true, "stats enable")
	w.line(true, "stats hide-version")
	w.line(true, "stats uri", "/haproxy/"+node+"/")
	w.line(true, "stats refresh 30s")
	w.line(true, "stats show-node")
	w.line(true, "acl AUTH http_auth(stats-auth)")
	w.line(true, "acl AUTH_ADMIN http_auth_group(stats-auth) admin")
	w.line(true, "stats http-request auth unless AUTH")
	w.line(true, "stats admin if AUTH_ADMIN")
	// The built-in Prometheus exporter (HAProxy ≥ 2.0, compiled in by Debian and EL).
	metrics, err := haproxyfmt.Word(m.Str("exporter_metrics_path"))
	if err != nil {
		return nil, fmt.Errorf("exporter_metrics_path %w", err)
	}
	w.line(true, "http-request use-service prometheus-exporter if { path "+metrics+" }")
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

// Pigsty's default plan timings (patroni.md §2, norm): used for an integer
// pg_rto when pg_rto_plan has no norm entry.
var hpNormTimings = []any{"2s", "1s", "2s", int64(3), int64(3)}

// hpDefaultServer returns the default-server options of a service seen from
// view: the service's options, or Pigsty's default string with the health
// check timings of the view's pg_rto plan (an integer pg_rto uses norm's).
func hpDefaultServer(s *compiler.Service, view *compiler.Instance) (string, error) {
	if len(s.Options) > 0 {
		return haproxyfmt.Fragment(strings.Join(s.Options, " "))
	}
	plans := view.Map("pg_rto_plan")
	var timings []any
	rto, _ := view.Get("pg_rto")
	switch v := rto.V.(type) {
	case string:
		plan, _ := plans[v].([]any)
		if len(plan) != 10 {
			return "", fmt.Errorf("pg_rto plan %q is not a 10-item list", v)
		}
		timings = plan[5:]
	default:
		if plan, ok := plans["norm"].([]any); ok && len(plan) == 10 {
			timings = plan[5:]
		} else {
			timings = hpNormTimings
		}
	}
	var t [3]string
	for i := 0; i < 3; i++ {
		d, err := haproxyTime(compiler.AsString(timings[i]))
		if err != nil {
			return "", err
		}
		t[i] = d
	}
	rise, ok1 := compiler.AsInt(timings[3])
	fall, ok2 := compiler.AsInt(timings[4])
	if !ok1 || !ok2 {
		return "", fmt.Errorf("pg_rto plan rise/fall are not integers")
	}
	return fmt.Sprintf("inter %s fastinter %s downinter %s rise %d fall %d on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100",
		t[0], t[1], t[2], rise, fall), nil
}

// haproxyTime converts a plan duration (`^[0-9.]+(ms|s)$`) to an HAProxy
// time: whole seconds as `Ns`, else whole milliseconds `Nms` (HAProxy rejects
// decimal times such as Pigsty's `0.5s`; pooling-services.md §3.4), else
// microseconds.
func haproxyTime(d string) (string, error) {
	num, unit := d, "s"
	switch {
	case strings.HasSuffix(d, "ms"):
		num, unit = strings.TrimSuffix(d, "ms"), "ms"
	case strings.HasSuffix(d, "s"):
		num = strings.TrimSuffix(d, "s")
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || num == "" || strings.ContainsAny(num, "eE+-") {
		return "", fmt.Errorf("duration %q: want a number with ms or s", d)
	}
	us := f * 1e6
	if unit == "ms" {
		us = f * 1e3
	}
	us = math.Round(us)
	switch {
	case math.Mod(us, 1e6) == 0:
		return strconv.FormatFloat(us/1e6, 'f', 0, 64) + "s", nil
	case math.Mod(us, 1e3) == 0:
		return strconv.FormatFloat(us/1e3, 'f', 0, 64) + "ms", nil
	}
	return strconv.FormatFloat(us, 'f', 0, 64) + "us", nil
}

// hpServiceConfig renders one service's listen section from view's point of
// view (pooling-services.md §3.4).
func hpServiceConfig(cl *compiler.Cluster, s *compiler.Service, sel *compiler.Selection, view *compiler.Instance) ([]byte, error) {
	name := cl.Name + "-" + s.Name
	bindIP := s.IP
	if bindIP == "" {
		bindIP = "*"
	}
	maxconn := 5000
	if s.Maxconn != nil {
		maxconn = *s.Maxconn
	}
	balance := s.Balance
	if balance == "" {
		balance = "roundrobin"
	}
	check := s.Check
	if check == "" {
		check = "/"
	}
	ds, err := hpDefaultServer(s, view)
	if err != nil {
		return nil, err
	}
	ips := func(l []*compiler.Instance) string {
		out := make([]string, len(l))
		for i, m := range l {
			out[i] = m.IP
		}
		return strings.Join(out, ", ")
	}
	w := &hpWriter{}
	w.raw(fmt.Sprintf("# pgcc: service %s for cluster %s\n", name, cl.Name))
	w.raw(fmt.Sprintf("# service: %s @ %s:%d\n", name, view.IP, s.Port))
	w.raw(strings.TrimRight("# service instances "+ips(sel.Selected), " ") + "\n")
	w.raw(strings.TrimRight("# service backups   "+ips(sel.Backups), " ") + "\n")
	w.raw("listen " + name + "\n")
	w.line(true, "bind", bindIP+":"+strconv.Itoa(s.Port))
	w.line(true, "mode tcp")
	w.line(true, "maxconn "+strconv.Itoa(maxconn))
	w.line(true, "balance", balance)
	w.line(true, "option httpchk")
	w.line(true, "option http-keep-alive")
	w.line(true, "http-check send meth OPTIONS uri", check)
	w.line(true, "http-check expect status 200")
	w.line(true, "default-server "+ds)
	w.raw("\n    # servers\n")
	for _, srv := range sel.Servers {
		m := srv.Member
		port, _, err := compiler.ResolveDest(s.Dest, view, m)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "    server %s %s:%d", m.Name, m.IP, port)
		if m.Bool("patroni_ssl_enabled") {
			b.WriteString(" check-ssl ca-file /pg/cert/ca.crt")
		}
		fmt.Fprintf(&b, " check port %d weight %d", m.Int("patroni_port"), m.Int("pg_weight"))
		if srv.Backup {
			b.WriteString(" backup")
		}
		b.WriteString("\n")
		w.raw(b.String())
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}
