package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
)

// Plan is the engine's plan for query with args (EXPLAIN on PostgreSQL,
// EXPLAIN QUERY PLAN on SQLite), a line per row of its answer, for tests
// that a query reads through the index it was written for.
func Plan(t testing.TB, d *db.DB, query string, args ...any) string {
	t.Helper()
	explain := "EXPLAIN "
	if d.Engine() == db.SQLite {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := d.QueryContext(context.Background(), explain+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			s := fmt.Sprint(*v.(*any))
			if b, ok := (*v.(*any)).([]byte); ok {
				s = string(b)
			}
			plan.WriteString(strings.TrimSpace(s) + " ")
		}
		plan.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
