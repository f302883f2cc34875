// Package journal keeps pgmigrate's state in the migration directory
// (migrate.md §7): journal.jsonl (authoritative, append-only), state.json (a
// cache rebuilt from it) and migration.lock (flock, so two runs cannot act on
// one migration).
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Events of migrate.md §7.
const (
	EventStart  = "start"
	EventIntent = "intent"
	EventExec   = "exec"
	EventDone   = "done"
	EventFail   = "fail"
	EventSkip   = "skip"
	EventAbort  = "abort"
)

// Record is one journal line. T is the monotonic offset in ms from this
// process's t0; TS the wall clock (UTC, RFC 3339 with milliseconds), so
// commit timestamps can be compared with it (§12.4).
type Record struct {
	Seq   int64           `json:"seq"`
	TS    string          `json:"ts"`
	T     int64           `json:"t_ms"`
	Step  string          `json:"step"`
	Event string          `json:"event"`
	Side  string          `json:"side,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Decode unmarshals the record's data into v.
func (r Record) Decode(v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	return json.Unmarshal(r.Data, v)
}

// Journal is an open journal.jsonl.
type Journal struct {
	mu    sync.Mutex
	dir   string
	f     *os.File
	recs  []Record
	seq   int64
	t0    time.Time
	Now   func() time.Time // for tests
	state *State
}

// FileName etc. are the fixed names inside the migration directory.
const (
	FileName  = "journal.jsonl"
	StateName = "state.json"
	LockName  = "migration.lock"
)

// Read loads the records of dir's journal without opening it for writing
// (status, verify --report). A torn last line (a crash mid-write) is ignored.
func Read(dir string) ([]Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	recs, _ := parse(data)
	return recs, nil
}

// parse returns the complete records and the byte length they occupy.
func parse(data []byte) ([]Record, int) {
	var recs []Record
	good := 0
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break // torn tail
		}
		line := data[off : off+nl]
		var r Record
		if len(bytes.TrimSpace(line)) > 0 {
			if err := json.Unmarshal(line, &r); err != nil {
				break // corrupt tail: keep what precedes it
			}
			recs = append(recs, r)
		}
		off += nl + 1
		good = off
	}
	return recs, good
}

// Open opens (creating) dir's journal for appending. A torn tail is cut
// off first so new records start on a fresh line. The caller holds the lock.
func Open(dir string) (*Journal, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read journal: %w", err)
	}
	recs, good := parse(data)
	if good != len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, fmt.Errorf("repair journal: %w", err)
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek journal: %w", err)
	}
	j := &Journal{dir: dir, f: f, recs: recs, t0: time.Now(), Now: time.Now}
	if n := len(recs); n > 0 {
		j.seq = recs[n-1].Seq
	}
	return j, nil
}

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Records returns a copy of every record so far.
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Record(nil), j.recs...)
}

// Dir is the migration directory.
func (j *Journal) Dir() string { return j.dir }

// T0 is this process's time origin.
func (j *Journal) T0() time.Time { return j.t0 }

func mustSync(event string) bool {
	switch event {
	case EventIntent, EventDone, EventFail, EventAbort:
		return true
	}
	return false
}

// Append writes one record. intent, done, fail and abort are fsynced before
// Append returns, so the next action happens only after they are durable.
// data must never hold a password (callers pass redacted SQL).
func (j *Journal) Append(step, event, side string, data any) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return Record{}, errors.New("journal is closed")
	}
	now := j.Now()
	r := Record{
		Seq:   j.seq + 1,
		TS:    now.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		T:     now.Sub(j.t0).Milliseconds(),
		Step:  step,
		Event: event,
		Side:  side,
	}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Record{}, fmt.Errorf("journal data: %w", err)
		}
		if string(b) != "null" && string(b) != "{}" {
			r.Data = b
		}
	}
	line, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("journal record: %w", err)
	}
	line = append(line, '\n')
	if _, err := j.f.Write(line); err != nil {
		return Record{}, fmt.Errorf("append journal: %w", err)
	}
	if mustSync(event) {
		if err := j.f.Sync(); err != nil {
			return Record{}, fmt.Errorf("sync journal: %w", err)
		}
	}
	j.seq = r.Seq
	j.recs = append(j.recs, r)
	return r, nil
}

// WriteState rebuilds state.json from the journal (temp file, fsync, rename).
func (j *Journal) WriteState() error {
	st := Reduce(j.Records())
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(j.dir, StateName), append(b, '\n'))
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err == nil {
		err = f.Sync()
	}
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Chmod(f.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ReadLines is a helper for tests: the raw lines of the journal.
func ReadLines(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}
