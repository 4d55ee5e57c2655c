package db

import (
	"context"
	"database/sql"
	"errors"
	"slices"
)

// BrowseWindow is how many rows, in key order, a page of a list reads
// before it turns to the index on its filters instead.
var BrowseWindow = 20_000

// TownCodes is how many region codes a town's page on SQLite reads one by
// one. A town's own rows lie under its code and its villages' (dozens); a
// scope under more (an audit log written under its grids' codes, a
// thousand in a large town) would cost two statements a code, so its keys
// are read through the region index and sorted instead.
var TownCodes = 64

// Browse reads pages of a list in the order of an integer key (persons by
// number, the audit log newest first) under filters that include a region
// scope. A wide scope (a province, a city) fills its page within the first
// rows in key order; a town is read code by code, each code's rows in key
// order from the index on (region code, key); a rare filter (Narrow) is
// read through its own index and sorted, which is cheap because it keeps
// few. Leaving the choice to the planner does not work on SQLite, which
// cannot tell how much of a table a range of region codes holds: it takes
// the region index for every scope and sorted a province's million rows to
// answer 100. On PostgreSQL, whose planner chooses well, a page is the
// plain query, and a town's is read code by code in one statement.
type Browse struct {
	Table string // the table
	Alias string // its alias in Cols and in the filters
	Key   string // the integer key the list is ordered by, unqualified
	Desc  bool   // newest (highest key) first
	Cols  string // the select list
}

// Page returns up to limit rows of the list past the key from (exclusive;
// in the list's direction) that match w, each read by scan.
func Page[T any](ctx context.Context, q EngineQuerier, b Browse, w Where, from int64, limit int, scan func(Scanner) (T, error)) ([]T, error) {
	past, order := " > ", " ORDER BY "+b.Key
	if b.Desc {
		past, order = " < ", " ORDER BY "+b.Key+" DESC"
	}
	fork := func() Where {
		f := w
		f.conds, f.Args = slices.Clone(w.conds), slices.Clone(w.Args)
		return f
	}
	if q.Engine() == Postgres {
		if w.town != "" {
			return pageByCode(ctx, q, b, fork(), past, from, limit, scan)
		}
		// PostgreSQL's planner knows from its statistics how much of the
		// table the scope holds and picks the index or the key order
		// itself; a window read first only costs it.
		plain := fork()
		plain.Add(b.Alias+"."+b.Key+past+"?", from)
		return Collect(ctx, q, `SELECT `+b.Cols+` FROM `+b.Table+` `+b.Alias+` WHERE `+plain.SQL()+order+` LIMIT `+plain.Next(limit), plain.Args, scan)
	}
	if w.narrow {
		return pageNarrow(ctx, q, b, fork(), past, order, from, limit, scan)
	}
	if w.town != "" {
		codes, many, err := townCodes(ctx, q, b, w.town, w.townLo, w.townHi)
		if err != nil {
			return nil, err
		}
		if many {
			return pageNarrow(ctx, q, b, fork(), past, order, from, limit, scan)
		}
		return pageEachCode(ctx, q, b, fork(), codes, past, order, from, limit, scan)
	}
	first := fork()
	window := `(SELECT * FROM ` + b.Table + ` WHERE ` + b.Key + past + first.Next(from) + order + ` LIMIT ` + first.Next(BrowseWindow) + `) ` + b.Alias
	out, err := Collect(ctx, q, `SELECT `+b.Cols+` FROM `+window+` WHERE `+first.SQL()+order+` LIMIT `+first.Next(limit), first.Args, scan)
	if err != nil || len(out) == limit {
		return out, err
	}
	// The window held less than a page: the rest lies past its end, if
	// the table goes on.
	var end int64
	err = q.QueryRowContext(ctx, `SELECT `+b.Key+` FROM `+b.Table+` WHERE `+b.Key+past+`$1`+order+` LIMIT 1 OFFSET $2`, from, BrowseWindow-1).Scan(&end)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	rest := fork()
	rest.Add(b.Alias+"."+b.Key+past+"?", end)
	more, err := Collect(ctx, q, `SELECT `+b.Cols+` FROM `+b.Table+` `+b.Alias+` WHERE `+rest.SQL()+order+` LIMIT `+rest.Next(limit-len(out)), rest.Args, scan)
	return append(out, more...), err
}

// pageNarrow reads a page of a narrow list on SQLite: the keys of the
// matching rows first, through the filters' index (covering when the
// filters are its columns, so sorting a town's keys reads no table row),
// then the page's rows by key. Reading whole rows through the index and
// sorting them read every one of the town's rows from the table.
func pageNarrow[T any](ctx context.Context, q EngineQuerier, b Browse, w Where, past, order string, from int64, limit int, scan func(Scanner) (T, error)) ([]T, error) {
	// The unary + keeps SQLite off an index in key order, which it may
	// prefer for the ORDER BY and the LIMIT and would read whole.
	w.Add("+"+b.Alias+"."+b.Key+past+"?", from)
	keyOrder := " ORDER BY +" + b.Alias + "." + b.Key
	if b.Desc {
		keyOrder += " DESC"
	}
	keys, err := Collect(ctx, q, `SELECT `+b.Alias+`.`+b.Key+` FROM `+b.Table+` `+b.Alias+` WHERE `+w.SQL()+keyOrder+` LIMIT `+w.Next(limit), w.Args, scanInt)
	if err != nil {
		return nil, err
	}
	return rowsByKey(ctx, q, b, keys, order, scan)
}

// rowsByKey reads a page's rows by their keys, in the list's order.
func rowsByKey[T any](ctx context.Context, q EngineQuerier, b Browse, keys []int64, order string, scan func(Scanner) (T, error)) ([]T, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out []T
	err := QueryIn(ctx, q, q.Engine(), `SELECT `+b.Cols+` FROM `+b.Table+` `+b.Alias+` WHERE `+b.Alias+`.`+b.Key+` IN `, nil, keys, order, func(sc Scanner) error {
		r, err := scan(sc)
		out = append(out, r)
		return err
	})
	return out, err
}

func scanInt(sc Scanner) (int64, error) {
	var k int64
	return k, sc.Scan(&k)
}

// pageEachCode reads a page of a town's list on SQLite, as pageByCode does
// on PostgreSQL but a statement at a time, SQLite having no lateral join:
// the town's region codes, a probe each; each code's first keys past from,
// in key order from the index on (region code, key), so that a page reads
// at most limit matching entries a code whatever the town's size; then the
// page's rows by key. Reading the town's every matching key and sorting
// them (the way before) took 69-178 ms a page of a town's texts or open
// tasks at 10M residents, and reading the keys of the untested among a
// town's 160,000 residents 159 ms.
func pageEachCode[T any](ctx context.Context, q EngineQuerier, b Browse, w Where, codes []string, past, order string, from int64, limit int, scan func(Scanner) (T, error)) ([]T, error) {
	key := b.Alias + "." + b.Key
	w.Add(key+past+"?", from)
	conds := w.SQL()
	n := w.Next(limit)
	code := w.Next("")
	desc := ""
	if b.Desc {
		desc = " DESC"
	}
	// The code's equality and the order by key lead SQLite to the index on
	// (region code, key); any index it may prefer for a filter (a state's
	// on (state, region code, id)) gives the keys in order too.
	query := `SELECT ` + key + ` FROM ` + b.Table + ` ` + b.Alias + ` WHERE ` + w.town + ` = ` + code + ` AND ` + conds +
		` ORDER BY ` + key + desc + ` LIMIT ` + n
	var keys []int64
	for _, c := range codes {
		w.Args[len(w.Args)-1] = c
		got, err := Collect(ctx, q, query, w.Args, scanInt)
		if err != nil {
			return nil, err
		}
		keys = append(keys, got...)
	}
	slices.Sort(keys)
	if b.Desc {
		slices.Reverse(keys)
	}
	return rowsByKey(ctx, q, b, keys[:min(len(keys), limit)], order, scan)
}

// townCodes is the distinct values of col (a region code, as the filters
// name it) in [lo, hi) in b's table, in order: one probe of its index a
// code, so a town's dozens of codes cost dozens of index searches, not its
// rows. many is true, and codes incomplete, past TownCodes of them.
func townCodes(ctx context.Context, q Querier, b Browse, col, lo, hi string) (codes []string, many bool, err error) {
	probe := func(cmp, from string) error {
		var c string
		err := q.QueryRowContext(ctx, `SELECT `+col+` FROM `+b.Table+` `+b.Alias+` WHERE `+col+cmp+`$1 AND `+col+` < $2 ORDER BY `+col+` LIMIT 1`,
			from, hi).Scan(&c)
		if err == nil {
			codes = append(codes, c)
		}
		return err
	}
	err = probe(" >= ", lo)
	for err == nil {
		if len(codes) > TownCodes {
			return nil, true, nil
		}
		err = probe(" > ", codes[len(codes)-1])
	}
	if errors.Is(err, sql.ErrNoRows) {
		return codes, false, nil
	}
	return nil, false, err
}

// pageByCode reads a page of a town's list on PostgreSQL code by code. A
// range of region codes cannot give rows in key order from the index on
// (region_code, key), so the plain query read and sorted every row of the
// town for a page (12,800 tasks and 170,000 texts at 10M, 110-780 ms). The
// town holds few distinct codes (itself, its villages): they are found by
// a skip scan of that index, one probe a code, and each code's first rows
// past from come from the same index in key order, so a page reads at most
// limit entries a code, whatever the town's size.
func pageByCode[T any](ctx context.Context, q Querier, b Browse, w Where, past string, from int64, limit int, scan func(Scanner) (T, error)) ([]T, error) {
	col, key := w.town, b.Alias+"."+b.Key
	lo, hi := w.Next(w.townLo), w.Next(w.townHi)
	w.Add(key+past+"?", from)
	n := w.Next(limit)
	desc := ""
	if b.Desc {
		desc = " DESC"
	}
	order := " ORDER BY " + key + desc
	from1 := ` FROM ` + b.Table + ` ` + b.Alias + ` WHERE `
	query := `WITH RECURSIVE codes(c) AS (
		(SELECT ` + col + from1 + col + ` >= ` + lo + ` AND ` + col + ` < ` + hi + ` ORDER BY ` + col + ` LIMIT 1)
		UNION ALL
		SELECT (SELECT ` + col + from1 + col + ` > codes.c AND ` + col + ` < ` + hi + ` ORDER BY ` + col + ` LIMIT 1)
		FROM codes WHERE codes.c IS NOT NULL)
	SELECT ` + b.Cols + from1 + key + ` IN (
		SELECT page.k FROM codes CROSS JOIN LATERAL (
			SELECT ` + key + ` AS k` + from1 + col + ` = codes.c AND ` + w.SQL() + order + ` LIMIT ` + n + `) page
		ORDER BY page.k` + desc + ` LIMIT ` + n + `)` + order
	return Collect(ctx, q, query, w.Args, scan)
}
