package doctor

import (
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/migrate/config"
)

const file = `src_cls: pg-meta
src_db: meta
src_ip: 10.10.10.10
dst_cls: pg-test
dst_db: test
dst_ip: 10.10.10.11
`

func cfgWith(t *testing.T, vars ...string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("m.yml", []byte(file), config.LoadOptions{Vars: vars})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func s(v, unit string) Setting { return Setting{Value: v, Unit: unit} }

// healthy returns facts with which every check passes.
func healthy() *Facts {
	side := func() SideFacts {
		return SideFacts{Up: true, ReplUp: true, Version: 150020, SystemID: "1", DBName: "meta", User: "dbuser_dba", IsSuper: true,
			Encoding: "UTF8", Collate: "C.UTF-8", Ctype: "C.UTF-8", Provider: "libc",
			Settings: map[string]Setting{
				"wal_level": s("logical", ""), "max_replication_slots": s("10", ""), "max_wal_senders": s("10", ""),
				"wal_sender_timeout": s("60000", "ms"), "wal_receiver_timeout": s("60000", "ms"),
				"max_slot_wal_keep_size": s("4096", "MB"), "max_logical_replication_workers": s("4", ""),
				"max_worker_processes": s("8", ""), "max_sync_workers_per_subscription": s("2", ""),
				"wal_retrieve_retry_interval": s("1000", "ms"),
			},
			Extensions: map[string]string{"plpgsql": "1.0", "pg_stat_statements": "1.10"},
			Available:  map[string]string{"plpgsql": "1.0", "pg_stat_statements": "1.10"},
		}
	}
	f := &Facts{Src: side(), Dst: side(), Tools: map[string]string{"pg_dump": "15.20", "pg_restore": "15.20", "psql": "15.20"},
		ReplUserKnown: true, ReplUserReplication: true, RLSRoleBypass: map[string]bool{"dbuser_dba": true}}
	f.Dst.SystemID = "2"
	f.Dst.DBName = "test"
	f.Tables = []Table{{Name: `"public"."a"`, Keyed: true, Bytes: 1 << 20}}
	f.Secrets.FileMode = 0o600
	ok := ""
	f.Probe = &ok
	return f
}

type want struct {
	id, severity, status, object, fix string
}

func find(r *Report, id, object string) *Check {
	for i, c := range r.Checks {
		o := ""
		if c.Object != nil {
			o = *c.Object
		}
		if c.ID == id && o == object {
			return &r.Checks[i]
		}
	}
	return nil
}

func TestHealthyPassesEverything(t *testing.T) {
	r := Evaluate(cfgWith(t), healthy())
	if r.Summary.Blockers != 0 || r.Summary.Warnings != 0 {
		t.Errorf("healthy facts: %+v\n%s", r.Summary, r.JSON())
	}
	seen := map[string]bool{}
	for _, c := range r.Checks {
		seen[c.ID] = true
		if c.Status == Fail {
			t.Errorf("%s failed: %s", c.ID, c.Evidence)
		}
	}
	if len(IDs) < 30 {
		t.Errorf("only %d checks", len(IDs))
	}
	for _, id := range IDs {
		if !seen[id] {
			t.Errorf("check %s produced no entry", id)
		}
	}
}

func TestRules(t *testing.T) {
	cases := []struct {
		name   string
		vars   []string
		mutate func(f *Facts)
		want   []want
	}{
		{"old source", nil, func(f *Facts) { f.Src.Version = 90624 },
			[]want{{"versions", Blocker, Fail, "", ""}}},
		{"dst older", nil, func(f *Facts) { f.Dst.Version = 140010 },
			[]want{{"versions", Blocker, Fail, "", ""}}},
		{"standby", nil, func(f *Facts) { f.Dst.InRecovery = true },
			[]want{{"primaries", Blocker, Fail, "", ""}}},
		{"same database", nil, func(f *Facts) { f.Dst.SystemID = "1"; f.Dst.DBName = "meta" },
			[]want{{"identity", Blocker, Fail, "", ""}}},
		{"journal identity", nil, func(f *Facts) { f.JournalSystemIDs = map[string]string{"source": "9"} },
			[]want{{"identity", Blocker, Fail, "", ""}}},
		{"pg_dump too old", nil, func(f *Facts) { f.Tools["pg_dump"] = "14.9" },
			[]want{{"client-tools", Blocker, Fail, "pg_dump", ""}}},
		{"psql missing", nil, func(f *Facts) { f.Tools["psql"] = "" },
			[]want{{"client-tools", Blocker, Fail, "psql", ""}}},
		{"wal_level", nil, func(f *Facts) { f.Src.Settings["wal_level"] = s("replica", "") },
			[]want{{"src-wal-level", Blocker, Fail, "", `ALTER SYSTEM SET "wal_level" = 'logical'; -- then restart the source`}}},
		{"slots", nil, func(f *Facts) { f.Src.SlotsUsed = 10 },
			[]want{{"src-capacity", Blocker, Fail, "max_replication_slots", `ALTER SYSTEM SET "max_replication_slots" = '11'; -- then restart the source`}}},
		{"senders", nil, func(f *Facts) { f.Src.SendersUsed = 9 },
			[]want{{"src-capacity", Blocker, Fail, "max_wal_senders", `ALTER SYSTEM SET "max_wal_senders" = '11'; -- then restart the source`}}},
		{"short timeout", nil, func(f *Facts) { f.Src.Settings["wal_sender_timeout"] = s("5", "s") },
			[]want{{"timeouts", Warning, Fail, "wal_sender_timeout", `ALTER SYSTEM SET "wal_sender_timeout" = '60s'; -- then SELECT pg_reload_conf()`}}},
		{"unbounded slot", nil, func(f *Facts) { f.Src.Settings["max_slot_wal_keep_size"] = s("-1", "MB") },
			[]want{{"src-slot-wal-limit", Warning, Fail, "", `ALTER SYSTEM SET "max_slot_wal_keep_size" = '1024MB'; -- then SELECT pg_reload_conf()`}}},
		{"slot limit too small", nil, func(f *Facts) {
			f.Src.Settings["max_slot_wal_keep_size"] = s("64", "MB")
			f.Src.WALRateBytesSec = 10 << 20
			f.Tables[0].Bytes = 500 << 20 // 10 s at 50 MB/s → 100 MB retained, 200 MB needed
		}, []want{{"src-slot-wal-limit", Blocker, Fail, "", `ALTER SYSTEM SET "max_slot_wal_keep_size" = '201MB'; -- then SELECT pg_reload_conf()`}}},
		{"long xact", nil, func(f *Facts) { f.Src.LongXacts = []string{"pid 7 (app, x) open 00:06:00"} },
			[]want{{"src-long-xacts", Warning, Fail, "pid 7 (app, x) open 00:06:00", ""}}},
		{"dst workers", nil, func(f *Facts) { f.Dst.WorkersUsed = 4 },
			[]want{{"dst-capacity", Blocker, Fail, "max_logical_replication_workers", `ALTER SYSTEM SET "max_logical_replication_workers" = '6'; -- then restart the destination`}}},
		{"retry interval", nil, func(f *Facts) { f.Dst.Settings["wal_retrieve_retry_interval"] = s("5000", "ms") },
			[]want{{"dst-retry-interval", Warning, Fail, "", `ALTER SYSTEM SET "wal_retrieve_retry_interval" = '1s'; -- then SELECT pg_reload_conf()`}}},
		{"source down", nil, func(f *Facts) { f.Src = SideFacts{Err: "connection refused", ClientIP: "10.10.10.9"} },
			[]want{{"conn-src", Blocker, Fail, "", "# pg_hba.conf on the source:\nhost meta dbuser_dba 10.10.10.9/32 scram-sha-256"},
				{"src-wal-level", Blocker, Skip, "", ""}, {"versions", Blocker, Skip, "", ""}}},
		{"no replication connection", nil, func(f *Facts) { f.Src.ReplUp = false; f.Src.ClientIP = "10.0.0.5" },
			[]want{{"conn-src", Blocker, Fail, "replication", "# pg_hba.conf on the source:\nhost replication dbuser_dba 10.0.0.5/32 scram-sha-256"}}},
		{"probe failed", nil, func(f *Facts) { p := "could not connect"; f.Probe = &p },
			[]want{{"conn-dst-to-src", Blocker, Fail, "", "# pg_hba.conf on the source:\nhost meta replicator 10.10.10.11/32 scram-sha-256"}}},
		{"admin not super", nil, func(f *Facts) { f.Src.IsSuper = false; f.Src.DBOwner = true; f.Src.Replication = true },
			[]want{{"src-privileges", Blocker, Fail, "", `GRANT pg_signal_backend TO "dbuser_dba";`}, {"ddl-guard", Warning, Fail, "", ""}}},
		{"dst not super on 15", nil, func(f *Facts) { f.Dst.IsSuper = false },
			[]want{{"dst-privileges", Blocker, Fail, "", `ALTER ROLE "dbuser_dba" SUPERUSER;`}}},
		{"repl user lacks replication", nil, func(f *Facts) { f.ReplUserReplication = false },
			[]want{{"repl-user", Blocker, Fail, "replicator", `ALTER ROLE "replicator" REPLICATION;`}}},
		{"rls", nil, func(f *Facts) { f.Tables[0].RLS = true; f.RLSRoleBypass["dbuser_dba"] = false },
			[]want{{"rls", Blocker, Fail, `"public"."a"`, `ALTER ROLE "dbuser_dba" BYPASSRLS;`}}},
		{"missing role", nil, func(f *Facts) { f.MissingRoles = []string{"app"} },
			[]want{{"roles", Warning, Fail, "app", `CREATE ROLE "app"; -- with the source's attributes and password verifier`}}},
		{"missing owner with keep_owner", []string{"schema.keep_owner=true"}, func(f *Facts) { f.MissingRoles = []string{"app"} },
			[]want{{"roles", Blocker, Fail, "app", `CREATE ROLE "app"; -- with the source's attributes and password verifier`}}},
		{"default password", nil, func(f *Facts) { f.Secrets.DefaultPasswords = []string{"pg_admin_password"} },
			[]want{{"secrets", Warning, Fail, "pg_admin_password", ""}}},
		{"readable inline passwords", nil, func(f *Facts) { f.Secrets.InlinePasswords = true; f.Secrets.FileMode = 0o644 },
			[]want{{"secrets", Warning, Fail, "m.yml", ""}}},
		{"no key blocks", nil, func(f *Facts) {
			f.NoKey = []NoKey{{Name: `"public"."h"`, Replident: "d", Fix: "ALTER TABLE public.h REPLICA IDENTITY FULL;"}}
		}, []want{{"no-key", Blocker, Fail, `"public"."h"`, "ALTER TABLE public.h REPLICA IDENTITY FULL;"}}},
		{"no key skip", []string{"tables.no_key=skip"}, func(f *Facts) {
			f.NoKey = []NoKey{{Name: `"public"."h"`, Replident: "n", Fix: "ALTER TABLE public.h REPLICA IDENTITY FULL;"}}
		}, []want{{"no-key", Warning, Fail, `"public"."h"`, "ALTER TABLE public.h REPLICA IDENTITY FULL;"}}},
		{"no key apply_fix", []string{"tables.no_key=apply_fix"}, func(f *Facts) {
			f.NoKey = []NoKey{{Name: `"public"."h"`, Replident: "d", Fix: `ALTER TABLE public.h REPLICA IDENTITY USING INDEX h_u;`}}
		}, []want{{"no-key", Info, Pass, `"public"."h"`, `ALTER TABLE public.h REPLICA IDENTITY USING INDEX h_u;`}}},
		{"identity full", nil, func(f *Facts) { f.IdentityFull = []string{"public.f"} },
			[]want{{"identity-full", Warning, Fail, "public.f", ""}}},
		{"unlogged skip", nil, func(f *Facts) { f.Unlogged = []string{"public.u"} },
			[]want{{"unlogged", Warning, Fail, "public.u", "ALTER TABLE public.u SET LOGGED;"}}},
		{"unlogged block", []string{"objects.unlogged=block"}, func(f *Facts) { f.Unlogged = []string{"public.u"} },
			[]want{{"unlogged", Blocker, Fail, "public.u", "ALTER TABLE public.u SET LOGGED;"}}},
		{"large objects", nil, func(f *Facts) { f.LargeObjects = 3 },
			[]want{{"large-objects", Blocker, Fail, "", ""}}},
		{"large objects skip", []string{"objects.large_objects=skip"}, func(f *Facts) { f.LargeObjects = 3 },
			[]want{{"large-objects", Warning, Fail, "", ""}}},
		{"foreign table", nil, func(f *Facts) { f.ForeignTables = []string{"public.ft"} },
			[]want{{"objects", Warning, Fail, "public.ft", ""}, {"objects", Info, Pass, "", ""}}},
		{"partman", nil, func(f *Facts) { f.Partman = true },
			[]want{{"partition-churn", Warning, Fail, "pg_partman", ""}}},
		{"sequence headroom", nil, func(f *Facts) {
			v := int64(32767 - 10)
			f.Sequences = []Sequence{{Name: "public.s", Last: &v, Inc: 1, Min: 1, Max: 32767}}
		}, []want{{"sequence-headroom", Blocker, Fail, "public.s", ""}}},
		{"descending headroom", nil, func(f *Facts) {
			v := int64(-5)
			f.Sequences = []Sequence{{Name: "public.d", Last: &v, Inc: -1, Min: -100, Max: -1}}
		}, []want{{"sequence-headroom", Blocker, Fail, "public.d", ""}}},
		{"extension missing", nil, func(f *Facts) { f.Src.Extensions["postgis"] = "3.4.0" },
			[]want{{"extensions", Blocker, Fail, "postgis", ""}}},
		{"extension older", nil, func(f *Facts) { f.Src.Extensions["pg_stat_statements"] = "1.11" },
			[]want{{"extensions", Warning, Fail, "pg_stat_statements", ""}}},
		{"excluded user schema", nil, func(f *Facts) { f.ExcludedWithTables = []string{"_app"} },
			[]want{{"excluded-user-schema", Warning, Fail, "_app", ""}}},
		{"fk to excluded", nil, func(f *Facts) { f.FKToExcluded = []string{"a: a_fk → x"} },
			[]want{{"fk-to-excluded", Blocker, Fail, "a: a_fk → x", ""}}},
		{"dst table exists unjournaled", nil, func(f *Facts) { f.Tables[0].DstExists = true },
			[]want{{"dst-schema", Blocker, Fail, `"public"."a"`, `DROP TABLE "public"."a";`}}},
		{"dst schema missing column", []string{"schema.copy=false"}, func(f *Facts) {
			f.Tables[0].DstExists = true
			f.Tables[0].DstIssue = "column b is missing on the destination"
		}, []want{{"dst-schema", Blocker, Fail, `"public"."a"`, ""}}},
		{"dst not empty", nil, func(f *Facts) { f.Tables[0].DstRows = true; f.SchemaJournaled = true },
			[]want{{"dst-not-empty", Blocker, Fail, `"public"."a"`, `TRUNCATE "public"."a";`}}},
		{"dst row probe failed", nil, func(f *Facts) { f.DstRowsErr = "permission denied for table a" },
			[]want{{"dst-not-empty", Blocker, Fail, "", ""}}},
		{"dst not empty on resume", nil, func(f *Facts) { f.Tables[0].DstRows = true; f.SchemaJournaled = true; f.CopyStarted = true },
			[]want{{"dst-not-empty", Info, Pass, `"public"."a"`, ""}}},
		{"triggers fire", nil, func(f *Facts) { f.DstTriggers = []string{"a: trigger t (ENABLE ALWAYS)"} },
			[]want{{"dst-triggers-fire", Warning, Fail, "a: trigger t (ENABLE ALWAYS)", ""}}},
		{"collation differs", nil, func(f *Facts) { f.Dst.Collate = "en_US.UTF-8" },
			[]want{{"locale", Warning, Fail, "collate", ""}}},
		{"sql_ascii", nil, func(f *Facts) { f.Src.Encoding = "SQL_ASCII" },
			[]want{{"locale", Blocker, Fail, "", ""}}},
		{"disk", nil, func(f *Facts) { f.DstFree = 512 << 10 },
			[]want{{"disk", Blocker, Fail, "", ""}}},
		{"foreign objects", nil, func(f *Facts) { f.Src.OurPubs = []string{"pub_pg_meta_meta"} },
			[]want{{"foreign-objects", Blocker, Fail, "pub_pg_meta_meta", "-- pgmigrate cleanup --abandon"}}},
		{"journaled objects are ours", nil, func(f *Facts) {
			f.Src.OurPubs = []string{"pub_pg_meta_meta"}
			f.JournaledObjects = map[string]bool{"publication:pub_pg_meta_meta": true}
		}, []want{{"foreign-objects", Blocker, Pass, "", ""}}},
		{"superuser writer", nil, func(f *Facts) { f.Writers = []Writer{{Role: "admin", Super: true}, {Role: "app"}} },
			[]want{{"fence-coverage", Warning, Fail, "admin", ""}, {"fence-coverage", Warning, Pass, "app", ""}}},
		{"full coverage required", []string{"fence.require_full_coverage=true"}, func(f *Facts) { f.Writers = []Writer{{Role: "admin", Super: true}} },
			[]want{{"fence-coverage", Blocker, Fail, "admin", ""}}},
		{"switch command", []string{"switch.mechanism=command", "switch.command.run=/nonexistent"}, func(f *Facts) { f.CommandErr = "/nonexistent is not executable" },
			[]want{{"switch", Blocker, Fail, "switch.command.run", ""}}},
		{"pgbouncer console", []string{"switch.mechanism=pgbouncer", "switch.pgbouncer=[{}]"}, func(f *Facts) { f.Pgbouncers = []Pgbouncer{{Entry: 0, ConsoleErr: "refused"}} },
			[]want{{"switch", Blocker, Fail, "switch.pgbouncer[0]", ""}}},
		{"direct grants", nil, func(f *Facts) { f.DirectGrants = []Grantee{{Role: "reporter", Objects: 3}} },
			[]want{{"direct-grants-lost", Warning, Fail, "reporter", ""}}},
		{"direct grants kept", []string{"schema.keep_privileges=true"}, func(f *Facts) { f.DirectGrants = []Grantee{{Role: "reporter", Objects: 3}} },
			[]want{{"direct-grants-lost", Warning, Pass, "", ""}}},
		{"catalog read failed", nil, func(f *Facts) {
			f.ReadErrors = []ReadError{{Side: "source", What: "replication slots in use", Err: "permission denied for view pg_replication_slots (SQLSTATE 42501)"}}
		}, []want{{"catalog-reads", Blocker, Fail, "replication slots in use", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := healthy()
			tc.mutate(f)
			r := Evaluate(cfgWith(t, tc.vars...), f)
			for _, w := range tc.want {
				c := find(r, w.id, w.object)
				if c == nil {
					t.Fatalf("no %s entry for object %q in\n%s", w.id, w.object, r.JSON())
				}
				if c.Severity != w.severity || c.Status != w.status {
					t.Errorf("%s %q: %s/%s, want %s/%s (%s)", w.id, w.object, c.Severity, c.Status, w.severity, w.status, c.Evidence)
				}
				fix := ""
				if c.FixSQL != nil {
					fix = *c.FixSQL
				}
				if w.fix != "" && fix != w.fix {
					t.Errorf("%s fix = %q, want %q", w.id, fix, w.fix)
				}
			}
		})
	}
}

func TestExitAndOutputs(t *testing.T) {
	f := healthy()
	f.Dst.Settings["wal_retrieve_retry_interval"] = s("5000", "ms")
	r := Evaluate(cfgWith(t), f)
	if r.Failed(false) || !r.Failed(true) {
		t.Errorf("warning only: Failed(false)=%v Failed(true)=%v", r.Failed(false), r.Failed(true))
	}
	f.Src.Settings["wal_level"] = s("replica", "")
	r = Evaluate(cfgWith(t), f)
	if !r.Failed(false) {
		t.Errorf("blocker did not fail")
	}
	var b strings.Builder
	r.WriteText(&b)
	want := `BLOCKER src-wal-level: wal_level = replica; logical replication needs logical
        fix (source): ALTER SYSTEM SET "wal_level" = 'logical'; -- then restart the source
WARNING dst-retry-interval: wal_retrieve_retry_interval = 5000 ms: an apply worker restarts only after it
        fix (destination): ALTER SYSTEM SET "wal_retrieve_retry_interval" = '1s'; -- then SELECT pg_reload_conf()
doctor: 1 blockers, 1 warnings
`
	if b.String() != want {
		t.Errorf("text output:\n%s\nwant:\n%s", b.String(), want)
	}
	fix := string(r.FixSQL())
	wantFix := `-- pgmigrate doctor fixes for pg-meta.meta. Review, then run each section on its side.

-- @source
-- src-wal-level
ALTER SYSTEM SET "wal_level" = 'logical'; -- then restart the source

-- @destination
-- dst-retry-interval
ALTER SYSTEM SET "wal_retrieve_retry_interval" = '1s'; -- then SELECT pg_reload_conf()
`
	if fix != wantFix {
		t.Errorf("fix sql:\n%s\nwant:\n%s", fix, wantFix)
	}
	js := string(r.JSON())
	for _, w := range []string{`"format": 1`, `"migration": "pg-meta.meta"`, `"object": null`, `"fix_side": "source"`, `"blockers": 1`} {
		if !strings.Contains(js, w) {
			t.Errorf("doctor.json lacks %s", w)
		}
	}
}

func TestCatalogReads(t *testing.T) {
	entries := func(r *Report) []Check {
		var out []Check
		for _, c := range r.Checks {
			if c.ID == "catalog-reads" {
				out = append(out, c)
			}
		}
		return out
	}
	obj := func(c Check) string {
		if c.Object == nil {
			return "<null>"
		}
		return *c.Object
	}

	// No failed read: one passing entry, without object or fix.
	r := Evaluate(cfgWith(t), healthy())
	got := entries(r)
	if len(got) != 1 {
		t.Fatalf("no read errors: %d catalog-reads entries, want 1: %+v", len(got), got)
	}
	if c := got[0]; c.Severity != Blocker || c.Status != Pass || c.Object != nil || c.FixSQL != nil || c.FixSide != nil ||
		c.Evidence != "every catalog read succeeded" {
		t.Errorf("pass entry: %+v", c)
	}

	// Two failed reads on different sides: two blockers, one per fact.
	f := healthy()
	f.ReadErrors = []ReadError{
		{Side: "source", What: "replication slots in use", Err: "permission denied for view pg_replication_slots (SQLSTATE 42501)"},
		{Side: "destination", What: "extensions available", Err: "canceling statement due to statement timeout (SQLSTATE 57014)"},
	}
	r = Evaluate(cfgWith(t), f)
	got = entries(r)
	wantEv := []struct{ obj, ev string }{
		{"replication slots in use", "could not be read on the source: permission denied for view pg_replication_slots (SQLSTATE 42501); the checks that use it cannot be trusted"},
		{"extensions available", "could not be read on the destination: canceling statement due to statement timeout (SQLSTATE 57014); the checks that use it cannot be trusted"},
	}
	if len(got) != len(wantEv) {
		t.Fatalf("%d catalog-reads entries, want %d:\n%s", len(got), len(wantEv), r.JSON())
	}
	for i, w := range wantEv {
		c := got[i]
		if c.Severity != Blocker || c.Status != Fail || obj(c) != w.obj || c.Evidence != w.ev || c.FixSQL != nil || c.FixSide != nil {
			t.Errorf("entry %d: %s/%s %s: %q (fix %v/%v), want blocker/fail %s: %q", i, c.Severity, c.Status, obj(c), c.Evidence, c.FixSQL, c.FixSide, w.obj, w.ev)
		}
	}
	// Only these fail: the report blocks (exit 1) on them alone.
	if r.Summary.Blockers != 2 || r.Summary.Warnings != 0 || !r.Failed(false) {
		t.Errorf("summary %+v, Failed(false)=%v; want 2 blockers and exit 1", r.Summary, r.Failed(false))
	}
	var b strings.Builder
	r.WriteText(&b)
	wantText := `BLOCKER catalog-reads replication slots in use: could not be read on the source: permission denied for view pg_replication_slots (SQLSTATE 42501); the checks that use it cannot be trusted
BLOCKER catalog-reads extensions available: could not be read on the destination: canceling statement due to statement timeout (SQLSTATE 57014); the checks that use it cannot be trusted
doctor: 2 blockers, 0 warnings
`
	if b.String() != wantText {
		t.Errorf("text output:\n%s\nwant:\n%s", b.String(), wantText)
	}
	js := string(r.JSON())
	for _, w := range []string{`"id": "catalog-reads",
      "severity": "blocker",
      "status": "fail",
      "object": "replication slots in use",`, `"fix_sql": null,
      "fix_side": null`} {
		if !strings.Contains(js, w) {
			t.Errorf("doctor.json lacks %s", w)
		}
	}

	// The same fact failing on both sides is one entry (one per id and object).
	f = healthy()
	f.ReadErrors = []ReadError{
		{Side: "source", What: "server settings", Err: "permission denied (SQLSTATE 42501)"},
		{Side: "destination", What: "server settings", Err: "conn closed"},
	}
	got = entries(Evaluate(cfgWith(t), f))
	if len(got) != 1 || obj(got[0]) != "server settings" ||
		got[0].Evidence != "could not be read on the source: permission denied (SQLSTATE 42501); on the destination: conn closed; the checks that use it cannot be trusted" {
		t.Errorf("merged entry: %+v", got)
	}
}
