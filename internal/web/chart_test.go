package web

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestNumbersOnCharts(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 344628: "344,628", -12345: "-12,345", 2.6: "3"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
	for raw, want := range map[float64]float64{0: 0, 0.3: 1, 3: 5, 7: 10, 12: 20, 180: 200, 2500: 5000} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
}

// Charts are well-formed SVG whose bars have the right sizes, and labels
// are escaped.
func TestChartsAreWellFormedSVG(t *testing.T) {
	h := hbarChart("<t>", []series{{"a", chartGreen}, {"b", chartRed}}, []hbar{
		{Label: "西津<街道>", Values: []float64{30, 10}}, {Label: "南山", Values: []float64{20, 0}}})
	c := columnChart("c", []series{{"x", chartBlue}, {"y", chartGrey}}, []column{{"01", []float64{4, 2}}, {"02", []float64{0, 8}}}, true)
	for _, svg := range []string{h, c} {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("not well-formed: %v\n%s", err, svg)
				}
				break
			}
		}
	}
	if !strings.Contains(h, "西津&lt;街道&gt;") || strings.Contains(h, "<t>") {
		t.Fatal("labels are not escaped")
	}
	// The longest stack fills the bar (420 wide): 30+10 of 40.
	if !strings.Contains(h, `width="315.0"`) || !strings.Contains(h, `width="105.0"`) {
		t.Fatalf("bar widths are off:\n%s", h)
	}
}
