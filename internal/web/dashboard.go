package web

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/coverage"
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
	t, err := coverage.Compute(r.Context(), s.DB, s.Persons, p.Op, s.Config.CoverageRatio)
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

func coverageChart(p *page, t *coverage.Table) string {
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
