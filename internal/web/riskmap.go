package web

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/riskarea"
)

// riskMap draws the areas that have a shape as a small inline SVG map,
// drawn on the server like the charts: no tiles, no script, no library.
// The projection is equirectangular around the areas' middle latitude
// (longitudes shrunk by its cosine), which keeps a city's shapes true at
// this size. Areas without a shape are only in the list beside it; "" when
// no area has one.
func riskMap(title string, areas []*riskarea.Area, label func(*riskarea.Area) string) string {
	var shaped []*riskarea.Area
	lo, hi := geo.Position{math.Inf(1), math.Inf(1)}, geo.Position{math.Inf(-1), math.Inf(-1)}
	for _, a := range areas {
		if a.Geometry == nil {
			continue
		}
		shaped = append(shaped, a)
		l, h := a.Geometry.Bounds()
		lo[0], lo[1] = math.Min(lo[0], l[0]), math.Min(lo[1], l[1])
		hi[0], hi[1] = math.Max(hi[0], h[0]), math.Max(hi[1], h[1])
	}
	if len(shaped) == 0 {
		return ""
	}
	const width, pad = 320.0, 16.0
	kx := math.Cos((lo[1] + hi[1]) / 2 * math.Pi / 180)
	// A lone point, or shapes in a line, still get a box about a
	// kilometre across.
	spanX := math.Max((hi[0]-lo[0])*kx, 0.01)
	spanY := math.Max(hi[1]-lo[1], 0.01)
	scale := (width - 2*pad) / spanX
	height := math.Min(math.Max(spanY*scale+2*pad, 160), 400)
	if spanY*scale > height-2*pad {
		scale = (height - 2*pad) / spanY
	}
	// Centre the drawing in the box.
	cx, cy := (lo[0]+hi[0])/2, (lo[1]+hi[1])/2
	xy := func(p geo.Position) (float64, float64) {
		return width/2 + (p[0]-cx)*kx*scale, height/2 - (p[1]-cy)*scale
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="risk-map" class="risk-map" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		width, height, width, height, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title><rect width="100%%" height="100%%" fill="#f4f6f8" stroke="#d0d5dc"/>`, html.EscapeString(title))
	for _, a := range shaped {
		color := map[string]string{"high": chartRed, "medium": chartYellow}[a.Level]
		if color == "" {
			color = chartBlue
		}
		name := html.EscapeString(label(a))
		if a.Geometry.Type == geo.TypePoint {
			x, y := xy(a.Geometry.Point)
			fmt.Fprintf(&b, `<circle data-area="%s" data-level="%s" cx="%.1f" cy="%.1f" r="6" fill="%s" fill-opacity="0.8" stroke="%s"><title>%s</title></circle>`,
				a.ID, a.Level, x, y, color, color, name)
			continue
		}
		var d strings.Builder
		for _, poly := range a.Geometry.Polygons {
			for _, ring := range poly {
				for i, p := range ring[:len(ring)-1] {
					x, y := xy(p)
					cmd := "L"
					if i == 0 {
						cmd = "M"
					}
					fmt.Fprintf(&d, "%s%.1f %.1f", cmd, x, y)
				}
				d.WriteString("Z")
			}
		}
		fmt.Fprintf(&b, `<path data-area="%s" data-level="%s" d="%s" fill="%s" fill-opacity="0.45" fill-rule="evenodd" stroke="%s" stroke-width="1.5"><title>%s</title></path>`,
			a.ID, a.Level, d.String(), color, color, name)
		// Areas far apart shrink each other to specks: ring a shape that
		// would be drawn smaller than a finger's touch.
		l, h := a.Geometry.Bounds()
		x0, y0 := xy(l)
		x1, y1 := xy(h)
		if math.Abs(x1-x0) < 12 && math.Abs(y1-y0) < 12 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="9" fill="none" stroke="%s" stroke-width="2"><title>%s</title></circle>`,
				(x0+x1)/2, (y0+y1)/2, color, name)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
