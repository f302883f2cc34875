package run

import (
	"strings"
	"testing"

	"github.com/pgcc-dev/pgcc/migrate/config"
)

// conninfoDrift compares a journaled subscription's subconninfo with
// sub_conn (host=10.0.0.1 dbname=b user=rep here), ignoring the password;
// one it cannot parse is an error, never "no drift".
func TestConninfoDrift(t *testing.T) {
	cfg, err := config.Parse("m.yml", []byte("src_cls: pg-a\nsrc_db: b\nsrc_ip: 10.0.0.1\ndst_cls: pg-c\ndst_db: d\ndst_ip: 10.0.0.2\npg_replication_username: rep\npg_replication_password: S3cret\n"), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &Exec{Cfg: cfg}
	tests := []struct{ have, err string }{
		{"", ""},
		{"host=10.0.0.1 dbname=b user=rep", ""},
		{"host=10.0.0.1 dbname=b user=rep password=S3cret", ""},
		{"host=10.0.0.9 dbname=b user=rep password=S3cret",
			`subscription sub_pg_a_b connects with "host=10.0.0.9 dbname=b user=rep password=********", but sub_conn is "host=10.0.0.1 dbname=b user=rep": fix sub_conn or run cleanup`},
		{"postgresql://rep:S3cret@10.0.0.1/b",
			"subscription sub_pg_a_b: its connection string cannot be compared with sub_conn (conninfo keyword 1 (at byte 0) has no '=' and value): check it by hand or run cleanup"},
	}
	for _, tc := range tests {
		err := e.conninfoDrift(tc.have)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%q:\n got %s\nwant %s", tc.have, got, tc.err)
		}
		if strings.Contains(got, "S3cret") {
			t.Errorf("%q: the error shows the password", tc.have)
		}
	}
}
