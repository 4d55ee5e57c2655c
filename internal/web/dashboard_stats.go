package web

import (
	"net/http"
	"time"
)

// testsPanel is swabs taken per day over the last two weeks, by what their
// tube's result means for the person.
func (s *Server) testsPanel(r *http.Request, p *page, d *dashboardData) error {
	ds := days(s.now(), s.Config.Location, 14)
	counts, err := s.NAT.SwabsPerDay(r.Context(), p.Op, ds[0])
	if err != nil {
		return err
	}
	var total int64
	for _, c := range counts {
		total += c.Total()
	}
	ser := []series{{p.T("result.negative"), chartGreen}, {p.T("dash.positive"), chartRed}, {p.T("result.pending"), chartGrey},
		{p.T("dash.invalid"), chartYellow}}
	tbl := &numTable{Head: []string{p.T("col.day")}}
	for _, x := range ser {
		tbl.Head = append(tbl.Head, x.Name)
	}
	var cols []column
	for _, day := range ds {
		c := counts[day.UnixMilli()]
		v := []float64{float64(c.Negative), float64(c.Positive), float64(c.Pending), float64(c.Invalid)}
		cols = append(cols, column{Label: day.Format("01-02"), Values: v})
		tbl.Rows = append(tbl.Rows, []string{day.Format(time.DateOnly), num(v[0]), num(v[1]), num(v[2]), num(v[3])})
	}
	d.Tiles = append(d.Tiles, tile{Label: p.T("dash.tests_14d"), Value: num(float64(total)), Href: "/console/nat/followup"})
	d.Panels = append(d.Panels, panel{Title: p.T("dash.tests"), Chart: columnChart(p.T("dash.tests"), ser, cols, false), Table: tbl})
	return nil
}
