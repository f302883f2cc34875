package writer

import (
	"context"
	"errors"
	"github.com/pgcc-dev/pgcc/render/sqltext"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Probe kinds: writers that defeat weaker fences. Each inserts into probe
// directly on a server (bypassing pgbouncer).
const (
	// PreFenceSession keeps one session opened before the fence and never
	// reconnects.
	PreFenceSession = "pre-fence-session"
	// RepeatableRead takes its snapshot, waits, then writes in the same
	// REPEATABLE READ transaction (a flag row read through that snapshot
	// would still say "open").
	RepeatableRead = "repeatable-read"
	// BeginReadWrite runs under default_transaction_read_only = on and
	// writes in BEGIN READ WRITE (defeats a read-only default).
	BeginReadWrite = "begin-read-write"
	// ReadOnlyOff sets default_transaction_read_only = off in its session.
	ReadOnlyOff = "read-only-off"
	// Reconnect opens a new session for every write (defeats terminate).
	Reconnect = "reconnect"
	// Persistent writes on one session, reconnecting after errors; used for
	// the table owner (defeats REVOKE), a superuser and a second app role.
	Persistent = "persistent"
)

// Attempt is one probe write.
type Attempt struct {
	ID         string
	Start, End time.Time
	Acked      bool
	Err        string
	Code       string // SQLSTATE, "" if none
}

// Probe writes in a loop until Stop.
type Probe struct {
	Name       string // label in the probe table's kind column
	Kind       string
	ConnString string
	Interval   time.Duration

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	atts   []Attempt
}

// StartProbe connects (for PreFenceSession the session that later writes is
// opened here, before the fence) and starts the loop.
func StartProbe(ctx context.Context, name, kind, connString string, interval time.Duration) (*Probe, error) {
	p := &Probe{Name: name, Kind: kind, ConnString: connString, Interval: interval, done: make(chan struct{})}
	var c *pgconn.PgConn
	if kind != Reconnect {
		var err error
		if c, err = p.connect(ctx); err != nil {
			return nil, err
		}
	}
	lctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.loop(lctx, c)
	return p, nil
}

func (p *Probe) connect(ctx context.Context) (*pgconn.PgConn, error) {
	c, err := pgconn.Connect(ctx, p.ConnString)
	if err != nil {
		return nil, err
	}
	var setup string
	switch p.Kind {
	case BeginReadWrite:
		setup = "SET default_transaction_read_only = on"
	case ReadOnlyOff:
		setup = "SET default_transaction_read_only = off"
	}
	if setup != "" {
		if _, err := c.Exec(ctx, setup).ReadAll(); err != nil {
			c.Close(ctx)
			return nil, err
		}
	}
	return c, nil
}

func (p *Probe) loop(ctx context.Context, c *pgconn.PgConn) {
	defer close(p.done)
	defer func() {
		if c != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.Close(cctx)
			cancel()
		}
	}()
	for ctx.Err() == nil {
		if c == nil || c.IsClosed() {
			if p.Kind == PreFenceSession && c != nil {
				return // its only session is gone: nothing left to try
			}
			var err error
			c, err = p.connect(ctx)
			if err != nil {
				p.record(Attempt{Start: time.Now(), End: time.Now(), Err: "connect: " + err.Error(), Code: code(err)})
				c = nil
				p.wait(ctx)
				continue
			}
		}
		p.once(ctx, c)
		if p.Kind == Reconnect {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.Close(cctx)
			cancel()
			c = nil
		}
		p.wait(ctx)
	}
}

func (p *Probe) wait(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(p.Interval):
	}
}

// once performs one write and records it. Statements are sent one by one
// (an explicit transaction that failed needs a ROLLBACK), and only a COMMIT
// whose command tag says COMMIT counts as acknowledged.
func (p *Probe) once(ctx context.Context, c *pgconn.PgConn) {
	id := NewID()
	a := Attempt{ID: id, Start: time.Now()}
	insert := "INSERT INTO probe (id, kind) VALUES (" + sqltext.Literal(id) + ", " + sqltext.Literal(p.Name) + ")"
	var stmts []string
	switch p.Kind {
	case RepeatableRead:
		stmts = []string{"BEGIN ISOLATION LEVEL REPEATABLE READ", "SELECT count(*) FROM probe", "", insert, "COMMIT"}
	case BeginReadWrite:
		stmts = []string{"BEGIN READ WRITE", insert, "COMMIT"}
	default:
		stmts = []string{"BEGIN", insert, "COMMIT"}
	}
	op := context.WithoutCancel(ctx)
	var err error
	var tag string
	for _, s := range stmts {
		if s == "" { // the snapshot is taken: let the fence come in between
			time.Sleep(p.Interval)
			continue
		}
		var res []*pgconn.Result
		res, err = c.Exec(op, s).ReadAll()
		if err != nil {
			break
		}
		if len(res) > 0 {
			tag = res[len(res)-1].CommandTag.String()
		}
	}
	a.End = time.Now()
	if err != nil {
		a.Err, a.Code = err.Error(), code(err)
		if !c.IsClosed() {
			_, _ = c.Exec(op, "ROLLBACK").ReadAll()
		}
	} else if tag == "COMMIT" {
		a.Acked = true
	} else {
		a.Err = "commit answered " + tag
	}
	p.record(a)
}

func code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func (p *Probe) record(a Attempt) {
	p.mu.Lock()
	p.atts = append(p.atts, a)
	p.mu.Unlock()
}

// Stop ends the loop and returns every attempt.
func (p *Probe) Stop() []Attempt {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Attempt(nil), p.atts...)
}
