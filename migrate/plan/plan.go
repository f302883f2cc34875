// Package plan is pgmigrate's pure planner: migration file → ordered steps,
// each with the SQL it runs (migrate.md §3 plan, §4.1). It opens no
// connection; the executor runs the same SQL text, so a dry run, the plan
// files, the kit and the real run cannot disagree.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// Step ids of migrate.md §4.1, in order.
const (
	Doctor         = "doctor"
	FixIdentity    = "fix-identity"
	PrepareSource  = "prepare-source"
	CopySchema     = "copy-schema"
	CreatePub      = "create-pub"
	CreateSlot     = "create-slot"
	CopyData       = "copy-data"
	PostData       = "post-data"
	CreateSub      = "create-sub"
	PrepareReverse = "prepare-reverse"
	WaitSync       = "wait-sync"
	Streaming      = "streaming"
)

// AllSteps is every §4.1 step id in order, applicable or not.
var AllSteps = []string{Doctor, FixIdentity, PrepareSource, CopySchema, CreatePub, CreateSlot,
	CopyData, PostData, CreateSub, PrepareReverse, WaitSync, Streaming}

// StepNumber returns the §4.1 number of a step id, 0 if unknown.
func StepNumber(id string) int {
	for i, s := range AllSteps {
		if s == id {
			return i + 1
		}
	}
	return 0
}

// Side names of SQL sections.
const (
	SideSource      = "source"
	SideDestination = "destination"
	SidePgbouncer   = "pgbouncer"
	SideShell       = "shell"
)

// Section is one side's SQL (or shell lines) of a step.
type Section struct {
	Side string
	Text string
}

// Step is one planned step.
type Step struct {
	N             int       `json:"n"`
	ID            string    `json:"id"`
	RunsOn        []string  `json:"runs_on"`
	File          string    `json:"file"`
	Requires      []string  `json:"requires"`
	Writes        []string  `json:"writes"`
	Idempotence   string    `json:"idempotence"`
	Preconditions string    `json:"preconditions"`
	Sections      []Section `json:"-"`
}

// SQL returns the text of the step's section for side ("" if none).
func (s Step) SQL(side string) string {
	for _, sec := range s.Sections {
		if sec.Side == side {
			return sec.Text
		}
	}
	return ""
}

// Plan is the planner's output.
type Plan struct {
	Cfg           *config.Config
	Steps         []Step
	StructureHash string
}

// Step returns the planned step with id, and whether it is applicable.
func (p *Plan) Step(id string) (Step, bool) {
	for _, s := range p.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Applicable reports whether step id applies to cfg.
func Applicable(cfg *config.Config, id string) bool {
	switch id {
	case FixIdentity:
		return cfg.Tables.NoKey == "apply_fix"
	case CreateSlot, CopyData, PostData:
		return cfg.Copy.Method == "snapshot"
	case PrepareReverse:
		return cfg.Rollback.Enabled
	}
	return StepNumber(id) > 0
}

// Build plans a migration. It is pure and deterministic.
func Build(cfg *config.Config) *Plan {
	p := &Plan{Cfg: cfg, StructureHash: StructureHash(cfg)}
	for _, id := range AllSteps {
		if !Applicable(cfg, id) {
			continue
		}
		s := buildStep(cfg, id)
		s.N = StepNumber(id)
		s.ID = id
		s.File = fmt.Sprintf("sql/%02d-%s.sql", s.N, id)
		if s.Requires == nil {
			s.Requires = []string{}
		}
		if s.Writes == nil {
			s.Writes = []string{}
		}
		p.Steps = append(p.Steps, s)
	}
	// requires: the previous applicable step.
	for i := range p.Steps {
		if i > 0 {
			p.Steps[i].Requires = append([]string{p.Steps[i-1].ID}, p.Steps[i].Requires...)
		}
	}
	return p
}

// StructureHash is sha256 over the shape settings (§3): hosts, databases,
// names, filters, copy.method, schema.*, objects.*. After create-pub, run
// refuses (exit 2) to continue when it changed.
func StructureHash(cfg *config.Config) string {
	src, dst := cfg.Src(), cfg.Dst()
	shape := map[string]any{
		"src":       map[string]any{"cls": cfg.SrcCls, "db": cfg.SrcDB, "ip": cfg.SrcIP, "host": src.Host(), "port": src.Port(), "url_db": src.DBName()},
		"dst":       map[string]any{"cls": cfg.DstCls, "db": cfg.DstDB, "ip": cfg.DstIP, "host": dst.Host(), "port": dst.Port(), "url_db": dst.DBName()},
		"names":     cfg.Names,
		"tables":    cfg.Tables,
		"copy":      map[string]any{"method": cfg.Copy.Method},
		"schema":    cfg.Schema,
		"objects":   cfg.Objects,
		"sub_conn":  cfg.SubConninfo().Without("password").Secret(),
		"rollback":  cfg.Rollback.Enabled,
		"ddl_guard": cfg.DDLGuard,
	}
	b, _ := json.Marshal(shape) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func lit(s string) string   { return sqltext.Literal(s) }
func ident(s string) string { return sqltext.Ident(s) }

func buildStep(cfg *config.Config, id string) Step {
	n := cfg.Names
	switch id {
	case Doctor:
		return Step{
			RunsOn:        []string{SideSource, SideDestination},
			Writes:        []string{"data/doctor.json"},
			Idempotence:   "read-only; runs on every invocation of run",
			Preconditions: "none",
			Sections: []Section{
				{SideSource, "-- `pgmigrate doctor` runs every check of migrate.md §4.3; the essentials, read-only:\n" +
					"SELECT current_setting('server_version_num') AS version, current_setting('wal_level') AS wal_level, pg_catalog.pg_is_in_recovery() AS in_recovery;\n" +
					"-- tables without a primary key or replica identity (never published until fixed):\n" +
					NoKeySQL(cfg) + ";\n"},
				{SideDestination, "SELECT current_setting('server_version_num') AS version, pg_catalog.pg_is_in_recovery() AS in_recovery;\n"},
			},
		}
	case FixIdentity:
		return Step{
			RunsOn:        []string{SideSource},
			Writes:        []string{"data/fix-replica-identity.sql"},
			Idempotence:   "tables that already qualify are skipped",
			Preconditions: "tables.no_key = apply_fix",
			Sections: []Section{{SideSource,
				"SET lock_timeout = " + lit(cfg.Fence.LockTimeout.D().String()) + ";\n" +
					FixIdentityGenerator(cfg) + " \\gexec\n"}},
		}
	case PrepareSource:
		return Step{
			RunsOn:        []string{SideSource},
			Writes:        []string{"pgmigrate.marker", "pgmigrate.seal", "pgmigrate.fence_guard()", "trigger pgmigrate_fence", "event trigger pgmigrate_ddl_guard"},
			Idempotence:   "IF NOT EXISTS, CREATE OR REPLACE, a catalog lookup per trigger",
			Preconditions: "doctor passed",
			Sections:      []Section{{SideSource, PrepareSourceSQL(cfg, true)}},
		}
	case CopySchema:
		s := Step{
			RunsOn:        []string{SideShell, SideDestination},
			Writes:        []string{"data/schema.dump", "data/schema-pre.sql", "destination schema", "destination pgmigrate.marker"},
			Idempotence:   "done when journaled and every migrated table exists on the destination; applies only when none exists",
			Preconditions: "no migrated table exists on the destination",
		}
		if !cfg.Schema.Copy {
			s.Idempotence = "schema.copy = false: only pgmigrate.marker is created"
			s.Sections = []Section{{SideDestination, MarkerSQL()}}
			return s
		}
		s.Sections = []Section{
			{SideShell, CopySchemaShell(cfg)},
			{SideDestination, MarkerSQL()},
		}
		return s
	case CreatePub:
		return Step{
			RunsOn:        []string{SideSource},
			Writes:        []string{"publication " + n.Pub},
			Idempotence:   "an existing publication is converged with ALTER PUBLICATION … SET TABLE",
			Preconditions: "every listed table has a primary key or replica identity (re-checked immediately before)",
			Sections:      []Section{{SideSource, CreatePubGenerator(cfg) + " \\gexec\n"}},
		}
	case CreateSlot:
		return Step{
			RunsOn:        []string{SideSource},
			Writes:        []string{"slot " + n.Slot, "journal: consistent_point, snapshot"},
			Idempotence:   "a slot that exists while copy-data is unfinished is dropped and re-created",
			Preconditions: "a replication connection (src_pg with replication=database)",
			Sections: []Section{
				{SideSource, "-- on a replication connection (replication=database); the connection stays idle\n" +
					"-- until copy-data ends, because the exported snapshot dies with it:\n" +
					"-- CREATE_REPLICATION_SLOT " + n.Slot + " LOGICAL pgoutput EXPORT_SNAPSHOT;\n" +
					"SELECT slot_name, plugin, confirmed_flush_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = " + lit(n.Slot) + ";\n"},
			},
		}
	case CopyData:
		return Step{
			RunsOn:        []string{SideSource, SideDestination},
			Writes:        []string{"destination table data"},
			Idempotence:   "a resumed copy truncates the migrated destination tables and returns to create-slot",
			Preconditions: "create-slot's snapshot is alive",
			Sections: []Section{
				{SideSource, CopyDataSourceSQL(cfg)},
				{SideDestination, "-- each chunk: BEGIN; SET LOCAL synchronous_commit = off; COPY <table or its root> (<columns>) FROM STDIN; COMMIT;\n" +
					copyFreezeComment(cfg) +
					"-- a resumed copy first truncates every migrated table:\n" +
					TruncateGenerator(cfg) + " \\gexec\n"},
			},
		}
	case PostData:
		return Step{
			RunsOn:        []string{SideShell, SideDestination},
			Writes:        []string{"indexes, constraints, triggers on the destination"},
			Idempotence:   "each attempt drops from the TOC list the entries whose object exists",
			Preconditions: "copy-data done",
			Sections: []Section{
				{SideShell, PostDataShell(cfg)},
				{SideDestination, "ANALYZE;\n"},
			},
		}
	case CreateSub:
		return Step{
			RunsOn:        []string{SideDestination},
			Writes:        []string{"subscription " + n.Sub},
			Idempotence:   "a journaled subscription is enabled; a conninfo drift is an error",
			Preconditions: "post-data done (or, on the subscription path, copy-schema)",
			Sections:      []Section{{SideDestination, CreateSubGenerator(cfg) + " \\gexec\n"}},
		}
	case PrepareReverse:
		return Step{
			RunsOn:        []string{SideDestination},
			Writes:        []string{"destination pgmigrate objects", "publication " + n.RPub},
			Idempotence:   "IF NOT EXISTS, CREATE OR REPLACE; an existing publication is converged",
			Preconditions: "rollback.enabled",
			Sections:      []Section{{SideDestination, PrepareSourceSQL(cfg, false) + reverseTriggers(cfg) + ReversePubGenerator(cfg) + " \\gexec\n"}},
		}
	case WaitSync:
		secs := []Section{
			{SideSource, "-- polled every second until lag ≤ lag.ready_bytes for lag.stable_samples samples:\n" + LagSQL(cfg) + ";\n"},
		}
		dst := ""
		if cfg.Copy.Method == "subscription" {
			dst += "-- the subscription path also waits for every table to reach 'r':\n" +
				"SELECT count(*) FILTER (WHERE srsubstate <> 'r') AS not_ready FROM pg_catalog.pg_subscription_rel r\n" +
				"JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid WHERE s.subname = " + lit(n.Sub) + ";\n"
		}
		if cfg.Objects.Matviews == "refresh" {
			dst += MatviewRefreshGenerator(cfg) + " \\gexec\n"
		}
		if cfg.Copy.Method == "subscription" {
			dst += "ANALYZE;\n"
		}
		if dst != "" {
			secs = append(secs, Section{SideDestination, dst})
		}
		return Step{
			RunsOn:        []string{SideSource, SideDestination},
			Idempotence:   "read-only polling, then idempotent refreshes",
			Preconditions: "create-sub done",
			Sections:      secs,
		}
	case Streaming:
		return Step{
			RunsOn:        []string{SideShell},
			Idempotence:   "prints \"ready for cutover\"",
			Preconditions: "wait-sync done",
			Sections:      []Section{{SideShell, "echo 'ready for cutover'\n"}},
		}
	}
	return Step{}
}

// MarkerSQL creates pgmigrate.marker (both sides need it: the publication
// carries it, cutover's catch-up marker travels through it).
func MarkerSQL() string {
	return "CREATE SCHEMA IF NOT EXISTS pgmigrate;\n" +
		"CREATE TABLE IF NOT EXISTS pgmigrate.marker (id text PRIMARY KEY, kind text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n"
}

// fenceGuardBody: the seal is a sequence because sequences are neither
// transactional nor MVCC, so a REPEATABLE READ transaction whose snapshot
// predates the seal still sees it (migrate.md §5.1, verified on 15.18).
const fenceGuardBody = `
BEGIN
    IF (SELECT last_value FROM pgmigrate.seal) = 1 THEN
        RAISE EXCEPTION 'pgmigrate: %.% is sealed: this database has been migrated', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = '25006';
    END IF;
    RETURN NULL;
END;
`

// PrepareSourceSQL is step 3 (and, without the DDL guard, step 10's objects).
func PrepareSourceSQL(cfg *config.Config, withGuardAndTriggers bool) string {
	var b strings.Builder
	b.WriteString(MarkerSQL())
	b.WriteString("CREATE SEQUENCE IF NOT EXISTS pgmigrate.seal MINVALUE 0 MAXVALUE 1 START 0;\n")
	b.WriteString("CREATE OR REPLACE FUNCTION pgmigrate.fence_guard() RETURNS trigger\n" +
		"    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS " + sqltext.DollarQuote(fenceGuardBody) + ";\n")
	if withGuardAndTriggers {
		if cfg.DDLGuard == "block" {
			b.WriteString(DDLGuardSQL(cfg))
		}
		if hasFence(cfg, "trigger") {
			b.WriteString("-- the trigger layer: one statement trigger per migrated relation (lock_timeout 100ms, retried)\n")
			b.WriteString("SET lock_timeout = '100ms';\n")
			b.WriteString(FenceTriggerGenerator(cfg) + " \\gexec\n")
		}
	}
	return b.String()
}

// reverseTriggers is the trigger layer on the destination (rollback fences
// it); ENABLE ORIGIN triggers never fire for the apply worker.
func reverseTriggers(cfg *config.Config) string {
	if !hasFence(cfg, "trigger") {
		return ""
	}
	return "-- the trigger layer for rollback (lock_timeout 100ms, retried)\n" +
		"SET lock_timeout = '100ms';\n" + FenceTriggerGenerator(cfg) + " \\gexec\n"
}

func hasFence(cfg *config.Config, m string) bool {
	for _, x := range cfg.Fence.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// DDLGuardSQL creates the DDL guard (migrate.md §4.2): event triggers on
// ddl_command_end and sql_drop that raise 55000 for objects in migrated
// schemas, except for sessions named pgmigrate/…. Event triggers need a
// superuser; without one the DO block skips them (doctor check ddl-guard).
func DDLGuardSQL(cfg *config.Config) string {
	var cond []string
	for _, c := range SchemaExcludeSQL(cfg, "s") {
		cond = append(cond, c)
	}
	cond = append(cond, "s !~ '^pg_'", "s NOT IN ('information_schema', 'pgmigrate')")
	body := `
DECLARE
    s text;
BEGIN
    IF current_setting('application_name') LIKE 'pgmigrate/%' THEN
        RETURN;
    END IF;
    IF TG_EVENT = 'sql_drop' THEN
        FOR s IN SELECT DISTINCT schema_name FROM pg_catalog.pg_event_trigger_dropped_objects() WHERE schema_name IS NOT NULL LOOP
            IF ` + strings.Join(cond, " AND ") + ` THEN
                RAISE EXCEPTION 'pgmigrate: DDL on migrated schema % is blocked while the migration runs', s USING ERRCODE = '55000';
            END IF;
        END LOOP;
    ELSE
        FOR s IN SELECT DISTINCT schema_name FROM pg_catalog.pg_event_trigger_ddl_commands() WHERE schema_name IS NOT NULL LOOP
            IF ` + strings.Join(cond, " AND ") + ` THEN
                RAISE EXCEPTION 'pgmigrate: DDL on migrated schema % is blocked while the migration runs', s USING ERRCODE = '55000';
            END IF;
        END LOOP;
    END IF;
END;
`
	do := `
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE NOTICE 'pgmigrate: not a superuser, the DDL guard is off';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'pgmigrate_ddl_guard') THEN
        CREATE EVENT TRIGGER pgmigrate_ddl_guard ON ddl_command_end EXECUTE PROCEDURE pgmigrate.ddl_guard();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'pgmigrate_ddl_guard_drop') THEN
        CREATE EVENT TRIGGER pgmigrate_ddl_guard_drop ON sql_drop EXECUTE PROCEDURE pgmigrate.ddl_guard();
    END IF;
END;
`
	return "CREATE OR REPLACE FUNCTION pgmigrate.ddl_guard() RETURNS event_trigger\n" +
		"    LANGUAGE plpgsql AS " + sqltext.DollarQuote(body) + ";\n" +
		"DO " + sqltext.DollarQuote(do) + ";\n"
}

// CopySchemaShell is copy-schema's shell part (§4.1 step 4). Plain dumps are
// never parsed (they may contain \restrict); pgmigrate's own TOC entries are
// filtered out of the list.
func CopySchemaShell(cfg *config.Config) string {
	var b strings.Builder
	b.WriteString("pg_dump " + strings.Join(shellArgs(PgDumpArgs(cfg)), " ") + " -f data/schema.dump \"$SRCPG\"\n")
	b.WriteString("pg_restore -l data/schema.dump | grep -v -E '" + TOCFilterRegex + "' > data/schema.list\n")
	if cfg.Copy.Method == "subscription" {
		b.WriteString("pg_restore --use-list=data/schema.list -f data/schema-pre.sql data/schema.dump\n")
	} else {
		b.WriteString("pg_restore --section=pre-data --use-list=data/schema.list -f data/schema-pre.sql data/schema.dump\n")
	}
	b.WriteString("psql \"$DSTPG\" -X -v ON_ERROR_STOP=1 --single-transaction -f data/schema-pre.sql\n")
	return b.String()
}

// TOCFilterRegex matches pg_restore -l lines of pgmigrate's own objects.
const TOCFilterRegex = ` (SCHEMA - pgmigrate|[A-Z ]+ pgmigrate |TRIGGER [^ ]+ [^ ]+ pgmigrate_fence |EVENT TRIGGER - pgmigrate_ddl_guard)`

// PostDataShell is post-data's shell part.
func PostDataShell(cfg *config.Config) string {
	return fmt.Sprintf("pg_restore --section=post-data --use-list=data/schema.list -l data/schema.dump > data/post-data.list\n"+
		"pg_restore --section=post-data --jobs=%d --exit-on-error --use-list=data/post-data.list -d \"$DSTPG\" data/schema.dump\n",
		cfg.Copy.PostDataJobs)
}

// shellArgs single-quotes arguments that need it for the plan's shell lines.
func shellArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = ShellQuote(a)
	}
	return out
}

// ShellQuote quotes one word for POSIX sh: bare when it holds only safe
// characters, else single-quoted with ' written as '\”. The one shell
// quoter of pgmigrate (plans and kits).
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// copyFreezeComment documents copy.freeze's per-table FREEZE load (run's
// useFreeze and freezable decide it).
func copyFreezeComment(cfg *config.Config) string {
	var cond string
	switch cfg.Copy.Freeze {
	case "off":
		return ""
	case "auto":
		cond = ", if it fits one chunk,"
		if cfg.Copy.Workers <= 2 {
			cond = " (any size: copy.workers ≤ 2)"
		}
	}
	return "-- copy.freeze " + cfg.Copy.Freeze + ": a plain table that no foreign key references" + cond + " loads whole, in one stream:\n" +
		"--   BEGIN; SET LOCAL synchronous_commit = off; TRUNCATE ONLY <table>; COPY <table> (<columns>) FROM STDIN (FREEZE); COMMIT;\n"
}

// CopyDataSourceSQL documents the per-worker snapshot import and lists the
// chunks (PostgreSQL ≥ 14 CTID ranges) as COPY statements.
func CopyDataSourceSQL(cfg *config.Config) string {
	pages := cfg.Copy.ChunkBytes / 8192
	if pages < 1 {
		pages = 1
	}
	return "-- every worker session: BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT :'snapshot';\n" +
		"-- chunks of copy.chunk_bytes (CTID page ranges on PostgreSQL ≥ 14), largest table first:\n" +
		"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n" +
		"SET TRANSACTION SNAPSHOT :'snapshot';\n" +
		TablesCTE(cfg) +
		"SELECT format('COPY (SELECT %s FROM ONLY %I.%I WHERE ctid >= %L::tid%s) TO STDOUT', a.cols, ln.nspname, l.relname,\n" +
		"              format('(%s,0)', g.lo), CASE WHEN g.hi IS NULL THEN '' ELSE format(' AND ctid < %L::tid', format('(%s,0)', g.hi)) END)\n" +
		"FROM pgm_leaf f\n" +
		"JOIN pgm_table t ON t.oid = f.top AND t.keyed\n" +
		"JOIN pg_catalog.pg_class l ON l.oid = f.relid\n" +
		"JOIN pg_catalog.pg_namespace ln ON ln.oid = l.relnamespace\n" +
		"CROSS JOIN LATERAL (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols FROM pg_catalog.pg_attribute\n" +
		"                    WHERE attrelid = l.oid AND attnum > 0 AND NOT attisdropped AND attgenerated = '') a\n" +
		"CROSS JOIN LATERAL (SELECT s * " + fmt.Sprint(pages) + " AS lo, CASE WHEN (s + 1) * " + fmt.Sprint(pages) + " < pg_catalog.pg_relation_size(l.oid) / 8192 THEN (s + 1) * " + fmt.Sprint(pages) + " END AS hi\n" +
		"                    FROM generate_series(0, greatest(ceil(pg_catalog.pg_relation_size(l.oid) / 8192.0 / " + fmt.Sprint(pages) + ")::int8 - 1, 0)) s) g\n" +
		"ORDER BY pg_catalog.pg_relation_size(l.oid) DESC, ln.nspname COLLATE \"C\", l.relname COLLATE \"C\", g.lo \\gexec\n" +
		"COMMIT;\n"
}

// TruncateGenerator truncates every migrated table on the destination (a
// resumed copy). On the destination keys may not exist yet, so it uses the
// filters only.
func TruncateGenerator(cfg *config.Config) string {
	return TablesCTE(cfg) +
		"SELECT 'TRUNCATE ' || string_agg(format('%I.%I', t.nspname, t.relname), ', ' ORDER BY t.nspname COLLATE \"C\", t.relname COLLATE \"C\")\n" +
		"FROM pgm_table t HAVING count(*) > 0"
}

// CreateSubGenerator creates the subscription on the destination, attached
// to the slot without copying. The conninfo carries no password in the plan;
// a session setting pgmigrate.repl_password (set by the kit from
// PGMIGRATE_REPL_PASSWORD) appends one, quoted for libpq.
func CreateSubGenerator(cfg *config.Config) string {
	n := cfg.Names
	ci := cfg.SubConninfo().Without("password").Secret()
	with := "create_slot = false, slot_name = %L, copy_data = false, enabled = true"
	args := lit(n.Sub) + ", conninfo, " + lit(n.Pub) + ", " + lit(n.Slot)
	if cfg.Copy.Method == "subscription" {
		with = "create_slot = true, slot_name = %L, copy_data = true, enabled = true"
	}
	streaming := "CASE WHEN current_setting('server_version_num')::int >= 140000 THEN ', streaming = on' ELSE '' END"
	switch cfg.Subscription.Streaming {
	case "off":
		streaming = "''"
	case "on":
		streaming = "', streaming = on'"
	}
	bin := "''"
	if cfg.Subscription.Binary {
		bin = "', binary = true'"
	}
	return "-- streaming = on is added when both sides are ≥ 14 (the run checks the source too)\n" +
		"SELECT format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %I WITH (" + with + "%s%s)', " + args + ", " + streaming + ", " + bin + ")\n" +
		"FROM (SELECT " + lit(ci) + " || CASE WHEN coalesce(current_setting('pgmigrate.repl_password', true), '') = '' THEN ''\n" +
		"             ELSE ' password=''' || replace(replace(current_setting('pgmigrate.repl_password'), '\\', '\\\\'), '''', '\\''') || '''' END AS conninfo) c\n" +
		"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = " + lit(n.Sub) + ")"
}

// CreateSubSQL is the statement the executor runs (the same shape as the
// generator; conninfo is the full one, password included: never log it,
// journal the redacted form).
func CreateSubSQL(cfg *config.Config, conninfo string, streaming bool) string {
	n := cfg.Names
	with := "create_slot = false, slot_name = " + lit(n.Slot) + ", copy_data = false, enabled = true"
	if cfg.Copy.Method == "subscription" {
		with = "create_slot = true, slot_name = " + lit(n.Slot) + ", copy_data = true, enabled = true"
	}
	if streaming {
		with += ", streaming = on"
	}
	if cfg.Subscription.Binary {
		with += ", binary = true"
	}
	return "CREATE SUBSCRIPTION " + ident(n.Sub) + " CONNECTION " + lit(conninfo) + " PUBLICATION " + ident(n.Pub) + " WITH (" + with + ")"
}

// ReversePubGenerator creates the reverse publication on the destination.
func ReversePubGenerator(cfg *config.Config) string {
	rp := lit(cfg.Names.RPub)
	return TablesCTE(cfg) +
		"SELECT format('CREATE PUBLICATION %I FOR TABLE %s', " + rp + ", concat_ws(', ', string_agg(format('%I.%I', t.nspname, t.relname), ', ' ORDER BY t.nspname COLLATE \"C\", t.relname COLLATE \"C\"), 'pgmigrate.marker'))\n" +
		"FROM pgm_table t\n" +
		"HAVING NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = " + rp + ")"
}

// LagSQL is migrate.md §5's lag: the source's current WAL LSN minus the
// slot's confirmed_flush_lsn (never sent_lsn).
func LagSQL(cfg *config.Config) string {
	return "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::int8 AS lag_bytes, active, wal_status\n" +
		"FROM pg_catalog.pg_replication_slots WHERE slot_name = " + lit(cfg.Names.Slot)
}
