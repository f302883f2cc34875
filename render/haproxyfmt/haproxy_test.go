package haproxyfmt

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/golden/testenv"
)

// TestHAProxyReadsWords: a real HAProxy 2.6 reads passwords written by Word
// back exactly: basic auth against a stats page succeeds with each password
// and fails with a near miss.
func TestHAProxyReadsWords(t *testing.T) {
	testenv.Need(t, "haproxy")
	passwords := []string{"pigsty", "two words", "it's", `back\slash`, `"$HOME"`, "${PATH}", "#hash", "a;b", "tab\tin", "ünïcødé", "'", `\'`}
	dir := t.TempDir()
	port := testenv.FreePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    maxconn 100\n    pidfile %s/haproxy.pid\n\ndefaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\nuserlist users\n", dir)
	for i, pw := range passwords {
		w, err := Word(pw)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "    user u%d insecure-password %s\n", i, w)
	}
	fmt.Fprintf(&b, "\nlisten stats\n    bind 127.0.0.1:%d\n    stats enable\n    stats uri /s\n    acl AUTH http_auth(users)\n    stats http-request auth unless AUTH\n", port)
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := testenv.Command(dir, nil, "haproxy", "-c", "-dW", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, b.String())
	}
	h := testenv.StartHAProxy(t, cfg)
	defer h.Stop()
	get := func(user, pw string) int {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/s", port), nil)
		req.SetBasicAuth(user, pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, pw := range passwords {
		user := fmt.Sprintf("u%d", i)
		if code := get(user, pw); code != 200 {
			t.Errorf("password %q: status %d; want 200", pw, code)
		}
		if code := get(user, pw+"x"); code != 401 {
			t.Errorf("password %q+x: status %d; want 401", pw, code)
		}
	}
}
