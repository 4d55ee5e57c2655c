package api

import (
	"net/http"
	"strconv"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/nat"
)

func (s *Server) gridRoutes() []route {
	return []route{
		{Method: "POST", Path: "/admin/imports", Auth: "operator: import.write",
			Summary: "Import a text/csv list (UTF-8 or GBK, up to 16 MB): ?kind (residents, cases, contacts, arrivals), ?source (census, police, health, transport, telecom), ?name; per-line report, good lines kept, importing again changes nothing",
			In:      csvUpload, Out: replies(created(ImportResponse{})),
			h: s.operator(auth.ImportWrite, s.importList)},
		{Method: "GET", Path: "/admin/imports", Auth: "operator: import.write",
			Summary: "The last imports in scope, newest first",
			Out:     replies(ok(ImportList{})),
			h:       s.operator(auth.ImportWrite, s.listImports)},
		{Method: "GET", Path: "/admin/imports/{id}", Auth: "operator: import.write",
			Summary: "An import: its progress while it runs, its per-line report after",
			Out:     replies(ok(ImportResponse{})),
			h:       s.operator(auth.ImportWrite, s.getImport)},
		{Method: "GET", Path: "/admin/grids", Auth: "operator: person.read",
			Summary: "Grids in scope with their households and persons: ?region",
			Out:     replies(ok(GridList{})),
			h:       s.operator(auth.PersonRead, s.listGrids)},
		{Method: "GET", Path: "/admin/grids/coverage", Auth: "operator: person.read",
			Summary: "应检未检 by grid against the imported population: ?region (a grid lists its untested persons, masked; audited), ?hours",
			Out:     replies(ok(GridCoverage{})),
			h:       s.operator(auth.PersonRead, s.gridCoverage)},
		{Method: "GET", Path: "/admin/persons/by-colour", Auth: "operator: person.read",
			Summary: "Yellow and red persons in scope with reason, advice and grid: ?color&rule&grid&after&limit; audited",
			Out:     replies(ok(ColourPersonList{})),
			h:       s.operator(auth.PersonRead, s.personsByColour)},
		{Method: "GET", Path: "/admin/persons/by-colour/export", Auth: "operator: person.read",
			Summary: "The whole list of persons by colour as CSV: ?color&rule&grid; audited",
			Out:     replies(csvFile),
			h:       s.operator(auth.PersonRead, s.exportByColour)},
	}
}

func (s *Server) importList(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	// The API takes files as large as the other uploads; the command takes
	// a whole city's list.
	body, err := readCSV(w, r)
	if err != nil {
		return err
	}
	imp, err := s.Grids.Import(r.Context(), pr, grid.Spec{Kind: q.Get("kind"), Source: q.Get("source"), FileName: q.Get("name")}, body, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, importResponse(imp))
	return nil
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	list, err := s.Grids.Imports(r.Context(), pr)
	if err != nil {
		return err
	}
	out := ImportList{Imports: make([]ImportResponse, len(list))}
	for i, imp := range list {
		out.Imports[i] = importResponse(imp)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	imp, err := s.Grids.Get(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, importResponse(imp))
	return nil
}

func (s *Server) listGrids(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	gs, err := s.Grids.Grids(r.Context(), pr, r.URL.Query().Get("region"))
	if err != nil {
		return err
	}
	out := GridList{Grids: make([]GridResponse, len(gs))}
	for i, g := range gs {
		out.Grids[i] = GridResponse(g)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) gridCoverage(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	hours := 0
	if v := q.Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nat.ErrHoursInvalid
		}
		hours = n
	}
	c, err := s.Grids.Coverage(r.Context(), pr, q.Get("region"), hours)
	if err != nil {
		return err
	}
	out := GridCoverage{Region: c.Region, Hours: c.Hours, Since: c.Since, At: c.At, Rows: make([]GridCoverageRow, len(c.Rows)),
		Untested: make([]PersonView, len(c.Untested))}
	for i, row := range c.Rows {
		out.Rows[i] = GridCoverageRow(row)
	}
	for i, m := range c.Untested {
		out.Untested[i] = personView(m, s.Regions.FullName(m.Region))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func colourQuery(r *http.Request, limit int) grid.PersonQuery {
	q := r.URL.Query()
	return grid.PersonQuery{Color: q.Get("color"), Rule: q.Get("rule"), Grid: q.Get("grid"), After: q.Get("after"), Limit: limit}
}

func (s *Server) personsByColour(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	limit, err := limitParam(r.URL.Query(), 100, 1000)
	if err != nil {
		return err
	}
	rows, next, err := s.Grids.Persons(r.Context(), pr, colourQuery(r, limit))
	if err != nil {
		return err
	}
	out := ColourPersonList{Next: next, Persons: make([]ColourPerson, len(rows))}
	for i, row := range rows {
		out.Persons[i] = ColourPerson{Person: personView(row.Person, s.Regions.FullName(row.Person.Region)), Grid: row.Grid, Color: Color(row.Color.String()), Rule: row.Rule,
			Reason: row.ReasonZH, Advice: row.AdviceZH, Since: row.Since}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) exportByColour(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	// Refusals come before the header is written: the service checks the
	// caller on the first page before it writes a line.
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="persons-by-colour.csv"`)
	return s.Grids.ExportCSV(r.Context(), pr, colourQuery(r, 0), w)
}
