package doctor

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pgcc-dev/pgcc/migrate/config"
	"github.com/pgcc-dev/pgcc/render/sqltext"
)

// Severities and statuses (migrate.md §12.8).
const (
	Blocker = "blocker"
	Warning = "warning"
	Info    = "info"

	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Check is one doctor result: one entry per (check id, object).
type Check struct {
	ID       string  `json:"id"`
	Severity string  `json:"severity"`
	Status   string  `json:"status"`
	Object   *string `json:"object"`
	Evidence string  `json:"evidence"`
	FixSQL   *string `json:"fix_sql"`
	FixSide  *string `json:"fix_side"`
}

// Report is doctor.json.
type Report struct {
	Format    int     `json:"format"`
	Migration string  `json:"migration"`
	Checks    []Check `json:"checks"`
	Summary   Summary `json:"summary"`
}

// Summary counts failed blockers and warnings.
type Summary struct {
	Blockers int `json:"blockers"`
	Warnings int `json:"warnings"`
}

// IDs lists every check id in report order.
var IDs = []string{
	"versions", "primaries", "identity", "client-tools", "src-wal-level", "src-capacity", "timeouts",
	"src-slot-wal-limit", "src-long-xacts", "dst-capacity", "dst-retry-interval", "conn-src", "conn-dst",
	"conn-dst-to-src", "src-privileges", "dst-privileges", "repl-user", "rls", "roles", "secrets", "no-key",
	"identity-full", "unlogged", "large-objects", "objects", "partition-churn", "sequence-headroom",
	"extensions", "excluded-user-schema", "fk-to-excluded", "dst-schema", "dst-not-empty",
	"dst-triggers-fire", "locale", "disk", "foreign-objects", "fence-coverage", "switch", "ddl-guard",
	"direct-grants-lost", "catalog-reads",
}

func strp(s string) *string { return &s }

type builder struct {
	cfg    *config.Config
	f      *Facts
	checks []Check
}

func (b *builder) add(id, sev, status string, obj, evidence, fix, side string) {
	c := Check{ID: id, Severity: sev, Status: status, Evidence: evidence}
	if obj != "" {
		c.Object = strp(obj)
	}
	if fix != "" {
		c.FixSQL = strp(fix)
		c.FixSide = strp(side)
	}
	b.checks = append(b.checks, c)
}

// perObject passes with passEv when objs is empty, else fails once per
// object with ev and, when fix is not nil, fix(object) on side.
func (b *builder) perObject(id, sev string, objs []string, passEv, ev string, fix func(string) string, side string) {
	if len(objs) == 0 {
		b.pass(id, sev, passEv)
		return
	}
	for _, o := range objs {
		if fix == nil {
			b.fail(id, sev, o, ev, "", "")
		} else {
			b.fail(id, sev, o, ev, fix(o), side)
		}
	}
}

func (b *builder) pass(id, sev, evidence string) { b.add(id, sev, Pass, "", evidence, "", "") }
func (b *builder) skip(id, sev, why string)      { b.add(id, sev, Skip, "", why, "", "") }
func (b *builder) fail(id, sev, obj, evidence, fix, side string) {
	b.add(id, sev, Fail, obj, evidence, fix, side)
}

// Evaluate runs every rule. It is pure.
func Evaluate(cfg *config.Config, f *Facts) *Report {
	b := &builder{cfg: cfg, f: f}
	rules := map[string]func(){
		"versions": b.versions, "primaries": b.primaries, "identity": b.identity, "client-tools": b.clientTools,
		"src-wal-level": b.srcWalLevel, "src-capacity": b.srcCapacity, "timeouts": b.timeouts,
		"src-slot-wal-limit": b.srcSlotWalLimit, "src-long-xacts": b.srcLongXacts, "dst-capacity": b.dstCapacity,
		"dst-retry-interval": b.dstRetryInterval, "conn-src": b.connSrc, "conn-dst": b.connDst,
		"conn-dst-to-src": b.connDstToSrc, "src-privileges": b.srcPrivileges, "dst-privileges": b.dstPrivileges,
		"repl-user": b.replUser, "rls": b.rls, "roles": b.roles, "secrets": b.secrets, "no-key": b.noKey,
		"identity-full": b.identityFull, "unlogged": b.unlogged, "large-objects": b.largeObjects,
		"objects": b.objects, "partition-churn": b.partitionChurn, "sequence-headroom": b.sequenceHeadroom,
		"extensions": b.extensions, "excluded-user-schema": b.excludedUserSchema, "fk-to-excluded": b.fkToExcluded,
		"dst-schema": b.dstSchema, "dst-not-empty": b.dstNotEmpty, "dst-triggers-fire": b.dstTriggersFire,
		"locale": b.locale, "disk": b.disk, "foreign-objects": b.foreignObjects, "fence-coverage": b.fenceCoverage,
		"switch": b.switchCheck, "ddl-guard": b.ddlGuard, "direct-grants-lost": b.directGrantsLost,
		"catalog-reads": b.catalogReads,
	}
	for _, id := range IDs {
		rules[id]()
	}
	r := &Report{Format: 1, Migration: cfg.Names.ID, Checks: b.checks}
	for _, c := range b.checks {
		if c.Status != Fail {
			continue
		}
		switch c.Severity {
		case Blocker:
			r.Summary.Blockers++
		case Warning:
			r.Summary.Warnings++
		}
	}
	return r
}

func (b *builder) both() bool { return b.f.Src.Up && b.f.Dst.Up }

func (b *builder) needBoth(id, sev string) bool {
	if !b.both() {
		b.skip(id, sev, "a side is unreachable")
		return false
	}
	return true
}

func (b *builder) needSrc(id, sev string) bool {
	if !b.f.Src.Up {
		b.skip(id, sev, "source unreachable")
		return false
	}
	return true
}

func (b *builder) needDst(id, sev string) bool {
	if !b.f.Dst.Up {
		b.skip(id, sev, "destination unreachable")
		return false
	}
	return true
}

func major(v int) int {
	if v >= 100000 {
		return v / 10000
	}
	return v / 100
}

func versionText(v int) string {
	if v >= 100000 {
		return fmt.Sprintf("%d.%d", v/10000, v%10000)
	}
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

func (s SideFacts) setting(name string) (Setting, bool) {
	v, ok := s.Settings[name]
	return v, ok
}

func (s SideFacts) intSetting(name string) (int64, bool) {
	v, ok := s.Settings[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

// bytesSetting converts a setting with a memory unit to bytes.
func (s SideFacts) bytesSetting(name string) (int64, bool) {
	v, ok := s.Settings[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, false
	}
	mult := int64(1)
	switch v.Unit {
	case "kB":
		mult = 1 << 10
	case "8kB":
		mult = 8 << 10
	case "MB":
		mult = 1 << 20
	case "16MB":
		mult = 16 << 20
	case "GB":
		mult = 1 << 30
	}
	if n < 0 {
		return n, true
	}
	return n * mult, true
}

// msSetting converts a time setting to milliseconds.
func (s SideFacts) msSetting(name string) (int64, bool) {
	v, ok := s.Settings[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, false
	}
	switch v.Unit {
	case "s":
		n *= 1000
	case "min":
		n *= 60000
	}
	return n, true
}

func (s SideFacts) member(role string) bool {
	for _, r := range s.MemberOf {
		if r == role {
			return true
		}
	}
	return false
}

func alterSystem(name, value, apply string) string {
	return "ALTER SYSTEM SET " + sqltext.Ident(name) + " = " + sqltext.Literal(value) + "; -- then " + apply
}

func (b *builder) versions() {
	const id, sev = "versions", Blocker
	if !b.needBoth(id, sev) {
		return
	}
	s, d := b.f.Src.Version, b.f.Dst.Version
	ev := fmt.Sprintf("source %s, destination %s", versionText(s), versionText(d))
	ok := true
	if s < 100000 {
		b.fail(id, sev, "", ev+": logical replication needs PostgreSQL ≥ 10 on the source", "", "")
		ok = false
	}
	if major(d) < major(s) {
		b.fail(id, sev, "", ev+": the destination's major version must be ≥ the source's", "", "")
		ok = false
	}
	if ok {
		b.pass(id, sev, ev)
	}
}

func (b *builder) primaries() {
	const id, sev = "primaries", Blocker
	if !b.needBoth(id, sev) {
		return
	}
	ok := true
	if b.f.Src.InRecovery {
		b.fail(id, sev, "", "the source is in recovery (a standby); point src_pg at the primary", "", "")
		ok = false
	}
	if b.f.Dst.InRecovery {
		b.fail(id, sev, "", "the destination is in recovery (a standby); point dst_pg at the primary", "", "")
		ok = false
	}
	if ok {
		b.pass(id, sev, "both sides are primaries")
	}
}

func (b *builder) identity() {
	const id, sev = "identity", Blocker
	if !b.needBoth(id, sev) {
		return
	}
	ok := true
	if b.f.Src.SystemID != "" && b.f.Src.SystemID == b.f.Dst.SystemID && b.f.Src.DBName == b.f.Dst.DBName {
		b.fail(id, sev, "", fmt.Sprintf("source and destination are the same database (system %s, database %s)", b.f.Src.SystemID, b.f.Src.DBName), "", "")
		ok = false
	}
	if j := b.f.JournalSystemIDs; j != nil {
		if v := j["source"]; v != "" && v != b.f.Src.SystemID {
			b.fail(id, sev, "", fmt.Sprintf("the source's system id %s differs from the journaled %s: src_pg points at another cluster", b.f.Src.SystemID, v), "", "")
			ok = false
		}
		if v := j["destination"]; v != "" && v != b.f.Dst.SystemID {
			b.fail(id, sev, "", fmt.Sprintf("the destination's system id %s differs from the journaled %s: dst_pg points at another cluster", b.f.Dst.SystemID, v), "", "")
			ok = false
		}
	}
	if ok {
		b.pass(id, sev, fmt.Sprintf("source system %s, destination system %s", b.f.Src.SystemID, b.f.Dst.SystemID))
	}
}

func (b *builder) clientTools() {
	const id, sev = "client-tools", Blocker
	var need []string
	if b.cfg.Schema.Copy {
		need = []string{"pg_dump", "pg_restore", "psql"}
	}
	if len(need) == 0 {
		b.pass(id, sev, "schema.copy is false: no client tool needed")
		return
	}
	ok := true
	for _, t := range need {
		v, found := b.f.Tools[t]
		if !found || v == "" {
			b.fail(id, sev, t, t+" not found in PATH (or the PostgreSQL bindir)", "", "")
			ok = false
		}
	}
	if v := b.f.Tools["pg_dump"]; v != "" && b.f.Src.Up {
		if m, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); err == nil && m < major(b.f.Src.Version) {
			b.fail(id, sev, "pg_dump", fmt.Sprintf("pg_dump %s is older than the source (%s): install a client ≥ the source's major", v, versionText(b.f.Src.Version)), "", "")
			ok = false
		}
	}
	if ok {
		var vs []string
		for _, t := range need {
			vs = append(vs, t+" "+b.f.Tools[t])
		}
		b.pass(id, sev, strings.Join(vs, ", "))
	}
}

func (b *builder) srcWalLevel() {
	const id, sev = "src-wal-level", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	v, _ := b.f.Src.setting("wal_level")
	if v.Value != "logical" {
		b.fail(id, sev, "", "wal_level = "+v.Value+"; logical replication needs logical", alterSystem("wal_level", "logical", "restart the source"), "source")
		return
	}
	b.pass(id, sev, "wal_level = logical")
}

// neededSenders: 1 walsender for the subscription, +1 while copy-data
// holds the snapshot connection; the subscription path adds table-sync
// workers, each with its own walsender and temporary slot.
func (b *builder) needed() (slots, senders int) {
	slots, senders = 1, 2
	if b.cfg.Copy.Method == "subscription" {
		sync, _ := b.f.Dst.intSetting("max_sync_workers_per_subscription")
		if sync == 0 {
			sync = 2
		}
		slots, senders = 1+int(sync), 1+int(sync)
	}
	return
}

func (b *builder) srcCapacity() {
	const id, sev = "src-capacity", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	slots, senders := b.needed()
	maxSlots, _ := b.f.Src.intSetting("max_replication_slots")
	maxSenders, _ := b.f.Src.intSetting("max_wal_senders")
	ours := 0
	for _, s := range b.f.Src.OurSlots {
		if s.Name == b.cfg.Names.Slot {
			ours = 1
		}
	}
	freeSlots := int(maxSlots) - b.f.Src.SlotsUsed + ours
	freeSenders := int(maxSenders) - b.f.Src.SendersUsed
	ok := true
	if freeSlots < slots {
		b.fail(id, sev, "max_replication_slots", fmt.Sprintf("%d free of %d, %d needed", freeSlots, maxSlots, slots),
			alterSystem("max_replication_slots", strconv.Itoa(b.f.Src.SlotsUsed+slots), "restart the source"), "source")
		ok = false
	}
	if freeSenders < senders {
		b.fail(id, sev, "max_wal_senders", fmt.Sprintf("%d free of %d, %d needed", freeSenders, maxSenders, senders),
			alterSystem("max_wal_senders", strconv.Itoa(b.f.Src.SendersUsed+senders), "restart the source"), "source")
		ok = false
	}
	if ok {
		b.pass(id, sev, fmt.Sprintf("slots %d free (%d needed), walsenders %d free (%d needed)", freeSlots, slots, freeSenders, senders))
	}
}

func (b *builder) timeouts() {
	const id, sev = "timeouts", Warning
	ok := true
	check := func(side SideFacts, sideName, name string) {
		ms, found := side.msSetting(name)
		if !found {
			return
		}
		if ms > 0 && ms < 30000 {
			b.fail(id, sev, name, fmt.Sprintf("%s %s = %d ms: a busy apply or a large transaction can time the connection out", sideName, name, ms),
				alterSystem(name, "60s", "SELECT pg_reload_conf()"), sideName)
			ok = false
		}
	}
	if b.f.Src.Up {
		check(b.f.Src, "source", "wal_sender_timeout")
	}
	if b.f.Dst.Up {
		check(b.f.Dst, "destination", "wal_receiver_timeout")
	}
	if !b.f.Src.Up && !b.f.Dst.Up {
		b.skip(id, sev, "both sides unreachable")
		return
	}
	if ok {
		b.pass(id, sev, "wal_sender_timeout and wal_receiver_timeout are 0 or ≥ 30 s")
	}
}

func (b *builder) totalBytes() int64 {
	var n int64
	for _, t := range b.f.Tables {
		if t.Keyed || b.cfg.Tables.NoKey != "skip" {
			n += t.Bytes
		}
	}
	return n
}

func (b *builder) srcSlotWalLimit() {
	const id = "src-slot-wal-limit"
	if !b.needSrc(id, Warning) {
		return
	}
	if b.f.Src.Version < 130000 {
		b.pass(id, Warning, "max_slot_wal_keep_size does not exist before PostgreSQL 13: the slot retains WAL without bound")
		return
	}
	limit, _ := b.f.Src.bytesSetting("max_slot_wal_keep_size")
	// WAL retained while the copy runs: the WAL rate (sampled by the
	// collector) × the copy time at 50 MB/s; the limit must be twice that.
	copySecs := float64(b.totalBytes()) / float64(50<<20)
	needed := int64(2 * b.f.Src.WALRateBytesSec * copySecs)
	ev := fmt.Sprintf("WAL rate %.0f B/s, copy ≈ %.0f s at 50 MB/s, needs ≥ %d MB of slot WAL", b.f.Src.WALRateBytesSec, copySecs, needed>>20)
	if limit < 0 {
		b.fail(id, Warning, "", "max_slot_wal_keep_size = -1: a stalled subscription can fill the source's disk; "+ev,
			alterSystem("max_slot_wal_keep_size", fmt.Sprintf("%dMB", max64(needed>>20, 1024)), "SELECT pg_reload_conf()"), "source")
		return
	}
	if limit < needed {
		b.fail(id, Blocker, "", fmt.Sprintf("max_slot_wal_keep_size = %d MB is below the need; %s", limit>>20, ev),
			alterSystem("max_slot_wal_keep_size", fmt.Sprintf("%dMB", needed>>20+1), "SELECT pg_reload_conf()"), "source")
		return
	}
	b.pass(id, Blocker, fmt.Sprintf("max_slot_wal_keep_size = %d MB; %s", limit>>20, ev))
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func (b *builder) srcLongXacts() {
	const id, sev = "src-long-xacts", Warning
	if !b.needSrc(id, sev) {
		return
	}
	ok := true
	for _, x := range b.f.Src.LongXacts {
		b.fail(id, sev, x, "transaction open for more than 5 minutes: creating the slot waits for it to end", "", "")
		ok = false
	}
	if b.f.Src.PreparedXacts > 0 {
		b.fail(id, sev, "", fmt.Sprintf("%d prepared transactions: creating the slot waits for them", b.f.Src.PreparedXacts), "", "")
		ok = false
	}
	if ok {
		b.pass(id, sev, "no transaction open > 5 min, no prepared transaction")
	}
}

func (b *builder) dstCapacity() {
	const id, sev = "dst-capacity", Blocker
	if !b.needDst(id, sev) {
		return
	}
	d := b.f.Dst
	need := 1
	if b.cfg.Copy.Method == "subscription" {
		sync, _ := d.intSetting("max_sync_workers_per_subscription")
		need += int(sync)
	}
	ok := true
	lr, _ := d.intSetting("max_logical_replication_workers")
	if int(lr)-d.WorkersUsed < need {
		b.fail(id, sev, "max_logical_replication_workers", fmt.Sprintf("%d free of %d, %d needed", int(lr)-d.WorkersUsed, lr, need),
			alterSystem("max_logical_replication_workers", strconv.Itoa(d.WorkersUsed+need+1), "restart the destination"), "destination")
		ok = false
	}
	wp, _ := d.intSetting("max_worker_processes")
	if int(wp)-d.BgWorkersUsed < need {
		b.fail(id, sev, "max_worker_processes", fmt.Sprintf("%d free of %d, %d needed", int(wp)-d.BgWorkersUsed, wp, need),
			alterSystem("max_worker_processes", strconv.Itoa(d.BgWorkersUsed+need+2), "restart the destination"), "destination")
		ok = false
	}
	// Subscriptions use replication origins, bounded by max_replication_slots on the subscriber (≤ 16).
	rs, _ := d.intSetting("max_replication_slots")
	ours := 0
	for _, s := range d.OurSubs {
		if s == b.cfg.Names.Sub {
			ours = 1
		}
	}
	if int(rs) < d.Subscriptions-ours+1 {
		b.fail(id, sev, "max_replication_slots", fmt.Sprintf("%d on the destination, %d subscriptions + 1 needed", rs, d.Subscriptions-ours),
			alterSystem("max_replication_slots", strconv.Itoa(d.Subscriptions-ours+2), "restart the destination"), "destination")
		ok = false
	}
	if b.cfg.Rollback.Enabled {
		if v, _ := d.setting("wal_level"); v.Value != "logical" {
			b.fail(id, sev, "wal_level", "rollback needs wal_level = logical on the destination", alterSystem("wal_level", "logical", "restart the destination"), "destination")
			ok = false
		}
		ms, _ := d.intSetting("max_wal_senders")
		if ms < 1 {
			b.fail(id, sev, "max_wal_senders", "rollback needs a walsender on the destination", alterSystem("max_wal_senders", "10", "restart the destination"), "destination")
			ok = false
		}
	}
	if ok {
		b.pass(id, sev, fmt.Sprintf("logical replication workers %d free, worker processes %d free, %d needed", int(lr)-d.WorkersUsed, int(wp)-d.BgWorkersUsed, need))
	}
}

func (b *builder) dstRetryInterval() {
	const id, sev = "dst-retry-interval", Warning
	if !b.needDst(id, sev) {
		return
	}
	ms, _ := b.f.Dst.msSetting("wal_retrieve_retry_interval")
	if ms > 1000 {
		b.fail(id, sev, "", fmt.Sprintf("wal_retrieve_retry_interval = %d ms: an apply worker restarts only after it", ms),
			alterSystem("wal_retrieve_retry_interval", "1s", "SELECT pg_reload_conf()"), "destination")
		return
	}
	b.pass(id, sev, fmt.Sprintf("wal_retrieve_retry_interval = %d ms", ms))
}

func hbaLine(db, user, ip string) string {
	if ip == "" {
		ip = "<pgmigrate host ip>"
	} else if !strings.Contains(ip, "/") {
		if strings.Contains(ip, ":") {
			ip += "/128"
		} else {
			ip += "/32"
		}
	}
	return fmt.Sprintf("host %s %s %s scram-sha-256", db, user, ip)
}

func (b *builder) connSrc() {
	const id, sev = "conn-src", Blocker
	u := b.cfg.Src()
	if !b.f.Src.Up {
		b.fail(id, sev, "", "cannot connect with src_pg: "+b.f.Src.Err, "# pg_hba.conf on the source:\n"+hbaLine(u.DBName(), u.User(), b.f.Src.ClientIP), "source")
		return
	}
	if b.cfg.Copy.Method == "snapshot" && !b.f.Src.ReplUp {
		b.fail(id, sev, "replication", "cannot open a replication connection with src_pg: "+b.f.Src.ReplErr+"; copy.method: subscription is the fallback",
			"# pg_hba.conf on the source:\n"+hbaLine("replication", u.User(), b.f.Src.ClientIP), "source")
		return
	}
	b.pass(id, sev, "connected as "+b.f.Src.User)
}

func (b *builder) connDst() {
	const id, sev = "conn-dst", Blocker
	u := b.cfg.Dst()
	if !b.f.Dst.Up {
		b.fail(id, sev, "", "cannot connect with dst_pg: "+b.f.Dst.Err, "# pg_hba.conf on the destination:\n"+hbaLine(u.DBName(), u.User(), b.f.Dst.ClientIP), "destination")
		return
	}
	b.pass(id, sev, "connected as "+b.f.Dst.User)
}

func (b *builder) connDstToSrc() {
	const id, sev = "conn-dst-to-src", Blocker
	ci := b.cfg.SubConninfo()
	user, _ := ci.Get("user")
	db, _ := ci.Get("dbname")
	if b.f.Probe == nil {
		b.skip(id, sev, "probe not run (--no-probe or a side unreachable)")
	} else if *b.f.Probe != "" {
		b.fail(id, sev, "", "the destination cannot connect to the source with sub_conn: "+*b.f.Probe,
			"# pg_hba.conf on the source:\n"+hbaLine(db, user, b.cfg.DstIP), "source")
	} else {
		b.pass(id, sev, "probe subscription connected with sub_conn ("+ci.String()+")")
	}
	if b.cfg.Rollback.Enabled && b.f.ReverseProbe != nil && *b.f.ReverseProbe != "" {
		rc, _ := config.ParseConninfo(b.cfg.Rollback.Conn)
		ru, _ := rc.Get("user")
		rdb, _ := rc.Get("dbname")
		b.fail(id, sev, "rollback.conn", "the source cannot connect to the destination with rollback.conn: "+*b.f.ReverseProbe,
			"# pg_hba.conf on the destination:\n"+hbaLine(rdb, ru, b.cfg.SrcIP), "destination")
	}
}

func (b *builder) srcPrivileges() {
	const id, sev = "src-privileges", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	s := b.f.Src
	if s.IsSuper {
		b.pass(id, sev, s.User+" is a superuser")
		return
	}
	ok := true
	user := sqltext.Ident(s.User)
	if !s.Replication {
		b.fail(id, sev, "", s.User+" lacks REPLICATION (create-slot)", "ALTER ROLE "+user+" REPLICATION;", "source")
		ok = false
	}
	if !s.member("pg_signal_backend") {
		b.fail(id, sev, "", s.User+" lacks pg_signal_backend (the terminate fence layer)", "GRANT pg_signal_backend TO "+user+";", "source")
		ok = false
	}
	if !s.DBOwner {
		b.fail(id, sev, "", s.User+" does not own database "+s.DBName+" (connection limit fence)",
			"ALTER DATABASE "+sqltext.Ident(s.DBName)+" OWNER TO "+user+";", "source")
		ok = false
	}
	for _, t := range s.NotOwnedTables {
		b.fail(id, sev, t, s.User+" does not own the table (publication, triggers)", "ALTER TABLE "+t+" OWNER TO "+user+";", "source")
		ok = false
	}
	if ok {
		b.pass(id, sev, s.User+" has REPLICATION, pg_signal_backend and owns the database and tables")
	}
}

func (b *builder) dstPrivileges() {
	const id, sev = "dst-privileges", Blocker
	if !b.needDst(id, sev) {
		return
	}
	d := b.f.Dst
	if d.IsSuper {
		b.pass(id, sev, d.User+" is a superuser")
		return
	}
	user := sqltext.Ident(d.User)
	ok := true
	if d.Version < 160000 {
		b.fail(id, sev, "", fmt.Sprintf("%s is not a superuser: CREATE SUBSCRIPTION needs one on PostgreSQL %d", d.User, major(d.Version)), "ALTER ROLE "+user+" SUPERUSER;", "destination")
		ok = false
	} else {
		if !d.member("pg_create_subscription") {
			b.fail(id, sev, "", d.User+" lacks pg_create_subscription", "GRANT pg_create_subscription TO "+user+";", "destination")
			ok = false
		}
		if !d.CreateOnDB {
			b.fail(id, sev, "", d.User+" lacks CREATE on the database", "GRANT CREATE ON DATABASE "+sqltext.Ident(d.DBName)+" TO "+user+";", "destination")
			ok = false
		}
		if !b.cfg.Schema.Copy {
			b.fail(id, sev, "", "schema.copy: false needs a superuser (session_replication_role = replica during the copy)", "ALTER ROLE "+user+" SUPERUSER;", "destination")
			ok = false
		}
	}
	if b.cfg.Rollback.Enabled && b.f.Src.Up && !b.f.Src.IsSuper && b.f.Src.Version < 160000 {
		b.fail(id, sev, "rollback", "rollback creates a subscription on the source: "+b.f.Src.User+" must be a superuser there", "ALTER ROLE "+sqltext.Ident(b.f.Src.User)+" SUPERUSER;", "source")
		ok = false
	}
	if ok {
		b.pass(id, sev, d.User+" can create subscriptions")
	}
}

func (b *builder) replUser() {
	const id, sev = "repl-user", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	ci := b.cfg.SubConninfo()
	user, _ := ci.Get("user")
	if !b.f.ReplUserKnown {
		b.fail(id, sev, user, "the sub_conn role "+user+" does not exist on the source", "CREATE ROLE "+sqltext.Ident(user)+" LOGIN REPLICATION;", "source")
		return
	}
	ok := true
	if !b.f.ReplUserReplication {
		b.fail(id, sev, user, "the sub_conn role "+user+" lacks REPLICATION", "ALTER ROLE "+sqltext.Ident(user)+" REPLICATION;", "source")
		ok = false
	}
	if b.cfg.Copy.Method == "subscription" {
		for _, t := range b.f.ReplUserNoSelect {
			b.fail(id, sev, t, user+" cannot SELECT the table (table sync)", "GRANT SELECT ON "+t+" TO "+sqltext.Ident(user)+";", "source")
			ok = false
		}
	}
	if ok {
		b.pass(id, sev, user+" has REPLICATION")
	}
}

func (b *builder) rls() {
	const id, sev = "rls", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	ok := true
	for _, t := range b.f.Tables {
		if !t.RLS || (!t.Keyed && b.cfg.Tables.NoKey == "skip") {
			continue
		}
		roles := []string{b.f.Src.User}
		if b.cfg.Copy.Method == "subscription" {
			u, _ := b.cfg.SubConninfo().Get("user")
			roles = append(roles, u)
		}
		for _, r := range roles {
			if b.f.RLSRoleBypass[r] {
				continue
			}
			b.fail(id, sev, t.Name, "row level security is on and "+r+" lacks BYPASSRLS: rows would silently vanish from the copy",
				"ALTER ROLE "+sqltext.Ident(r)+" BYPASSRLS;", "source")
			ok = false
		}
	}
	if ok {
		b.pass(id, sev, "no migrated table hides rows from the copying roles")
	}
}

func (b *builder) roles() {
	const id = "roles"
	if !b.needBoth(id, Blocker) {
		return
	}
	ok := true
	sev := Warning
	if b.cfg.Schema.KeepOwner || b.cfg.Schema.KeepPrivileges {
		sev = Blocker
	}
	for _, r := range b.f.MissingRoles {
		b.fail(id, sev, r, "owns or is granted migrated objects on the source but does not exist on the destination (roles are not migrated)",
			"CREATE ROLE "+sqltext.Ident(r)+"; -- with the source's attributes and password verifier", "destination")
		ok = false
	}
	for _, r := range b.f.VerifierDiff {
		b.fail(id, Warning, r, "the SCRAM verifier differs between the sides: pooled SCRAM pass-through fails after the switch", "", "")
		ok = false
	}
	if ok {
		b.pass(id, sev, "every owner and grantee of migrated objects exists on the destination")
	}
}

var pigstyDefaults = map[string]bool{"DBUser.DBA": true, "DBUser.Replicator": true, "DBUser.Monitor": true}

func (b *builder) secrets() {
	const id, sev = "secrets", Warning
	ok := true
	for _, k := range b.f.Secrets.DefaultPasswords {
		b.fail(id, sev, k, "holds a Pigsty default password; change it on both clusters", "", "")
		ok = false
	}
	if b.f.Secrets.InlinePasswords && b.f.Secrets.FileMode&0o077 != 0 {
		b.fail(id, sev, b.cfg.File, fmt.Sprintf("inline passwords in a file with mode %04o; chmod 600 or use {env: NAME}", b.f.Secrets.FileMode), "", "")
		ok = false
	}
	if ok {
		b.pass(id, sev, "no default password, no readable inline password")
	}
}

func (b *builder) noKey() {
	const id = "no-key"
	if !b.needSrc(id, Blocker) {
		return
	}
	mode := b.cfg.Tables.NoKey
	if len(b.f.NoKey) == 0 {
		b.pass(id, Blocker, "every migrated table has a primary key or replica identity")
		return
	}
	for _, t := range b.f.NoKey {
		ev := fmt.Sprintf("no primary key and replica identity %s: once published, its UPDATE and DELETE fail on the source, so it is never published", replidentName(t.Replident))
		switch mode {
		case "skip":
			b.fail(id, Warning, t.Name, ev+"; tables.no_key: skip leaves it out of the migration (not migrated)", t.Fix, "source")
		case "apply_fix":
			b.add(id, Info, Pass, t.Name, ev+"; tables.no_key: apply_fix runs the fix in step fix-identity", t.Fix, "source")
		default:
			b.fail(id, Blocker, t.Name, ev+"; fix it, or set tables.no_key to skip or apply_fix", t.Fix, "source")
		}
	}
}

func replidentName(r string) string {
	switch r {
	case "d":
		return "default"
	case "n":
		return "nothing"
	case "i":
		return "index (none valid)"
	case "f":
		return "full"
	}
	return r
}

func (b *builder) identityFull() {
	const id, sev = "identity-full", Warning
	if !b.needSrc(id, sev) {
		return
	}
	ev := "REPLICA IDENTITY FULL: more WAL"
	if b.f.Dst.Up && b.f.Dst.Version < 160000 {
		ev += ", and a sequential scan per UPDATE/DELETE on the destination"
	}
	b.perObject(id, sev, b.f.IdentityFull, "no table uses REPLICA IDENTITY FULL", ev, nil, "")
}

func (b *builder) unlogged() {
	const id = "unlogged"
	sev := Warning
	if b.cfg.Objects.Unlogged == "block" {
		sev = Blocker
	}
	if !b.needSrc(id, sev) {
		return
	}
	b.perObject(id, sev, b.f.Unlogged, "no unlogged table", "unlogged: not published, created empty on the destination",
		func(t string) string { return "ALTER TABLE " + t + " SET LOGGED;" }, "source")
}

func (b *builder) largeObjects() {
	const id = "large-objects"
	sev := Blocker
	if b.cfg.Objects.LargeObjects == "skip" {
		sev = Warning
	}
	if !b.needSrc(id, sev) {
		return
	}
	if b.f.LargeObjects == 0 {
		b.pass(id, sev, "pg_largeobject_metadata is empty")
		return
	}
	ev := fmt.Sprintf("%d large objects: logical replication does not carry them", b.f.LargeObjects)
	if sev == Warning {
		ev += "; objects.large_objects: skip leaves them behind"
	}
	b.fail(id, sev, "", ev, "", "")
}

func (b *builder) objects() {
	const id = "objects"
	if !b.needSrc(id, Info) {
		return
	}
	unowned := 0
	for _, s := range b.f.Sequences {
		if !s.Owned {
			unowned++
		}
	}
	b.add(id, Info, Pass, "", fmt.Sprintf("%d tables, %d materialized views (%s), %d partitioned tables, %d generated columns (not copied, recomputed), %d identity columns, %d sequences (%d unowned)",
		len(b.f.Tables), b.f.Matviews, map[string]string{"refresh": "refreshed", "skip": "left empty"}[b.cfg.Objects.Matviews],
		b.f.Partitioned, b.f.GeneratedCols, b.f.IdentityCols, len(b.f.Sequences), unowned), "", "")
	for _, t := range b.f.ForeignTables {
		b.fail(id, Warning, t, "foreign table: only its definition is migrated", "", "")
	}
}

func (b *builder) partitionChurn() {
	const id, sev = "partition-churn", Warning
	if !b.needSrc(id, sev) {
		return
	}
	ok := true
	if b.f.Partman {
		b.fail(id, sev, "pg_partman", "pg_partman is installed: its maintenance creates partitions, which the DDL guard blocks during the migration", "", "")
		ok = false
	}
	for _, p := range b.f.RecentParts {
		b.fail(id, sev, p, "partition created in the last 7 days: the DDL guard blocks new ones during the migration", "", "")
		ok = false
	}
	if ok {
		b.pass(id, sev, "no pg_partman, no partition created in the last 7 days")
	}
}

func (b *builder) sequenceHeadroom() {
	const id, sev = "sequence-headroom", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	ok := true
	off := b.cfg.SeqOffset
	for _, s := range b.f.Sequences {
		if s.Last == nil || s.Cycle {
			continue
		}
		v := *s.Last
		if s.Inc >= 0 {
			if v > s.Max-off {
				b.fail(id, sev, s.Name, fmt.Sprintf("last_value %d + seq_offset %d exceeds max_value %d", v, off, s.Max), "", "")
				ok = false
			}
		} else if v < s.Min+off {
			b.fail(id, sev, s.Name, fmt.Sprintf("last_value %d - seq_offset %d is below min_value %d", v, off, s.Min), "", "")
			ok = false
		}
	}
	if ok {
		b.pass(id, sev, fmt.Sprintf("%d sequences have room for seq_offset %d", len(b.f.Sequences), off))
	}
}

func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, e1 := strconv.Atoi(as[i])
		y, e2 := strconv.Atoi(bs[i])
		if e1 != nil || e2 != nil {
			return as[i] < bs[i]
		}
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

func (b *builder) extensions() {
	const id = "extensions"
	if !b.needBoth(id, Blocker) {
		return
	}
	names := make([]string, 0, len(b.f.Src.Extensions))
	for n := range b.f.Src.Extensions {
		names = append(names, n)
	}
	sort.Strings(names)
	ok := true
	for _, n := range names {
		if n == "plpgsql" {
			continue
		}
		dv, avail := b.f.Dst.Available[n]
		if !avail {
			b.fail(id, Blocker, n, "installed on the source ("+b.f.Src.Extensions[n]+"), not available on the destination", "", "")
			ok = false
			continue
		}
		if versionLess(dv, b.f.Src.Extensions[n]) {
			b.fail(id, Warning, n, "the destination's default version "+dv+" is older than the source's "+b.f.Src.Extensions[n], "", "")
			ok = false
		}
	}
	if ok {
		b.pass(id, Blocker, fmt.Sprintf("%d extensions available on the destination", len(names)))
	}
}

func (b *builder) excludedUserSchema() {
	const id, sev = "excluded-user-schema", Warning
	if !b.needSrc(id, sev) {
		return
	}
	b.perObject(id, sev, b.f.ExcludedWithTables, "no excluded schema holds user tables",
		"schema.exclude_schemas excludes this schema, but it holds tables: neither schema nor data are migrated", nil, "")
}

func (b *builder) fkToExcluded() {
	const id, sev = "fk-to-excluded", Blocker
	if !b.needSrc(id, sev) {
		return
	}
	b.perObject(id, sev, b.f.FKToExcluded, "no foreign key points to a table that is not migrated",
		"a foreign key of a migrated table points to a table that is not migrated: post-data would fail", nil, "")
}

func (b *builder) dstSchema() {
	const id, sev = "dst-schema", Blocker
	if !b.needBoth(id, sev) {
		return
	}
	ok := true
	if b.cfg.Schema.Copy {
		if b.f.SchemaJournaled {
			b.pass(id, sev, "copy-schema is journaled")
			return
		}
		var exist []string
		for _, t := range b.f.Tables {
			if t.DstExists && (t.Keyed || b.cfg.Tables.NoKey != "skip") {
				exist = append(exist, t.Name)
			}
		}
		for _, t := range exist {
			b.fail(id, sev, t, "exists on the destination, but copy-schema is not journaled: drop it, or set schema.copy: false", "DROP TABLE "+t+";", "destination")
			ok = false
		}
	} else {
		for _, t := range b.f.Tables {
			if !t.Keyed && b.cfg.Tables.NoKey == "skip" {
				continue
			}
			if !t.DstExists {
				b.fail(id, sev, t.Name, "schema.copy is false, but the table is missing on the destination", "", "")
				ok = false
			} else if t.DstIssue != "" {
				b.fail(id, sev, t.Name, t.DstIssue, "", "")
				ok = false
			}
		}
	}
	if ok {
		b.pass(id, sev, "the destination schema matches the plan")
	}
}

func (b *builder) dstNotEmpty() {
	const id = "dst-not-empty"
	if !b.needBoth(id, Blocker) {
		return
	}
	if b.f.DstRowsErr != "" {
		// Not knowing is not "empty": a failed probe must not let the copy
		// run into tables that may hold rows.
		b.fail(id, Blocker, "", "could not check the destination tables for rows: "+b.f.DstRowsErr, "", "")
		return
	}
	ok := true
	for _, t := range b.f.Tables {
		if !t.DstRows {
			continue
		}
		switch {
		case b.cfg.Copy.TruncateTarget:
			b.add(id, Info, Pass, t.Name, "has rows on the destination; copy.truncate_target truncates it", "", "")
		case b.f.CopyStarted:
			b.add(id, Info, Pass, t.Name, "has rows from an interrupted copy; the resumed run truncates it", "", "")
		default:
			b.fail(id, Blocker, t.Name, "has rows on the destination and copy.truncate_target is off", "TRUNCATE "+t.Name+";", "destination")
			ok = false
		}
	}
	if ok {
		b.pass(id, Blocker, "no migrated destination table has unexpected rows")
	}
}

func (b *builder) dstTriggersFire() {
	const id, sev = "dst-triggers-fire", Warning
	if !b.needDst(id, sev) {
		return
	}
	b.perObject(id, sev, b.f.DstTriggers, "no ENABLE ALWAYS/REPLICA trigger or rule on migrated destination tables",
		"fires during apply (ENABLE ALWAYS or REPLICA)", nil, "")
}

func (b *builder) locale() {
	const id = "locale"
	if !b.needBoth(id, Warning) {
		return
	}
	s, d := b.f.Src, b.f.Dst
	if s.Encoding == "SQL_ASCII" || d.Encoding == "SQL_ASCII" {
		b.fail(id, Blocker, "", fmt.Sprintf("encoding %s → %s: SQL_ASCII stores unchecked bytes that a real encoding may reject", s.Encoding, d.Encoding), "", "")
		return
	}
	ok := true
	for _, p := range []struct{ what, a, b string }{
		{"encoding", s.Encoding, d.Encoding}, {"collate", s.Collate, d.Collate}, {"ctype", s.Ctype, d.Ctype},
		{"locale provider", s.Provider, d.Provider}, {"collation version", s.CollVersion, d.CollVersion},
	} {
		if p.a != p.b {
			b.fail(id, Warning, p.what, fmt.Sprintf("%s differs: %q → %q (sort order and unique indexes may change)", p.what, p.a, p.b), "", "")
			ok = false
		}
	}
	if ok {
		b.pass(id, Warning, fmt.Sprintf("encoding %s, collate %s, ctype %s on both sides", s.Encoding, s.Collate, s.Ctype))
	}
}

func (b *builder) disk() {
	const id = "disk"
	if !b.needSrc(id, Warning) {
		return
	}
	need := b.totalBytes()
	ev := fmt.Sprintf("the destination needs about %d MB for table data (indexes extra); the source retains WAL while the slot lags", need>>20)
	if b.f.DstFree > 0 && b.f.DstFree < need {
		b.fail(id, Blocker, "", ev+fmt.Sprintf("; --dst-free %d MB is smaller", b.f.DstFree>>20), "", "")
		return
	}
	b.add(id, Warning, Pass, "", ev, "", "")
}

func (b *builder) foreignObjects() {
	const id, sev = "foreign-objects", Blocker
	if !b.needBoth(id, sev) {
		return
	}
	ok := true
	j := b.f.JournaledObjects
	chk := func(kind, name, side string, exists bool) {
		if exists && !j[kind+":"+name] {
			b.fail(id, sev, name, fmt.Sprintf("a %s on the %s bears pgmigrate's name but is not in the journal (a lost migration directory?)", kind, side),
				"-- pgmigrate cleanup --abandon", side)
			ok = false
		}
	}
	for _, p := range b.f.Src.OurPubs {
		chk("publication", p, "source", true)
	}
	for _, s := range b.f.Src.OurSlots {
		chk("slot", s.Name, "source", true)
	}
	for _, s := range b.f.Dst.OurSubs {
		chk("subscription", s, "destination", true)
	}
	for _, p := range b.f.Dst.OurPubs {
		chk("publication", p, "destination", true)
	}
	for _, s := range b.f.Dst.OurSlots {
		chk("slot", s.Name, "destination", true)
	}
	if ok {
		b.pass(id, sev, "no unjournaled object bears pgmigrate's names")
	}
}

func (b *builder) fenceCoverage() {
	const id = "fence-coverage"
	sev := Warning
	if b.cfg.Fence.RequireFullCoverage {
		sev = Blocker
	}
	if !b.needSrc(id, sev) {
		return
	}
	has := map[string]bool{}
	for _, m := range b.cfg.Fence.Methods {
		has[m] = true
	}
	ok := true
	for _, w := range b.f.Writers {
		var layers []string
		permanent := false
		if has["lock"] {
			layers = append(layers, "lock")
		}
		if has["trigger"] {
			layers = append(layers, "trigger")
			if !w.Super {
				permanent = true
			}
		}
		if has["revoke"] && !w.Owner && !w.Super {
			layers = append(layers, "revoke")
			permanent = true
		}
		if has["connlimit"] && !w.Super {
			layers = append(layers, "connlimit")
		}
		if has["terminate"] {
			layers = append(layers, "terminate")
		}
		ev := "stopped by " + strings.Join(layers, ", ")
		if !permanent {
			why := "a superuser can set session_replication_role = replica and pass the trigger"
			if !has["trigger"] {
				why = "an owner keeps its privileges under revoke"
			}
			b.fail(id, sev, w.Role, ev+"; meets no permanent layer: "+why, "", "")
			ok = false
			continue
		}
		b.add(id, sev, Pass, w.Role, ev, "", "")
	}
	for _, a := range b.f.Src.SuperuserApps {
		b.fail(id, Warning, a, "an application session connects as a superuser: only the lock and terminate layers stop it for sure", "", "")
		ok = false
	}
	if ok && len(b.f.Writers) == 0 {
		b.pass(id, sev, "no role besides superusers can write the migrated tables")
	}
}

func (b *builder) switchCheck() {
	const id, sev = "switch", Blocker
	sw := b.cfg.Switch
	switch sw.Mechanism {
	case "none":
		b.pass(id, sev, "switch.mechanism none: the operator switches traffic when told")
	case "command":
		if b.f.CommandErr != "" {
			b.fail(id, sev, "switch.command.run", b.f.CommandErr, "", "")
			return
		}
		b.pass(id, sev, "switch.command.run is executable")
	case "pgbouncer":
		ok := true
		for _, p := range b.f.Pgbouncers {
			obj := fmt.Sprintf("switch.pgbouncer[%d]", p.Entry)
			switch {
			case p.ConsoleErr != "":
				b.fail(id, sev, obj, "the pgbouncer console is unreachable: "+p.ConsoleErr, "", "")
				ok = false
			case p.DatabaseMissing:
				b.fail(id, sev, obj, "the database is missing from SHOW DATABASES", "", "")
				ok = false
			case p.ConfigErr != "":
				b.fail(id, sev, obj, p.ConfigErr, "", "")
				ok = false
			case !p.EntryOnSrc:
				b.fail(id, sev, obj, "the [databases] entry does not point at the source: "+p.EntryLine, "", "")
				ok = false
			}
		}
		if ok {
			b.pass(id, sev, fmt.Sprintf("%d pgbouncer entries answer and point at the source", len(b.f.Pgbouncers)))
		}
	}
}

func (b *builder) ddlGuard() {
	const id, sev = "ddl-guard", Warning
	if b.cfg.DDLGuard != "block" {
		b.pass(id, sev, "ddl_guard: off")
		return
	}
	if !b.needSrc(id, sev) {
		return
	}
	if !b.f.Src.IsSuper {
		b.fail(id, sev, "", b.f.Src.User+" is not a superuser: the DDL guard (an event trigger) cannot be created, so DDL on the source is not blocked", "", "")
		return
	}
	b.pass(id, sev, "the DDL guard can be created")
}

func (b *builder) directGrantsLost() {
	const id, sev = "direct-grants-lost", Warning
	if !b.needSrc(id, sev) {
		return
	}
	if b.cfg.Schema.KeepPrivileges || len(b.f.DirectGrants) == 0 {
		b.pass(id, sev, "no direct table or sequence privilege is lost")
		return
	}
	for _, g := range b.f.DirectGrants {
		b.fail(id, sev, g.Role, fmt.Sprintf("holds direct privileges on %d migrated tables or sequences, which the copy does not reproduce (schema.keep_privileges: true keeps them)", g.Objects), "", "")
	}
}

// catalogReads fails once per fact that could not be read. It is a blocker
// whatever the fact: a failed read leaves the fact at its zero value (no
// slots in use, no long transaction, no table without a key …), so the
// checks that depend on it may pass on what doctor never saw and cannot be
// trusted until the read succeeds. A fact that failed on both sides is one
// entry (one per check id and object, §12.8).
func (b *builder) catalogReads() {
	const id, sev = "catalog-reads", Blocker
	if len(b.f.ReadErrors) == 0 {
		b.pass(id, sev, "every catalog read succeeded")
		return
	}
	var order []string
	byWhat := map[string][]ReadError{}
	for _, e := range b.f.ReadErrors {
		if byWhat[e.What] == nil {
			order = append(order, e.What)
		}
		byWhat[e.What] = append(byWhat[e.What], e)
	}
	for _, what := range order {
		var parts []string
		for i, e := range byWhat[what] {
			p := "on the " + e.Side + ": " + e.Err
			if i == 0 {
				p = "could not be read " + p
			}
			parts = append(parts, p)
		}
		b.fail(id, sev, what, strings.Join(parts, "; ")+"; the checks that use it cannot be trusted", "", "")
	}
}
