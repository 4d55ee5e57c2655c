package db

import (
	"strconv"
	"strings"
)

// Statements that take a variable number of values (IN lists, multi-row
// INSERTs) are built with numbered parameters, $1, $2, ..., which both
// engines accept, and handed to Positional for the engine.

// Params is n parameters numbered from from+1: "$3,$4,$5" for Params(2, 3).
func Params(from, n int) string {
	var b strings.Builder
	b.Grow(5 * n)
	appendParams(&b, from, n)
	return b.String()
}

// Rows is rows parenthesised groups of cols parameters, numbered on from
// from+1: "($1,$2),($3,$4)" for Rows(0, 2, 2).
func Rows(from, rows, cols int) string {
	var b strings.Builder
	b.Grow(rows * (5*cols + 3))
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		appendParams(&b, from+r*cols, cols)
		b.WriteByte(')')
	}
	return b.String()
}

func appendParams(b *strings.Builder, from, n int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i + 1))
	}
}

// Positional rewrites $1, $2, ... into ? for SQLite when they appear in
// that order, as they do in statements built with Params and Rows, and
// returns any other query as it is. The embedded driver treats $N as a
// named parameter and finds each one by a linear search, which makes a
// statement with thousands of them cost quadratic time to bind; ? costs
// nothing. PostgreSQL needs $N and keeps it.
func (e Engine) Positional(query string) string {
	if e != SQLite {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	next := 1
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(query[i+1 : j])
		if err != nil || n != next {
			return query
		}
		next++
		b.WriteByte('?')
		i = j - 1
	}
	return b.String()
}

// MaxParams is the most parameters one statement may bind on the engine:
// SQLite's SQLITE_MAX_VARIABLE_NUMBER, PostgreSQL's wire-protocol limit.
func (e Engine) MaxParams() int {
	if e == SQLite {
		return 32766
	}
	return 65535
}

// maxBatchRows caps the rows of one multi-row statement (or the keys of
// one IN list) on both engines: past it a statement is no cheaper per row,
// only longer to build, send and parse, and one failure rolls back more.
const maxBatchRows = 1000

// BatchRows is how many rows of cols parameters one multi-row statement
// takes (cols = 1 for the keys of an IN list): as many as the engine's
// parameter limit allows, at most 1,000.
func (e Engine) BatchRows(cols int) int {
	return max(1, min(maxBatchRows, e.MaxParams()/max(1, cols)))
}

// Scope returns the condition that keeps the rows whose column col lies in
// a region scope [lo, hi) (auth.Bounds; hi empty for no upper bound), with
// lo and hi appended to args and numbered after the parameters already
// there. Scope("region_code", lo, hi, nil) is, with [lo, hi]:
//
//	region_code >= $1 AND region_code < $2   (a town, a county: hi set)
//	region_code >= $1 AND $2 = ''            (the whole region: no upper bound)
//
// The condition is built for the bounds it has, never as the catch-all
// "($2 = ” OR region_code < $2)": a plan made once for every value (a
// prepared statement's generic plan) could not bound an index range scan
// by such a disjunction, and a town operator's query would read from lo to
// the end of the index. ($2 = ” keeps the numbering of the parameters that
// follow; the planner evaluates it once.)
func Scope(col, lo, hi string, args []any) (string, []any) {
	n := len(args)
	a, b := "$"+strconv.Itoa(n+1), "$"+strconv.Itoa(n+2)
	if hi == "" {
		return col + " >= " + a + " AND " + b + " = ''", append(args, lo, hi)
	}
	return col + " >= " + a + " AND " + col + " < " + b, append(args, lo, hi)
}

// Where is a WHERE clause built for the filters a query has: each Add
// appends a condition whose ? placeholders become the next $n, with their
// arguments. A filter the caller did not give is not added, rather than
// written as a catch-all ("$4 = FALSE OR to_hash = $5") that keeps a
// prepared statement's generic plan from using the index the filter has.
type Where struct {
	conds  []string
	Args   []any
	narrow bool
	// town is the scope's column and its bounds when the scope is a town
	// or below, so that a Page reads it code by code.
	town, townLo, townHi string
}

// Narrow says a filter keeps few rows (a rare state's), so a Page on
// SQLite reads them through that filter's index first rather than a window
// of the table in key order, where it would find few or none of them, or a
// town's codes in key order, where it would read the town to find them.
func (w *Where) Narrow() { w.narrow = true }

// TownDigits is the length of a town's region code (GB/T 2260 with the
// township level): a scope of a town or below holds a sliver of a
// province's rows.
const TownDigits = 9

// Add appends cond (with ? for each of args, in order) to the clause.
func (w *Where) Add(cond string, args ...any) {
	var b strings.Builder
	i := 0
	for _, r := range cond {
		if r == '?' && i < len(args) {
			w.Args = append(w.Args, args[i])
			b.WriteString("$" + strconv.Itoa(len(w.Args)))
			i++
			continue
		}
		b.WriteRune(r)
	}
	w.conds = append(w.conds, b.String())
}

// Scope appends the region scope [lo, hi) on col (Scope above).
func (w *Where) Scope(col, lo, hi string) {
	if hi == "" {
		w.Add(col+" >= ?", lo)
		return
	}
	w.Add(col+" >= ? AND "+col+" < ?", lo, hi)
	if len(lo) >= TownDigits {
		w.town, w.townLo, w.townHi = col, lo, hi
	}
}

// SQL is the conditions joined by AND ("TRUE" for none).
func (w *Where) SQL() string {
	if len(w.conds) == 0 {
		return "TRUE"
	}
	return strings.Join(w.conds, " AND ")
}

// Next appends arg and returns its placeholder ($n), for what follows the
// conditions (a LIMIT).
func (w *Where) Next(arg any) string {
	w.Args = append(w.Args, arg)
	return "$" + strconv.Itoa(len(w.Args))
}
