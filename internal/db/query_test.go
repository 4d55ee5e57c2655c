package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// items makes a table of n rows k = 1..n, v = "v<k>", region "<k mod 10>".
func items(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `CREATE TABLE items (k BIGINT PRIMARY KEY, v TEXT NOT NULL, region_code TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	args := make([]any, 0, 3*n)
	for k := 1; k <= n; k++ {
		args = append(args, k, fmt.Sprint("v", k), fmt.Sprint(k%10))
	}
	ins := db.Insert{Head: `INSERT INTO items (k, v, region_code) VALUES `, Cols: 3}
	if _, err := ins.Exec(ctx, d, d.Engine(), args); err != nil {
		t.Fatal(err)
	}
}

func scanKey(sc db.Scanner) (int64, error) {
	var k int64
	err := sc.Scan(&k)
	return k, err
}

func TestCollectAndEach(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		items(t, d, 5)
		for _, c := range []struct {
			query string
			args  []any
			want  []int64
		}{
			{`SELECT k FROM items ORDER BY k`, nil, []int64{1, 2, 3, 4, 5}},
			{`SELECT k FROM items WHERE k > $1 ORDER BY k DESC`, []any{3}, []int64{5, 4}},
			{`SELECT k FROM items WHERE k > $1`, []any{9}, nil},
		} {
			got, err := db.Collect(ctx, d, c.query, c.args, scanKey)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("Collect(%s, %v) = %v, %v; want %v", c.query, c.args, got, err, c.want)
			}
		}
		// A scan error, a callback's error and a bad query come back.
		if _, err := db.Collect(ctx, d, `SELECT v FROM items`, nil, scanKey); err == nil {
			t.Error("Collect scanned text into an integer without an error")
		}
		stop := errors.New("stop")
		seen := 0
		err := db.Each(ctx, d, `SELECT k FROM items ORDER BY k`, nil, func(db.Scanner) error {
			if seen++; seen == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || seen != 2 {
			t.Errorf("Each = %v after %d rows; want the callback's error after 2", err, seen)
		}
		if _, err := db.Collect(ctx, d, `SELECT k FROM no_such_table`, nil, scanKey); err == nil {
			t.Error("Collect on a missing table succeeded")
		}
	})
}

func TestQueryInAndExecInChunkTheList(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := d.Engine()
		// More keys than one statement may bind: without chunks the engine
		// refuses the statement.
		n := e.MaxParams() + 1
		items(t, d, n)
		for _, c := range []struct {
			name string
			keys []int64
			want int
		}{
			{"none", nil, 0},
			{"one", []int64{7}, 1},
			{"one chunk and one more", seq(1, e.BatchRows(1)+1), e.BatchRows(1) + 1},
			{"past the parameter limit", seq(1, n), n},
			{"absent keys", []int64{int64(n) + 1, int64(n) + 2}, 0},
		} {
			t.Run(c.name, func(t *testing.T) {
				var got []int64
				err := db.QueryIn(ctx, d, e, `SELECT k FROM items WHERE k IN `, nil, c.keys, ` ORDER BY k`, func(sc db.Scanner) error {
					k, err := scanKey(sc)
					got = append(got, k)
					return err
				})
				if err != nil || len(got) != c.want || !slices.IsSorted(got) {
					t.Fatalf("QueryIn: %d rows (sorted %v), %v; want %d in order", len(got), slices.IsSorted(got), err, c.want)
				}
				// The head's own parameters come before each chunk's keys.
				err = db.QueryIn(ctx, d, e, `SELECT k FROM items WHERE k > $1 AND k <> $2 AND k IN `, []any{1, 3}, c.keys, ``, func(sc db.Scanner) error {
					k, err := scanKey(sc)
					if k <= 1 || k == 3 {
						return fmt.Errorf("row %d does not meet the head's condition", k)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				affected, err := db.ExecIn(ctx, d, e, `UPDATE items SET v = $1 WHERE k IN `, []any{c.name}, c.keys, ``)
				if err != nil || affected != int64(c.want) {
					t.Fatalf("ExecIn = %d, %v; want %d", affected, err, c.want)
				}
				var updated int
				if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE v = $1`, c.name).Scan(&updated); err != nil || updated != c.want {
					t.Fatalf("%d rows updated, %v; want %d", updated, err, c.want)
				}
			})
		}
	})
}

func seq(from, to int) []int64 {
	out := make([]int64, 0, to-from+1)
	for k := from; k <= to; k++ {
		out = append(out, int64(k))
	}
	return out
}

func TestInsertInBatches(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := d.Engine()
		if _, err := d.ExecContext(ctx, `CREATE TABLE pairs (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a, b))`); err != nil {
			t.Fatal(err)
		}
		ins := db.Insert{Head: `INSERT INTO pairs (a, b) VALUES `, Cols: 2, Tail: ` ON CONFLICT DO NOTHING RETURNING a`}
		total := 0
		for _, c := range []struct {
			name     string
			from, to int // rows a = from..to, b = 1
			created  int
		}{
			{"none", 1, 0, 0},
			{"one", 1, 1, 1},
			{"one batch and one more", 2, e.BatchRows(2) + 2, e.BatchRows(2) + 1},
			{"past the parameter limit", 1, e.MaxParams()/2 + 1, e.MaxParams()/2 + 1 - (e.BatchRows(2) + 2)},
		} {
			t.Run(c.name, func(t *testing.T) {
				var args []any
				for a := c.from; a <= c.to; a++ {
					args = append(args, a, 1)
				}
				// Rows already stored are skipped by the tail and not returned.
				returned := 0
				err := d.InTx(ctx, func(tx db.Tx) error {
					return ins.Query(ctx, tx, e, args, func(db.Scanner) error { returned++; return nil })
				})
				if err != nil || returned != c.created {
					t.Fatalf("Query returned %d rows, %v; want %d", returned, err, c.created)
				}
				total += c.created
				var n int
				if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM pairs`).Scan(&n); err != nil || n != total {
					t.Fatalf("%d rows stored, %v; want %d", n, err, total)
				}
			})
		}
		exec := db.Insert{Head: `INSERT INTO pairs (a, b) VALUES `, Cols: 2, Tail: ` ON CONFLICT DO NOTHING`}
		if n, err := exec.Exec(ctx, d, e, []any{1, 2, 1, 1, 2, 2}); err != nil || n != 2 {
			t.Fatalf("Exec = %d, %v; want 2 rows (one was stored)", n, err)
		}
		if _, err := exec.Exec(ctx, d, e, []any{1, 2, 3}); err == nil {
			t.Fatal("Exec took 3 values for rows of 2")
		}
	})
}

func TestSharedColumnsBoundOnce(t *testing.T) {
	ins := db.Insert{Head: `INSERT INTO shared_rows (id, kind, note, at, blob) VALUES `, Cols: 5}
	for _, c := range []struct {
		name string
		args []any
		want []bool
	}{
		{"one row", []any{1, "k", nil, int64(5), []byte("x")}, nil},
		{"kind, note and time repeat", []any{int64(1), "k", nil, int64(5), []byte("x"), int64(2), "k", nil, int64(5), []byte("x")},
			[]bool{false, true, true, true, false}},
		{"an int is not an int64", []any{int64(1), "k", 7, int64(5), nil, int64(2), "j", int64(7), int64(5), nil},
			[]bool{false, false, false, true, true}},
		{"nothing repeats", []any{int64(1), "k", nil, int64(5), nil, int64(2), "j", "n", int64(6), []byte("y")}, nil},
		{"everything repeats", []any{int64(1), "k", nil, int64(5), nil, int64(1), "k", nil, int64(5), nil}, nil},
		{"not whole rows", []any{int64(1), "k", nil, int64(5), nil, int64(1)}, nil},
	} {
		if got := ins.Shared(c.args); !slices.Equal(got, c.want) {
			t.Errorf("%s: Shared = %v, want %v", c.name, got, c.want)
		}
	}
	shared := []bool{false, true, false, true, false}
	want := `INSERT INTO shared_rows (id, kind, note, at, blob) SELECT column1,?1,column2,?2,column3 FROM (VALUES (?,?,?),(?,?,?)) WHERE true`
	if got := ins.SharedSQL(2, shared); got != want {
		t.Errorf("SharedSQL = %s, want %s", got, want)
	}

	// SQLite only: pgx binds in its own protocol, where repeating a value
	// costs little, and PostgreSQL would type a VALUES list's parameters.
	d := dbtest.New(t, db.SQLite)
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `CREATE TABLE shared_rows (id BIGINT PRIMARY KEY, kind TEXT NOT NULL, note TEXT, at BIGINT NOT NULL,
		blob BYTEA)`); err != nil {
		t.Fatal(err)
	}
	const n = 2500 // more than one statement, and a last one shorter
	var args []any
	for i := range n {
		args = append(args, int64(i), "visit", nil, int64(1700), []byte{byte(i)})
	}
	shared = ins.Shared(args)
	if !slices.Equal(shared, []bool{false, true, true, true, false}) {
		t.Fatalf("Shared = %v", shared)
	}
	per := ins.SharedRows(d.Engine(), shared)
	for len(args) > 0 {
		rows := args[:min(per*ins.Cols, len(args))]
		args = args[len(rows):]
		if _, err := d.ExecContext(ctx, ins.SharedSQL(len(rows)/ins.Cols, shared), ins.SharedArgs(nil, rows, shared)...); err != nil {
			t.Fatal(err)
		}
	}
	var count, ids, bad int
	err := d.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(id), 0),
		COUNT(*) FILTER (WHERE kind <> 'visit' OR note IS NOT NULL OR at <> 1700 OR blob IS NULL) FROM shared_rows`).Scan(&count, &ids, &bad)
	if err != nil || count != n || ids != n*(n-1)/2 || bad != 0 {
		t.Fatalf("stored %d rows, ids summing to %d, %d wrong, %v; want %d, %d, 0", count, ids, bad, err, n, n*(n-1)/2)
	}
	var b []byte
	if err := d.QueryRowContext(ctx, `SELECT blob FROM shared_rows WHERE id = 1234`).Scan(&b); err != nil || !bytes.Equal(b, []byte{1234 % 256}) {
		t.Fatalf("row 1234's own value = %v, %v", b, err)
	}
}

func TestUnnestInsertsEveryRow(t *testing.T) {
	ins := db.Insert{Head: `INSERT INTO unnest_rows (id, kind, note, at, blob, ok) VALUES `, Cols: 6, Tail: ` ON CONFLICT DO NOTHING`}
	for _, c := range []struct {
		name string
		args []any
	}{
		{"a value of another type", []any{int64(1), "k", nil, 1.5, nil, true}},
		{"mixed types in a column", []any{int64(1), "k", nil, int64(5), nil, true, int64(2), int64(3), nil, int64(5), nil, true}},
		{"not whole rows", []any{int64(1), "k"}},
	} {
		if _, _, ok := ins.Unnest(c.args); ok {
			t.Errorf("%s: Unnest took it", c.name)
		}
	}
	d := dbtest.New(t, db.Postgres)
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `CREATE TABLE unnest_rows (id BIGINT PRIMARY KEY, kind TEXT NOT NULL, note TEXT, at BIGINT,
		blob BYTEA, ok BOOLEAN NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const n = 2500
	var args []any
	for i := range n {
		var note, at, blob any
		if i%3 == 0 {
			note, at, blob = fmt.Sprintf("n%d", i), i, []byte{byte(i)}
		}
		args = append(args, int64(i), "visit", note, at, blob, i%2 == 0)
	}
	args = append(args, int64(0), "again", nil, nil, nil, false) // skipped by the tail
	query, arrays, ok := ins.Unnest(args)
	if !ok {
		t.Fatal("Unnest refused the rows")
	}
	res, err := d.ExecContext(ctx, query, arrays...)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := res.RowsAffected(); err != nil || k != n {
		t.Fatalf("%d rows inserted, %v; want %d", k, err, n)
	}
	err = db.Each(ctx, d, `SELECT id, kind, note, at, blob, ok FROM unnest_rows ORDER BY id`, nil, func(sc db.Scanner) error {
		var id int64
		var kind string
		var note *string
		var at *int64
		var blob []byte
		var good bool
		if err := sc.Scan(&id, &kind, &note, &at, &blob, &good); err != nil {
			return err
		}
		i := int(id)
		if kind != "visit" || good != (i%2 == 0) || (note != nil) != (i%3 == 0) || (at != nil) != (i%3 == 0) || (blob != nil) != (i%3 == 0) {
			t.Errorf("row %d: %s %v %v %v %v", i, kind, note, at, blob, good)
		} else if i%3 == 0 && (*note != fmt.Sprintf("n%d", i) || *at != id || blob[0] != byte(i)) {
			t.Errorf("row %d: %s %d %v", i, *note, *at, blob)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A column of NULLs alone (a batch of facts none of which ends) has no
	// type to send; it goes as NULL. sql.NullInt64 is a bigint or a NULL.
	args = nil
	var sum int64
	for i := range 200 {
		at := any(int64(i))
		switch i % 3 {
		case 1:
			at = sql.NullInt64{Int64: int64(i), Valid: true}
		case 2:
			at = sql.NullInt64{}
		}
		if i%3 != 2 {
			sum += int64(i)
		}
		args = append(args, int64(n+i), "empty", nil, at, sql.NullInt64{}, true)
	}
	query, arrays, ok = ins.Unnest(args)
	if !ok || len(arrays) != 4 {
		t.Fatalf("Unnest of NULL columns: %d arrays, %v", len(arrays), ok)
	}
	if res, err := d.ExecContext(ctx, query, arrays...); err != nil {
		t.Fatal(err)
	} else if k, err := res.RowsAffected(); err != nil || k != 200 {
		t.Fatalf("%d rows inserted, %v; want 200", k, err)
	}
	var rows, nulls, ats, got int64
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE note IS NULL AND blob IS NULL), COUNT(at), SUM(at)
		FROM unnest_rows WHERE kind = 'empty'`).Scan(&rows, &nulls, &ats, &got); err != nil || rows != 200 || nulls != 200 ||
		ats != 134 || got != sum {
		t.Fatalf("NULL columns read back: %d rows, %d with NULLs, %d times summing to %d (want %d), %v", rows, nulls, ats, got, sum, err)
	}
}

func TestBatchRows(t *testing.T) {
	for _, c := range []struct {
		e    db.Engine
		cols int
		want int
	}{
		{db.SQLite, 1, 1000},
		{db.SQLite, 10, 1000},
		{db.SQLite, 40, 32766 / 40},
		{db.Postgres, 40, 1000},
		{db.Postgres, 100, 655},
		{db.Postgres, 100000, 1},
	} {
		if got := c.e.BatchRows(c.cols); got != c.want {
			t.Errorf("%s.BatchRows(%d) = %d, want %d", c.e, c.cols, got, c.want)
		}
	}
}

func TestScope(t *testing.T) {
	if got, args := db.Scope("t.region_code", "34", "35", []any{1, 2}); got != `t.region_code >= $3 AND t.region_code < $4` ||
		!slices.Equal(args, []any{1, 2, "34", "35"}) {
		t.Fatalf("Scope = %q, %v", got, args)
	}
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `CREATE TABLE places_in (k BIGINT PRIMARY KEY, region_code TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		regions := []string{"340000000", "341800000", "341881000", "341881003", "341881999", "341882000", "341900000", "350000000"}
		var args []any
		for i, r := range regions {
			args = append(args, i, r)
		}
		if _, err := (db.Insert{Head: `INSERT INTO places_in (k, region_code) VALUES `, Cols: 2}).Exec(ctx, d, d.Engine(), args); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			lo, hi string
			want   []int64
		}{
			{"", "", []int64{0, 1, 2, 3, 4, 5, 6, 7}}, // the whole country
			{"3418", "3419", []int64{1, 2, 3, 4, 5}},  // a city
			{"341881", "341882", []int64{2, 3, 4}},    // a county
			{"341881003", "341881004", []int64{3}},    // one town
			{"349", "", []int64{7}},                   // a scope of nines has no upper bound
			{"341883", "341884", nil},                 // nobody there
		} {
			cond, qargs := db.Scope("region_code", c.lo, c.hi, []any{int64(-1)})
			got, err := db.Collect(ctx, d, `SELECT k FROM places_in WHERE k > $1 AND `+cond+` ORDER BY k`, qargs, scanKey)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("scope [%q, %q) = %v, %v; want %v", c.lo, c.hi, got, err, c.want)
			}
		}
	})
}

func TestCounter(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if v, err := db.Counter(ctx, d, "never"); err != nil || v != 0 {
			t.Fatalf("Counter of a counter never advanced = %d, %v", v, err)
		}
		err := d.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "c", 3); return err })
		if err != nil {
			t.Fatal(err)
		}
		if v, err := db.Counter(ctx, d, "c"); err != nil || v != 3 {
			t.Fatalf("Counter = %d, %v; want 3", v, err)
		}
	})
}

// DeleteBefore counts per table, and a failing deletion leaves every table
// as it was.
func TestDeleteBefore(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		items(t, d, 10) // k is read as a time in unix ms: k < 4 is old
		cutoff := time.UnixMilli(4)
		del := db.Deletion{Table: "items", Query: `DELETE FROM items WHERE k < $1`}
		if _, err := db.DeleteBefore(ctx, d, cutoff, del, db.Deletion{Table: "nowhere", Query: `DELETE FROM nowhere WHERE k < $1`}); err == nil {
			t.Fatal("a deletion from a missing table succeeded")
		}
		if n, err := db.Collect(ctx, d, `SELECT k FROM items`, nil, scanKey); err != nil || len(n) != 10 {
			t.Fatalf("after a failed purge %d rows (%v), want all 10", len(n), err)
		}
		got, err := db.DeleteBefore(ctx, d, cutoff, del)
		if err != nil || got["items"] != 3 {
			t.Fatalf("DeleteBefore = %v, %v; want items: 3", got, err)
		}
	})
}
