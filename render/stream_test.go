package render

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pgcc-dev/pgcc/compiler"
	"github.com/pgcc-dev/pgcc/compiler/fleetgen"
)

func streamFleet(t *testing.T, n int) *compiler.Fleet {
	t.Helper()
	res := compiler.Compile(compiler.Options{Names: []string{"fleet.yml"}, Datas: [][]byte{fleetgen.Inventory(n)}})
	if res.Fleet == nil {
		t.Fatal(res.Diags.Error())
	}
	return res.Fleet
}

// TestStreamMatchesRender: the files Stream hands out, in whatever order,
// are Render's (same seeded random source: same salts).
func TestStreamMatchesRender(t *testing.T) {
	f := streamFleet(t, 6)
	want, wantWarn, err := Render(f, Options{Rand: sqlRand(3)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []File
	calls := 0
	warns, err := Stream(f, Options{Rand: sqlRand(3)}, func(fs []File) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		got = append(got, fs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("Stream gave %d files, Render %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Path != want[i].Path || got[i].Mode != want[i].Mode || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("file %d: Stream %s, Render %s", i, got[i].Path, want[i].Path)
		}
	}
	if calls < 6 {
		t.Errorf("emit called %d times, want one call per cluster at least", calls)
	}
	if fmt.Sprint(warns) != fmt.Sprint(wantWarn) {
		t.Errorf("warnings differ: %v / %v", warns, wantWarn)
	}
}

// TestStreamErrors: an emit error is returned as is; a render error is the
// one of the first failing cluster in cluster order, whatever the timing;
// two renderers writing one path is an error.
func TestStreamErrors(t *testing.T) {
	f := streamFleet(t, 8)
	errFull := errors.New("disk full")
	_, err := Stream(f, Options{Rand: sqlRand(1)}, func(fs []File) error {
		if strings.HasPrefix(fs[0].Path, "pg-c0003/") {
			return errFull
		}
		return nil
	})
	if !errors.Is(err, errFull) {
		t.Errorf("emit error: Stream = %v", err)
	}

	saved := clusterRenderers
	defer func() { clusterRenderers = saved }()
	clusterRenderers = append(append([]ClusterRenderer(nil), saved...), ClusterRenderer{Name: "failing", Render: func(ctx *Context, cl *compiler.Cluster) ([]File, error) {
		if cl.Name >= "pg-c0002" && cl.Name != "pg-c0005" {
			return nil, errors.New("boom")
		}
		return nil, nil
	}})
	for i := 0; i < 5; i++ {
		_, err := Stream(f, Options{Rand: sqlRand(1)}, func([]File) error { return nil })
		if err == nil || err.Error() != "render failing for cluster pg-c0002: boom" {
			t.Fatalf("render error: Stream = %v", err)
		}
	}

	clusterRenderers = append(append([]ClusterRenderer(nil), saved...), ClusterRenderer{Name: "dup", Render: func(ctx *Context, cl *compiler.Cluster) ([]File, error) {
		return []File{{Path: cl.Name + "/model.json", Data: []byte("x\n"), Mode: ModePublic}}, nil
	}})
	if _, err := Stream(f, Options{Rand: sqlRand(1)}, func([]File) error { return nil }); err == nil || !strings.HasPrefix(err.Error(), "two renderers wrote pg-c000") {
		t.Errorf("duplicate path: Stream = %v", err)
	}
}
