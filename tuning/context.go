package tuning

// postmasterParams are the parameters of the computed set whose context is
// `postmaster` (PostgreSQL docs "Setting Parameters" / pg_settings.context;
// extension GUCs from their DefineCustom*Variable calls): a change needs a
// restart, every other parameter takes effect on reload.
var postmasterParams = map[string]bool{
	"archive_mode":                    true,
	"autovacuum_freeze_max_age":       true,
	"cron.database_name":              true, // pg_cron: PGC_POSTMASTER
	"huge_pages":                      true,
	"io_method":                       true, // PG 18
	"logging_collector":               true,
	"max_connections":                 true,
	"max_locks_per_transaction":       true,
	"max_logical_replication_workers": true,
	"max_prepared_transactions":       true,
	"max_replication_slots":           true,
	"max_wal_senders":                 true,
	"max_worker_processes":            true,
	"pg_stat_statements.max":          true,
	// tuning.md §6: all four pg_stat_monitor GUCs are restart-only.
	"pg_stat_monitor.pgsm_max":                 true,
	"pg_stat_monitor.pgsm_query_shared_buffer": true,
	"pg_stat_monitor.pgsm_max_buckets":         true,
	"pg_stat_monitor.pgsm_query_max_len":       true,
	// pg_wait_sampling ≥ 1.1.6 sizes its ring buffer at start (PGC_POSTMASTER;
	// older releases allowed SUSET/SIGHUP: restart is the safe answer).
	"pg_wait_sampling.history_size":                  true,
	"pgsodium.getkey_script":                         true,
	"polar_resource_manager.enable_resource_manager": true, // starts/stops a background worker
	"shared_buffers":                                 true,
	"shared_preload_libraries":                       true,
	"superuser_reserved_connections":                 true,
	"timescaledb.max_background_workers":             true,
	"track_activity_query_size":                      true,
	"track_commit_timestamp":                         true,
	"unix_socket_directories":                        true,
	"wal_buffers":                                    true,
	"wal_level":                                      true,
	"wal_log_hints":                                  true,
}

// needsRestart reports whether changing name needs a server restart on
// PostgreSQL v. autovacuum_max_workers is postmaster-context up to 17 and
// sighup from 18 (the slots moved to autovacuum_worker_slots).
func needsRestart(name string, v int) bool {
	if name == "autovacuum_max_workers" {
		return v < 18
	}
	return postmasterParams[name]
}

// NeedsRestart reports whether changing the named parameter on PostgreSQL
// version v needs a restart rather than a reload. It knows the parameters
// tuning computes; others report false.
func NeedsRestart(name string, v int) bool { return needsRestart(name, v) }

// MustMatchParams returns the parameters whose values must be equal on all
// members of a cluster (tuning.md §8 param-mismatch): Patroni writes the
// bootstrap leader's values to the DCS and a replica with lower values than
// the primary refuses to start.
func MustMatchParams() []string {
	return []string{"max_connections", "max_locks_per_transaction", "max_prepared_transactions",
		"max_worker_processes", "track_commit_timestamp", "wal_level"}
}

// PatroniManagedParams returns the parameters Patroni passes on the postgres
// command line, so postgresql.auto.conf cannot change them (tuning.md §8
// param-ignored): edit them in the DCS instead.
func PatroniManagedParams() []string {
	return []string{"cluster_name", "hot_standby", "listen_addresses", "max_connections",
		"max_locks_per_transaction", "max_prepared_transactions", "max_replication_slots",
		"max_wal_senders", "max_worker_processes", "port", "track_commit_timestamp",
		"wal_level", "wal_log_hints"}
}
