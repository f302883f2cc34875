package render

import (
	"fmt"
	"strconv"
	"strings"
)

// The test-side normaliser of shared/testdata/reference/README.md for
// PostgreSQL parameters: a value is read as PostgreSQL reads it for the
// parameter's type and unit, then memory is written as kB, time as ms,
// booleans as bool, enums lower-case, numbers as float64, lists as []any.
// The type/unit table is written out literally (pg_settings of PostgreSQL
// 15/18 and the extensions' GUC definitions); it does not trust package
// tuning's Value kinds.

type patroniNormType int

const (
	pnInt patroniNormType = iota
	pnReal
	pnBool
	pnEnum
	pnString
	pnMem
	pnTime
	pnList
)

type patroniNormSpec struct {
	t    patroniNormType
	unit string // unit of a unitless memory/time value (pg_settings.unit)
}

var patroniNormTable = map[string]patroniNormSpec{
	"shared_buffers":                           {pnMem, "8kB"},
	"effective_cache_size":                     {pnMem, "8kB"},
	"maintenance_work_mem":                     {pnMem, "kB"},
	"work_mem":                                 {pnMem, "kB"},
	"min_wal_size":                             {pnMem, "MB"},
	"max_wal_size":                             {pnMem, "MB"},
	"max_slot_wal_keep_size":                   {pnMem, "MB"},
	"temp_file_limit":                          {pnMem, "kB"},
	"wal_buffers":                              {pnMem, "8kB"},
	"min_parallel_table_scan_size":             {pnMem, "8kB"},
	"min_parallel_index_scan_size":             {pnMem, "8kB"},
	"wal_writer_flush_after":                   {pnMem, "8kB"},
	"track_activity_query_size":                {pnMem, "B"},
	"log_temp_files":                           {pnMem, "kB"},
	"log_rotation_size":                        {pnMem, "kB"},
	"pg_stat_monitor.pgsm_max":                 {pnMem, "MB"},
	"pg_stat_monitor.pgsm_query_shared_buffer": {pnMem, "MB"},
	"archive_timeout":                          {pnTime, "s"},
	"auto_explain.log_min_duration":            {pnTime, "ms"},
	"autovacuum_naptime":                       {pnTime, "s"},
	"autovacuum_vacuum_cost_delay":             {pnTime, "ms"},
	"bgwriter_delay":                           {pnTime, "ms"},
	"checkpoint_timeout":                       {pnTime, "s"},
	"deadlock_timeout":                         {pnTime, "ms"},
	"idle_in_transaction_session_timeout":      {pnTime, "ms"},
	"idle_replication_slot_timeout":            {pnTime, "s"},
	"log_autovacuum_min_duration":              {pnTime, "ms"},
	"log_min_duration_statement":               {pnTime, "ms"},
	"log_rotation_age":                         {pnTime, "min"},
	"max_standby_archive_delay":                {pnTime, "ms"},
	"max_standby_streaming_delay":              {pnTime, "ms"},
	"vacuum_cost_delay":                        {pnTime, "ms"},
	"wal_receiver_status_interval":             {pnTime, "s"},
	"wal_receiver_timeout":                     {pnTime, "ms"},
	"wal_writer_delay":                         {pnTime, "ms"},
	"recovery_min_apply_delay":                 {pnTime, "ms"},
	"statement_timeout":                        {pnTime, "ms"},
	"lock_timeout":                             {pnTime, "ms"},
	"auto_explain.log_analyze":                 {t: pnBool},
	"auto_explain.log_nested_statements":       {t: pnBool},
	"auto_explain.log_timing":                  {t: pnBool},
	"auto_explain.log_verbose":                 {t: pnBool},
	"enable_partitionwise_aggregate":           {t: pnBool},
	"enable_partitionwise_join":                {t: pnBool},
	"hot_standby_feedback":                     {t: pnBool},
	"log_checkpoints":                          {t: pnBool},
	"log_disconnections":                       {t: pnBool},
	"log_lock_failures":                        {t: pnBool},
	"log_lock_waits":                           {t: pnBool},
	"log_replication_commands":                 {t: pnBool},
	"log_truncate_on_rotation":                 {t: pnBool},
	"logging_collector":                        {t: pnBool},
	"pg_stat_statements.track_planning":        {t: pnBool},
	"pg_stat_statements.track_utility":         {t: pnBool},
	"pg_wait_sampling.profile_pid":             {t: pnBool},
	"ssl":                                      {t: pnBool},
	"sync_replication_slots":                   {t: pnBool},
	"track_commit_timestamp":                   {t: pnBool},
	"track_cost_delay_timing":                  {t: pnBool},
	"track_io_timing":                          {t: pnBool},
	"wal_log_hints":                            {t: pnBool},
	"duckdb.allow_community_extensions":        {t: pnBool},
	"jit":                                      {t: pnBool},
	"pgsodium.enable_event_trigger":            {t: pnBool},
	"shared_preload_libraries":                 {t: pnList},
	"output_plugin_libraries":                  {t: pnList},
	"unix_socket_directories":                  {t: pnList},
	"log_destination":                          {t: pnList},
	"search_path":                              {t: pnList},
	"archive_mode":                             {t: pnEnum},
	"file_copy_method":                         {t: pnEnum},
	"huge_pages":                               {t: pnEnum},
	"io_method":                                {t: pnEnum},
	"log_statement":                            {t: pnEnum},
	"password_encryption":                      {t: pnEnum},
	"pg_stat_statements.track":                 {t: pnEnum},
	"pg_wait_sampling.profile_queries":         {t: pnEnum},
	"track_functions":                          {t: pnEnum},
	"wal_compression":                          {t: pnEnum},
	"wal_level":                                {t: pnEnum},
	"timescaledb.telemetry_level":              {t: pnEnum},
	"archive_command":                          {t: pnString},
	"cron.database_name":                       {t: pnString},
	"log_directory":                            {t: pnString},
	"log_filename":                             {t: pnString},
	"log_timezone":                             {t: pnString},
	"ssl_ca_file":                              {t: pnString},
	"ssl_cert_file":                            {t: pnString},
	"ssl_key_file":                             {t: pnString},
	"pgsodium.getkey_script":                   {t: pnString},
	"citus.node_conninfo":                      {t: pnString},
	"autovacuum_analyze_scale_factor":          {t: pnReal},
	"autovacuum_vacuum_scale_factor":           {t: pnReal},
	"bgwriter_lru_multiplier":                  {t: pnReal},
	"checkpoint_completion_target":             {t: pnReal},
	"hash_mem_multiplier":                      {t: pnReal},
	"parallel_setup_cost":                      {t: pnReal},
	"parallel_tuple_cost":                      {t: pnReal},
	"random_page_cost":                         {t: pnReal},
	// everything else is an integer (strtol(…, 0))
}

var patroniMemKB = map[string]float64{"B": 1.0 / 1024, "kB": 1, "8kB": 8, "MB": 1024, "GB": 1024 * 1024, "TB": 1024 * 1024 * 1024}
var patroniTimeMS = map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}

// patroniNormalize returns the reference-normalised form of a parameter's text.
func patroniNormalize(name, text string) (any, error) {
	spec, ok := patroniNormTable[name]
	if name == "log_connections" { // a list from PG 18 on, a boolean before
		spec, ok = patroniNormSpec{t: pnList}, true
		switch strings.ToLower(text) {
		case "on", "off", "true", "false", "yes", "no", "1", "0":
			spec.t = pnBool
		}
	}
	if !ok {
		spec = patroniNormSpec{t: pnInt}
	}
	switch spec.t {
	case pnBool:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "on", "true", "yes", "1":
			return true, nil
		case "off", "false", "no", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%s: %q is not a boolean", name, text)
	case pnEnum:
		return strings.ToLower(text), nil
	case pnString:
		return text, nil
	case pnList:
		var out []any
		for _, it := range strings.Split(text, ",") {
			if it = strings.TrimSpace(it); it != "" {
				out = append(out, it)
			}
		}
		return out, nil
	case pnReal:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a real", name, text)
		}
		return f, nil
	case pnInt:
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer", name, text)
		}
		return float64(n), nil
	}
	s := strings.TrimSpace(text)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return nil, fmt.Errorf("%s: bad number in %q", name, text)
	}
	u := strings.TrimSpace(s[i:])
	if n == -1 && u == "" {
		return float64(-1), nil
	}
	if u == "" {
		u = spec.unit
	}
	tbl := patroniMemKB
	if spec.t == pnTime {
		tbl = patroniTimeMS
	}
	k, ok := tbl[u]
	if !ok {
		return nil, fmt.Errorf("%s: unknown unit %q in %q", name, u, text)
	}
	return n * k, nil
}
