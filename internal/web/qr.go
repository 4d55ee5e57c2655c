package web

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrSVG draws text as a QR symbol in SVG: crisp at any size, on screen and
// on paper, and a few hundred bytes where a PNG of the same symbol is
// kilobytes. The quiet zone is part of the symbol. label names it for
// screen readers.
func qrSVG(text string, level qrcode.RecoveryLevel, label string) (string, error) {
	return qrSVGSized(text, level, label, 0)
}

// qrSVGSized also gives the symbol a size of a whole number of pixels per
// module (module px each), which a screen draws without blurring module
// edges; CSS may still shrink it on a narrow screen.
func qrSVGSized(text string, level qrcode.RecoveryLevel, label string, module int) (string, error) {
	q, err := qrcode.New(text, level)
	if err != nil {
		return "", fmt.Errorf("web: qr: %w", err)
	}
	bm := q.Bitmap()
	n := len(bm)
	var b strings.Builder
	size := ""
	if module > 0 {
		size = fmt.Sprintf(` width="%d" height="%d"`, n*module, n*module)
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d"%s shape-rendering="crispEdges" role="img" aria-label="%s">`,
		n, n, size, escapeAttr(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bm {
		for x := 0; x < n; {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < n && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;", `'`, "&#39;")

func escapeAttr(s string) string { return attrEscaper.Replace(s) }
