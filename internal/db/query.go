package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// Scanner is one row to read: a *sql.Row, or *sql.Rows on a row. It is an
// alias so that scan functions declared on the bare interface fit.
type Scanner = interface{ Scan(dest ...any) error }

// Each runs query on q and calls fn on each row it returns, stopping at the
// first error (fn's, or the query's).
func Each(ctx context.Context, q Querier, query string, args []any, fn func(Scanner) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return EachRow(rows, fn)
}

// EachRow calls fn on each of rows and closes them, stopping at the first
// error; for rows that do not come from a Querier (a prepared statement).
func EachRow(rows *sql.Rows, fn func(Scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Collect runs query on q and returns its rows, each read by scan.
func Collect[T any](ctx context.Context, q Querier, query string, args []any, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	err := Each(ctx, q, query, args, func(sc Scanner) error {
		v, err := scan(sc)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// QueryIn runs a statement with one IN list, head + "($k,...)" + tail, once
// per chunk of keys that one statement can bind (BatchRows), and calls fn on
// each row. args are head's own parameters, $1..$len(args), bound before
// each chunk's keys. The rows of one chunk come in the statement's order;
// the chunks in the order of keys.
//
// On SQLite, a call of several full chunks (a bulk Record, publishing a
// risk area over a city) prepares the full chunk's statement once where q
// can prepare: the driver keeps no statement cache, and parsing an IN list
// of a thousand parameters again for every chunk is a good part of its cost.
func QueryIn[K any](ctx context.Context, q Querier, e Engine, head string, args []any, keys []K, tail string, fn func(Scanner) error) error {
	var full *sql.Stmt
	if p, ok := q.(preparer); ok && e == SQLite && len(keys) >= 2*inPer(e, args) {
		var err error
		if full, err = p.PrepareContext(ctx, e.Positional(head+"("+Params(len(args), inPer(e, args))+")"+tail)); err != nil {
			return err
		}
		defer full.Close()
	}
	return inChunks(e, args, keys, func(list string, all []any) error {
		if full != nil && len(all)-len(args) == inPer(e, args) {
			rows, err := full.QueryContext(ctx, all...)
			if err != nil {
				return err
			}
			return EachRow(rows, fn)
		}
		return Each(ctx, q, e.Positional(head+list+tail), all, fn)
	})
}

// preparer is a Querier that can prepare a statement (a transaction, DB).
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// inPer is how many keys one IN list binds beside args.
func inPer(e Engine, args []any) int { return min(e.BatchRows(1), e.MaxParams()-len(args)) }

// ExecIn is QueryIn for a statement that returns no rows; it returns the
// rows affected by all the chunks.
func ExecIn[K any](ctx context.Context, q Querier, e Engine, head string, args []any, keys []K, tail string) (int64, error) {
	var n int64
	err := inChunks(e, args, keys, func(list string, all []any) error {
		res, err := q.ExecContext(ctx, e.Positional(head+list+tail), all...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n += k
		return err
	})
	return n, err
}

func inChunks[K any](e Engine, args []any, keys []K, fn func(list string, all []any) error) error {
	per := inPer(e, args)
	all := make([]any, len(args), len(args)+min(per, len(keys)))
	copy(all, args)
	for len(keys) > 0 {
		part := keys[:min(per, len(keys))]
		keys = keys[len(part):]
		all = all[:len(args)]
		for _, k := range part {
			all = append(all, k)
		}
		if err := fn("("+Params(len(args), len(part))+")", all); err != nil {
			return err
		}
	}
	return nil
}

// Insert is a multi-row INSERT: Head up to and including VALUES, then rows
// of Cols parameters, then Tail (ON CONFLICT, RETURNING).
type Insert struct {
	Head string
	Cols int
	Tail string
}

// SQL is the statement for n rows, as the engine binds it best.
func (ins Insert) SQL(e Engine, n int) string {
	return e.Positional(ins.Head + Rows(0, n, ins.Cols) + ins.Tail)
}

var errRowArgs = errors.New("db: insert arguments are not whole rows")

// Exec inserts the rows whose values are args (Cols a row, row after row)
// in statements of BatchRows rows, and returns the rows affected.
func (ins Insert) Exec(ctx context.Context, q Querier, e Engine, args []any) (int64, error) {
	var n int64
	err := ins.batches(e, args, func(query string, part []any) error {
		res, err := q.ExecContext(ctx, query, part...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n += k
		return err
	})
	return n, err
}

// Query is Exec for an INSERT ... RETURNING: fn is called on each row
// returned.
func (ins Insert) Query(ctx context.Context, q Querier, e Engine, args []any, fn func(Scanner) error) error {
	return ins.batches(e, args, func(query string, part []any) error {
		return Each(ctx, q, query, part, fn)
	})
}

func (ins Insert) batches(e Engine, args []any, fn func(query string, part []any) error) error {
	if ins.Cols <= 0 || len(args)%ins.Cols != 0 {
		return fmt.Errorf("%w: %d values for %d columns", errRowArgs, len(args), ins.Cols)
	}
	per := e.BatchRows(ins.Cols) * ins.Cols
	for len(args) > 0 {
		part := args[:min(per, len(args))]
		args = args[len(part):]
		if err := fn(ins.SQL(e, len(part)/ins.Cols), part); err != nil {
			return err
		}
	}
	return nil
}

// Counter reads the named counter of NextVal; 0 if it was never advanced.
func Counter(ctx context.Context, q Querier, name string) (int64, error) {
	v, _, err := CounterRow(ctx, q, name)
	return v, err
}

// CounterRow is Counter, and whether the counter has a row: a bound that
// was never set apart from one set to 0.
func CounterRow(ctx context.Context, q Querier, name string) (value int64, set bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = $1`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("db: read counter %s: %w", name, err)
	}
	return value, true, nil
}

// Shared is, for args of whole rows of ins, which columns hold the same
// value in every row: an integer, a string or NULL (nil when no column
// does, or every one does). A bulk insert of a publish or a carrier feed
// repeats the kind, the source, the time and the recorder in every row,
// and binding a value costs the SQLite driver a C call and, for text, a
// copy into C memory: bound once per statement (SharedSQL), they cost about
// half of a fact's binding.
func (ins Insert) Shared(args []any) []bool {
	if ins.Cols <= 0 || len(args) < 2*ins.Cols || len(args)%ins.Cols != 0 {
		return nil
	}
	shared := make([]bool, ins.Cols)
	k := 0
	for c := range ins.Cols {
		shared[c] = sameInColumn(args, c, ins.Cols)
		if shared[c] {
			k++
		}
	}
	if k == 0 || k == ins.Cols {
		return nil
	}
	return shared
}

func sameInColumn(args []any, c, cols int) bool {
	first := args[c]
	switch first.(type) {
	case nil, int64, int, string:
	default:
		return false
	}
	for i := c + cols; i < len(args); i += cols {
		if args[i] != first {
			return false
		}
	}
	return true
}

// SharedRows is how many rows one statement of SharedSQL takes.
func (ins Insert) SharedRows(e Engine, shared []bool) int {
	k := 0
	for _, s := range shared {
		if s {
			k++
		}
	}
	return max(1, min(maxBatchRows, (e.MaxParams()-k)/max(1, ins.Cols-k)))
}

// SharedSQL is, on SQLite, the statement for n rows whose shared columns
// (Shared) are bound once, as the statement's first parameters, one for
// each such column in order, and whose other values follow row by row
// (SharedArgs). The rows are a VALUES list selected from, so that the
// shared parameters, named ?1, ?2, ..., come first in the text and every
// other one is an anonymous ?: the driver asks SQLite for each parameter's
// name at every execution, and SQLite finds a name by scanning the list of
// named ones, so a statement of ten thousand numbered parameters spent
// longer naming them than inserting. Head must end in "VALUES ".
func (ins Insert) SharedSQL(n int, shared []bool) string {
	var b strings.Builder
	b.Grow(len(ins.Head) + len(ins.Tail) + n*(2*ins.Cols+3) + 8*ins.Cols + 40)
	b.WriteString(strings.TrimSuffix(ins.Head, "VALUES "))
	b.WriteString("SELECT ")
	si, vi := 1, 1
	for c, s := range shared {
		if c > 0 {
			b.WriteByte(',')
		}
		if s {
			b.WriteString("?" + strconv.Itoa(si))
			si++
			continue
		}
		b.WriteString("column" + strconv.Itoa(vi))
		vi++
	}
	b.WriteString(" FROM (VALUES ")
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for k := range vi - 1 {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	// SQLite reads an ON CONFLICT after a SELECT with no WHERE as the ON
	// of a join.
	b.WriteString(") WHERE true")
	b.WriteString(ins.Tail)
	return b.String()
}

// SharedArgs appends to dst the arguments of SharedSQL for rows (whole rows
// of args): the shared columns' values once, then each row's others. With
// no shared columns (nil) they are the rows as they are.
func (ins Insert) SharedArgs(dst, rows []any, shared []bool) []any {
	if shared == nil {
		return append(dst, rows...)
	}
	for c, s := range shared {
		if s {
			dst = append(dst, rows[c])
		}
	}
	for i := 0; i < len(rows); i += ins.Cols {
		for c, s := range shared {
			if !s {
				dst = append(dst, rows[i+c])
			}
		}
	}
	return dst
}

// Unnest is, on PostgreSQL, the statement and arguments that insert the
// rows of args (whole rows of ins) as one array per column: INSERT ...
// SELECT c0, c1, ... FROM unnest($1::bigint[], $2::text[], ...), followed
// by Tail.
// PostgreSQL decodes a handful of arrays rather than ten thousand
// parameters, and one statement takes rows of any number. A column's type
// is that of its values (integers, sql.NullInt64, strings, bytes, booleans,
// with NULLs among them). A column of NULLs alone, whose type the rows do not tell,
// is selected as the literal NULL and takes the table column's type (a
// batch of facts none of which has an end). ok is false for a column of
// values of other types.
func (ins Insert) Unnest(args []any) (query string, arrays []any, ok bool) {
	if ins.Cols <= 0 || len(args) == 0 || len(args)%ins.Cols != 0 {
		return "", nil, false
	}
	rows := len(args) / ins.Cols
	// SELECT c0, NULL, c2 FROM unnest($1::bigint[], $2::text[]) AS u (c0, c2)
	sel, types, names := make([]string, ins.Cols), []string(nil), []string(nil)
	arrays = make([]any, 0, ins.Cols)
	for c := range ins.Cols {
		var typ string
		for i := c; i < len(args) && typ == ""; i += ins.Cols {
			switch x := args[i].(type) {
			case nil:
			case sql.NullInt64:
				if x.Valid {
					typ = "bigint"
				}
			case int64, int:
				typ = "bigint"
			case string:
				typ = "text"
			case []byte:
				typ = "bytea"
			case bool:
				typ = "boolean"
			default:
				return "", nil, false
			}
		}
		if typ == "" {
			sel[c] = "NULL"
			continue
		}
		var arr any
		var good bool
		// A column without NULLs goes as a plain slice, which pgx encodes
		// without reflection (a third of a bulk chunk's encoding).
		nulls := false
		for i := c; i < len(args) && !nulls; i += ins.Cols {
			n, isNull := args[i].(sql.NullInt64)
			nulls = args[i] == nil || isNull && !n.Valid
		}
		switch {
		case typ == "bigint" && !nulls:
			arr, good = column(args, c, ins.Cols, rows, func(v any) (int64, bool) {
				switch x := v.(type) {
				case int64:
					return x, true
				case int:
					return int64(x), true
				case sql.NullInt64:
					return x.Int64, true
				}
				return 0, false
			})
		case typ == "bigint":
			arr, good = column(args, c, ins.Cols, rows, func(v any) (pgtype.Int8, bool) {
				switch x := v.(type) {
				case int64:
					return pgtype.Int8{Int64: x, Valid: true}, true
				case int:
					return pgtype.Int8{Int64: int64(x), Valid: true}, true
				case sql.NullInt64:
					return pgtype.Int8{Int64: x.Int64, Valid: x.Valid}, true
				}
				return pgtype.Int8{}, v == nil
			})
		case typ == "text" && !nulls:
			arr, good = column(args, c, ins.Cols, rows, func(v any) (string, bool) {
				x, ok := v.(string)
				return x, ok
			})
		case typ == "text":
			arr, good = column(args, c, ins.Cols, rows, func(v any) (pgtype.Text, bool) {
				x, ok := v.(string)
				return pgtype.Text{String: x, Valid: ok}, ok || v == nil
			})
		case typ == "bytea":
			arr, good = column(args, c, ins.Cols, rows, func(v any) ([]byte, bool) {
				x, ok := v.([]byte)
				return x, ok || v == nil
			})
		case typ == "boolean" && !nulls:
			arr, good = column(args, c, ins.Cols, rows, func(v any) (bool, bool) {
				x, ok := v.(bool)
				return x, ok
			})
		case typ == "boolean":
			arr, good = column(args, c, ins.Cols, rows, func(v any) (pgtype.Bool, bool) {
				x, ok := v.(bool)
				return pgtype.Bool{Bool: x, Valid: ok}, ok || v == nil
			})
		}
		if !good {
			return "", nil, false
		}
		arrays = append(arrays, arr)
		sel[c] = "c" + strconv.Itoa(c)
		names = append(names, sel[c])
		types = append(types, "$"+strconv.Itoa(len(arrays))+"::"+typ+"[]")
	}
	if len(arrays) == 0 {
		return "", nil, false
	}
	query = strings.TrimSuffix(ins.Head, "VALUES ") + "SELECT " + strings.Join(sel, ", ") + " FROM unnest(" +
		strings.Join(types, ", ") + ") AS u (" + strings.Join(names, ", ") + ")" + ins.Tail
	return query, arrays, true
}

// column is column c of rows of args converted by conv; false when a value
// does not convert.
func column[T any](args []any, c, cols, rows int, conv func(any) (T, bool)) ([]T, bool) {
	out := make([]T, rows)
	for r := range rows {
		v, ok := conv(args[r*cols+c])
		if !ok {
			return nil, false
		}
		out[r] = v
	}
	return out, true
}
