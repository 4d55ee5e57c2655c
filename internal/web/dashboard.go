package web

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/rollout"
)

// panel is one chart of the dashboard, with its numbers for those who
// would rather read them.
type panel struct {
	Title string
	Chart string
	Note  string
	Table *numTable
}

type numTable struct {
	Head []string
	Rows [][]string
}

type dashboardData struct {
	Panels []panel
	Tiles  []tile
}

// tile is a headline number.
type tile struct {
	Label, Value, Class, Href string
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, p *page) error {
	d := dashboardData{}
	if p.Op.Can(auth.StatsRead) {
		if err := s.dashboardPanels(r, p, &d); err != nil {
			return err
		}
	}
	p.Title, p.NavOn, p.Data = p.T("nav.dashboard"), "/console", d
	s.render(w, r, http.StatusOK, "console_dashboard", p)
	return nil
}

// registrationPanel is the coverage task table as a chart: registered
// against the target, per town.
func (s *Server) registrationPanel(r *http.Request, p *page, d *dashboardData) error {
	t, err := rollout.Compute(r.Context(), s.DB, s.Persons, p.Op, s.Config.CoverageRatio)
	if err != nil {
		return err
	}
	if len(t.Rows) == 0 {
		return nil
	}
	d.Tiles = append(d.Tiles, tile{Label: p.T("dash.registered"), Value: num(float64(t.Total.Registered)), Href: "/console/coverage"},
		tile{Label: p.T("dash.target"), Value: num(float64(t.Total.Target)), Href: "/console/coverage"})
	d.Panels = append(d.Panels, panel{Title: p.T("dash.registrations"), Chart: coverageChart(p, t)})
	return nil
}

func coverageChart(p *page, t *rollout.Table) string {
	ser := []series{{p.T("cov.registered"), chartGreen}, {p.T("cov.remaining"), "#cfd6de"}}
	var rows []hbar
	for _, r := range t.Rows {
		rest := float64(r.Target - r.Registered)
		if rest < 0 {
			rest = 0
		}
		rows = append(rows, hbar{Label: r.Name, Values: []float64{float64(r.Registered), rest}, Note: pctStr(r.Share)})
	}
	return hbarChart(p.T("dash.registrations"), ser, rows)
}

func pctStr(f float64) string { return funcs["pct"].(func(float64) string)(f) }

// checkpointTiles counts the checkpoint table.
func (s *Server) checkpointTiles(r *http.Request, p *page, d *dashboardData) error {
	t, err := s.Checkpoints.List(r.Context(), p.Op)
	if err != nil {
		return err
	}
	if t.Total > 0 {
		d.Tiles = append(d.Tiles, tile{Label: p.T("dash.checkpoints_enabled"), Value: num(float64(t.Enabled)) + " / " + num(float64(t.Total)), Href: "/console/checkpoints"})
	}
	return nil
}

// activityPanel is codes shown (and, with check-ins, codes verified) per
// hour over the last day.
func (s *Server) activityPanel(r *http.Request, p *page, d *dashboardData, extra ...hourSeries) error {
	hs := hours(s.now(), s.Config.Location, 24)
	shows, err := s.Codes.ShowsPerHour(r.Context(), p.Op, hs[0])
	if err != nil {
		return err
	}
	all := append([]hourSeries{{Name: p.T("dash.shows"), Color: chartGreen, Counts: shows}}, extra...)
	var ser []series
	for _, x := range all {
		ser = append(ser, series{x.Name, x.Color})
	}
	tbl := &numTable{Head: []string{p.T("col.hour")}}
	for _, x := range all {
		tbl.Head = append(tbl.Head, x.Name)
	}
	var cols []column
	var total int64
	for _, h := range hs {
		c := column{Label: h.Format("15")}
		row := []string{h.Format("01-02 15:04")}
		for _, x := range all {
			n := x.Counts[h.UnixMilli()]
			c.Values = append(c.Values, float64(n))
			row = append(row, num(float64(n)))
		}
		total += shows[h.UnixMilli()]
		cols = append(cols, c)
		tbl.Rows = append(tbl.Rows, row)
	}
	d.Tiles = append(d.Tiles, tile{Label: p.T("dash.shows_today"), Value: num(float64(total))})
	for _, x := range extra {
		var n int64
		for _, h := range hs {
			n += x.Counts[h.UnixMilli()]
		}
		d.Tiles = append(d.Tiles, tile{Label: x.Name + p.T("dash.in_24h"), Value: num(float64(n))})
	}
	d.Panels = append(d.Panels, panel{Title: p.T("dash.activity"), Chart: columnChart(p.T("dash.activity"), ser, cols, true), Table: tbl})
	return nil
}

// hourSeries is a count per hour start (unix ms).
type hourSeries struct {
	Name, Color string
	Counts      map[int64]int64
}
