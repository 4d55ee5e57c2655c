package tracing

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/csvsafe"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/venue"
)

// Request starts a run: either case persons, whose presence in the
// lookback is walked, or a venue and a time window (everyone there then).
type Request struct {
	PersonIDs []string
	VenueID   string
	From      string // RFC 3339, with venue_id
	To        string // RFC 3339, with venue_id
	Lookback  string // "14d", "72h"; with person_ids
	Window    string // "30m": one window for every place, instead of the per-kind ones
}

// Modes of a run.
const (
	ModePersons = "persons"
	ModeVenue   = "venue"
)

// Statuses of a run.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// params is what a run was asked, as stored: times and windows in unix ms.
type params struct {
	Mode          string           `json:"mode"`
	Cases         []int64          `json:"cases,omitempty"`
	Venue         string           `json:"venue,omitempty"`
	From          int64            `json:"from"`
	To            int64            `json:"to"`
	Lookback      int64            `json:"lookback,omitempty"`
	Window        int64            `json:"window,omitempty"` // the run's own window, 0 for per kind
	DefaultWindow int64            `json:"default_window"`
	Windows       map[string]int64 `json:"windows,omitempty"`
}

// parseSpan reads a duration: Go syntax ("90m", "36h") or whole days ("14d").
func parseSpan(bad *apierr.Error, field, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 && n <= 366 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, bad.Withf("%s must be a positive duration such as \"14d\", \"36h\" or \"30m\", not %q", field, v)
}

func parseTime(bad *apierr.Error, field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, bad.Withf("%s must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00, not %q", field, v)
	}
	return t, nil
}

// Submit validates a request and queues the run. Nothing is stored unless
// the whole request is valid: every case a person in the operator's scope,
// the venue in scope, the time range in order.
func (s *Service) Submit(ctx context.Context, by *auth.Principal, in Request) (*Run, error) {
	if err := by.Require(auth.TracingRun); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	p := params{DefaultWindow: s.cfg.Window.Milliseconds(), Windows: s.windowsMs()}
	if in.Window != "" {
		w, err := parseSpan(ErrWindowInvalid, "window", in.Window)
		if err != nil {
			return nil, err
		}
		if w < time.Minute || w > 24*time.Hour {
			return nil, ErrWindowInvalid
		}
		p.Window = w.Milliseconds()
	}
	var caseIDs []string
	switch {
	case len(in.PersonIDs) > 0 && in.VenueID != "":
		return nil, ErrCasesOrVenue
	case len(in.PersonIDs) > 0:
		if in.From != "" || in.To != "" {
			return nil, ErrTimeRangeNeedsVenue
		}
		lookback := s.cfg.Lookback
		if in.Lookback != "" {
			var err error
			if lookback, err = parseSpan(ErrLookbackInvalid, "lookback", in.Lookback); err != nil {
				return nil, err
			}
		}
		if lookback > s.cfg.MaxLookback {
			return nil, ErrLookbackTooLong.Withf("lookback may be at most %v: older check-ins are purged", s.cfg.MaxLookback)
		}
		if len(in.PersonIDs) > s.cfg.MaxCases {
			return nil, ErrCasesTooMany.Withf("at most %d cases per run", s.cfg.MaxCases)
		}
		p.Mode, p.Lookback = ModePersons, lookback.Milliseconds()
		p.From, p.To = now.Add(-lookback).UnixMilli(), now.UnixMilli()+1
		seen := map[string]bool{}
		for _, id := range in.PersonIDs {
			if seen[id] {
				return nil, ErrPersonDuplicate.Withf("person %q is listed twice", id)
			}
			seen[id] = true
			c, err := s.persons.GetByID(ctx, id)
			if err == nil && !by.InScope(c.Region) {
				err = person.ErrNotFound
			}
			if errors.Is(err, person.ErrNotFound) {
				return nil, person.ErrNotFound.Withf("no person %q in your scope", id)
			}
			if err != nil {
				return nil, err
			}
			p.Cases = append(p.Cases, c.Num)
			caseIDs = append(caseIDs, c.ID)
		}
	case in.VenueID != "":
		if in.Lookback != "" {
			return nil, ErrLookbackNeedsCases
		}
		if in.From == "" || in.To == "" {
			return nil, ErrTimeRangeMissing
		}
		from, err := parseTime(ErrFromInvalid, "from", in.From)
		if err != nil {
			return nil, err
		}
		to, err := parseTime(ErrToInvalid, "to", in.To)
		if err != nil {
			return nil, err
		}
		if !from.Before(to) {
			return nil, checkin.ErrTimeRangeInverted.Withf("from (%s) must be before to (%s)", in.From, in.To)
		}
		if to.Sub(from) > s.cfg.MaxLookback {
			return nil, checkin.ErrTimeRangeTooLong.Withf("the period may be at most %v", s.cfg.MaxLookback)
		}
		v, err := s.venues.Get(ctx, by, in.VenueID)
		if err != nil {
			return nil, err
		}
		p.Mode, p.Venue, p.From, p.To = ModeVenue, v.ID, from.UnixMilli(), to.UnixMilli()
	default:
		return nil, ErrCasesMissing
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("tracing: encode params: %w", err)
	}
	id := ids.New()
	total := int64(len(p.Cases))
	if p.Mode == ModeVenue {
		total = 1
	}
	detail := map[string]any{"mode": p.Mode, "from": db.Time(p.From), "to": db.Time(p.To)}
	if caseIDs != nil {
		detail["cases"] = caseIDs
	}
	if p.Venue != "" {
		detail["venue"] = p.Venue
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracing_runs (id, region_code, created_by, created_at, params, status,
			total, done, companions, facts, tasks, error) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, 0, '')`,
			id, by.Region, by.Actor(), now.UnixMilli(), string(raw), StatusQueued, total); err != nil {
			return fmt.Errorf("tracing: insert run: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "tracing.run",
			Subject: "tracing:" + id, Region: by.Region, Detail: detail})
		return err
	})
	if err != nil {
		return nil, err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return s.Get(ctx, by, id, 0, 0)
}

// Run is a tracing run as the console shows it.
type Run struct {
	ID            string
	Status        string
	Mode          string
	Cases         []Ref
	Venue         *PlaceRef
	From          time.Time
	To            time.Time
	WindowMinutes int64 // the run's own window; absent: per venue kind
	Progress      Progress
	Companions    int64
	// OutOfScope counts the companions (report lines) who live outside the
	// reader's scope: their facts are recorded and their own town's
	// officers get their tasks, but this reader is not shown who they are.
	OutOfScope   int64
	Facts        int64
	Tasks        int64
	Error        string
	CreatedBy    string
	CreatedAt    time.Time
	StartedAt    *time.Time
	FinishedAt   *time.Time
	Report       []Contact
	Next         int64 // pass as ?after= for the next page of the report
	region       string
	params       params
	regionCounts map[string]int64
}

// scoped fills in what by may not see of the report and returns the test of
// what they may: the lines of companions in their scope.
func (r *Run) scoped(by *auth.Principal) func(found) bool {
	r.OutOfScope = 0
	for region, n := range r.regionCounts {
		if !by.InScope(region) {
			r.OutOfScope += n
		}
	}
	if len(r.regionCounts) > 0 && r.OutOfScope == 0 {
		return nil // every line is in scope: pages need not read ahead
	}
	return func(f found) bool { return by.InScope(f.region) }
}

// Progress counts the cases (or venue windows) walked.
type Progress struct {
	Done  int64
	Total int64
}

// Ref is a person as a report shows them: masked.
type Ref struct {
	ID     string
	Name   string
	Region string
}

// PlaceRef is where an encounter happened.
type PlaceRef struct {
	ID   string
	Name string
	Kind string // the venue's kind, or "checkpoint"
}

// Contact is one line of the report: a companion, the case they are linked
// to (absent for a venue window), the place and the latest encounter.
type Contact struct {
	Seq            int64
	Person         Ref
	Case           *Ref
	Venue          PlaceRef
	CaseAt         time.Time
	PersonAt       time.Time
	OverlapMinutes int64
	Encounters     int64 // how often the two met in the period
}

const runCols = `id, region_code, created_by, created_at, params, status, total, done, companions, facts, tasks, error,
	started_at, finished_at, region_counts`

func (s *Service) loadRun(ctx context.Context, q db.Querier, id string) (*Run, error) {
	var r Run
	var raw, counts string
	var created int64
	var started, finished sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT `+runCols+` FROM tracing_runs WHERE id = $1`, id).Scan(&r.ID, &r.region, &r.CreatedBy,
		&created, &raw, &r.Status, &r.Progress.Total, &r.Progress.Done, &r.Companions, &r.Facts, &r.Tasks, &r.Error, &started, &finished, &counts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrRunNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: load run: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &r.params); err != nil {
		return nil, fmt.Errorf("tracing: run %s params: %w", id, err)
	}
	if err := json.Unmarshal([]byte(counts), &r.regionCounts); err != nil {
		return nil, fmt.Errorf("tracing: run %s region counts: %w", id, err)
	}
	loc := s.cfg.Location
	r.CreatedAt = db.Time(created).In(loc)
	if started.Valid {
		t := db.Time(started.Int64).In(loc)
		r.StartedAt = &t
	}
	if finished.Valid {
		t := db.Time(finished.Int64).In(loc)
		r.FinishedAt = &t
	}
	r.Mode = r.params.Mode
	r.From, r.To = db.Time(r.params.From).In(loc), db.Time(r.params.To).In(loc)
	r.WindowMinutes = r.params.Window / 60000
	return &r, nil
}

// resolver turns numbers into what a report shows, remembering what it
// looked up for the length of one request.
type resolver struct {
	s           *Service
	persons     map[int64]Ref
	places      map[int64]PlaceRef
	checkpoints map[string]string
}

func (s *Service) resolver() *resolver {
	return &resolver{s: s, persons: map[int64]Ref{}, places: map[int64]PlaceRef{}}
}

func (rv *resolver) person(ctx context.Context, num int64) (Ref, error) {
	if r, ok := rv.persons[num]; ok {
		return r, nil
	}
	p, err := rv.s.persons.Get(ctx, num)
	if err != nil {
		return Ref{}, err
	}
	r := Ref{ID: p.ID, Name: p.Masked().Name, Region: p.Region}
	rv.persons[num] = r
	return r, nil
}

// system reads names of venues and checkpoints anywhere: a companion's
// place may lie outside the reader's scope, and its name is not personal.
var system = &auth.Principal{Kind: auth.Operator, ID: "tracing", Role: auth.Admin}

func (rv *resolver) place(ctx context.Context, num int64) (PlaceRef, error) {
	if r, ok := rv.places[num]; ok {
		return r, nil
	}
	pl, err := rv.s.presence.Place(ctx, num)
	if err != nil {
		return PlaceRef{}, err
	}
	r := PlaceRef{ID: pl.Ref, Kind: CheckpointKind}
	switch pl.Kind {
	case "venue":
		v, err := rv.s.venues.Get(ctx, nil, pl.Ref)
		if err != nil {
			return PlaceRef{}, err
		}
		r.Name, r.Kind = v.Name, v.Kind
	default:
		if rv.checkpoints == nil {
			t, err := rv.s.checkpoints.List(ctx, system)
			if err != nil {
				return PlaceRef{}, err
			}
			rv.checkpoints = map[string]string{}
			for _, c := range t.Checkpoints {
				rv.checkpoints[c.ID] = c.Name
			}
		}
		r.Name = rv.checkpoints[pl.Ref]
	}
	rv.places[num] = r
	return r, nil
}

// MaxReportPage bounds one page of a report.
const MaxReportPage = 1000

// Get returns a run in the operator's scope and a page of its report (rows
// after seq after, at most limit; limit 0 means the status alone), to an
// operator with tracing.run. Reading the report is an operator lookup of
// persons, so it is audited.
func (s *Service) Get(ctx context.Context, by *auth.Principal, id string, after int64, limit int) (*Run, error) {
	if err := by.Require(auth.TracingRun); err != nil {
		return nil, err
	}
	r, err := s.loadRun(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !by.InScope(r.region) {
		return nil, ErrRunNotFound
	}
	rv := s.resolver()
	for _, c := range r.params.Cases {
		ref, err := rv.person(ctx, c)
		if err != nil {
			return nil, err
		}
		r.Cases = append(r.Cases, ref)
	}
	if r.params.Venue != "" {
		v, err := s.venues.Get(ctx, nil, r.params.Venue)
		if err != nil {
			return nil, err
		}
		r.Venue = &PlaceRef{ID: v.ID, Name: v.Name, Kind: v.Kind}
	}
	r.Report = []Contact{}
	keep := r.scoped(by)
	if limit <= 0 || r.Status != StatusDone && r.Status != StatusFailed {
		return r, nil
	}
	limit = min(limit, MaxReportPage)
	err = s.contacts(ctx, rv, id, after, limit, keep, func(c Contact) error {
		r.Report = append(r.Report, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(r.Report) == limit {
		r.Next = r.Report[len(r.Report)-1].Seq
	}
	if len(r.Report) > 0 {
		err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "tracing.read",
			Subject: "tracing:" + id, Region: r.region, Detail: map[string]any{"after": after, "rows": len(r.Report)}})
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// contacts calls fn for the report lines after seq after that keep
// accepts (all if limit is 0).
func (s *Service) contacts(ctx context.Context, rv *resolver, id string, after int64, limit int, keep func(found) bool, fn func(Contact) error) error {
	type line struct {
		seq int64
		f   found
	}
	var lines []line
	err := s.reportLines(ctx, id, after, limit, keep, func(seq int64, f found) error {
		lines = append(lines, line{seq, f})
		return nil
	})
	if err != nil {
		return err
	}
	loc := s.cfg.Location
	for _, l := range lines {
		f := l.f
		c := Contact{Seq: l.seq, CaseAt: db.Time(f.caseAt).In(loc), PersonAt: db.Time(f.personAt).In(loc),
			OverlapMinutes: f.overlap, Encounters: f.n}
		if c.Person, err = rv.person(ctx, f.person); err != nil {
			return err
		}
		if f.cse != 0 {
			ref, err := rv.person(ctx, f.cse)
			if err != nil {
				return err
			}
			c.Case = &ref
		}
		if c.Venue, err = rv.place(ctx, f.place); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// placeKind names a place's kind for the reader of an export.
func placeKind(kind, lang string) string {
	if kind == CheckpointKind {
		if lang == "en" {
			return "Checkpoint"
		}
		return "核验点"
	}
	return venue.KindLabel(kind, lang)
}

var csvHeader = map[string][]string{
	"zh": {"序号", "同行人编号", "同行人姓名", "居住地区", "病例编号", "病例姓名", "场所编号", "场所名称", "场所类型",
		"病例到访时间", "本人到访时间", "交集时长（分钟）", "相遇次数"},
	"en": {"seq", "person_id", "person_name", "person_region", "case_id", "case_name", "venue_id", "venue_name", "venue_kind",
		"case_at", "person_at", "overlap_minutes", "encounters"},
}

// ExportCSV writes the report of a finished run as CSV, names masked, with
// a byte-order mark so spreadsheet programs read the Chinese. open is called
// once the export is known to succeed (to set headers) and returns where to
// write. lang is "zh" (default) or "en" for the header row. by needs
// tracing.run. Audited.
func (s *Service) ExportCSV(ctx context.Context, by *auth.Principal, id, lang string, open func(filename string) io.Writer) error {
	if err := by.Require(auth.TracingRun); err != nil {
		return err
	}
	header, ok := csvHeader[cmp.Or(lang, "zh")]
	if !ok {
		return ErrLangInvalid
	}
	r, err := s.loadRun(ctx, s.db, id)
	if err != nil {
		return err
	}
	if !by.InScope(r.region) {
		return ErrRunNotFound
	}
	keep := r.scoped(by)
	if r.Status != StatusDone && r.Status != StatusFailed {
		return ErrNotFinished.Withf("the run is %s; export it once it is done", r.Status)
	}
	err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "tracing.export",
		Subject: "tracing:" + id, Region: r.region, Detail: map[string]any{"rows": r.Companions - r.OutOfScope}})
	if err != nil {
		return err
	}
	w := open("tracing-" + id + ".csv")
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	rv := s.resolver()
	const page = 1000
	stamp := func(t time.Time) string { return t.Format(time.RFC3339) }
	for after := int64(0); ; {
		n := 0
		err := s.contacts(ctx, rv, id, after, page, keep, func(c Contact) error {
			n++
			after = c.Seq
			var caseID, caseName string
			if c.Case != nil {
				caseID, caseName = c.Case.ID, c.Case.Name
			}
			return cw.Write([]string{strconv.FormatInt(c.Seq, 10), c.Person.ID, csvsafe.Text(c.Person.Name), c.Person.Region, caseID, csvsafe.Text(caseName),
				c.Venue.ID, csvsafe.Text(c.Venue.Name), placeKind(c.Venue.Kind, lang), stamp(c.CaseAt), stamp(c.PersonAt),
				strconv.FormatInt(c.OverlapMinutes, 10), strconv.FormatInt(c.Encounters, 10)})
		})
		if err != nil {
			return err
		}
		if n < page {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}

// Runs lists the latest runs in the operator's scope, newest first,
// without their reports: the console's list of past runs.
func (s *Service) Runs(ctx context.Context, by *auth.Principal, limit int) ([]*Run, error) {
	if err := by.Require(auth.TracingRun); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, []any{limit})
	ids, err := db.Collect(ctx, s.db, `SELECT id FROM tracing_runs WHERE `+scope+` ORDER BY created_at DESC, id LIMIT $1`, args,
		func(sc db.Scanner) (string, error) {
			var id string
			err := sc.Scan(&id)
			return id, err
		})
	if err != nil {
		return nil, fmt.Errorf("tracing: list runs: %w", err)
	}
	out := make([]*Run, 0, len(ids))
	for _, id := range ids {
		r, err := s.Get(ctx, by, id, 0, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
