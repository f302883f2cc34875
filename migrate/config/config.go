// Package config reads a pgmigrate migration file (migrate.md §2): Pigsty's
// pg_migration variables, accepted unchanged, plus pgmigrate's options. It
// derives the names (publication, subscription, slot …), resolves passwords
// (inline, {env: NAME}, PGPASSWORD, ~/.pgpass) and never prints them.
package config

import (
	"time"
)

// Secret is a password given inline (Pigsty style) or as {env: NAME}. Its
// String method never reveals the value.
type Secret struct {
	Inline string
	Env    string
	set    bool
	value  string // resolved value (Inline, or the environment's)
	ok     bool   // resolved and non-empty
}

// IsSet reports whether the file gave the field at all.
func (s Secret) IsSet() bool { return s.set }

// Value returns the resolved password and whether one is known.
func (s Secret) Value() (string, bool) { return s.value, s.ok }

func (s Secret) String() string {
	if !s.set {
		return ""
	}
	return "********"
}

// PgbouncerEntry is one switch.pgbouncer[] entry (used by cutover).
type PgbouncerEntry struct {
	AdminURL   string `json:"admin_url"`
	Database   string `json:"database"`
	ConfigFile string `json:"config_file"`
	SSH        string `json:"ssh,omitempty"`
	Target     string `json:"target"`
}

// Options are pgmigrate's own settings (migrate.md §2), with their defaults.
type Options struct {
	Tables struct {
		Include []string `json:"include"`
		Exclude []string `json:"exclude"`
		NoKey   string   `json:"no_key"`
	} `json:"tables"`
	Schema struct {
		Copy bool `json:"copy"`
		// ExcludeSchemas holds glob patterns (`*`, `?`); "default" expands to
		// Pigsty's list plus pgmigrate.
		ExcludeSchemas []string `json:"exclude_schemas"`
		KeepOwner      bool     `json:"keep_owner"`
		KeepPrivileges bool     `json:"keep_privileges"`
	} `json:"schema"`
	Objects struct {
		LargeObjects string `json:"large_objects"`
		Unlogged     string `json:"unlogged"`
		Matviews     string `json:"matviews"`
	} `json:"objects"`
	Copy struct {
		Method         string `json:"method"`
		Workers        int    `json:"workers"`
		ChunkBytes     int64  `json:"chunk_bytes"`
		Format         string `json:"format"`
		PostDataJobs   int    `json:"post_data_jobs"`
		TruncateTarget bool   `json:"truncate_target"`
		// Freeze: auto, on or off (run/copy.go applyCopyData's doc).
		Freeze string `json:"freeze"`
	} `json:"copy"`
	Subscription struct {
		Streaming        string `json:"streaming"`
		Binary           bool   `json:"binary"`
		ConninfoPassword bool   `json:"conninfo_password"`
	} `json:"subscription"`
	SeqOffset int64 `json:"seq_offset"`
	Lag       struct {
		ReadyBytes     int64    `json:"ready_bytes"`
		EnterBytes     int64    `json:"enter_bytes"`
		StableSamples  int      `json:"stable_samples"`
		SampleInterval Duration `json:"sample_interval"`
		EnterTimeout   Duration `json:"enter_timeout"`
	} `json:"lag"`
	PauseBudget Duration `json:"pause_budget"`
	Catchup     string   `json:"catchup"`
	Fence       struct {
		Methods             []string `json:"methods"`
		LockTimeout         Duration `json:"lock_timeout"`
		LockRetries         int      `json:"lock_retries"`
		TerminatePasses     int      `json:"terminate_passes"`
		TerminateInterval   Duration `json:"terminate_interval"`
		ExemptRoles         []string `json:"exempt_roles"`
		RequireFullCoverage bool     `json:"require_full_coverage"`
		// ReleaseTimeout bounds cutover's release phase: remaining source
		// sessions are terminated until none is left or it passes (§12.10).
		ReleaseTimeout Duration `json:"release_timeout"`
	} `json:"fence"`
	DDLGuard string `json:"ddl_guard"`
	Switch   struct {
		Mechanism string           `json:"mechanism"`
		Pgbouncer []PgbouncerEntry `json:"pgbouncer"`
		Command   struct {
			Run     string   `json:"run"`
			Revert  string   `json:"revert"`
			Timeout Duration `json:"timeout"`
		} `json:"command"`
	} `json:"switch"`
	Verify struct {
		Mode          string `json:"mode"`
		AfterCutover  bool   `json:"after_cutover"`
		Jobs          int    `json:"jobs"`
		ChunkRows     int64  `json:"chunk_rows"`
		LeafRows      int64  `json:"leaf_rows"`
		MaxReportRows int    `json:"max_report_rows"`
		Recheck       int    `json:"recheck"`
	} `json:"verify"`
	Rollback struct {
		Enabled bool   `json:"enabled"`
		Conn    string `json:"conn"`
	} `json:"rollback"`
	MetricsListen string `json:"metrics_listen"`
}

// Duration is a time.Duration that marshals in Go syntax ("200ms").
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// DefaultExcludeSchemas is Pigsty's list (`^pg_`, `^_`, `^timescaledb`,
// `^citus`, `^columnar`, information_schema, pg_toast, repack, monitor) plus
// pgmigrate, written as globs.
var DefaultExcludeSchemas = []string{
	"pg_*", "_*", "timescaledb*", "citus*", "columnar*",
	"information_schema", "pg_toast", "repack", "monitor", "pgmigrate",
}

// Defaults returns the option defaults of migrate.md §2.
func Defaults() Options {
	var o Options
	o.Tables.Include = []string{}
	o.Tables.Exclude = []string{"*.spatial_ref_sys"}
	o.Tables.NoKey = "block"
	o.Schema.Copy = true
	o.Schema.ExcludeSchemas = append([]string(nil), DefaultExcludeSchemas...)
	o.Objects.LargeObjects = "block"
	o.Objects.Unlogged = "skip"
	o.Objects.Matviews = "refresh"
	o.Copy.Method = "snapshot"
	o.Copy.Workers = 4
	o.Copy.ChunkBytes = 128 << 20
	o.Copy.Format = "auto"
	o.Copy.PostDataJobs = 4
	o.Copy.Freeze = "auto"
	o.Subscription.Streaming = "auto"
	o.Subscription.ConninfoPassword = true
	o.SeqOffset = 1000
	o.Lag.ReadyBytes = 16 << 20
	o.Lag.EnterBytes = 1 << 20
	o.Lag.StableSamples = 3
	o.Lag.SampleInterval = Duration(100 * time.Millisecond)
	o.Lag.EnterTimeout = Duration(10 * time.Minute)
	o.PauseBudget = Duration(5 * time.Second)
	o.Catchup = "marker"
	o.Fence.Methods = []string{"lock", "trigger", "connlimit", "terminate"}
	o.Fence.LockTimeout = Duration(200 * time.Millisecond)
	o.Fence.LockRetries = 4
	o.Fence.TerminatePasses = 3
	o.Fence.TerminateInterval = Duration(50 * time.Millisecond)
	o.Fence.ExemptRoles = []string{}
	o.Fence.ReleaseTimeout = Duration(3 * time.Second)
	o.DDLGuard = "block"
	o.Switch.Mechanism = "none"
	o.Switch.Pgbouncer = []PgbouncerEntry{}
	o.Switch.Command.Timeout = Duration(5 * time.Second)
	o.Verify.Mode = "hash"
	o.Verify.AfterCutover = true
	o.Verify.Jobs = 4
	o.Verify.ChunkRows = 100000
	o.Verify.LeafRows = 1000
	o.Verify.MaxReportRows = 100
	o.Verify.Recheck = 3
	return o
}

// Config is a loaded, validated migration file.
type Config struct {
	File string // the path given with -f

	SrcCls, SrcDB, SrcIP string
	DstCls, DstDB, DstIP string
	ContextDir           string // as written; "~" is expanded only when used
	SrcPG, DstPG         string // as written or defaulted (may hold a password)
	SubConn              string // as written or defaulted (may hold a password)
	SubConnGiven         bool
	PgDbsu               string

	ReplUser, AdminUser, MonitorUser string
	ReplPassword                     Secret
	AdminPassword                    Secret
	MonitorPassword                  Secret

	Options

	Names Names
}

// Names are the derived identifiers of migrate.md §2.
type Names struct {
	ID     string `json:"id"`
	Dir    string `json:"dir"` // <context_dir>/<id>, "~" unexpanded
	Pub    string `json:"publication"`
	Sub    string `json:"subscription"`
	Slot   string `json:"slot"`
	RPub   string `json:"reverse_publication"`
	RSub   string `json:"reverse_subscription"`
	RSlot  string `json:"reverse_slot"`
	Schema string `json:"schema"` // pgmigrate's own schema on both sides
}
