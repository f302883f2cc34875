package verify

import (
	"strings"
	"testing"
)

func TestRowAndHashExpressions(t *testing.T) {
	cols := []column{{`"id"`, "integer"}, {`"f"`, "double precision"}, {`"r"`, "real"}, {`"t"`, "text"}}
	if got, want := rowExpr(cols), `ROW("id", pg_catalog.float8send("f"), pg_catalog.float4send("r"), "t")::text`; got != want {
		t.Errorf("rowExpr = %s\nwant     %s", got, want)
	}
	if got, want := hashExpr("x", true), "pg_catalog.hashtextextended(x, 0)"; got != want {
		t.Errorf("hashExpr ≥ 11 = %s", got)
	}
	if got, want := hashExpr("x", false), "('x' || left(pg_catalog.md5(x), 16))::bit(64)::int8"; got != want {
		t.Errorf("hashExpr < 11 = %s", got)
	}
}

func TestRanges(t *testing.T) {
	m := tableMeta{name: `"public"."t"`, keyCols: []column{{`"a"`, "integer"}, {`"b"`, "text"}}}
	if got, want := m.rangeWhere(bound{"1", "x'y"}, bound{"5", "z"}),
		`ROW("a", "b") >= ROW('1'::integer, 'x''y'::text) AND ROW("a", "b") < ROW('5'::integer, 'z'::text)`; got != want {
		t.Errorf("rangeWhere = %s\nwant        %s", got, want)
	}
	if got := m.rangeWhere(nil, nil); got != "" {
		t.Errorf("open range = %q", got)
	}
	if got := *m.boundText(bound{"1", "x"}); got != "(1,x)" {
		t.Errorf("boundText = %s", got)
	}
	if m.boundText(nil) != nil {
		t.Errorf("open bound not null")
	}
}

func TestSummaryAndText(t *testing.T) {
	from := "(1)"
	r := &Report{Format: 1, Mode: "live", Hash: "hash", Tables: []TableResult{
		{Table: `"public"."a"`, RowsSrc: 3, RowsDst: 3, Status: Equal},
		{Table: `"public"."b"`, RowsSrc: 3, RowsDst: 3, Status: Mismatch, Ranges: []Range{{From: &from, Missing: []string{"(2)"}, Extra: []string{"(9)"}, Different: []string{"(3)"}}}},
		{Table: `"public"."c"`, Status: Unstable, Reason: "the source changed on every pass"},
	}, Sequences: []SeqResult{{Name: `"public"."s"`, OK: true, Status: "not-yet-synced"}}}
	r.summarize()
	if r.Summary.Mismatched != 1 || r.Summary.Unstable != 1 || r.Summary.OK || !r.Failed() {
		t.Errorf("summary %+v", r.Summary)
	}
	var b strings.Builder
	r.WriteText(&b)
	want := `MISMATCH "public"."b": rows 3/3
         missing on destination: (2)
         extra on destination:   (9)
         different:              (3)
UNSTABLE "public"."c": rows 0/0 (the source changed on every pass)
verify (live, hash): 3 tables, 1 equal, 1 mismatched, 1 unstable, 0 skipped; 0 sequences behind
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	ok := &Report{Tables: []TableResult{{Status: Equal}, {Status: Unstable}}}
	ok.summarize()
	if ok.Failed() {
		t.Errorf("unstable alone must not fail (warning)")
	}
}
