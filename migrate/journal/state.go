package journal

import (
	"sort"
	"strings"
)

// Payloads the executor journals; the reducer reads them back. Cutover and
// rollback add their own steps ("cutover.<name>") and payloads; the reducer
// keeps every step's status generically, so they plug in without changes
// here beyond new typed fields.

// RunInfo is journaled as step "run", event "start".
type RunInfo struct {
	Command       string            `json:"command"`
	StructureHash string            `json:"structure_hash"`
	SystemIDs     map[string]string `json:"system_ids,omitempty"` // side → system identifier
	Versions      map[string]int    `json:"versions,omitempty"`   // side → server_version_num
	Names         any               `json:"names,omitempty"`
	PID           int               `json:"pid"`
	Host          string            `json:"host"`
}

// TablesInfo is journaled with create-pub's done: the published tables.
type TablesInfo struct {
	Publication string   `json:"publication"`
	Tables      []string `json:"tables"` // qualified, quoted names, sorted
	Published   []string `json:"published"`
}

// SlotInfo is journaled with create-slot's done.
type SlotInfo struct {
	Slot            string `json:"slot"`
	ConsistentPoint string `json:"consistent_point"`
	Snapshot        string `json:"snapshot"`
}

// CopyPlan is journaled with copy-data's start.
type CopyPlan struct {
	Attempt int             `json:"attempt"`
	Tables  []CopyTablePlan `json:"tables"`
	Format  string          `json:"format"`
}

// CopyTablePlan is one table (a top: plain table or partitioned root).
type CopyTablePlan struct {
	Table  string `json:"table"`
	Bytes  int64  `json:"bytes"`
	Chunks int    `json:"chunks"`
}

// ChunkDone is journaled as copy-data "exec" per finished chunk.
type ChunkDone struct {
	Table  string `json:"table"`
	Leaf   string `json:"leaf"`
	Chunk  int    `json:"chunk"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	Millis int64  `json:"ms"`
}

// ExecInfo is a generic "exec" payload: redacted SQL, duration, rows.
type ExecInfo struct {
	SQL    string `json:"sql"`
	Millis int64  `json:"ms"`
	Rows   int64  `json:"rows"`
}

// ObjectInfo names an object a step created (journaled names are what
// cleanup touches).
type ObjectInfo struct {
	Kind string `json:"kind"` // publication, subscription, slot, schema …
	Name string `json:"name"`
	Side string `json:"side"`
}

// StepState is the reduced status of one step.
type StepState struct {
	Status string `json:"status"` // running, done, failed, aborted, skipped
	Starts int    `json:"starts"`
	Seq    int64  `json:"seq"`
	TS     string `json:"ts"`
	Error  string `json:"error,omitempty"`
}

// TableProgress is the journal's view of one table's copy.
type TableProgress struct {
	Table      string `json:"table"`
	BytesTotal int64  `json:"bytes_total"`
	BytesDone  int64  `json:"bytes_done"`
	RowsDone   int64  `json:"rows_done"`
	Chunks     int    `json:"chunks"`
	ChunksDone int    `json:"chunks_done"`
}

// State is state.json: a cache rebuilt from the journal.
type State struct {
	Format        int                  `json:"format"`
	Phase         string               `json:"phase"`
	LastStep      string               `json:"last_step,omitempty"`
	Steps         map[string]StepState `json:"steps"`
	StructureHash string               `json:"structure_hash,omitempty"`
	SystemIDs     map[string]string    `json:"system_ids,omitempty"`
	Versions      map[string]int       `json:"versions,omitempty"`
	Tables        []string             `json:"tables,omitempty"`
	Slot          *SlotInfo            `json:"slot,omitempty"`
	CopyAttempts  int                  `json:"copy_attempts"`
	CopyStartTS   string               `json:"copy_start_ts,omitempty"`
	CopyStartT    int64                `json:"-"`
	Copy          []TableProgress      `json:"copy,omitempty"`
	Objects       []ObjectInfo         `json:"objects,omitempty"`
	// HashStepDone is true once create-pub is done: from then on a changed
	// structure_hash is exit 2 (§3).
	HashLocked bool `json:"hash_locked"`
}

// Done reports whether step's last outcome is done.
func (s *State) Done(step string) bool { return s.Steps[step].Status == "done" }

// Started reports whether step was ever started.
func (s *State) Started(step string) bool { return s.Steps[step].Starts > 0 }

// HasObject reports whether kind/name was journaled.
func (s *State) HasObject(kind, name string) bool {
	for _, o := range s.Objects {
		if o.Kind == kind && o.Name == name {
			return true
		}
	}
	return false
}

// Reduce folds records into a State.
func Reduce(recs []Record) *State {
	st := &State{Format: 1, Phase: "new", Steps: map[string]StepState{}}
	prog := map[string]*TableProgress{}
	var order []string
	for _, r := range recs {
		ss, known := st.Steps[r.Step]
		switch r.Event {
		case EventStart:
			ss.Status = "running"
			ss.Starts++
			ss.Error = ""
		case EventDone:
			ss.Status = "done"
		case EventFail, EventAbort:
			ss.Status = "failed"
			if r.Event == EventAbort {
				// An abort restored the previous state (a cutover
				// aborted before its point of no return): not a failure.
				ss.Status = "aborted"
			}
			var e struct {
				Error string `json:"error"`
			}
			_ = r.Decode(&e)
			ss.Error = e.Error
		case EventSkip:
			ss.Status = "skipped"
		}
		if r.Event != EventExec && r.Event != EventIntent {
			ss.Seq, ss.TS = r.Seq, r.TS
			if r.Step != "run" {
				st.LastStep = r.Step
			}
		}
		// exec and intent records alone (cutover.check's results) do not
		// make a step.
		if known || (r.Event != EventExec && r.Event != EventIntent) {
			st.Steps[r.Step] = ss
		}

		switch {
		case r.Step == "run" && r.Event == EventStart:
			var ri RunInfo
			if r.Decode(&ri) == nil {
				if ri.StructureHash != "" && !st.HashLocked {
					st.StructureHash = ri.StructureHash
				}
				if st.SystemIDs == nil && len(ri.SystemIDs) > 0 {
					st.SystemIDs = ri.SystemIDs
				}
				if len(ri.Versions) > 0 {
					st.Versions = ri.Versions
				}
			}
		case r.Step == "create-pub" && r.Event == EventDone:
			var ti TablesInfo
			if r.Decode(&ti) == nil && ti.Tables != nil {
				st.Tables = ti.Tables
			}
			st.HashLocked = true
		case r.Step == "create-slot" && r.Event == EventDone:
			var si SlotInfo
			if r.Decode(&si) == nil && si.Slot != "" {
				st.Slot = &si
			}
		case r.Step == "copy-data" && r.Event == EventStart:
			var cp CopyPlan
			st.CopyAttempts++
			st.CopyStartTS = r.TS
			prog = map[string]*TableProgress{}
			order = nil
			if r.Decode(&cp) == nil {
				for _, t := range cp.Tables {
					prog[t.Table] = &TableProgress{Table: t.Table, BytesTotal: t.Bytes, Chunks: t.Chunks}
					order = append(order, t.Table)
				}
			}
		case r.Step == "copy-data" && r.Event == EventExec && strings.HasPrefix(string(r.Data), `{"plan":`):
			var w struct {
				Plan CopyPlan `json:"plan"`
			}
			prog = map[string]*TableProgress{}
			order = nil
			if r.Decode(&w) == nil {
				for _, t := range w.Plan.Tables {
					prog[t.Table] = &TableProgress{Table: t.Table, BytesTotal: t.Bytes, Chunks: t.Chunks}
					order = append(order, t.Table)
				}
			}
		case r.Step == "copy-data" && r.Event == EventExec:
			var cd ChunkDone
			if r.Decode(&cd) == nil && cd.Table != "" {
				p := prog[cd.Table]
				if p == nil {
					p = &TableProgress{Table: cd.Table}
					prog[cd.Table] = p
					order = append(order, cd.Table)
				}
				p.BytesDone += cd.Bytes
				p.RowsDone += cd.Rows
				p.ChunksDone++
			}
		}
		if r.Event == EventDone || r.Event == EventIntent {
			var oi struct {
				Objects []ObjectInfo `json:"objects"`
			}
			if r.Decode(&oi) == nil {
				for _, o := range oi.Objects {
					if !st.HasObject(o.Kind, o.Name) {
						st.Objects = append(st.Objects, o)
					}
				}
			}
		}
		if r.Step == "cleanup" && r.Event == EventDone {
			st.Objects = nil
		}
	}
	sort.Strings(order)
	for _, t := range order {
		st.Copy = append(st.Copy, *prog[t])
	}
	st.Phase = phase(st)
	return st
}

func phase(st *State) string {
	switch {
	case st.Steps["cleanup"].Status == "done":
		return "cleaned"
	case st.Steps["rollback"].Status == "done":
		return "rolled-back"
	case st.Steps["rollback"].Status == "running" || st.Steps["rollback"].Status == "failed":
		return "rollback"
	case st.Steps["cutover"].Status == "done":
		return "cut-over"
	case st.Steps["cutover"].Status == "running" || st.Steps["cutover"].Status == "failed":
		return "cutover"
	case st.Steps["streaming"].Status == "done":
		return "streaming"
	case st.LastStep == "" || len(st.Steps) == 0:
		return "new"
	}
	for _, s := range []string{"copy-data", "post-data", "create-sub", "wait-sync"} {
		if st.Steps[s].Status == "running" {
			return s
		}
	}
	if st.Steps[st.LastStep].Status == "failed" {
		return "failed"
	}
	return "preparing"
}
