package main

import (
	"testing"

	"github.com/healthcode/healthcode/internal/db"
)

func TestProcsFor(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMAXPROCS" {
				return v
			}
			return ""
		}
	}
	two := func() int { return 2 }
	for _, tc := range []struct {
		name   string
		flag   int
		engine db.Engine
		env    string
		want   int
	}{
		{"SQLite runs twice the CPUs", 0, db.SQLite, "", 4},
		{"PostgreSQL keeps the runtime's", 0, db.Postgres, "", 0},
		{"the flag wins on SQLite", 3, db.SQLite, "", 3},
		{"the flag wins on PostgreSQL", 6, db.Postgres, "", 6},
		{"GOMAXPROCS in the environment wins over the default", 0, db.SQLite, "2", 0},
		{"the environment wins over the flag too", 5, db.SQLite, "2", 0},
	} {
		if got := procsFor(tc.flag, tc.engine, env(tc.env), two); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}
