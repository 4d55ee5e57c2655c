package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/tracing"
)

// Grids and the population: imports of lists with their progress, the
// grids with 应检未检, persons by colour, and the grid worker's phone-sized
// visits (the task list and the visit form).

var gridNav = []navEntry{
	{"nav.visits", "/console/visits", auth.TaskWrite},
	{"nav.by_colour", "/console/colour", auth.PersonRead},
	{"nav.grids", "/console/grids", auth.PersonRead},
	{"nav.imports", "/console/imports", auth.ImportWrite},
}

func (s *Server) gridConsoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/imports", s.console(auth.ImportWrite, s.importsPage))
	mux.HandleFunc("POST /console/imports", s.console(auth.ImportWrite, s.startImport))
	mux.HandleFunc("GET /console/imports/{id}", s.console(auth.ImportWrite, s.importPage))
	mux.HandleFunc("GET /console/grids", s.console(auth.PersonRead, s.gridsPage))
	mux.HandleFunc("GET /console/colour", s.console(auth.PersonRead, s.colourPage))
	mux.HandleFunc("GET /console/colour.csv", s.console(auth.PersonRead, s.colourCSV))
	mux.HandleFunc("GET /console/visits", s.console(auth.TaskWrite, s.gridVisitsPage))
	mux.HandleFunc("GET /console/visits/{id}", s.console(auth.TaskWrite, s.visitPage))
	mux.HandleFunc("POST /console/visits/{id}", s.console(auth.TaskWrite, s.visitPost))
}

type importsData struct {
	Kinds, Sources []string
	Imports        []*grid.Import
	Running        bool
	One            *grid.Import
}

func (s *Server) importsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showImports(w, r, p, http.StatusOK, nil)
}

func (s *Server) showImports(w http.ResponseWriter, r *http.Request, p *page, status int, one *grid.Import) error {
	list, err := s.Grids.Imports(r.Context(), p.Op)
	if err != nil {
		return err
	}
	d := importsData{Kinds: grid.Kinds, Sources: grid.Sources, Imports: list, One: one}
	for _, imp := range list {
		if imp.Status == grid.Running {
			d.Running = true
		}
	}
	if one != nil && one.Status == grid.Running {
		d.Running = true
	}
	p.Title, p.NavOn, p.Data = p.T("nav.imports"), "/console/imports", d
	s.render(w, r, status, "console_imports", p)
	return nil
}

func (s *Server) startImport(w http.ResponseWriter, r *http.Request, p *page) error {
	body, err := uploaded(r, "file")
	if err == nil {
		name := ""
		if _, h, ferr := r.FormFile("file"); ferr == nil {
			name = h.Filename
		}
		var imp *grid.Import
		imp, err = s.Grids.Start(r.Context(), p.Op, grid.Spec{Kind: r.PostFormValue("kind"), Source: r.PostFormValue("source"), FileName: name}, body)
		if err == nil {
			redirect(w, r, "/console/imports/"+imp.ID)
			return nil
		}
	}
	return s.formErr(w, r, p, err, func(st int) error { return s.showImports(w, r, p, st, nil) })
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, p *page) error {
	imp, err := s.Grids.Get(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.showImports(w, r, p, http.StatusOK, imp)
}

type gridsData struct {
	Region string
	Hours  int
	Grids  []grid.Grid
	Rows   map[string]grid.CoverageRow
	Cover  *grid.Coverage
}

func (s *Server) gridsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := gridsData{Region: q.Get("region"), Hours: 48}
	if h, err := strconv.Atoi(q.Get("hours")); err == nil {
		d.Hours = h
	}
	var err error
	if d.Grids, err = s.Grids.Grids(r.Context(), p.Op, d.Region); err != nil {
		return err
	}
	if d.Cover, err = s.Grids.Coverage(r.Context(), p.Op, d.Region, d.Hours); err != nil {
		return err
	}
	d.Rows = map[string]grid.CoverageRow{}
	for _, row := range d.Cover.Rows {
		d.Rows[row.Grid] = row
	}
	p.Title, p.NavOn, p.Data = p.T("nav.grids"), "/console/grids", d
	s.render(w, r, http.StatusOK, "console_grids", p)
	return nil
}

type colourData struct {
	Color, Rule, Grid string
	Rows              []grid.PersonRow
	Next              string
	Query             string
}

func colourQueryOf(r *http.Request) grid.PersonQuery {
	q := r.URL.Query()
	return grid.PersonQuery{Color: q.Get("color"), Rule: strings.TrimSpace(q.Get("rule")), Grid: strings.TrimSpace(q.Get("grid")), After: q.Get("after")}
}

func (s *Server) colourPage(w http.ResponseWriter, r *http.Request, p *page) error {
	pq := colourQueryOf(r)
	pq.Limit = 100
	rows, next, err := s.Grids.Persons(r.Context(), p.Op, pq)
	if err != nil {
		return err
	}
	d := colourData{Color: pq.Color, Rule: pq.Rule, Grid: pq.Grid, Rows: rows, Next: next}
	v := r.URL.Query()
	v.Del("after")
	d.Query = v.Encode()
	p.Title, p.NavOn, p.Data = p.T("nav.by_colour"), "/console/colour", d
	s.render(w, r, http.StatusOK, "console_colour", p)
	return nil
}

func (s *Server) colourCSV(w http.ResponseWriter, r *http.Request, p *page) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="persons-by-colour.csv"`)
	return s.Grids.ExportCSV(r.Context(), p.Op, colourQueryOf(r), w)
}

type gridVisitsData struct {
	Tasks    []*tracing.Task
	Task     *tracing.Task
	Outcomes []string
	Outcome  string
	Note     string
}

// gridVisitsPage is the grid worker's list on the phone: the open visits of
// their grid, the escalated first.
func (s *Server) gridVisitsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	ts, err := s.Tracing.Tasks(r.Context(), p.Op, tracing.TaskFilter{Status: tracing.TaskOpen, Limit: 200})
	if err != nil {
		return err
	}
	var late, rest []*tracing.Task
	for _, t := range ts {
		if t.EscalatedAt != nil {
			late = append(late, t)
		} else {
			rest = append(rest, t)
		}
	}
	p.Title, p.NavOn, p.Body, p.Data = p.T("nav.visits"), "/console/visits", "console bare", gridVisitsData{Tasks: append(late, rest...)}
	s.render(w, r, http.StatusOK, "console_visits", p)
	return nil
}

func (s *Server) visitPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVisit(w, r, p, http.StatusOK, "", "")
}

func (s *Server) showVisit(w http.ResponseWriter, r *http.Request, p *page, status int, outcome, note string) error {
	t, err := s.Tracing.Task(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	p.Title, p.NavOn, p.Body = p.T("gridvisit.title"), "/console/visits", "console bare"
	p.Data = gridVisitsData{Task: t, Outcomes: tracing.Outcomes, Outcome: outcome, Note: note}
	s.render(w, r, status, "console_visit", p)
	return nil
}

func (s *Server) visitPost(w http.ResponseWriter, r *http.Request, p *page) error {
	outcome, note := r.PostFormValue("outcome"), r.PostFormValue("note")
	if _, err := s.Tracing.Visit(r.Context(), p.Op, r.PathValue("id"), outcome, note); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVisit(w, r, p, st, outcome, note) })
	}
	s.flash(w, r, "flash.visited", "")
	redirect(w, r, "/console/visits")
	return nil
}
