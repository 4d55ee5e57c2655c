package db

import "testing"

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
