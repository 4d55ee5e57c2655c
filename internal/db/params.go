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
