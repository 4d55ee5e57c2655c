package db

import (
	"fmt"
	"testing"
)

func TestParamsRowsPositional(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Params(2, 3), "$3,$4,$5"},
		{Params(0, 0), ""},
		{Rows(0, 2, 2), "($1,$2),($3,$4)"},
		{Rows(4, 1, 3), "($5,$6,$7)"},
		{SQLite.Positional("a = $1 AND b IN (" + Params(1, 2) + ")"), "a = ? AND b IN (?,?)"},
		{Postgres.Positional("a = $1 AND b IN (" + Params(1, 2) + ")"), "a = $1 AND b IN ($2,$3)"},
		// Out of order, or a $ that is not a parameter: left alone.
		{SQLite.Positional("a = $2 AND b = $1"), "a = $2 AND b = $1"},
		{SQLite.Positional("a = '$x' AND b = $1"), "a = '$x' AND b = $1"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestWhereAndScopeBuildOnlyTheFiltersGiven(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(w *Where)
		sql   string
		args  []any
	}{
		{name: "nothing", build: func(*Where) {}, sql: "TRUE"},
		{name: "the whole region and a phone", build: func(w *Where) {
			w.Add("id < ?", 9)
			w.Scope("region_code", "", "")
			w.Add("to_hash = ?", "h")
		}, sql: "id < $1 AND region_code >= $2 AND to_hash = $3", args: []any{9, "", "h"}},
		{name: "a town: bounded on both sides", build: func(w *Where) {
			w.Scope("region_code", "341881001", "341881002")
			w.Add("(at < ? OR (at = ? AND id < ?))", 5, 5, 7)
		}, sql: "region_code >= $1 AND region_code < $2 AND (at < $3 OR (at = $4 AND id < $5))", args: []any{"341881001", "341881002", 5, 5, 7}},
	} {
		var w Where
		c.build(&w)
		if got := w.SQL(); got != c.sql || fmt.Sprint(w.Args) != fmt.Sprint(c.args) {
			t.Errorf("%s: %q %v; want %q %v", c.name, got, w.Args, c.sql, c.args)
		}
	}
	for _, c := range []struct{ lo, hi, want string }{
		{"", "", "region_code >= $2 AND $3 = ''"},
		{"341881001", "341881002", "region_code >= $2 AND region_code < $3"},
	} {
		got, args := Scope("region_code", c.lo, c.hi, []any{1})
		if got != c.want || len(args) != 3 {
			t.Errorf("Scope(%q, %q) = %q %v; want %q", c.lo, c.hi, got, args, c.want)
		}
	}
}
