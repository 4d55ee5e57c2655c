package web

import (
	"fmt"
	"net/http"
	"time"
)

// testsPanel is swabs taken per day over the last two weeks, by what their
// tube's result means for the person. It reads the testing tables
// directly: a read-only count that the nat package does not offer.
func (s *Server) testsPanel(r *http.Request, p *page, d *dashboardData) error {
	ds := days(s.now(), s.Config.Location, 14)
	_, off := ds[0].Zone()
	lo, hi := p.Op.Bounds()
	rows, err := s.DB.QueryContext(r.Context(), `SELECT (s.sampled_at + $1) / 86400000, COALESCE(t.result, ''), t.capacity, COUNT(*)
		FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
		WHERE s.sampled_at >= $2 AND t.region_code >= $3 AND ($4 = '' OR t.region_code < $4)
		GROUP BY (s.sampled_at + $1) / 86400000, COALESCE(t.result, ''), t.capacity`,
		int64(off)*1000, ds[0].UnixMilli(), lo, hi)
	if err != nil {
		return fmt.Errorf("web: tests per day: %w", err)
	}
	defer rows.Close()
	// Per local day number: negative, positive, pending, invalid.
	counts := map[int64]*[4]float64{}
	var total float64
	for rows.Next() {
		var day, capacity, n int64
		var result string
		if err := rows.Scan(&day, &result, &capacity, &n); err != nil {
			return err
		}
		c := counts[day]
		if c == nil {
			c = &[4]float64{}
			counts[day] = c
		}
		switch result {
		case "negative":
			c[0] += float64(n)
		case "positive":
			c[1] += float64(n)
		case "":
			c[2] += float64(n)
		default:
			c[3] += float64(n)
		}
		total += float64(n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ser := []series{{p.T("result.negative"), chartGreen}, {p.T("dash.positive"), chartRed}, {p.T("result.pending"), chartGrey},
		{p.T("dash.invalid"), chartYellow}}
	tbl := &numTable{Head: []string{p.T("col.day")}}
	for _, x := range ser {
		tbl.Head = append(tbl.Head, x.Name)
	}
	var cols []column
	for _, day := range ds {
		key := (day.UnixMilli() + int64(off)*1000) / 86400000
		c := counts[key]
		if c == nil {
			c = &[4]float64{}
		}
		cols = append(cols, column{Label: day.Format("01-02"), Values: c[:]})
		tbl.Rows = append(tbl.Rows, []string{day.Format(time.DateOnly), num(c[0]), num(c[1]), num(c[2]), num(c[3])})
	}
	d.Tiles = append(d.Tiles, tile{Label: p.T("dash.tests_14d"), Value: num(total), Href: "/console/nat/followup"})
	d.Panels = append(d.Panels, panel{Title: p.T("dash.tests"), Chart: columnChart(p.T("dash.tests"), ser, cols, false), Table: tbl})
	return nil
}
