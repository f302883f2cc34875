// Package doctor implements `pgmigrate doctor` (migrate.md §4.3): a
// collector reads both sides' catalogs into Facts, and pure rules turn Facts
// into checks, each a blocker, warning or info with fix SQL where one exists.
// The rules never touch a database, so every check has a table test.
package doctor

// SideFacts is what the collector learned about one side.
type SideFacts struct {
	Up       bool   `json:"up"`
	Err      string `json:"err,omitempty"`
	ReplUp   bool   `json:"repl_up"` // replication=database connection (source)
	ReplErr  string `json:"repl_err,omitempty"`
	ClientIP string `json:"client_ip,omitempty"` // inet_client_addr() as the server sees us

	Version    int    `json:"version"` // server_version_num
	InRecovery bool   `json:"in_recovery"`
	SystemID   string `json:"system_id"`
	DBName     string `json:"dbname"`
	User       string `json:"user"`

	// Settings by name: setting in its base unit as pg_settings shows it, and
	// the unit ("ms", "s", "MB", "8kB" …).
	Settings map[string]Setting `json:"settings"`

	IsSuper        bool     `json:"is_super"`
	Replication    bool     `json:"replication"`
	BypassRLS      bool     `json:"bypassrls"`
	MemberOf       []string `json:"member_of"` // effective memberships (pg_signal_backend, pg_create_subscription …)
	DBOwner        bool     `json:"db_owner"`
	CreateOnDB     bool     `json:"create_on_db"`
	NotOwnedTables []string `json:"not_owned_tables"` // migrated tables the admin does not own
	CanSetRoleTo   []string `json:"-"`

	Encoding, Collate, Ctype, Provider string
	CollVersion                        string

	Extensions map[string]string `json:"extensions"` // installed: name → version
	Available  map[string]string `json:"available"`  // pg_available_extensions: name → default_version

	SlotsUsed       int      `json:"slots_used"`
	SendersUsed     int      `json:"senders_used"`
	WorkersUsed     int      `json:"workers_used"` // logical replication workers running
	BgWorkersUsed   int      `json:"bg_workers_used"`
	Subscriptions   int      `json:"subscriptions"`
	OurSlots        []Slot   `json:"our_slots"`
	OurPubs         []string `json:"our_pubs"`
	OurSubs         []string `json:"our_subs"`
	LongXacts       []string `json:"long_xacts"`
	PreparedXacts   int      `json:"prepared_xacts"`
	WALRateBytesSec float64  `json:"wal_rate"`
	SuperuserApps   []string `json:"superuser_apps"` // "user@app" of non-pgmigrate superuser sessions on the database
	Roles           map[string]Role
}

// Setting is one pg_settings row.
type Setting struct {
	Value string `json:"value"`
	Unit  string `json:"unit,omitempty"`
}

// Role is one role on a side.
type Role struct {
	Exists   bool
	Login    bool
	Verifier string // rolpassword (SCRAM verifier), only read when superuser
}

// ReadError is one failed catalog read.
type ReadError struct {
	Side string `json:"side"` // source or destination
	What string `json:"what"` // the fact: a short, stable, lowercase label
	Err  string `json:"err"`  // the error, redacted
}

// Slot is a replication slot bearing one of pgmigrate's names.
type Slot struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

// Table is one candidate table (passes the filters) on the source.
type Table struct {
	Name      string // "schema"."table"
	Schema    string
	Rel       string
	Kind      string // r, p
	Keyed     bool
	RLS       bool
	Owner     string
	Bytes     int64
	Replident string // f, d, i, n (of the table itself)
	DstExists bool
	DstRows   bool // has at least one row on the destination
	// DstIssue explains a schema mismatch when schema.copy is false.
	DstIssue string
}

// NoKey is one leaf without a usable replica identity.
type NoKey struct {
	Name      string
	Replident string
	Fix       string
}

// Sequence is a sequence of a migrated schema on the source.
type Sequence struct {
	Name          string
	Last          *int64
	Inc, Min, Max int64
	Cycle         bool
	Owned         bool
	DstLast       *int64
}

// Grantee holds direct privileges that the copy would not reproduce.
type Grantee struct {
	Role    string
	Objects int
}

// Writer is a role that can write migrated tables.
type Writer struct {
	Role  string
	Super bool
	Owner bool
}

// Pgbouncer is the probe of one switch.pgbouncer entry.
type Pgbouncer struct {
	Entry           int
	ConsoleErr      string
	DatabaseMissing bool
	ConfigWritable  bool
	ConfigErr       string
	EntryOnSrc      bool
	EntryLine       string
}

// Facts is everything the rules need.
type Facts struct {
	Src, Dst SideFacts

	// DstRowsErr is set when the destination row probe failed: the
	// dst-not-empty check must then fail, not pass on "no rows seen".
	DstRowsErr string `json:"dst_rows_err,omitempty"`

	// ReadErrors lists, in the order of the reads, every catalog read that
	// failed on a side that was up: the fact it feeds kept its zero value,
	// so the catalog-reads check fails instead of the rules passing on it.
	ReadErrors []ReadError `json:"read_errors,omitempty"`

	// From the journal.
	JournalSystemIDs map[string]string
	CopyStarted      bool // the journal records a copy-data start (§12.2)
	SchemaJournaled  bool // copy-schema done in the journal
	JournaledObjects map[string]bool

	Tools map[string]string // pg_dump, pg_restore, psql → "15.20" or "" when missing

	Tables             []Table
	NoKey              []NoKey
	IdentityFull       []string
	Unlogged           []string
	LargeObjects       int64
	ForeignTables      []string
	Matviews           int
	Partitioned        int
	GeneratedCols      int
	IdentityCols       int
	Sequences          []Sequence
	Partman            bool
	RecentParts        []string
	ExcludedWithTables []string // excluded schemas that hold tables
	FKToExcluded       []string // "fk on t → excluded table"
	DstTriggers        []string // ENABLE ALWAYS/REPLICA triggers or rules on migrated DST tables
	MissingRoles       []string // owners/grantees missing on DST
	VerifierDiff       []string // active roles whose SCRAM verifier differs
	DirectGrants       []Grantee
	Writers            []Writer

	ReplUserReplication bool
	ReplUserKnown       bool
	ReplUserNoSelect    []string
	RLSRoleBypass       map[string]bool // role → bypassrls, for copy/verify/tablesync roles

	// Probe: nil when not run (--no-probe or no DST), else "" for success or the error.
	Probe        *string
	ReverseProbe *string

	Secrets struct {
		DefaultPasswords []string // keys holding a Pigsty default
		FileMode         uint32
		InlinePasswords  bool
	}

	DstFree int64 // --dst-free, 0 when not given

	Pgbouncers []Pgbouncer
	CommandErr string // switch.command.run not executable
}
