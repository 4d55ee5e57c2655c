package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/venue"
)

// Check-ins at venues (the page a venue's QR opens) and tracing runs.

func (s *Server) checkinRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /c/{token}", s.public(s.checkinPage))
	mux.HandleFunc("POST /c/{token}", s.resident(s.checkIn))

	mux.HandleFunc("GET /console/tracing", s.console(auth.TracingRun, s.tracingPage))
	mux.HandleFunc("POST /console/tracing", s.console(auth.TracingRun, s.submitTracing))
	mux.HandleFunc("GET /console/tracing/{id}", s.console(auth.TracingRun, s.tracingRunPage))
	mux.HandleFunc("GET /console/tracing/{id}/export.csv", s.console(auth.TracingRun, s.tracingExport))
	mux.HandleFunc("GET /console/tasks", s.console(auth.TaskWrite, s.tasksPage))
	mux.HandleFunc("POST /console/tasks/{id}/assign", s.console(auth.TaskWrite, s.assignTask))
	mux.HandleFunc("POST /console/tasks/{id}/visited", s.console(auth.TaskWrite, s.visitedTask))
}

var checkinNav = []navEntry{
	{"nav.tracing", "/console/tracing", auth.TracingRun},
	{"nav.tasks", "/console/tasks", auth.TaskWrite},
}

type checkinData struct {
	Venue      *venue.Venue
	RegionName string
	Token      string
	Registered bool
	Name       string
	Dependents []dependentView
	Result     *checkin.Result
	Color      string
	Status     *statusView
}

// checkinPage is what a phone's camera opens from a venue's poster: the
// venue, and one button. A stranger is asked to log in and comes back.
func (s *Server) checkinPage(w http.ResponseWriter, r *http.Request, p *page) error {
	token := r.PathValue("token")
	v, revoked, err := s.Venues.ByToken(r.Context(), token)
	if err != nil {
		return err
	}
	if revoked || v.Disabled {
		return venue.ErrTokenRevoked.Withf("this venue code was replaced")
	}
	d := checkinData{Venue: v, RegionName: s.Regions.FullName(v.Region), Token: token}
	if p.Resident != nil {
		pr, err := s.Persons.Profile(r.Context(), p.Resident.ID)
		switch {
		case err == nil:
			d.Registered, d.Name = true, pr.MaskedName
			deps, err := s.Persons.Dependents(r.Context(), p.Resident.ID)
			if err != nil {
				return err
			}
			for _, dp := range deps {
				d.Dependents = append(d.Dependents, dependentView{Masked: dp.Masked(), Relation: dp.Relation})
			}
			// The form's token must be the resident session's: the POST
			// goes through the resident handler.
			p.CSRF = s.csrfToken(cookie(r, residentCookie))
		case !errors.Is(err, person.ErrNotRegistered):
			return err
		}
	}
	p.Title, p.Data = v.Name+" · "+p.T("checkin.title"), d
	s.render(w, r, http.StatusOK, "checkin", p)
	return nil
}

func (s *Server) checkIn(w http.ResponseWriter, r *http.Request, p *page) error {
	token := r.PathValue("token")
	res, err := s.Checkins.CheckIn(r.Context(), p.Resident.ID, checkin.Input{VenueToken: token, Dependents: r.PostForm["dependent"]})
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/c/"+token)
		return nil
	}
	if err != nil {
		return err
	}
	v, _, err := s.Venues.ByToken(r.Context(), token)
	if err != nil {
		return err
	}
	pr, err := s.Persons.Profile(r.Context(), p.Resident.ID)
	if err != nil {
		return err
	}
	d := checkinData{Venue: v, RegionName: s.Regions.FullName(v.Region), Token: token, Registered: true, Name: pr.MaskedName,
		Result: res, Color: res.Color.String()}
	if !res.Color.Valid() {
		d.Color = "green"
	}
	if d.Status, err = s.statusOf(r, p, pr.Num, true); err != nil {
		return err
	}
	p.Title, p.Data = p.T("checkin.done"), d
	s.render(w, r, http.StatusCreated, "checkin_done", p)
	return nil
}

// venueCounts is a venue's check-ins per hour over the last day: counts
// only, never who.
func (s *Server) venueCounts(r *http.Request, p *page, v *venue.Venue) (*venueCounts, error) {
	now := s.now()
	c, err := s.Checkins.Counts(r.Context(), p.Op, v.ID, now.Add(-23*time.Hour), now)
	if err != nil {
		return nil, err
	}
	var cols []column
	for _, h := range c.Hours {
		cols = append(cols, column{Label: h.Hour.In(s.Config.Location).Format("15"), Values: []float64{float64(h.Count)}})
	}
	return &venueCounts{Total: c.Total, Chart: columnChart(p.T("venues.counts"), []series{{p.T("venues.checkins"), chartBlue}}, cols, false)}, nil
}

// Tracing runs.

type tracingForm struct {
	Mode, PersonIDs, Lookback, Window, Venue, From, To string
	Venues                                             []*venue.Venue
	Run                                                string
	// The cases are found by a person search, not pasted ids.
	Query    person.Query
	Searched bool
	Found    []personRow
	Runs     []*tracing.Run // the latest runs in scope
}

func (s *Server) tracingPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	f := tracingForm{Mode: "persons", Lookback: "14d", PersonIDs: q.Get("person"),
		Query: person.Query{IDNumber: strings.TrimSpace(q.Get("id_number")), Phone: strings.TrimSpace(q.Get("phone")),
			Name: strings.TrimSpace(q.Get("name")), Limit: 20}}
	if id := strings.TrimSpace(q.Get("run")); id != "" {
		redirect(w, r, "/console/tracing/"+id)
		return nil
	}
	f.Searched = f.Query.IDNumber != "" || f.Query.Phone != "" || f.Query.Name != ""
	if f.Searched {
		ps, err := s.Persons.Search(r.Context(), p.Op, f.Query)
		if err != nil {
			return s.formErr(w, r, p, err, func(st int) error { return s.showTracing(w, r, p, st, f) })
		}
		for _, x := range ps {
			f.Found = append(f.Found, s.personRow(p.Op, x))
		}
	}
	return s.showTracing(w, r, p, http.StatusOK, f)
}

func (s *Server) showTracing(w http.ResponseWriter, r *http.Request, p *page, st int, f tracingForm) error {
	vs, err := s.Venues.List(r.Context(), p.Op, 500)
	if err != nil {
		return err
	}
	f.Venues = vs
	if f.Runs, err = s.Tracing.Runs(r.Context(), p.Op, 20); err != nil {
		return err
	}
	for _, run := range f.Runs {
		if err := s.nameActors(r, p, run.CreatedBy); err != nil {
			return err
		}
	}
	if f.From == "" {
		now := s.now().In(s.Config.Location)
		f.From, f.To = now.Add(-24*time.Hour).Format(localTime), now.Format(localTime)
	}
	p.Title, p.NavOn, p.Data = p.T("nav.tracing"), "/console/tracing", f
	s.render(w, r, st, "console_tracing", p)
	return nil
}

func (s *Server) submitTracing(w http.ResponseWriter, r *http.Request, p *page) error {
	f := tracingForm{Mode: r.PostFormValue("mode"), PersonIDs: r.PostFormValue("person_ids"), Lookback: r.PostFormValue("lookback"),
		Window: r.PostFormValue("window"), Venue: r.PostFormValue("venue"), From: r.PostFormValue("from"), To: r.PostFormValue("to")}
	in := tracing.Request{Window: strings.TrimSpace(f.Window)}
	show := func(st int) error { return s.showTracing(w, r, p, st, f) }
	if f.Mode == "venue" {
		from, err := s.parseLocal("from", f.From, true)
		if err != nil {
			return s.formErr(w, r, p, err, show)
		}
		to, err := s.parseLocal("to", f.To, true)
		if err != nil {
			return s.formErr(w, r, p, err, show)
		}
		in.VenueID, in.From, in.To = f.Venue, from.Format(time.RFC3339), to.Format(time.RFC3339)
	} else {
		in.PersonIDs = strings.Fields(strings.NewReplacer(",", " ", "，", " ").Replace(f.PersonIDs))
		// Cases ticked in the search's results join any ids given.
		for _, id := range r.PostForm["case"] {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(in.PersonIDs, id) {
				in.PersonIDs = append(in.PersonIDs, id)
			}
		}
		in.Lookback = strings.TrimSpace(f.Lookback)
	}
	run, err := s.Tracing.Submit(r.Context(), p.Op, in)
	if err != nil {
		return s.formErr(w, r, p, err, show)
	}
	redirect(w, r, "/console/tracing/"+run.ID)
	return nil
}

type runData struct {
	Run     *tracing.Run
	Percent float64
	Running bool
	After   int64
}

func (s *Server) tracingRunPage(w http.ResponseWriter, r *http.Request, p *page) error {
	after, err := intQuery(r, "after", 0)
	if err != nil {
		return err
	}
	run, err := s.Tracing.Get(r.Context(), p.Op, r.PathValue("id"), int64(after), 200)
	if err != nil {
		return err
	}
	d := runData{Run: run, Running: run.Status == tracing.StatusQueued || run.Status == tracing.StatusRunning, After: int64(after)}
	if err := s.nameActors(r, p, run.CreatedBy); err != nil {
		return err
	}
	if run.Progress.Total > 0 {
		d.Percent = float64(run.Progress.Done) / float64(run.Progress.Total)
	}
	p.Title, p.NavOn, p.Data = p.T("tracing.run_title", run.ID), "/console/tracing", d
	s.render(w, r, http.StatusOK, "console_tracing_run", p)
	return nil
}

// tracingExport sends a finished run's report as CSV, headers in the
// reader's language.
func (s *Server) tracingExport(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.Tracing.ExportCSV(r.Context(), p.Op, r.PathValue("id"), p.Lang.Code(), func(name string) io.Writer {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		return w
	})
}

// Grid follow-up tasks of tracing runs.

type tasksData struct {
	Status   string
	Tasks    []*tracing.Task
	Next     string
	Me       string
	Outcomes []string
}

func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d := tasksData{Status: r.URL.Query().Get("status"), Me: p.Op.ID, Outcomes: tracing.Outcomes}
	if d.Status == "" {
		d.Status = "open"
	}
	if d.Status == "all" {
		d.Status = ""
	}
	var err error
	if d.Tasks, err = s.Tracing.Tasks(r.Context(), p.Op, tracing.TaskFilter{Status: d.Status, After: r.URL.Query().Get("after"), Limit: 100}); err != nil {
		return err
	}
	if len(d.Tasks) == 100 {
		d.Next = d.Tasks[len(d.Tasks)-1].ID
	}
	p.Title, p.NavOn, p.Data = p.T("nav.tasks"), "/console/tasks", d
	s.render(w, r, http.StatusOK, "console_tasks", p)
	return nil
}

func (s *Server) assignTask(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Tracing.Assign(r.Context(), p.Op, r.PathValue("id"), p.Op.ID); err != nil {
		return err
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/tasks")
	return nil
}

func (s *Server) visitedTask(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Tracing.Visit(r.Context(), p.Op, r.PathValue("id"), r.PostFormValue("outcome"), r.PostFormValue("note")); err != nil {
		return err
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/tasks?status=assigned")
	return nil
}

// verificationsPerHour counts the verification events of the checkpoints in
// scope, per hour.
func (s *Server) verificationsPerHour(r *http.Request, p *page, from time.Time) (map[int64]int64, error) {
	t, err := s.Checkpoints.List(r.Context(), p.Op)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(t.Checkpoints))
	for i, c := range t.Checkpoints {
		ids[i] = c.ID
	}
	return s.Checkins.VerificationsPerHour(r.Context(), ids, from)
}
