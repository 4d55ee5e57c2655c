package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/tracing"
)

// TracingRequest is POST /admin/tracing: from cases (person_ids, lookback)
// or from a venue and a period (venue_id, from, to).
type TracingRequest struct {
	PersonIDs []string `json:"person_ids,omitempty" doc:"the cases"`
	VenueID   string   `json:"venue_id,omitempty"`
	From      string   `json:"from,omitempty" doc:"RFC 3339, with venue_id"`
	To        string   `json:"to,omitempty" doc:"RFC 3339, with venue_id"`
	Lookback  string   `json:"lookback,omitempty" doc:"with person_ids: how far back, e.g. 14d or 72h"`
	Window    string   `json:"window,omitempty" doc:"e.g. 30m: one window for every place, instead of the per-kind ones"`
}

// TracingRun is a tracing run: its status, progress and a page of its report.
type TracingRun struct {
	ID            string           `json:"id"`
	Status        string           `json:"status" doc:"queued, running, done or failed"`
	Mode          string           `json:"mode" doc:"persons or venue"`
	Cases         []TracingRef     `json:"cases,omitempty"`
	Venue         *TracingPlace    `json:"venue,omitempty"`
	From          time.Time        `json:"from"`
	To            time.Time        `json:"to"`
	WindowMinutes int64            `json:"window_minutes,omitempty" doc:"the run's own window; absent: per venue kind"`
	Progress      TracingProgress  `json:"progress"`
	Companions    int64            `json:"companions"`
	OutOfScope    int64            `json:"companions_out_of_scope" doc:"companions living outside the reader's scope: counted in companions, their facts recorded and their tasks given to their own town, but not listed in the report"`
	Facts         int64            `json:"facts"`
	Tasks         int64            `json:"tasks"`
	Error         string           `json:"error,omitempty"`
	CreatedBy     string           `json:"created_by"`
	CreatedAt     time.Time        `json:"created_at"`
	StartedAt     *time.Time       `json:"started_at,omitempty"`
	FinishedAt    *time.Time       `json:"finished_at,omitempty"`
	Report        []TracingContact `json:"report"`
	Next          int64            `json:"next,omitempty" doc:"pass as ?after= for the next page of the report"`
}

// TracingProgress counts the persons a run has looked at.
type TracingProgress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// TracingRef names a person in a report: masked.
type TracingRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
}

// TracingPlace names a place: a venue or a checkpoint.
type TracingPlace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind" doc:"the venue's kind, or checkpoint"`
}

// TracingContact is one person found: whom they met, where and when.
type TracingContact struct {
	Seq            int64        `json:"seq"`
	Person         TracingRef   `json:"person"`
	Case           *TracingRef  `json:"case,omitempty"`
	Venue          TracingPlace `json:"venue"`
	CaseAt         time.Time    `json:"case_at"`
	PersonAt       time.Time    `json:"person_at"`
	OverlapMinutes int64        `json:"overlap_minutes"`
	Encounters     int64        `json:"encounters" doc:"how often the two met in the period"`
}

func tracingRefPtr(r *tracing.Ref) *TracingRef {
	if r == nil {
		return nil
	}
	out := TracingRef(*r)
	return &out
}

func tracingRun(run *tracing.Run) TracingRun {
	out := TracingRun{ID: run.ID, Status: run.Status, Mode: run.Mode, From: run.From, To: run.To, WindowMinutes: run.WindowMinutes,
		Progress: TracingProgress(run.Progress), Companions: run.Companions, OutOfScope: run.OutOfScope, Facts: run.Facts, Tasks: run.Tasks, Error: run.Error,
		CreatedBy: run.CreatedBy, CreatedAt: run.CreatedAt, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt,
		Report: make([]TracingContact, len(run.Report)), Next: run.Next}
	for _, c := range run.Cases {
		out.Cases = append(out.Cases, TracingRef(c))
	}
	if run.Venue != nil {
		v := TracingPlace(*run.Venue)
		out.Venue = &v
	}
	for i, c := range run.Report {
		out.Report[i] = TracingContact{Seq: c.Seq, Person: TracingRef(c.Person), Case: tracingRefPtr(c.Case), Venue: TracingPlace(c.Venue),
			CaseAt: c.CaseAt, PersonAt: c.PersonAt, OverlapMinutes: c.OverlapMinutes, Encounters: c.Encounters}
	}
	return out
}

// TracingTask is a follow-up task for a grid worker: visit a person found
// by a run.
type TracingTask struct {
	ID         string      `json:"id"`
	Kind       string      `json:"kind"`
	Status     string      `json:"status" doc:"open, assigned or visited"`
	Person     TracingRef  `json:"person"`
	Region     string      `json:"region"`
	RunID      string      `json:"run_id"`
	Case       *TracingRef `json:"case,omitempty"`
	ExposureAt time.Time   `json:"exposure_at"`
	OperatorID string      `json:"operator_id,omitempty" doc:"the grid worker it is assigned to"`
	Note       string      `json:"note,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	AssignedAt *time.Time  `json:"assigned_at,omitempty"`
	VisitedAt  *time.Time  `json:"visited_at,omitempty"`
	VisitedBy  string      `json:"visited_by,omitempty"`
	RegionName string      `json:"region_name"`
	// A colour task (kind colour): the change's reason and advice, the
	// colour, the deadline and escalation, the visit's outcome.
	Reason      string     `json:"reason,omitempty"`
	Advice      string     `json:"advice,omitempty"`
	Color       Color      `json:"color,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty" doc:"past it, an unvisited task escalates to the town"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	Outcome     string     `json:"outcome,omitempty" doc:"met, isolated, not_home or moved_out"`
}

func (s *Server) tracingTask(t *tracing.Task) TracingTask {
	out := TracingTask{ID: t.ID, Kind: t.Kind, Status: t.Status, Person: TracingRef(t.Person), Region: t.Region, RunID: t.RunID,
		Case: tracingRefPtr(t.Case), ExposureAt: t.ExposureAt, OperatorID: t.OperatorID, Note: t.Note, CreatedAt: t.CreatedAt,
		AssignedAt: t.AssignedAt, VisitedAt: t.VisitedAt, VisitedBy: t.VisitedBy, RegionName: s.Regions.FullName(t.Region),
		Reason: t.Reason, Advice: t.Advice, DueAt: t.DueAt, EscalatedAt: t.EscalatedAt, Outcome: t.Outcome}
	if t.Color.Valid() {
		out.Color = Color(t.Color.String())
	}
	if out.RegionName == "" && len(t.Region) > 9 {
		out.RegionName = s.Regions.FullName(t.Region[:9])
	}
	return out
}

// TracingTaskList is a page of tasks.
type TracingTaskList struct {
	Next  string        `json:"next" doc:"pass as ?after= for the next page; empty on the last"`
	Tasks []TracingTask `json:"tasks"`
}

// AssignRequest is POST /admin/tasks/{id}/assign.
type AssignRequest struct {
	OperatorID string `json:"operator_id" doc:"a grid worker whose region covers the person's"`
}

// VisitRequest is POST /admin/tasks/{id}/visited.
type VisitRequest struct {
	Note    string `json:"note,omitempty" doc:"what the visit found; required without an outcome"`
	Outcome string `json:"outcome,omitempty" doc:"met, isolated, not_home or moved_out; required for a colour task"`
}
