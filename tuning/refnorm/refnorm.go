// Package refnorm is test support: the normaliser of
// shared/testdata/reference/README.md for PostgreSQL parameters, shared by
// the tuning and render tests that compare rendered values with the
// reference facts and with a real server.
package refnorm

import (
	"fmt"
	"strconv"
	"strings"
)

// Normalize reads a parameter's postgresql.conf text the way PostgreSQL
// reads it for that parameter's type and unit, and writes memory as kB,
// time as ms, booleans, enums, numbers and lists. The type/unit table is
// written out literally (from pg_settings of PostgreSQL 15/18 and the
// extensions' GUC definitions) so it does not trust package tuning's own
// Value kinds.

type normType int

const (
	nInt normType = iota
	nReal
	nBool
	nEnum
	nString
	nMem
	nTime
	nList
)

type normSpec struct {
	t    normType
	unit string // base unit of a unitless memory/time value
}

var normTable = map[string]normSpec{
	// memory (pg_settings.unit)
	"shared_buffers":               {nMem, "8kB"},
	"effective_cache_size":         {nMem, "8kB"},
	"maintenance_work_mem":         {nMem, "kB"},
	"work_mem":                     {nMem, "kB"},
	"min_wal_size":                 {nMem, "MB"},
	"max_wal_size":                 {nMem, "MB"},
	"max_slot_wal_keep_size":       {nMem, "MB"},
	"temp_file_limit":              {nMem, "kB"},
	"wal_buffers":                  {nMem, "8kB"},
	"min_parallel_table_scan_size": {nMem, "8kB"},
	"min_parallel_index_scan_size": {nMem, "8kB"},
	"wal_writer_flush_after":       {nMem, "8kB"},
	"track_activity_query_size":    {nMem, "B"},
	"log_temp_files":               {nMem, "kB"},
	"log_rotation_size":            {nMem, "kB"},
	// pg_stat_monitor 2.x: GUC_UNIT_MB
	"pg_stat_monitor.pgsm_max":                 {nMem, "MB"},
	"pg_stat_monitor.pgsm_query_shared_buffer": {nMem, "MB"},
	// time
	"lock_timeout":                        {nTime, "ms"},
	"statement_timeout":                   {nTime, "ms"},
	"recovery_min_apply_delay":            {nTime, "ms"},
	"archive_timeout":                     {nTime, "s"},
	"auto_explain.log_min_duration":       {nTime, "ms"},
	"autovacuum_naptime":                  {nTime, "s"},
	"autovacuum_vacuum_cost_delay":        {nTime, "ms"},
	"bgwriter_delay":                      {nTime, "ms"},
	"checkpoint_timeout":                  {nTime, "s"},
	"deadlock_timeout":                    {nTime, "ms"},
	"idle_in_transaction_session_timeout": {nTime, "ms"},
	"idle_replication_slot_timeout":       {nTime, "s"},
	"log_autovacuum_min_duration":         {nTime, "ms"},
	"log_min_duration_statement":          {nTime, "ms"},
	"log_rotation_age":                    {nTime, "min"},
	"max_standby_archive_delay":           {nTime, "ms"},
	"max_standby_streaming_delay":         {nTime, "ms"},
	"vacuum_cost_delay":                   {nTime, "ms"},
	"wal_receiver_status_interval":        {nTime, "s"},
	"wal_receiver_timeout":                {nTime, "ms"},
	"wal_writer_delay":                    {nTime, "ms"},
	// booleans
	"jit":                                            {t: nBool},
	"auto_explain.log_analyze":                       {t: nBool},
	"auto_explain.log_nested_statements":             {t: nBool},
	"auto_explain.log_timing":                        {t: nBool},
	"auto_explain.log_verbose":                       {t: nBool},
	"enable_partitionwise_aggregate":                 {t: nBool},
	"enable_partitionwise_join":                      {t: nBool},
	"hot_standby_feedback":                           {t: nBool},
	"log_checkpoints":                                {t: nBool},
	"log_disconnections":                             {t: nBool},
	"log_lock_failures":                              {t: nBool},
	"log_lock_waits":                                 {t: nBool},
	"log_replication_commands":                       {t: nBool},
	"log_truncate_on_rotation":                       {t: nBool},
	"logging_collector":                              {t: nBool},
	"pg_stat_statements.track_planning":              {t: nBool},
	"pg_stat_statements.track_utility":               {t: nBool},
	"pg_wait_sampling.profile_pid":                   {t: nBool},
	"ssl":                                            {t: nBool},
	"sync_replication_slots":                         {t: nBool},
	"track_commit_timestamp":                         {t: nBool},
	"track_cost_delay_timing":                        {t: nBool},
	"track_io_timing":                                {t: nBool},
	"wal_log_hints":                                  {t: nBool},
	"duckdb.allow_community_extensions":              {t: nBool},
	"pgsodium.enable_event_trigger":                  {t: nBool},
	"polar_resource_manager.enable_resource_manager": {t: nBool},
	// lists
	"search_path":              {t: nList},
	"shared_preload_libraries": {t: nList},
	"output_plugin_libraries":  {t: nList},
	"unix_socket_directories":  {t: nList},
	"log_destination":          {t: nList},
	// enums
	"archive_mode":                     {t: nEnum},
	"file_copy_method":                 {t: nEnum},
	"huge_pages":                       {t: nEnum},
	"io_method":                        {t: nEnum},
	"log_statement":                    {t: nEnum},
	"password_encryption":              {t: nEnum},
	"pg_stat_statements.track":         {t: nEnum},
	"pg_wait_sampling.profile_queries": {t: nEnum},
	"track_functions":                  {t: nEnum},
	"wal_compression":                  {t: nEnum},
	"wal_level":                        {t: nEnum},
	"timescaledb.telemetry_level":      {t: nEnum},
	// strings
	"citus.node_conninfo":    {t: nString},
	"archive_command":        {t: nString},
	"cron.database_name":     {t: nString},
	"log_directory":          {t: nString},
	"log_filename":           {t: nString},
	"log_timezone":           {t: nString},
	"ssl_ca_file":            {t: nString},
	"ssl_cert_file":          {t: nString},
	"ssl_key_file":           {t: nString},
	"pgsodium.getkey_script": {t: nString},
	// reals
	"autovacuum_analyze_scale_factor": {t: nReal},
	"autovacuum_vacuum_scale_factor":  {t: nReal},
	"bgwriter_lru_multiplier":         {t: nReal},
	"checkpoint_completion_target":    {t: nReal},
	"hash_mem_multiplier":             {t: nReal},
	"parallel_setup_cost":             {t: nReal},
	"parallel_tuple_cost":             {t: nReal},
	"random_page_cost":                {t: nReal},
	// everything else is an integer (strtol(…, 0))
}

var memUnitsKB = map[string]float64{"B": 1.0 / 1024, "kB": 1, "8kB": 8, "MB": 1024, "GB": 1024 * 1024, "TB": 1024 * 1024 * 1024}
var timeUnitsMS = map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}

// splitAmount splits "8192MB" into 8192 and "MB".
func splitAmount(s string) (float64, string, error) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad number in %q", s)
	}
	return n, strings.TrimSpace(s[i:]), nil
}

// Normalize returns the reference-normalised form of a parameter's conf text:
// float64 for numbers, bool, string or []any of strings.
func Normalize(name, text string) (any, error) {
	// log_connections is a list from PG 18 on and a boolean before.
	spec, ok := normTable[name]
	if name == "log_connections" {
		spec, ok = normSpec{t: nList}, true
		switch strings.ToLower(text) {
		case "on", "off", "true", "false", "yes", "no", "1", "0":
			spec.t = nBool
		}
	}
	if !ok {
		spec = normSpec{t: nInt}
	}
	switch spec.t {
	case nBool:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "on", "true", "yes", "1":
			return true, nil
		case "off", "false", "no", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%s: %q is not a boolean", name, text)
	case nEnum:
		return strings.ToLower(text), nil
	case nString:
		return text, nil
	case nList:
		var out []any
		for _, it := range strings.Split(text, ",") {
			if it = strings.TrimSpace(it); it != "" {
				out = append(out, it)
			}
		}
		return out, nil
	case nReal:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a real", name, text)
		}
		return f, nil
	case nInt:
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer", name, text)
		}
		return float64(n), nil
	case nMem, nTime:
		n, u, err := splitAmount(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if n == -1 && u == "" {
			return float64(-1), nil
		}
		if u == "" {
			u = spec.unit
		}
		tbl := memUnitsKB
		if spec.t == nTime {
			tbl = timeUnitsMS
		}
		k, ok := tbl[u]
		if !ok {
			return nil, fmt.Errorf("%s: unknown unit %q in %q", name, u, text)
		}
		return n * k, nil
	}
	return nil, fmt.Errorf("%s: no type", name)
}
