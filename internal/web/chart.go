package web

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script, no library, and
// they print. Each has a <title> for screen readers; pages put the numbers
// in a table beside it as well.

// Colours of the charts, chosen to keep 3:1 contrast with white and to stay
// apart for the common colour-vision deficiencies (the green and red also
// differ in lightness).
const (
	chartGreen  = "#1b8a3a"
	chartYellow = "#e0a800"
	chartRed    = "#c62828"
	chartBlue   = "#1f5fbf"
	chartGrey   = "#8a8f98"
	chartTeal   = "#00838f"
)

// series is one layer of a stacked chart.
type series struct {
	Name  string
	Color string
}

// hbar is one row of a horizontal bar chart; Values has one number per series.
type hbar struct {
	Label  string
	Values []float64
	Note   string // printed after the bar (e.g. "92.3%")
}

// hbarChart draws stacked horizontal bars, one row per item.
func hbarChart(title string, ser []series, rows []hbar) string {
	const (
		labelW = 130.0
		barW   = 420.0
		noteW  = 90.0
		rowH   = 28.0
		top    = 30.0
	)
	width := labelW + barW + noteW
	height := top + rowH*float64(len(rows)) + 8
	maxV := 0.0
	for _, r := range rows {
		sum := 0.0
		for _, v := range r.Values {
			sum += v
		}
		maxV = math.Max(maxV, sum)
	}
	if maxV == 0 {
		maxV = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" role="img"><title>%s</title>`,
		width, height, html.EscapeString(title))
	legend(&b, ser, 0)
	for i, r := range rows {
		y := top + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" font-size="13" fill="#222">%s</text>`, labelW-8, y+rowH/2+4, html.EscapeString(r.Label))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.0f" height="%.0f" fill="#eef0f3"/>`, labelW, y+4, barW, rowH-8)
		x := labelW
		for j, v := range r.Values {
			w := barW * v / maxV
			if w <= 0 {
				continue
			}
			c := chartBlue
			if j < len(ser) {
				c = ser[j].Color
			}
			name := ""
			if j < len(ser) {
				name = ser[j].Name
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, y+4, w, rowH-8, c, html.EscapeString(r.Label), html.EscapeString(name), num(v))
			x += w
		}
		note := r.Note
		if note == "" {
			sum := 0.0
			for _, v := range r.Values {
				sum += v
			}
			note = num(sum)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="13" fill="#222">%s</text>`, labelW+barW+8, y+rowH/2+4, html.EscapeString(note))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// column is one x position of a column chart; Values has one number per series.
type column struct {
	Label  string
	Values []float64
}

// columnChart draws columns over time (hours, days): the series stacked,
// or side by side when grouped (counts that do not add up, such as codes
// shown and codes checked). Every label is printed when there are few
// columns, every few otherwise.
func columnChart(title string, ser []series, cols []column, grouped bool) string {
	const (
		left   = 48.0
		right  = 12.0
		top    = 34.0
		bottom = 30.0
		plotH  = 180.0
	)
	n := len(cols)
	colW := 26.0
	if n > 24 {
		colW = 18
	}
	width := left + right + colW*float64(max(n, 1))
	height := top + plotH + bottom
	if grouped && len(ser) > 1 {
		colW = math.Max(colW, 10*float64(len(ser))+6)
		width = left + right + colW*float64(max(n, 1))
	}
	maxV := 0.0
	for _, c := range cols {
		sum := 0.0
		for _, v := range c.Values {
			if grouped {
				sum = math.Max(sum, v)
			} else {
				sum += v
			}
		}
		maxV = math.Max(maxV, sum)
	}
	step := niceStep(maxV / 4)
	axisMax := step * 4
	if axisMax == 0 {
		axisMax, step = 4, 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" role="img"><title>%s</title>`,
		width, height, html.EscapeString(title))
	legend(&b, ser, left)
	for i := 0; i <= 4; i++ {
		v := step * float64(i)
		y := top + plotH - plotH*v/axisMax
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#dde1e6"/>`, left, width-right, y, y)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" font-size="11" fill="#555">%s</text>`, left-6, y+4, num(v))
	}
	every := 1
	if n > 12 {
		every = int(math.Ceil(float64(n) / 12))
	}
	for i, c := range cols {
		x := left + colW*float64(i)
		y := top + plotH
		barW := colW - 4
		if grouped && len(ser) > 1 {
			barW = (colW - 4) / float64(len(ser))
		}
		for j, v := range c.Values {
			h := plotH * v / axisMax
			if h <= 0 {
				continue
			}
			col := chartBlue
			name := ""
			if j < len(ser) {
				col, name = ser[j].Color, ser[j].Name
			}
			bx, by := x+2, y-h
			if grouped && len(ser) > 1 {
				bx = x + 2 + barW*float64(j)
			} else {
				y -= h
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				bx, by, barW, h, col, html.EscapeString(c.Label), html.EscapeString(name), num(v))
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" font-size="11" fill="#555">%s</text>`,
				x+colW/2, top+plotH+16, html.EscapeString(c.Label))
		}
	}
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="#555"/>`, left, width-right, top+plotH, top+plotH)
	b.WriteString(`</svg>`)
	return b.String()
}

func legend(b *strings.Builder, ser []series, x float64) {
	for _, s := range ser {
		fmt.Fprintf(b, `<rect x="%.0f" y="6" width="12" height="12" fill="%s"/><text x="%.0f" y="16" font-size="12" fill="#222">%s</text>`,
			x, s.Color, x+16, html.EscapeString(s.Name))
		x += 24 + 13*float64(len([]rune(s.Name)))
	}
}

// niceStep rounds a raw gridline step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return math.Max(1, m*p)
		}
	}
	return 10 * p
}

// num prints a count, with a thousands separator.
func num(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
