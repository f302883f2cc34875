// Package writer is the test and benchmark load of migrate.md §10: a writer
// that commits at a fixed rate (through pgbouncer or directly), each
// transaction with a client-made unique id, and logs every acknowledged
// commit; and probes, writers built to defeat weaker write fences (a
// session opened before the fence, BEGIN READ WRITE, SET
// default_transaction_read_only = off, the table owner, a superuser, a
// reconnect loop …). Tests then prove that every acknowledged id is on the
// destination and nothing was committed on the source after the fence.
package writer

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/pgcc-dev/pgcc/render/sqltext"
	"math/big"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Schema is the writer's tables, created on the source before the
// migration: ledger rows keyed by the client's uuid (n comes from a
// sequence, so a destination sequence left behind shows up as duplicate
// keys right after the switch), accounts updated by every transaction, a
// bare sequence called by every transaction, and probe for the fence probes.
const Schema = `
CREATE TABLE ledger (id uuid PRIMARY KEY, n bigserial UNIQUE, account int NOT NULL, amount int NOT NULL,
                     at timestamptz NOT NULL DEFAULT now());
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);
INSERT INTO accounts (id) SELECT g FROM generate_series(1, 100) g;
CREATE SEQUENCE writer_seq;
CREATE TABLE probe (id uuid PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL DEFAULT now());
`

// Accounts is the number of rows Schema creates in accounts.
const Accounts = 100

// Options configure a Writer.
type Options struct {
	ConnString string  // libpq URL or keyword/value string (pgbouncer or the server)
	Rate       float64 // transactions per second, all connections together
	Conns      int     // connections (default 8)
	LogPath    string  // optional: one "id unix_us" line per acknowledged commit
}

// Ack is an acknowledged commit.
type Ack struct {
	ID      string
	At      time.Time
	Latency time.Duration // from its scheduled start to the acknowledgement
}

// Failure is a transaction the server refused (certainly not committed).
type Failure struct {
	At  time.Time
	Err string
}

// Result is what a Writer did.
type Result struct {
	Start, End time.Time
	Attempted  int
	Acked      []Ack     // sorted by At
	Failed     []Failure // server errors: not committed
	Unknown    []string  // ids whose outcome is unknown (connection lost mid-commit)
}

// Writer runs the load until Stop.
type Writer struct {
	opts   Options
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time
	seq    atomic.Int64
	acked  atomic.Int64

	mu      sync.Mutex
	res     Result
	logf    *os.File
	logw    *bufio.Writer
	lastAck time.Time
}

// Start connects and begins writing at the fixed rate (open loop: a
// transaction scheduled during a pause runs as soon as it can, so the
// backlog after a pause is part of the load, as with pgbench -R).
func Start(ctx context.Context, o Options) (*Writer, error) {
	if o.Conns <= 0 {
		o.Conns = 8
	}
	if o.Rate <= 0 {
		return nil, errors.New("writer: rate must be positive")
	}
	w := &Writer{opts: o}
	if o.LogPath != "" {
		f, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, err
		}
		w.logf, w.logw = f, bufio.NewWriter(f)
	}
	conns := make([]*pgconn.PgConn, o.Conns)
	for i := range conns {
		c, err := pgconn.Connect(ctx, o.ConnString)
		if err != nil {
			for _, x := range conns[:i] {
				x.Close(ctx)
			}
			return nil, fmt.Errorf("writer: connect: %w", err)
		}
		conns[i] = c
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.start = time.Now()
	w.res.Start = w.start
	period := time.Duration(float64(time.Second) / o.Rate)
	for i := range conns {
		w.wg.Add(1)
		go w.loop(ctx, conns[i], period)
	}
	return w, nil
}

func (w *Writer) loop(ctx context.Context, c *pgconn.PgConn, period time.Duration) {
	defer w.wg.Done()
	defer func() {
		if c != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.Close(cctx)
			cancel()
		}
	}()
	for {
		i := w.seq.Add(1) - 1
		due := w.start.Add(time.Duration(i) * period)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		if c == nil || c.IsClosed() {
			var err error
			c, err = pgconn.Connect(ctx, w.opts.ConnString)
			if err != nil {
				w.fail(time.Now(), "connect: "+err.Error())
				c = nil
				select {
				case <-ctx.Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
				continue
			}
		}
		id := NewID()
		acct := 1 + randInt(Accounts)
		sql := "INSERT INTO ledger (id, account, amount) VALUES (" + sqltext.Literal(id) + ", " + strconv.Itoa(acct) + ", 1);" +
			"UPDATE accounts SET balance = balance + 1 WHERE id = " + strconv.Itoa(acct) + ";" +
			"SELECT nextval('writer_seq')"
		// A multi-statement simple query is one implicit transaction: the
		// acknowledgement (ReadyForQuery after the last CommandComplete) means
		// it committed, a server error means it did not.
		_, err := c.Exec(context.WithoutCancel(ctx), sql).ReadAll()
		now := time.Now()
		w.mu.Lock()
		w.res.Attempted++
		w.mu.Unlock()
		if err == nil {
			w.ack(Ack{ID: id, At: now, Latency: now.Sub(due)})
			continue
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			w.fail(now, pe.Code+" "+pe.Message)
		} else {
			w.mu.Lock()
			w.res.Unknown = append(w.res.Unknown, id)
			w.mu.Unlock()
			w.fail(now, "unknown outcome: "+err.Error())
		}
		if c.IsClosed() {
			c = nil
		}
	}
}

func (w *Writer) ack(a Ack) {
	w.acked.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.res.Acked = append(w.res.Acked, a)
	if a.At.After(w.lastAck) {
		w.lastAck = a.At
	}
	if w.logw != nil {
		fmt.Fprintf(w.logw, "%s %d\n", a.ID, a.At.UnixMicro())
	}
}

func (w *Writer) fail(at time.Time, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.res.Failed) < 10000 {
		w.res.Failed = append(w.res.Failed, Failure{At: at, Err: msg})
	}
}

// Acked is the number of acknowledged commits so far.
func (w *Writer) Acked() int64 { return w.acked.Load() }

// AckedSince counts acknowledgements at or after t.
func (w *Writer) AckedSince(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for i := len(w.res.Acked) - 1; i >= 0 && !w.res.Acked[i].At.Before(t); i-- {
		n++
	}
	return n
}

// Stop ends the load and returns the result, acknowledgements sorted.
func (w *Writer) Stop() *Result {
	w.cancel()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.res.End = time.Now()
	if w.logw != nil {
		w.logw.Flush()
		w.logf.Close()
	}
	sort.Slice(w.res.Acked, func(i, j int) bool { return w.res.Acked[i].At.Before(w.res.Acked[j].At) })
	r := w.res
	return &r
}

// IDs returns the acknowledged ids.
func (r *Result) IDs() []string {
	out := make([]string, len(r.Acked))
	for i, a := range r.Acked {
		out[i] = a.ID
	}
	return out
}

// MaxGap is the largest gap between consecutive acknowledgements (the
// clients' view of the write pause).
func (r *Result) MaxGap() time.Duration {
	var gap time.Duration
	for i := 1; i < len(r.Acked); i++ {
		if d := r.Acked[i].At.Sub(r.Acked[i-1].At); d > gap {
			gap = d
		}
	}
	return gap
}

// MaxLatency is the slowest acknowledged transaction, from its schedule.
func (r *Result) MaxLatency() time.Duration {
	var m time.Duration
	for _, a := range r.Acked {
		if a.Latency > m {
			m = a.Latency
		}
	}
	return m
}

// TPS is the achieved rate of acknowledged commits.
func (r *Result) TPS() float64 {
	secs := r.End.Sub(r.Start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(len(r.Acked)) / secs
}

// FirstAckAfter returns the first acknowledgement after t.
func (r *Result) FirstAckAfter(t time.Time) (time.Time, bool) {
	i := sort.Search(len(r.Acked), func(i int) bool { return r.Acked[i].At.After(t) })
	if i < len(r.Acked) {
		return r.Acked[i].At, true
	}
	return time.Time{}, false
}

// NewID returns a random (version 4) uuid.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// Missing returns the ids absent from table (its id column) on the server
// connString names.
func Missing(ctx context.Context, connString, table string, ids []string) ([]string, error) {
	c, err := pgconn.Connect(ctx, connString)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	var missing []string
	const batch = 5000
	for start := 0; start < len(ids); start += batch {
		end := start + batch
		if end > len(ids) {
			end = len(ids)
		}
		arr := "{" + joinIDs(ids[start:end]) + "}"
		rr := c.ExecParams(ctx, "SELECT x FROM unnest($1::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM "+table+" t WHERE t.id = x)",
			[][]byte{[]byte(arr)}, nil, nil, nil)
		for rr.NextRow() {
			missing = append(missing, string(rr.Values()[0]))
		}
		if _, err := rr.Close(); err != nil {
			return nil, err
		}
	}
	return missing, nil
}

func joinIDs(ids []string) string {
	b := make([]byte, 0, len(ids)*37)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, id...)
	}
	return string(b)
}

// AckedAfter counts acknowledgements after t.
func (r *Result) AckedAfter(t time.Time) int {
	i := sort.Search(len(r.Acked), func(i int) bool { return r.Acked[i].At.After(t) })
	return len(r.Acked) - i
}

// Watch samples two boolean queries on two servers, A then B, and counts
// the samples where both were true (e.g. forward and reverse replication
// present at once).
type Watch struct {
	cancel        context.CancelFunc
	done          chan struct{}
	both, samples int
}

// StartWatch starts sampling every interval.
func StartWatch(ctx context.Context, connA, queryA, connB, queryB string, every time.Duration) (*Watch, error) {
	a, err := pgconn.Connect(ctx, connA)
	if err != nil {
		return nil, err
	}
	b, err := pgconn.Connect(ctx, connB)
	if err != nil {
		a.Close(ctx)
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	w := &Watch{cancel: cancel, done: make(chan struct{})}
	one := func(c *pgconn.PgConn, q string) bool {
		res, err := c.Exec(lctx, q).ReadAll()
		return err == nil && len(res) > 0 && len(res[0].Rows) > 0 && string(res[0].Rows[0][0]) == "t"
	}
	go func() {
		defer close(w.done)
		defer a.Close(context.Background())
		defer b.Close(context.Background())
		for lctx.Err() == nil {
			x := one(a, queryA)
			y := one(b, queryB)
			if lctx.Err() != nil {
				return
			}
			w.samples++
			if x && y {
				w.both++
			}
			select {
			case <-lctx.Done():
			case <-time.After(every):
			}
		}
	}()
	return w, nil
}

// Stop ends the sampling.
func (w *Watch) Stop() (both, samples int) {
	w.cancel()
	<-w.done
	return w.both, w.samples
}
