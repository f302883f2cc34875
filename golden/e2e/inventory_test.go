package e2e

import (
	"fmt"
	"strconv"
	"strings"
)

// Test data of testing.md §5: one cluster of three members on a fresh 127.A.B
// block (primary, replica, replica with pg_offline_query), infra and etcd on
// 127.0.0.1, free ports, PG 15 and PgBouncer 1.18 (what Debian 12 ships), the fast
// `test` RTO plan, and every path that an inventory variable controls pointed into
// the test's directory. Nothing here is product logic.

// Credentials of the test inventory (never Pigsty's published defaults, so a
// renderer that ignored a variable would fail to log in).
const (
	pwAdmin   = "DBA.E2E.2026"
	pwMonitor = "Monitor.E2E.2026"
	pwRepl    = "Repl.E2E.2026"
	pwPatroni = "Patroni.E2E.2026"
	pwHAProxy = "HAProxy.E2E.2026"
	pwEtcd    = "Etcd.E2E.2026"
	pwTest    = "Test.E2E.2026"
	pwETL     = "ETL.E2E.2026"
)

// ports of one run: members listen on their own 127.A.B.x address, so the
// member ports can be equal across members; services and stats bind `*`.
type ports struct {
	Etcd, PG, Patroni, PgBouncer, Stats int
	Primary, Replica, Default, Offline  int
}

// inventoryYAML renders the inventory. root is the test directory, block the
// 127.A.B prefix, bindir the PostgreSQL server binaries.
func inventoryYAML(root, block, bindir string, p ports) string {
	hosts := ""
	for i, extra := range []string{"pg_role: primary", "pg_role: replica", "pg_role: replica, pg_offline_query: true"} {
		n := strconv.Itoa(i + 1)
		d := root + "/pg-test-" + n
		hosts += fmt.Sprintf("        %s.1%s: { pg_seq: %s, %s, pg_data: %s/data, pg_localhost: %s/run, pg_dbsu_home: %s/home,\n"+
			"                     patroni_log_dir: %s/log/patroni, pgbouncer_log_dir: %s/log/pgbouncer, pgbackrest_log_dir: %s/log/pgbackrest }\n",
			block, n, n, extra, d, d, d, d, d, d)
	}
	r := strings.NewReplacer(
		"@BLOCK@", block, "@ROOT@", root, "@BINDIR@", bindir, "@HOSTS@", hosts,
		"@ETCD@", strconv.Itoa(p.Etcd), "@PG@", strconv.Itoa(p.PG), "@PATRONI@", strconv.Itoa(p.Patroni),
		"@PGB@", strconv.Itoa(p.PgBouncer), "@STATS@", strconv.Itoa(p.Stats),
		"@P_PRIMARY@", strconv.Itoa(p.Primary), "@P_REPLICA@", strconv.Itoa(p.Replica),
		"@P_DEFAULT@", strconv.Itoa(p.Default), "@P_OFFLINE@", strconv.Itoa(p.Offline),
		"@PW_ADMIN@", pwAdmin, "@PW_MONITOR@", pwMonitor, "@PW_REPL@", pwRepl, "@PW_PATRONI@", pwPatroni,
		"@PW_HAPROXY@", pwHAProxy, "@PW_ETCD@", pwEtcd, "@PW_TEST@", pwTest, "@PW_ETL@", pwETL,
	)
	return r.Replace(inventoryTemplate)
}

// The intranet is 127.0.0.1/32 (HAProxy, replication, pg_rewind and patronictl
// all arrive from 127.0.0.1) plus the lower half of the test block, which holds
// the members (.11–.13). 127.A.B.200 is therefore outside every address alias
// except `world`: the HBA checks connect from there through a relay.
//
// pg_default_hba_rules are Pigsty v4.5's defaults verbatim except rule 650, which
// gets `role: offline`: v4.5 enables the dbrole_offline rule on every member, so
// an offline user could also reach the leader through the `default` service
// (PostgreSQL direct). The role restriction is the documented intent ("offline
// users only on offline instances") and what the scenario checks.
//
// pg_default_services are the defaults with free ports.
const inventoryTemplate = `# pgcc e2e test inventory (golden/e2e, testing.md §5)
all:
  vars:
    admin_ip: 127.0.0.1
    pg_version: 15
    pgbouncer_version: "1.18"
    pg_libs: 'pg_stat_statements, auto_explain'
    pg_listen: '${ip}'
    node_firewall_intranet: [ 127.0.0.1/32, @BLOCK@.0/25 ]
    pgbackrest_method: local
    pg_vip_enabled: false
    etcd_port: @ETCD@
    pg_port: @PG@
    patroni_port: @PATRONI@
    pgbouncer_port: @PGB@
    haproxy_exporter_port: @STATS@
    pg_bin_dir: @BINDIR@
    pg_log_dir: @ROOT@/pglog      # log_directory is a DCS (cluster-wide) parameter
    pg_rto_plan: { test: [ 10, 2, 3, 3, 2, '2s', '1s', '2s', 3, 3 ] }
    pg_rto: test
    pg_admin_password: @PW_ADMIN@
    pg_monitor_password: @PW_MONITOR@
    pg_replication_password: @PW_REPL@
    patroni_password: @PW_PATRONI@
    haproxy_admin_password: @PW_HAPROXY@
    pg_etcd_password: @PW_ETCD@
  children:
    infra: { hosts: { 127.0.0.1: { infra_seq: 1 } } }
    etcd:  { hosts: { 127.0.0.1: { etcd_seq: 1 } } }
    pg-test:
      vars:
        pg_cluster: pg-test
        node_cpu: 2
        node_mem_mb: 2048
        node_disk_gb: 20
        pg_users:
          - { name: test       ,password: @PW_TEST@ ,pgbouncer: true ,roles: [ dbrole_admin ] ,comment: business user }
          - { name: dbuser_etl ,password: @PW_ETL@  ,roles: [ dbrole_offline ] ,comment: offline user }
        pg_databases:
          - { name: test ,owner: test }
        pg_default_services:
          - { name: primary ,port: @P_PRIMARY@ ,dest: default  ,check: /primary   ,selector: "[]" }
          - { name: replica ,port: @P_REPLICA@ ,dest: default  ,check: /read-only ,selector: "[]" ,backup: "[? pg_role == ` + "`primary`" + ` || pg_role == ` + "`offline`" + ` ]" }
          - { name: default ,port: @P_DEFAULT@ ,dest: postgres ,check: /primary   ,selector: "[]" }
          - { name: offline ,port: @P_OFFLINE@ ,dest: postgres ,check: /replica   ,selector: "[? pg_role == ` + "`offline`" + ` || pg_offline_query ]" ,backup: "[? pg_role == ` + "`replica`" + ` && !pg_offline_query]" }
        pg_default_hba_rules:
          - { user: '${dbsu}'    ,db: all         ,addr: local     ,auth: ident ,title: 'dbsu access via local os user ident'   ,order: 100 }
          - { user: '${dbsu}'    ,db: replication ,addr: local     ,auth: ident ,title: 'dbsu replication from local os ident'  ,order: 150 }
          - { user: '${repl}'    ,db: replication ,addr: localhost ,auth: pwd   ,title: 'replicator replication from localhost' ,order: 200 }
          - { user: '${repl}'    ,db: replication ,addr: intra     ,auth: pwd   ,title: 'replicator replication from intranet'  ,order: 250 }
          - { user: '${repl}'    ,db: postgres    ,addr: intra     ,auth: pwd   ,title: 'replicator postgres db from intranet'  ,order: 300 }
          - { user: '${monitor}' ,db: all         ,addr: localhost ,auth: pwd   ,title: 'monitor from localhost with password'  ,order: 350 }
          - { user: '${monitor}' ,db: all         ,addr: infra     ,auth: pwd   ,title: 'monitor from infra host with password' ,order: 400 }
          - { user: '${admin}'   ,db: all         ,addr: intra     ,auth: pwd   ,title: 'admin @ intranet nodes with pwd'       ,order: 450 }
          - { user: '${admin}'   ,db: all         ,addr: world     ,auth: ssl   ,title: 'admin @ everywhere with ssl & pwd'     ,order: 500 }
          - { user: '+dbrole_readonly' ,db: all   ,addr: localhost ,auth: pwd   ,title: 'pgbouncer read/write via local socket' ,order: 550 }
          - { user: '+dbrole_readonly' ,db: all   ,addr: intra     ,auth: pwd   ,title: 'read/write biz user via password'      ,order: 600 }
          - { user: '+dbrole_offline'  ,db: all   ,addr: intra     ,auth: pwd   ,title: 'allow etl offline tasks from intranet' ,order: 650 ,role: offline }
      hosts:
@HOSTS@`
