// Package fleetgen writes synthetic Pigsty inventories of N clusters × 3
// hosts (users, databases, HBA rules and a custom service each) for
// benchmarks (testing.md §9) and scale tests.
package fleetgen

import (
	"fmt"
	"strings"
)

// Inventory returns a YAML inventory with n clusters of three hosts each:
// a primary, a replica and an offline replica, with hardware facts set.
func Inventory(n int) []byte {
	var b strings.Builder
	b.Grow(n * 1400)
	b.WriteString("all:\n  vars:\n    admin_ip: 10.0.0.1\n    pg_version: 17\n")
	b.WriteString("    node_cpu: 8\n    node_mem_mb: 32768\n    node_disk_gb: 500\n")
	b.WriteString("  children:\n")
	b.WriteString("    infra: { hosts: { 10.0.0.1: { infra_seq: 1 } } }\n")
	b.WriteString("    etcd: { hosts: { 10.0.0.2: { etcd_seq: 1 }, 10.0.0.3: { etcd_seq: 2 }, 10.0.0.4: { etcd_seq: 3 } }, vars: { etcd_cluster: etcd } }\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("pg-c%04d", i)
		// 10.<1+i/250>.<i%250>.{11,12,13}: unique across the fleet
		net := fmt.Sprintf("10.%d.%d", 1+i/250, i%250)
		fmt.Fprintf(&b, "    %s:\n      hosts:\n", name)
		fmt.Fprintf(&b, "        %s.11: { pg_seq: 1, pg_role: primary }\n", net)
		fmt.Fprintf(&b, "        %s.12: { pg_seq: 2, pg_role: replica, pg_weight: 50 }\n", net)
		fmt.Fprintf(&b, "        %s.13: { pg_seq: 3, pg_role: replica, pg_offline_query: true }\n", net)
		fmt.Fprintf(&b, "      vars:\n        pg_cluster: %s\n", name)
		fmt.Fprintf(&b, "        pg_users:\n")
		fmt.Fprintf(&b, "          - { name: app%d, password: App%d.Pass, pgbouncer: true, roles: [ dbrole_readwrite ], comment: app owner }\n", i, i)
		fmt.Fprintf(&b, "          - { name: ro%d, password: Ro%d.Pass, pgbouncer: true, roles: [ dbrole_readonly ] }\n", i, i)
		fmt.Fprintf(&b, "        pg_databases:\n")
		fmt.Fprintf(&b, "          - { name: app%d, owner: app%d, schemas: [ app ], extensions: [ pg_trgm ], pool_size: 16 }\n", i, i)
		fmt.Fprintf(&b, "        pg_hba_rules:\n")
		fmt.Fprintf(&b, "          - { user: app%d, db: app%d, addr: 10.%d.0.0/16, auth: pwd, title: 'app from its subnet', order: 700 }\n", i, i, 1+i/250)
		fmt.Fprintf(&b, "          - { user: ro%d, db: app%d, addr: intra, auth: ssl, role: replica, title: 'readers on replicas' }\n", i, i)
		fmt.Fprintf(&b, "        pg_services:\n")
		fmt.Fprintf(&b, "          - { name: olap, port: 5439, selector: '[? pg_role == `replica` ]', dest: postgres, check: /replica }\n")
	}
	return []byte(b.String())
}
