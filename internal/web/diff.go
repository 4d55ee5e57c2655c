package web

import "strings"

// diffLine is one line of a line diff: Op is "=" (in both), "-" (only in
// the old text) or "+" (only in the new one).
type diffLine struct {
	Op   string
	Text string
	Old  int // line number in the old text, 0 for an added line
	New  int // line number in the new text, 0 for a removed line
}

// diffLines compares two texts line by line by their longest common
// subsequence: small texts (rule sets are hundreds of lines), so the
// quadratic table is fine.
func diffLines(a, b string) []diffLine {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			out = append(out, diffLine{"=", x[i], i + 1, j + 1})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, diffLine{"-", x[i], i + 1, 0})
			i++
		default:
			out = append(out, diffLine{"+", y[j], 0, j + 1})
			j++
		}
	}
	return out
}

// diffContext keeps the changed lines and n lines of context around each,
// with a "…" line where unchanged lines were left out.
func diffContext(d []diffLine, n int) []diffLine {
	keep := make([]bool, len(d))
	for i, l := range d {
		if l.Op != "=" {
			for k := max(0, i-n); k <= min(len(d)-1, i+n); k++ {
				keep[k] = true
			}
		}
	}
	var out []diffLine
	for i, l := range d {
		if keep[i] {
			out = append(out, l)
		} else if len(out) == 0 || out[len(out)-1].Op != "…" {
			out = append(out, diffLine{Op: "…"})
		}
	}
	return out
}
