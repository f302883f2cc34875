package cutover

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pgcc-dev/pgcc/migrate/journal"
)

func rec(step, event string, data any) journal.Record {
	r := journal.Record{Step: step, Event: event}
	if data != nil {
		r.Data, _ = json.Marshal(data)
	}
	return r
}

func TestLastAttempt(t *testing.T) {
	limit := 25
	recs := []journal.Record{
		rec("cutover", journal.EventStart, Start{Attempt: 1}),
		rec("cutover.fence", journal.EventIntent, Intent{Kind: IntentPause, Entries: []int{0, 1}}),
		rec("cutover", journal.EventAbort, map[string]string{"reason": "budget"}),
		rec("cutover", journal.EventStart, Start{Attempt: 2}),
		rec("cutover.fence", journal.EventIntent, Intent{Kind: IntentPause, Entries: []int{0}}),
		rec("cutover.fence", journal.EventDone, nil),
		rec("cutover.seal", journal.EventIntent, Intent{Kind: IntentSeal, Layers: []string{"trigger", "connlimit"}, ConnLimit: &limit, Database: "meta"}),
		rec("cutover.switch", journal.EventIntent, Intent{Kind: IntentPGB, Entry: 0, Original: "meta = host=a"}),
	}
	a := lastAttempt(recs, "cutover")
	if a == nil || a.Attempt != 2 || !a.Open || a.PONR || len(a.Paused) != 1 || a.Seal == nil || *a.Seal.ConnLimit != 25 ||
		a.Edits[0].Original != "meta = host=a" || !a.Steps["fence"] {
		t.Fatalf("open attempt before the point of no return: %+v", a)
	}
	recs = append(recs, rec("cutover.switch", journal.EventIntent, Intent{Kind: IntentPONR}))
	if a := lastAttempt(recs, "cutover"); !a.PONR || !a.Open {
		t.Fatalf("after the ponr intent: %+v", a)
	}
	recs = append(recs, rec("cutover", journal.EventFail, map[string]string{"error": "finish"}))
	if a := lastAttempt(recs, "cutover"); !a.Open {
		t.Fatalf("a failure after the point of no return leaves the attempt open (roll forward): %+v", a)
	}
	if lastCompleted(recs, "cutover") != nil {
		t.Fatalf("no attempt completed yet")
	}
	recs = append(recs, rec("cutover", journal.EventDone, nil))
	if a := lastAttempt(recs, "cutover"); a.Open || !a.Done {
		t.Fatalf("done: %+v", a)
	}
	if c := lastCompleted(recs, "cutover"); c == nil || c.Attempt != 2 || c.Seal == nil {
		t.Fatalf("lastCompleted: %+v", c)
	}
	if lastAttempt(recs, "rollback") != nil || attempts(recs, "cutover") != 2 {
		t.Fatalf("rollback attempt or attempt count wrong")
	}
	got := strings.Join(UnsealStatements(recs, "source"), ";\n")
	want := "SELECT pg_catalog.setval('pgmigrate.seal', 0, true);\nALTER DATABASE \"meta\" CONNECTION LIMIT 25"
	if got != want {
		t.Errorf("UnsealStatements:\n%s\nwant:\n%s", got, want)
	}
}

func TestRecordFill(t *testing.T) {
	c := newClock()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c.mark(EvFenceStart, t0)
	c.mark(EvFenceApplied, t0.Add(48*time.Millisecond))
	c.mark(EvCaughtUp, t0.Add(359*time.Millisecond))
	c.mark(EvSeqSynced, t0.Add(400*time.Millisecond))
	c.mark(EvWritable, t0.Add(660*time.Millisecond+500*time.Microsecond))
	r := &Record{}
	r.fill(c)
	if *r.FenceAcquireMs != 48 || *r.PauseMs != 612.5 {
		t.Fatalf("fence %v pause %v", *r.FenceAcquireMs, *r.PauseMs)
	}
	if got, want := r.Summary(), "write pause 0.613 s (fence 48 ms, catch-up 311 ms, sequences 41 ms, switch 260 ms)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	in := r.Times[EvFenceApplied]
	if in.TMs != 48 || in.TS != "2025-01-02T03:04:05.048Z" || in.UnixUs != t0.Add(48*time.Millisecond).UnixMicro() {
		t.Errorf("fence_applied instant %+v", in)
	}
}

func TestACLStatements(t *testing.T) {
	acls := []ACL{
		{Rel: `public.ledger`, Kind: "TABLE", Grantee: "app_rw", Privilege: "INSERT"},
		{Rel: `public."Odd"`, Kind: "TABLE", Grantee: "", Privilege: "DELETE", Grantable: false},
		{Rel: `public.ledger_n_seq`, Kind: "SEQUENCE", Grantee: "Role X", Privilege: "USAGE", Grantable: true},
	}
	got := strings.Join(revokeSQL(acls), "\n") + "\n" + strings.Join(grantSQL(acls), "\n")
	want := `REVOKE INSERT ON TABLE public.ledger FROM "app_rw" CASCADE
REVOKE DELETE ON TABLE public."Odd" FROM PUBLIC CASCADE
REVOKE USAGE ON SEQUENCE public.ledger_n_seq FROM "Role X" CASCADE
GRANT INSERT ON TABLE public.ledger TO "app_rw"
GRANT DELETE ON TABLE public."Odd" TO PUBLIC
GRANT USAGE ON SEQUENCE public.ledger_n_seq TO "Role X" WITH GRANT OPTION`
	if got != want {
		t.Errorf("statements:\n%s\nwant:\n%s", got, want)
	}
	if got := lockSQL([]string{`"public"."a"`, `"s"."b"`}, 200*time.Millisecond); got != `BEGIN; SET LOCAL lock_timeout = '200ms'; LOCK TABLE "public"."a", "s"."b" IN EXCLUSIVE MODE` {
		t.Errorf("lockSQL = %s", got)
	}
}
