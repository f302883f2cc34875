package render

// vip-manager.yml (pooling-services.md §4; Pigsty v4.5 template
// vip-manager.yml). vip-manager moves the L2 VIP to the node whose name is
// stored under Patroni's leader key.

import (
	"fmt"
	"path"
	"sort"
	"strconv"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/render/yamlfmt"
)

func init() {
	RegisterCluster(ClusterRenderer{Name: "vip-manager", Render: renderVIPManager})
}

// renderVIPManager writes <cluster>/<instance>/vip-manager.yml (mode 0600: it
// holds the etcd password) when pg_vip_enabled. An instance whose interface
// is `auto` without the node_interface fact gets no file; the compiler warns
// (vip-interface-unknown).
func renderVIPManager(ctx *Context, cl *compiler.Cluster) ([]File, error) {
	var files []File
	for _, m := range cl.Members {
		if !m.Bool("pg_vip_enabled") {
			continue
		}
		iface := m.Str("pg_vip_interface")
		if iface == "auto" || iface == "" {
			if !m.Has("node_interface") || m.Str("node_interface") == "" {
				continue
			}
			iface = m.Str("node_interface")
		}
		data, err := vipManagerYAML(ctx.Fleet, m, iface)
		if err != nil {
			return nil, fmt.Errorf("%s: vip-manager.yml: %w", m.Name, err)
		}
		files = append(files, File{Path: path.Join(cl.Name, m.Name, "vip-manager.yml"), Data: data, Mode: ModeSecret})
	}
	return files, nil
}

// vipEtcdUser is the etcd user (and RBAC role) of a cluster: pg_cluster, or
// pg_shard for citus (patroni.md §4).
func vipEtcdUser(m *compiler.Instance) string {
	if m.Str("pg_mode") == "citus" {
		return m.Str("pg_shard")
	}
	return m.Cluster
}

// vipEtcdPassword is pg_etcd_password, or the etcd user name when it is empty
// or not written (Pigsty's ” default).
func vipEtcdPassword(m *compiler.Instance) string {
	v, ok := m.Get("pg_etcd_password")
	if !ok || v.Prov.Layer == compiler.LayerDerived || compiler.AsString(v.V) == "" {
		return vipEtcdUser(m)
	}
	return compiler.AsString(v.V)
}

func vipManagerYAML(f *compiler.Fleet, m *compiler.Instance, iface string) ([]byte, error) {
	ip, mask := compiler.VIPAddress(m)
	ns := m.Str("pg_namespace")
	trigger := ns + "/" + m.Cluster + "/leader"
	if m.Str("pg_mode") == "citus" {
		trigger = ns + "/" + m.Str("pg_shard") + "/" + strconv.Itoa(m.Int("pg_group")) + "/leader"
	}
	endpoints := append([]string(nil), f.EtcdIPs...)
	sort.Strings(endpoints) // as strings (pooling-services.md §4)
	eps := make([]string, len(endpoints))
	for i, e := range endpoints {
		eps[i] = fmt.Sprintf("https://%s:%d", e, f.EtcdPort)
	}
	doc := yamlfmt.NewMap().
		Add("interval", 1000).
		Add("trigger-key", trigger).
		Add("trigger-value", m.Name).
		Add("ip", ip).
		Add("netmask", mask).
		Add("interface", iface).
		Add("hosting-type", "basic").
		Add("dcs-type", "etcd").
		Add("dcs-endpoints", eps).
		Add("etcd-ca-file", "/pg/cert/ca.crt").
		Add("etcd-cert-file", "/pg/cert/server.crt").
		Add("etcd-key-file", "/pg/cert/server.key").
		Add("etcd-user", vipEtcdUser(m)).
		Add("etcd-password", vipEtcdPassword(m)).
		Add("retry-num", 2).
		Add("retry-after", 250).
		Add("verbose", false)
	return yamlfmt.Encode([]string{fmt.Sprintf("pgcc: vip-manager.yml for %s (cluster %s)", m.Name, m.Cluster)}, doc)
}
