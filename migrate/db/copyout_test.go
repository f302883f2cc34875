package db

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/jackc/pgx/v5/pgconn"
)

// msg frames one backend message: type, int32 length (itself included), body.
func msg(t byte, body string) string {
	var h [5]byte
	h[0] = t
	binary.BigEndian.PutUint32(h[1:], uint32(len(body)+4))
	return string(h[:]) + body
}

// errBody is an ErrorResponse body: severity, SQLSTATE, message.
func errBody(code, text string) string {
	return "SERROR\x00VERROR\x00C" + code + "\x00M" + text + "\x00\x00"
}

var (
	copyOutResp = msg('H', "\x01\x00\x02\x00\x01\x00\x01") // binary, 2 columns
	copyDone    = msg('c', "")
	ready       = msg('Z', "T")
)

func TestCopyOutReader(t *testing.T) {
	big := strings.Repeat("x", 3*copyOutBuf+17) // a payload larger than the buffer
	tests := []struct {
		name     string
		stream   string
		want     string // payload bytes
		rows     int64
		err      string // "" = clean io.EOF
		sqlstate string
	}{
		{"rows", copyOutResp + msg('d', "a\t1\n") + msg('d', "b\t2\n") + copyDone + msg('C', "COPY 2\x00") + ready,
			"a\t1\nb\t2\n", 2, "", ""},
		{"empty table", copyOutResp + copyDone + msg('C', "COPY 0\x00") + ready, "", 0, "", ""},
		{"empty CopyData messages", copyOutResp + msg('d', "") + msg('d', "z") + msg('d', "") + copyDone + msg('C', "COPY 1\x00") + ready,
			"z", 1, "", ""},
		{"notices and parameter status between rows", copyOutResp + msg('d', "1") + msg('N', "SNOTICE\x00Mhi\x00\x00") + msg('S', "a\x00b\x00") +
			msg('d', "2") + copyDone + msg('C', "COPY 2\x00") + ready, "12", 2, "", ""},
		{"payload larger than the buffer", copyOutResp + msg('d', big) + msg('d', "tail") + copyDone + msg('C', "COPY 2\x00") + ready,
			big + "tail", 2, "", ""},
		{"server error mid-copy keeps the rows read so far", copyOutResp + msg('d', "1") + msg('E', errBody("57014", "canceling statement")) + ready,
			"1", 0, "canceling statement", "57014"},
		{"error before any data", msg('E', errBody("42P01", `relation "t" does not exist`)) + ready,
			"", 0, `relation "t" does not exist`, "42P01"},
		{"CopyData before CopyOutResponse", msg('d', "1") + ready, "", 0, "CopyData before CopyOutResponse", ""},
		// Bytes read past ReadyForQuery would be lost to pgconn; bytes still
		// in the socket are not (one byte per read never reads past it).
		{"bytes after ReadyForQuery", copyOutResp + copyDone + msg('C', "COPY 0\x00") + ready + msg('A', "x"), "", 0, "after ReadyForQuery", ""},
		{"unknown message", copyOutResp + msg('T', "\x00\x00"), "", 0, `unexpected protocol message: 'T'`, ""},
		{"bad length", copyOutResp + "d\x00\x00\x00\x02", "", 0, "'d' length 2", ""},
		{"connection closed mid-message", copyOutResp + msg('d', "abcdef")[:8], "abc", 0, "unexpected EOF", ""},
		{"connection closed between messages", copyOutResp + msg('d', "ab"), "ab", 0, "unexpected EOF", ""},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte per read", iotest.OneByteReader},
		{"half reads", iotest.HalfReader},
	}
	for _, tc := range tests {
		for _, rw := range readers {
			for _, size := range []int{1, 7, 64 << 10} { // the caller's buffer
				t.Run(fmt.Sprintf("%s/%s/%d", tc.name, rw.name, size), func(t *testing.T) {
					wantErr := tc.err
					if tc.name == "bytes after ReadyForQuery" && rw.name == "one byte per read" {
						wantErr = ""
					}
					r := newCopyOutReader(rw.wrap(strings.NewReader(tc.stream)), nil)
					var got bytes.Buffer
					buf := make([]byte, size)
					var err error
					for {
						var n int
						n, err = r.Read(buf)
						got.Write(buf[:n])
						if err != nil {
							break
						}
					}
					if got.String() != tc.want {
						t.Errorf("payload %d bytes %.40q, want %d bytes %.40q", got.Len(), got.String(), len(tc.want), tc.want)
					}
					if r.Bytes() != int64(len(tc.want)) {
						t.Errorf("Bytes() = %d, want %d", r.Bytes(), len(tc.want))
					}
					if wantErr == "" {
						if err != io.EOF || r.Err() != nil {
							t.Fatalf("err = %v, Err() = %v; want io.EOF and nil", err, r.Err())
						}
						if r.Rows() != tc.rows {
							t.Errorf("Rows() = %d, want %d", r.Rows(), tc.rows)
						}
						return
					}
					if err == nil || !strings.Contains(err.Error(), wantErr) || r.Err() != err {
						t.Fatalf("err = %v (Err() %v), want one containing %q", err, r.Err(), wantErr)
					}
					var pe *pgconn.PgError
					if got := errors.As(err, &pe); got != (tc.sqlstate != "") || (got && pe.Code != tc.sqlstate) {
						t.Errorf("err %v: PgError %v, want SQLSTATE %q", err, pe, tc.sqlstate)
					}
					if n, err2 := r.Read(buf); n != 0 || err2 != err {
						t.Errorf("a Read after the end gave %d, %v; want 0 and the same error", n, err2)
					}
				})
			}
		}
	}
}

// FuzzCopyOutReader: whatever the server sends, Read neither panics nor
// loops, and a well-formed stream of CopyData messages comes out whole
// however the socket splits it.
func FuzzCopyOutReader(f *testing.F) {
	f.Add([]byte(copyOutResp+msg('d', "a")+copyDone+msg('C', "COPY 1\x00")+ready), uint8(3))
	f.Add([]byte(msg('E', errBody("XX000", "boom"))+ready), uint8(1))
	f.Add([]byte("d\xff\xff\xff\xff"), uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, split uint8) {
		var src io.Reader = bytes.NewReader(stream)
		if split%2 == 1 {
			src = iotest.OneByteReader(src)
		}
		r := newCopyOutReader(src, nil)
		buf := make([]byte, 1+int(split))
		total := 0
		for i := 0; ; i++ {
			n, err := r.Read(buf)
			total += n
			if err != nil {
				break
			}
			if n == 0 && i > len(stream)+10 {
				t.Fatalf("no progress after %d reads", i)
			}
		}
		if total > len(stream) {
			t.Fatalf("%d payload bytes out of a %d-byte stream", total, len(stream))
		}
	})
}
