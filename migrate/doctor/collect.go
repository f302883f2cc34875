package doctor

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/migrate/db"
	"github.com/pgcc-dev/pgcc/migrate/journal"
	"github.com/pgcc-dev/pgcc/migrate/plan"
	"github.com/pgcc-dev/pgcc/migrate/tools"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// CollectOptions tune Collect.
type CollectOptions struct {
	NoProbe bool
	DstFree int64
	State   *journal.State // nil when there is no journal
	// WALSample is how long the WAL rate is sampled (default 1 s; the
	// collection's own queries overlap it).
	WALSample time.Duration
}

var settingNames = []string{
	"wal_level", "max_replication_slots", "max_wal_senders", "wal_sender_timeout", "wal_receiver_timeout",
	"max_slot_wal_keep_size", "max_logical_replication_workers", "max_worker_processes",
	"max_sync_workers_per_subscription", "wal_retrieve_retry_interval", "track_commit_timestamp",
}

// Collect reads every fact the rules need. Connection failures become
// facts (Up=false), never errors; a failed catalog read on a side that is
// up becomes a ReadError (the catalog-reads check); the only writes are the
// probe subscriptions, dropped at once.
func Collect(ctx context.Context, o *db.Opener, opts CollectOptions) *Facts {
	cfg := o.Cfg
	f := &Facts{Tools: map[string]string{}, JournaledObjects: map[string]bool{}, RLSRoleBypass: map[string]bool{}}
	if st := opts.State; st != nil {
		f.JournalSystemIDs = st.SystemIDs
		f.CopyStarted = st.Started(plan.CopyData)
		f.SchemaJournaled = st.Done(plan.CopySchema)
		for _, obj := range st.Objects {
			f.JournaledObjects[obj.Kind+":"+obj.Name] = true
		}
	}
	for _, t := range []string{"pg_dump", "pg_restore", "psql"} {
		f.Tools[t] = tools.Version(t)
	}
	collectSecrets(cfg, f)
	f.DstFree = opts.DstFree

	src, err := o.Open(ctx, db.Source, "doctor")
	if err != nil {
		f.Src.Err = err.Error()
	} else {
		defer src.Close()
		f.Src.Up = true
	}
	dst, err := o.Open(ctx, db.Destination, "doctor")
	if err != nil {
		f.Dst.Err = err.Error()
	} else {
		defer dst.Close()
		f.Dst.Up = true
	}
	// Readers only for the sides that are up: a side that is down is
	// conn-src's or conn-dst's, not a failed read.
	var rs, rd *reader
	if f.Src.Up {
		rs = &reader{ctx: ctx, q: src, side: db.Source, version: src.Version, out: &f.ReadErrors}
	}
	if f.Dst.Up {
		rd = &reader{ctx: ctx, q: dst, side: db.Destination, version: dst.Version, out: &f.ReadErrors}
	}
	const walSQL = "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), '0/0')::int8"
	var lsn0 int64
	sampled := false
	t0 := time.Now()
	if f.Src.Up {
		// The WAL rate sizes src-slot-wal-limit's blocker: a failed sample
		// would read as 0 B/s and let the check pass, so it is recorded.
		sampled = rs.row("wal rate sample", walSQL).Scan(&lsn0)
		side(rs, &f.Src)
		if cfg.Copy.Method == "snapshot" {
			rc, err := o.OpenReplication(ctx, "doctor")
			if err != nil {
				f.Src.ReplErr = err.Error()
			} else {
				f.Src.ReplUp = true
				_ = rc.Close(ctx) // only the connection mattered; closing it can only fail on the way out
			}
		}
		collectSource(rs, cfg, f)
	}
	if f.Dst.Up {
		side(rd, &f.Dst)
		collectDest(rd, cfg, f)
	}
	if f.Src.Up && f.Dst.Up {
		collectCross(rs, rd, cfg, f)
		if !opts.NoProbe && (f.Dst.IsSuper || f.Dst.Version >= 160000) {
			res := probe(ctx, dst, cfg.SubscriptionConninfo(o.Env).Secret(), cfg.Names.Pub)
			f.Probe = &res
			if cfg.Rollback.Enabled && (f.Src.IsSuper || f.Src.Version >= 160000) {
				// Cannot fail: config validation parses a rollback.conn that
				// was written, and the default one is built by Conninfo.Secret.
				ci, _ := config.ParseConninfo(cfg.Rollback.Conn)
				if _, ok := ci.Get("password"); !ok && cfg.Subscription.ConninfoPassword {
					if pw := cfg.ReplicationPassword(o.Env); pw != "" {
						ci = append(ci, config.KV{Key: "password", Value: pw})
					}
				}
				rres := probe(ctx, src, ci.Secret(), cfg.Names.RPub)
				f.ReverseProbe = &rres
			}
		}
	}
	if f.Src.Up && sampled {
		sample := opts.WALSample
		if sample == 0 {
			sample = time.Second
		}
		if rest := sample - time.Since(t0); rest > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(rest):
			}
		}
		var lsn1 int64
		if rs.row("wal rate sample", walSQL).Scan(&lsn1) {
			if secs := time.Since(t0).Seconds(); secs > 0 {
				f.Src.WALRateBytesSec = float64(lsn1-lsn0) / secs
			}
		}
	}
	collectSwitch(ctx, cfg, o, f)
	return f
}

func side(r *reader, s *SideFacts) {
	s.Version = r.version
	r.row("session and database attributes", `SELECT pg_catalog.pg_is_in_recovery(), current_database(), current_user::text,
		coalesce(host(inet_client_addr()), ''), r.rolsuper, r.rolreplication, r.rolbypassrls,
		pg_catalog.pg_has_role(current_user, d.datdba, 'USAGE'), pg_catalog.has_database_privilege(current_database(), 'CREATE'),
		pg_catalog.pg_encoding_to_char(d.encoding)::text, d.datcollate::text, d.datctype::text
		FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
		WHERE r.rolname = current_user AND d.datname = current_database()`).Scan(
		&s.InRecovery, &s.DBName, &s.User, &s.ClientIP, &s.IsSuper, &s.Replication, &s.BypassRLS,
		&s.DBOwner, &s.CreateOnDB, &s.Encoding, &s.Collate, &s.Ctype)
	r.row("system identifier", "SELECT system_identifier::text FROM pg_catalog.pg_control_system()").Scan(&s.SystemID)
	s.Provider = "libc"
	if r.version >= 150000 {
		var prov string
		var cv *string
		if r.row("locale provider and collation version", "SELECT datlocprovider::text, datcollversion FROM pg_catalog.pg_database WHERE datname = current_database()").Scan(&prov, &cv) {
			s.Provider = map[string]string{"c": "libc", "i": "icu", "b": "builtin"}[prov]
			if cv != nil {
				s.CollVersion = *cv
			}
		}
	}
	s.Settings = map[string]Setting{}
	r.each("server settings", "SELECT name, setting, coalesce(unit, '') FROM pg_catalog.pg_settings WHERE name = ANY($1)", []any{settingNames}, func(scan func(...any) bool) {
		var n, v, u string
		if scan(&n, &v, &u) {
			s.Settings[n] = Setting{Value: v, Unit: u}
		}
	})
	s.MemberOf = r.strings("role memberships", `SELECT r.rolname::text FROM pg_catalog.pg_roles r
		WHERE r.rolname IN ('pg_signal_backend', 'pg_create_subscription', 'pg_monitor', 'pg_read_all_data')
		  AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE') ORDER BY 1`)
	s.Extensions = map[string]string{}
	s.Available = map[string]string{}
	r.each("extensions installed", "SELECT extname::text, extversion FROM pg_catalog.pg_extension", nil, func(scan func(...any) bool) {
		var n, v string
		if scan(&n, &v) {
			s.Extensions[n] = v
		}
	})
	r.each("extensions available", "SELECT name::text, coalesce(default_version, '') FROM pg_catalog.pg_available_extensions", nil, func(scan func(...any) bool) {
		var n, v string
		if scan(&n, &v) {
			s.Available[n] = v
		}
	})
	r.row("replication slots in use", "SELECT count(*) FROM pg_catalog.pg_replication_slots").Scan(&s.SlotsUsed)
	r.row("walsenders in use", "SELECT count(*) FROM pg_catalog.pg_stat_replication").Scan(&s.SendersUsed)
	r.row("subscriptions", "SELECT count(*) FROM pg_catalog.pg_subscription").Scan(&s.Subscriptions)
	r.row("logical replication workers running", "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type IN ('logical replication worker')").Scan(&s.WorkersUsed)
	r.row("background workers running", `SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type NOT IN
		('client backend', 'autovacuum launcher', 'autovacuum worker', 'walsender', 'walreceiver', 'checkpointer',
		 'background writer', 'walwriter', 'startup', 'archiver', 'stats collector')`).Scan(&s.BgWorkersUsed)
}

// ourNames are every name pgmigrate creates (pub, sub, slots).
func ourNames(cfg *config.Config) []string {
	n := cfg.Names
	return []string{n.Pub, n.Sub, n.Slot, n.RPub, n.RSub, n.RSlot}
}

func collectOurObjects(r *reader, cfg *config.Config, s *SideFacts) {
	names := ourNames(cfg)
	r.each("pgmigrate's slots", "SELECT slot_name::text, active FROM pg_catalog.pg_replication_slots WHERE slot_name = ANY($1) ORDER BY 1", []any{names}, func(scan func(...any) bool) {
		var sl Slot
		if scan(&sl.Name, &sl.Active) {
			s.OurSlots = append(s.OurSlots, sl)
		}
	})
	s.OurPubs = r.strings("pgmigrate's publications", "SELECT pubname::text FROM pg_catalog.pg_publication WHERE pubname = ANY($1) ORDER BY 1", names)
	s.OurSubs = r.strings("pgmigrate's subscriptions", "SELECT subname::text FROM pg_catalog.pg_subscription WHERE subname = ANY($1) AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) ORDER BY 1", names)
}

func qname(schema, rel string) string { return sqltext.QualifiedIdent(schema, rel) }

// migratedOIDs is the set of tops that will be migrated.
func migrated(cfg *config.Config, t Table) bool {
	return t.Keyed || cfg.Tables.NoKey != "skip"
}

func collectSource(r *reader, cfg *config.Config, f *Facts) {
	s := &f.Src
	collectOurObjects(r, cfg, s)
	s.LongXacts = r.strings("long transactions", `SELECT format('pid %s (%s, %s) open %s', pid, usename, coalesce(application_name, ''), date_trunc('second', now() - xact_start))
		FROM pg_catalog.pg_stat_activity WHERE xact_start < now() - interval '5 minutes' AND pid <> pg_catalog.pg_backend_pid() ORDER BY pid`)
	r.row("prepared transactions", "SELECT count(*) FROM pg_catalog.pg_prepared_xacts").Scan(&s.PreparedXacts)
	s.SuperuserApps = r.strings("superuser application sessions", `SELECT DISTINCT a.usename || '@' || coalesce(nullif(a.application_name, ''), '?')
		FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
		WHERE r.rolsuper AND a.datname = current_database() AND a.backend_type = 'client backend'
		  AND a.application_name NOT LIKE 'pgmigrate/%' AND a.application_name NOT LIKE 'psql%'
		  AND a.pid <> pg_catalog.pg_backend_pid() AND a.usename <> ALL ($1) ORDER BY 1`, []string{cfg.AdminUser, cfg.PgDbsu})

	// Candidate tables and their details.
	var oids []int64
	byOID := map[int64]*Table{}
	r.each("candidate tables", plan.CandidateTablesSQL(cfg), nil, func(scan func(...any) bool) {
		var t Table
		var oid int64
		if scan(&t.Schema, &t.Rel, &t.Kind, &oid, &t.Keyed) {
			t.Name = qname(t.Schema, t.Rel)
			f.Tables = append(f.Tables, t)
			oids = append(oids, oid)
		}
	})
	for i := range f.Tables {
		byOID[oids[i]] = &f.Tables[i]
	}
	r.each("table owners, row security and replica identities", `SELECT oid::int8, relrowsecurity, pg_catalog.pg_get_userbyid(relowner)::text, relreplident::text,
			pg_catalog.pg_has_role(current_user, relowner, 'USAGE') FROM pg_catalog.pg_class WHERE oid = ANY($1)`, []any{oids}, func(scan func(...any) bool) {
		var oid int64
		var rls, owned bool
		var owner, ri string
		if scan(&oid, &rls, &owner, &ri, &owned) {
			t := byOID[oid]
			t.RLS, t.Owner, t.Replident = rls, owner, ri
			if !owned && !s.IsSuper {
				s.NotOwnedTables = append(s.NotOwnedTables, t.Name)
			}
		}
	})
	// Sizes: sum of the leaves' total sizes per top.
	leafSQL := plan.TablesCTE(cfg) + `SELECT f.top::int8, f.relid::int8, pg_catalog.pg_total_relation_size(f.relid), l.relreplident::text,
		format('%I.%I', n.nspname, l.relname)
		FROM pgm_leaf f JOIN pg_catalog.pg_class l ON l.oid = f.relid JOIN pg_catalog.pg_namespace n ON n.oid = l.relnamespace`
	var leafOIDs []int64
	r.each("partitions, sizes and replica identities", leafSQL, nil, func(scan func(...any) bool) {
		var top, leaf, size int64
		var ri, name string
		if scan(&top, &leaf, &size, &ri, &name) {
			if t := byOID[top]; t != nil {
				t.Bytes += size
				if migrated(cfg, *t) {
					leafOIDs = append(leafOIDs, leaf)
					if ri == "f" {
						f.IdentityFull = append(f.IdentityFull, name)
					}
				}
			}
		}
	})
	sort.Strings(f.IdentityFull)
	for _, t := range f.Tables {
		if t.Kind == "p" && migrated(cfg, t) {
			f.Partitioned++
		}
	}
	// No-key leaves.
	r.each("tables without a key", plan.NoKeySQL(cfg), nil, func(scan func(...any) bool) {
		var sch, rel, ri, fix string
		if scan(&sch, &rel, &ri, &fix) {
			f.NoKey = append(f.NoKey, NoKey{Name: qname(sch, rel), Replident: ri, Fix: fix})
		}
	})
	excl := strings.Join(plan.SchemaExcludeSQL(cfg, "n.nspname"), " AND ")
	f.Unlogged = r.strings("unlogged tables", `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'u' AND `+excl+` ORDER BY 1`)
	f.ForeignTables = r.strings("foreign tables", `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'f' AND `+excl+` ORDER BY 1`)
	r.row("large objects", "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata").Scan(&f.LargeObjects)
	r.row("materialized views", `SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'm' AND `+excl).Scan(&f.Matviews)
	genExpr := "false"
	if r.version >= 120000 {
		genExpr = "attgenerated <> ''"
	}
	r.row("generated and identity columns", "SELECT count(*) FILTER (WHERE "+genExpr+"), count(*) FILTER (WHERE attidentity <> '') FROM pg_catalog.pg_attribute WHERE attrelid = ANY($1) AND attnum > 0 AND NOT attisdropped",
		leafOIDs).Scan(&f.GeneratedCols, &f.IdentityCols)
	// Sequences.
	r.each("sequences", `SELECT format('%I.%I', s.schemaname, s.sequencename), s.last_value, s.increment_by, s.min_value, s.max_value, s.cycle,
			EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
			        AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::pg_catalog.regclass AND d.deptype IN ('a', 'i'))
		FROM pg_catalog.pg_sequences s JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname WHERE `+excl+` ORDER BY 1`, nil, func(scan func(...any) bool) {
		var q Sequence
		if scan(&q.Name, &q.Last, &q.Inc, &q.Min, &q.Max, &q.Cycle, &q.Owned) {
			f.Sequences = append(f.Sequences, q)
		}
	})
	_, f.Partman = s.Extensions["pg_partman"]
	if v, ok := s.Settings["track_commit_timestamp"]; ok && v.Value == "on" {
		f.RecentParts = r.strings("recently created partitions", `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relispartition AND c.relkind IN ('r', 'p') AND `+excl+` AND pg_catalog.pg_xact_commit_timestamp(c.xmin) > now() - interval '7 days' ORDER BY 1`)
	}
	// Excluded schemas that hold user tables (e.g. _app under the default list).
	f.ExcludedWithTables = r.strings("excluded schemas with tables", `SELECT DISTINCT n.nspname::text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT (`+excl+`)
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgmigrate') AND n.nspname !~ '^pg_(temp|toast_temp)_'
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY 1`)
	// Foreign keys from migrated tops to non-migrated tables.
	mig := map[int64]bool{}
	for i, t := range f.Tables {
		if migrated(cfg, t) {
			mig[oids[i]] = true
		}
	}
	parentCond := ""
	if r.version >= 110000 {
		parentCond = " AND conparentid = 0"
	}
	r.each("foreign keys", "SELECT conrelid::int8, confrelid::int8, format('%s: %I → %s', conrelid::regclass, conname, confrelid::regclass) FROM pg_catalog.pg_constraint WHERE contype = 'f'"+parentCond+" ORDER BY 3", nil, func(scan func(...any) bool) {
		var from, to int64
		var text string
		if scan(&from, &to, &text) && mig[from] && !mig[to] {
			f.FKToExcluded = append(f.FKToExcluded, text)
		}
	})
	// Replication user of sub_conn; no row means the role does not exist.
	ru, _ := cfg.SubConninfo().Get("user")
	var rsuper, rrepl, rbypass bool
	if r.row("replication user", "SELECT rolsuper, rolreplication, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = $1", ru).ScanFound(&rsuper, &rrepl, &rbypass) {
		f.ReplUserKnown = true
		f.ReplUserReplication = rrepl || rsuper
		f.RLSRoleBypass[ru] = rsuper || rbypass
		if cfg.Copy.Method == "subscription" && !rsuper {
			f.ReplUserNoSelect = r.strings("replication user's table privileges", `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
				JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
				WHERE c.oid = ANY($1) AND NOT pg_catalog.has_table_privilege($2, c.oid, 'SELECT') ORDER BY 1`, oids, ru)
		}
	}
	f.RLSRoleBypass[s.User] = s.IsSuper || s.BypassRLS
	// Writers, direct grants.
	collectWriters(r, cfg, oids, f)
}

func collectWriters(r *reader, cfg *config.Config, oids []int64, f *Facts) {
	r.each("roles that can write migrated tables", `WITH t AS (SELECT oid, relowner FROM pg_catalog.pg_class WHERE oid = ANY($1))
		SELECT r.rolname::text, r.rolsuper, bool_or(r.oid = t.relowner)
		FROM pg_catalog.pg_roles r CROSS JOIN t
		WHERE r.rolcanlogin AND (r.rolsuper OR pg_catalog.has_table_privilege(r.oid, t.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
		  AND r.rolname <> ALL ($2)
		GROUP BY r.rolname, r.rolsuper ORDER BY 1`, []any{oids, []string{cfg.ReplUser}}, func(scan func(...any) bool) {
		var w Writer
		if scan(&w.Role, &w.Super, &w.Owner) {
			f.Writers = append(f.Writers, w)
		}
	})
	excl := strings.Join(plan.SchemaExcludeSQL(cfg, "n.nspname"), " AND ")
	r.each("direct grants", `SELECT pg_catalog.pg_get_userbyid(a.grantee)::text, count(DISTINCT c.oid)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
		WHERE (c.oid = ANY($1) OR (c.relkind = 'S' AND `+excl+`)) AND a.grantee <> c.relowner AND a.grantee <> 0
		GROUP BY 1 ORDER BY 1`, []any{oids}, func(scan func(...any) bool) {
		var g Grantee
		if scan(&g.Role, &g.Objects) {
			f.DirectGrants = append(f.DirectGrants, g)
		}
	})
}

func collectDest(r *reader, cfg *config.Config, f *Facts) {
	collectOurObjects(r, cfg, &f.Dst)
}

// collectCross compares the sides: tables on the destination, roles,
// verifiers, triggers.
func collectCross(src, dst *reader, cfg *config.Config, f *Facts) {
	names := make([]string, len(f.Tables))
	for i, t := range f.Tables {
		names[i] = t.Name
	}
	existing := map[string]int64{}
	dst.each("migrated tables on the destination", "SELECT t.name, c.oid::int8 FROM unnest($1::text[]) t(name) JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)", []any{names}, func(scan func(...any) bool) {
		var n string
		var oid int64
		if scan(&n, &oid) {
			existing[n] = oid
		}
	})
	var exist []string
	var dstOIDs []int64
	for i := range f.Tables {
		t := &f.Tables[i]
		if oid, ok := existing[t.Name]; ok {
			t.DstExists = true
			exist = append(exist, t.Name)
			dstOIDs = append(dstOIDs, oid)
		}
	}
	// Rows: one UNION ALL per 200 tables. A failure is DstRowsErr, which
	// dst-not-empty reports itself (not a ReadError: one blocker, not two).
	hasRows := map[string]bool{}
	for i := 0; i < len(exist); i += 200 {
		end := min(i+200, len(exist))
		var parts []string
		for _, n := range exist[i:end] {
			parts = append(parts, "SELECT "+sqltext.Literal(n)+"::text WHERE EXISTS (SELECT 1 FROM "+n+")")
		}
		got, err := dst.q.QueryStrings(dst.ctx, strings.Join(parts, " UNION ALL "))
		if err != nil {
			f.DstRowsErr = err.Error()
			continue
		}
		for _, n := range got {
			hasRows[n] = true
		}
	}
	for i := range f.Tables {
		f.Tables[i].DstRows = hasRows[f.Tables[i].Name]
	}
	if !cfg.Schema.Copy {
		compareColumns(src, dst, f)
	}
	f.DstTriggers = dst.strings("triggers and rules that fire on apply", `SELECT format('%s: trigger %I (%s)', tgrelid::regclass, tgname, CASE tgenabled WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE REPLICA' END)
		FROM pg_catalog.pg_trigger WHERE tgrelid = ANY($1) AND NOT tgisinternal AND tgenabled IN ('A', 'R')
		UNION ALL
		SELECT format('%s: rule %I', ev_class::regclass, rulename) FROM pg_catalog.pg_rewrite
		WHERE ev_class = ANY($1) AND rulename <> '_RETURN' AND ev_enabled IN ('A', 'R') ORDER BY 1`, dstOIDs)
	// Owners and grantees of migrated objects must exist on the destination.
	oidsSrc := make([]string, 0)
	for _, t := range f.Tables {
		if migrated(cfg, t) {
			oidsSrc = append(oidsSrc, t.Name)
		}
	}
	needed := src.strings("owners and grantees of migrated tables", `SELECT DISTINCT r FROM (
		SELECT pg_catalog.pg_get_userbyid(c.relowner)::text AS r FROM pg_catalog.pg_class c WHERE c.oid = ANY (SELECT pg_catalog.to_regclass(x) FROM unnest($1::text[]) x)
		UNION ALL
		SELECT pg_catalog.pg_get_userbyid(a.grantee)::text FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
		WHERE c.oid = ANY (SELECT pg_catalog.to_regclass(x) FROM unnest($1::text[]) x) AND a.grantee <> 0) s ORDER BY 1`, oidsSrc)
	if len(needed) > 0 {
		present, err := dst.q.QueryStrings(dst.ctx, "SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY($1)", needed)
		if err != nil {
			// Every role would look missing: record the failure instead.
			dst.fail("roles on the destination", err)
		} else {
			have := map[string]bool{}
			for _, p := range present {
				have[p] = true
			}
			for _, n := range needed {
				if !have[n] {
					f.MissingRoles = append(f.MissingRoles, n)
				}
			}
		}
	}
	// SCRAM verifiers of active login roles (superusers only can read them).
	if f.Src.IsSuper && f.Dst.IsSuper {
		active := src.strings("active login roles", `SELECT DISTINCT usename::text FROM pg_catalog.pg_stat_activity
			WHERE datname = current_database() AND usename IS NOT NULL AND backend_type = 'client backend' AND application_name NOT LIKE 'pgmigrate/%' ORDER BY 1`)
		if len(active) > 0 {
			sv := verifiers(src, active)
			dv := verifiers(dst, active)
			for _, r := range active {
				if a, ok := sv[r]; ok && a != "" {
					if b, ok := dv[r]; ok && b != a {
						f.VerifierDiff = append(f.VerifierDiff, r)
					}
				}
			}
		}
	}
}

func verifiers(r *reader, roles []string) map[string]string {
	out := map[string]string{}
	r.each("password verifiers", "SELECT rolname::text, coalesce(rolpassword, '') FROM pg_catalog.pg_authid WHERE rolname = ANY($1)", []any{roles}, func(scan func(...any) bool) {
		var n, v string
		if scan(&n, &v) {
			out[n] = v
		}
	})
	return out
}

type column struct {
	typ      string
	notNull  bool
	defaults bool
}

// columns reads the columns of the named tables; ok is false when the
// read failed (recorded).
func columns(r *reader, names []string) (out map[string]map[string]column, ok bool) {
	out = map[string]map[string]column{}
	ok = r.each("table columns", `SELECT t.name, a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef OR a.attidentity <> ''
		FROM unnest($1::text[]) t(name) JOIN pg_catalog.pg_attribute a ON a.attrelid = pg_catalog.to_regclass(t.name)
		WHERE a.attnum > 0 AND NOT a.attisdropped`, []any{names}, func(scan func(...any) bool) {
		var t, n string
		var col column
		if scan(&t, &n, &col.typ, &col.notNull, &col.defaults) {
			if out[t] == nil {
				out[t] = map[string]column{}
			}
			out[t][n] = col
		}
	})
	return out, ok
}

func compareColumns(src, dst *reader, f *Facts) {
	var names []string
	for _, t := range f.Tables {
		if t.DstExists {
			names = append(names, t.Name)
		}
	}
	sc, sok := columns(src, names)
	dc, dok := columns(dst, names)
	if !sok || !dok {
		return // half a comparison would invent issues; catalog-reads reports the failure
	}
	for i := range f.Tables {
		t := &f.Tables[i]
		if !t.DstExists {
			continue
		}
		var issues []string
		scols := sc[t.Name]
		var keys []string
		for k := range scols {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d, ok := dc[t.Name][k]
			if !ok {
				issues = append(issues, "column "+k+" is missing on the destination")
			} else if d.typ != scols[k].typ {
				issues = append(issues, fmt.Sprintf("column %s is %s on the source, %s on the destination", k, scols[k].typ, d.typ))
			}
		}
		var dkeys []string
		for k := range dc[t.Name] {
			dkeys = append(dkeys, k)
		}
		sort.Strings(dkeys)
		for _, k := range dkeys {
			if _, ok := scols[k]; !ok && dc[t.Name][k].notNull && !dc[t.Name][k].defaults {
				issues = append(issues, "extra NOT NULL column "+k+" without default on the destination")
			}
		}
		t.DstIssue = strings.Join(issues, "; ")
	}
}

// probe creates and drops a disabled subscription without a slot: the
// server connects to the publisher with the given conninfo, so a bad HBA
// line, password or route fails here instead of in create-sub.
func probe(ctx context.Context, c *db.Conn, conninfo, pub string) string {
	var rb [4]byte
	_, _ = rand.Read(rb[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24)
	name := "pgmigrate_probe_" + hex.EncodeToString(rb[:])
	_, err := c.Exec(ctx, "CREATE SUBSCRIPTION "+sqltext.Ident(name)+" CONNECTION "+sqltext.Literal(conninfo)+
		" PUBLICATION "+sqltext.Ident(pub)+" WITH (slot_name = NONE, enabled = false, create_slot = false, copy_data = false)")
	if err != nil {
		return err.Error()
	}
	if _, err := c.Exec(ctx, "DROP SUBSCRIPTION "+sqltext.Ident(name)); err != nil {
		return "probe subscription " + name + " could not be dropped: " + err.Error()
	}
	return ""
}

func collectSecrets(cfg *config.Config, f *Facts) {
	for _, p := range []struct {
		key string
		s   config.Secret
	}{{"pg_admin_password", cfg.AdminPassword}, {"pg_replication_password", cfg.ReplPassword}, {"pg_monitor_password", cfg.MonitorPassword}} {
		if p.s.Inline != "" {
			f.Secrets.InlinePasswords = true
			if pigstyDefaults[p.s.Inline] {
				f.Secrets.DefaultPasswords = append(f.Secrets.DefaultPasswords, p.key)
			}
		}
	}
	for _, u := range []config.URL{cfg.Src(), cfg.Dst()} {
		if _, ok := u.Password(); ok {
			f.Secrets.InlinePasswords = true
		}
	}
	if _, ok := cfg.SubConninfo().Get("password"); ok {
		f.Secrets.InlinePasswords = true
	}
	// Not a catalog read: the file was just loaded from this path; a
	// config parsed from bytes (tests) has no file, hence no mode to check.
	if st, err := os.Stat(cfg.File); err == nil {
		f.Secrets.FileMode = uint32(st.Mode().Perm())
	}
}

func collectSwitch(ctx context.Context, cfg *config.Config, o *db.Opener, f *Facts) {
	switch cfg.Switch.Mechanism {
	case "command":
		fields := strings.Fields(cfg.Switch.Command.Run)
		if len(fields) == 0 {
			f.CommandErr = "switch.command.run is empty"
		} else if _, err := exec.LookPath(fields[0]); err != nil {
			f.CommandErr = fields[0] + " is not executable: " + err.Error()
		}
	case "pgbouncer":
		src := cfg.Src()
		for i, e := range cfg.Switch.Pgbouncer {
			p := Pgbouncer{Entry: i}
			u, err := config.ParseURL(e.AdminURL)
			if err != nil {
				p.ConsoleErr = err.Error()
				f.Pgbouncers = append(f.Pgbouncers, p)
				continue
			}
			pc, err := pgx.ParseConfig(u.WithoutPassword().Secret())
			if err == nil {
				pw, _ := u.Password()
				pc.Password = cfg.PasswordFor(o.Env, pw, u.Host(), u.Port(), u.DBName(), u.User())
				pc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
				pc.ConnectTimeout = 5 * time.Second
				var conn *pgx.Conn
				conn, err = pgx.ConnectConfig(ctx, pc)
				if err == nil {
					p.DatabaseMissing = true
					rows, qerr := conn.Query(ctx, "SHOW DATABASES")
					if qerr == nil {
						for rows.Next() {
							vals, _ := rows.Values() // a decode error ends the loop and is rows.Err()
							if len(vals) > 0 && fmt.Sprint(vals[0]) == e.Database {
								p.DatabaseMissing = false
							}
						}
						rows.Close()
						err = rows.Err()
					} else {
						err = qerr
					}
					conn.Close(ctx)
				}
			}
			if err != nil {
				p.ConsoleErr = config.Redact(err.Error())
				f.Pgbouncers = append(f.Pgbouncers, p)
				continue
			}
			line, werr := readPgbConfig(e)
			if werr != nil {
				p.ConfigErr = werr.Error()
			} else {
				p.EntryLine = line
				// Best effort: a line that does not parse leaves host empty, so
				// EntryOnSrc is false and the switch check fails showing the line.
				ci, _ := config.ParseConninfo(strings.TrimSpace(strings.SplitN(line, "=", 2)[1]))
				h, _ := ci.Get("host")
				port, hasPort := ci.Get("port")
				p.EntryOnSrc = (h == src.Host() || h == cfg.SrcIP) && (!hasPort || port == fmt.Sprint(src.Port()))
			}
			f.Pgbouncers = append(f.Pgbouncers, p)
		}
	}
}

// readPgbConfig returns the [databases] line of the entry's database and
// checks the file is writable (locally, or over ssh).
func readPgbConfig(e config.PgbouncerEntry) (string, error) {
	var data []byte
	if e.SSH != "" {
		out, err := exec.Command("ssh", "-o", "BatchMode=yes", e.SSH, "test -w "+plan.ShellQuote(e.ConfigFile)+" && cat "+plan.ShellQuote(e.ConfigFile)).Output()
		if err != nil {
			return "", fmt.Errorf("config_file %s is not writable over ssh %s: %v", e.ConfigFile, e.SSH, err)
		}
		data = out
	} else {
		fh, err := os.OpenFile(e.ConfigFile, os.O_RDWR, 0)
		if err != nil {
			return "", fmt.Errorf("config_file is not writable: %v", err)
		}
		fh.Close()
		if data, err = os.ReadFile(e.ConfigFile); err != nil {
			return "", fmt.Errorf("config_file cannot be read: %v", err)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, _, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == e.Database {
			return line, nil
		}
	}
	return "", fmt.Errorf("config_file %s has no line for database %s", e.ConfigFile, e.Database)
}
