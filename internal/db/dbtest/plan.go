package dbtest

import (
	"context"
	"encoding/hex"
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

// GenericPlan is PostgreSQL's plan for query in the form a prepared
// statement settles on after five runs: made once for every value (the
// generic plan), which a query's values cannot steer. It is for tests that
// a statement's text, not its values, keeps it on its index. args are
// given as literals, since EXECUTE takes no bound parameters.
func GenericPlan(t testing.TB, d *db.DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := d.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `PREPARE generic_plan AS `+query); err != nil {
		t.Fatal(err)
	}
	// The connection goes back to the pool as it came.
	defer func() {
		conn.ExecContext(ctx, `DEALLOCATE generic_plan`)
		conn.ExecContext(ctx, `RESET plan_cache_mode`)
	}()
	params := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []byte:
			params[i] = `'\x` + hex.EncodeToString(v) + `'::bytea`
		case string:
			params[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		default:
			params[i] = fmt.Sprint(v)
		}
	}
	explain := `EXPLAIN EXECUTE generic_plan`
	if len(params) > 0 {
		explain += `(` + strings.Join(params, ", ") + `)`
	}
	rows, err := conn.QueryContext(ctx, explain)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
