package status

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Causes of a change, in the change log.
const (
	CauseFact   = "fact"   // a fact was recorded
	CauseTime   = "time"   // the scheduler: a rule's answer changed with time
	CauseRules  = "rules"  // a recompute after an activation
	CauseAppeal = "appeal" // an appeal was granted
)

// personRef is a person to evaluate: the status row carries the region so
// that scoped views and statistics need not join persons.
type personRef struct {
	num    int64
	region string
}

// row is a person's stored decision. A person without a row has the zero
// decision: green, no rule, no re-evaluation. The reason and advice are not
// read with it: they follow from the rule and the version that decided
// (versions are immutable), and reading four text columns per person would
// be a good part of a recompute's cost.
type row struct {
	num       int64
	region    string
	color     rules.Color
	ruleID    string
	nextEval  int64 // unix ms, 0 for none
	version   int64
	rulesVer  int64
	updatedAt int64
}

func defaultRow(p personRef) row { return row{num: p.num, region: p.region, color: rules.Green} }

const rowCols = `person_num, region_code, color, rule_id, COALESCE(next_eval_at, 0), version, rules_version, updated_at`

// rowLine is rowCols as one text column, for the recompute, which reads a
// status row for everyone: through the SQLite driver each column of each
// row costs about as much as the row itself, so one column instead of seven
// saves most of the read. Region codes and rule ids cannot hold '|'.
const rowLine = `person_num, region_code || '|' || color || '|' || rule_id || '|' || COALESCE(next_eval_at, 0) || '|' ||
	version || '|' || rules_version || '|' || updated_at`

func scanRowLine(sc scanner) (row, error) {
	var r row
	var line string
	if err := sc.Scan(&r.num, &line); err != nil {
		return r, err
	}
	var f [7]string
	for i := 0; i < 6; i++ {
		j := strings.IndexByte(line, '|')
		if j < 0 {
			return r, fmt.Errorf("status: malformed status row %d", r.num)
		}
		f[i], line = line[:j], line[j+1:]
	}
	f[6] = line
	var n [5]int64
	for i, v := range []string{f[1], f[3], f[4], f[5], f[6]} {
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return r, fmt.Errorf("status: malformed status row %d: %w", r.num, err)
		}
		n[i] = x
	}
	r.region, r.ruleID = f[0], f[2]
	r.color, r.nextEval, r.version, r.rulesVer, r.updatedAt = rules.Color(n[0]), n[1], n[2], n[3], n[4]
	return r, nil
}

type scanner = db.Scanner

// scanPersonRef reads a row of num and region_code.
func scanPersonRef(sc scanner) (personRef, error) {
	var p personRef
	err := sc.Scan(&p.num, &p.region)
	return p, err
}

// scanNum reads a row of one integer (a person number).
func scanNum(sc scanner) (int64, error) {
	var n int64
	err := sc.Scan(&n)
	return n, err
}

func scanRow(sc scanner) (row, error) {
	var r row
	var c int64
	err := sc.Scan(&r.num, &r.region, &c, &r.ruleID, &r.nextEval, &r.version, &r.rulesVer, &r.updatedAt)
	r.color = rules.Color(c)
	return r, err
}

// storedFact is a fact as read for evaluation; attrs stay JSON until a
// worker decodes them, so that decoding runs in parallel.
type storedFact struct {
	num      int64
	id       int64
	kind     string
	at       int64
	until    int64
	attrs    string
	source   string
	recorded int64
}

const factCols = `person_num, id, kind, at, COALESCE(until_at, 0), attrs, source, recorded_at`

func scanFact(sc scanner) (storedFact, error) {
	var f storedFact
	err := sc.Scan(&f.num, &f.id, &f.kind, &f.at, &f.until, &f.attrs, &f.source, &f.recorded)
	return f, err
}

func (f *storedFact) fact() (fact.Fact, error) {
	out := fact.Fact{Kind: f.kind, At: db.Time(f.at), Until: db.Time(f.until), Source: f.source, RecordedAt: db.Time(f.recorded)}
	attrs, err := decodeAttrs(f.attrs)
	if err != nil {
		return out, fmt.Errorf("status: fact %d: attrs: %w", f.id, err)
	}
	out.Attrs = attrs
	return out, nil
}

// execMany runs "head VALUES (...),(...) tail" over args, cols per row, in
// statements of db.BatchRows rows.
func (s *Service) execMany(ctx context.Context, tx db.Tx, head, tail string, cols int, args []any) error {
	_, err := s.insertRows(ctx, tx, db.Insert{Head: head + " VALUES ", Cols: cols, Tail: " " + tail}, args)
	return err
}

// insertRows runs ins over args in statements of db.BatchRows rows and
// returns the rows affected. On SQLite a call of several full statements
// (a bulk Record's chunk) prepares the full one once: the driver keeps no
// statement cache, and parsing a multi-row INSERT again for every thousand
// rows is a good part of its cost (pgx caches statements itself). Its
// columns whose value is the same in every row (db.Insert.Shared: a chunk's
// kind, source, time, rule) are bound once per statement. On PostgreSQL a
// large insert goes as one array per column (db.Insert.Unnest).
func (s *Service) insertRows(ctx context.Context, tx db.Tx, ins db.Insert, args []any) (int64, error) {
	e := s.db.Engine()
	if e == db.Postgres && len(args) >= unnestRows*ins.Cols {
		if query, arrays, ok := ins.Unnest(args); ok {
			res, err := tx.ExecContext(ctx, query, arrays...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		}
	}
	if e != db.SQLite || len(args) < 2*e.BatchRows(ins.Cols)*ins.Cols {
		return ins.Exec(ctx, tx, e, args)
	}
	shared := ins.Shared(args)
	rows := ins.SharedRows(e, shared)
	full := ins.SQL(e, rows)
	if shared != nil {
		full = ins.SharedSQL(rows, shared)
	}
	per := rows * ins.Cols
	st, err := stmtTx{tx, s}.PrepareContext(ctx, full)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var n int64
	part := make([]any, 0, per)
	for len(args) > 0 {
		chunk := args[:min(per, len(args))]
		args = args[len(chunk):]
		part = ins.SharedArgs(part[:0], chunk, shared)
		var res sql.Result
		switch {
		case len(chunk) == per:
			res, err = st.ExecContext(ctx, part...)
		case shared == nil:
			res, err = tx.ExecContext(ctx, ins.SQL(e, len(chunk)/ins.Cols), part...)
		default:
			res, err = tx.ExecContext(ctx, ins.SharedSQL(len(chunk)/ins.Cols, shared), part...)
		}
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// unnestRows is the fewest rows a bulk insert sends to PostgreSQL as one
// array per column (db.Insert.Unnest) rather than as VALUES rows.
const unnestRows = 100

func nums(people []personRef) []int64 {
	out := make([]int64, len(people))
	for i, p := range people {
		out[i] = p.num
	}
	return out
}

// personRegions reads the regions of persons (sorted, distinct); a number
// without a person is a 404.
func (s *Service) personRegions(ctx context.Context, q db.Querier, ns []int64) ([]personRef, error) {
	out := make([]personRef, 0, len(ns))
	err := s.eachOf(ctx, q, `SELECT num, region_code FROM persons`, "num", ns, ` ORDER BY num`,
		func(theirs func(int64) bool) func(db.Scanner) error {
			return func(sc db.Scanner) error {
				p, err := scanPersonRef(sc)
				if err != nil || theirs != nil && !theirs(p.num) {
					return err
				}
				out = append(out, p)
				return nil
			}
		})
	if err != nil {
		return nil, fmt.Errorf("status: read persons: %w", err)
	}
	if len(out) != len(ns) {
		return nil, person.ErrNotFound
	}
	return out, nil
}

// lockRows makes sure each person has a status row and locks it, returning
// the rows as they are once locked. A concurrent writer of the same persons
// either finished before (and its decision and fact pack are what we read)
// or waits for us. Locking a row that did not exist needs the row, hence the
// insert.
//
// On SQLite there is nothing to lock, and rows are only read: a person
// without a row gets one when their decision is written.
func (s *Service) lockRows(ctx context.Context, tx db.Tx, people []personRef) (map[int64]row, error) {
	out := make(map[int64]row, len(people))
	if s.db.Engine() == db.SQLite {
		err := s.eachOf(ctx, stmtTx{tx, s}, `SELECT `+rowCols+` FROM status`, "person_num", nums(people), ` ORDER BY person_num`,
			func(theirs func(int64) bool) func(db.Scanner) error {
				return func(sc db.Scanner) error {
					r, err := scanRow(sc)
					if err != nil || theirs != nil && !theirs(r.num) {
						return err
					}
					out[r.num] = r
					return nil
				}
			})
		if err != nil {
			return nil, fmt.Errorf("status: read status rows: %w", err)
		}
		return out, nil
	}
	err := s.insertBlankRows(ctx, tx, people, `ON CONFLICT (person_num) DO UPDATE SET person_num = excluded.person_num RETURNING `+rowCols,
		keepRows(out))
	if err != nil {
		return nil, fmt.Errorf("status: lock status rows: %w", err)
	}
	return out, nil
}

// lockPresent locks the status rows that persons (sorted, distinct) have,
// on PostgreSQL, returning them as they are once locked; persons without a
// row are left out, to be claimed by write (absentClaim).
func (s *Service) lockPresent(ctx context.Context, tx db.Tx, people []personRef) (map[int64]row, error) {
	out := make(map[int64]row)
	err := db.Each(ctx, tx, `SELECT `+rowCols+` FROM status WHERE person_num = ANY($1) ORDER BY person_num FOR UPDATE`,
		[]any{nums(people)}, keepRows(out))
	if err != nil {
		return nil, fmt.Errorf("status: lock status rows: %w", err)
	}
	return out, nil
}

// keepRows scans status rows (rowCols) into out by person.
func keepRows(out map[int64]row) func(db.Scanner) error {
	return func(sc db.Scanner) error {
		r, err := scanRow(sc)
		if err != nil {
			return err
		}
		out[r.num] = r
		return nil
	}
}

// absent is what write does about persons that had no status row when
// their rows were read.
type absent int

const (
	// absentLocked: there are none (lockRows inserted a row for each), or
	// on SQLite, the single writer's, none can appear; a row is written
	// where the decision differs from the default.
	absentLocked absent = iota
	// absentFresh (the recompute): a row is inserted only if still absent,
	// since on PostgreSQL a concurrent Record may have created it
	// meanwhile, and its decision, taken over facts this transaction could
	// not see, must stand (claimFresh).
	absentFresh
	// absentClaim (settle with claim): every absent person's row is
	// inserted, the default decision as a blank row, without ON CONFLICT:
	// a row another transaction created meanwhile fails the write with
	// errClaimLost.
	absentClaim
)

// errClaimLost is a claimed row (a status row, a first fact pack) that
// another transaction created first, or holds; the transaction is run again
// with the rows locked beforehand.
var errClaimLost = errors.New("status: a claimed row was created, or is held, by another transaction")

// claimWait is how long a claimed insert waits for a row another
// transaction holds. A claim is made out of the lock order (its status rows
// after the status_changes counter, its first packs after other persons'
// rows), so a transaction holding the row may be waiting for this one: the
// claim should be the side that yields, before PostgreSQL's deadlock check
// (deadlock_timeout, 1 s by default, counted from each side's own wait)
// picks the other; write inserts claimed rows first after it takes the
// counter for this. A side that began waiting more than about 0.9 s before
// the claim can still be picked; a recompute's batch then runs again.
const claimWait = "50ms"

// claimInsert runs insert, a claimed insert on PostgreSQL, waiting at most
// claimWait for a lock: a row already there, or one it could not wait for,
// is errClaimLost.
func claimInsert(ctx context.Context, tx db.Tx, insert func() error) error {
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '`+claimWait+`'`); err != nil {
		return err
	}
	if err := insert(); err != nil {
		if db.IsUniqueViolation(err) || db.IsLockTimeout(err) || db.IsDeadlock(err) {
			return fmt.Errorf("%w: %w", errClaimLost, err)
		}
		return err
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout TO DEFAULT`)
	return err
}

// denseIn is, for persons (sorted, distinct) that fill at least half of
// the numbers from the first to the last, a test of whether a number read
// in ascending order is one of them; nil otherwise. A bulk Record's chunk
// is such a run (a risk area over a city reaches nearly every person), and
// on SQLite one range read of the rowid tables (status rows, packs), which
// mostly finds nothing, costs a fraction of ten thousand keys bound into IN
// lists and looked up one by one.
func denseIn(ns []int64) func(num int64) bool {
	if len(ns) < denseMin || ns[len(ns)-1]-ns[0] >= 2*int64(len(ns)) {
		return nil
	}
	i := 0
	return func(num int64) bool {
		for i < len(ns) && ns[i] < num {
			i++
		}
		return i < len(ns) && ns[i] == num
	}
}

// eachOf reads the rows of selectFrom (a SELECT ... FROM) whose column
// col holds one of the persons ns, ordered by tail, through fn's scanner.
// On SQLite, persons sorted and dense enough (denseIn) are read by one range
// of col and fn is given the test that tells theirs from their neighbours;
// otherwise they are read by IN lists and fn is given nil: every row is
// theirs.
func (s *Service) eachOf(ctx context.Context, q db.Querier, selectFrom, col string, ns []int64, tail string,
	fn func(theirs func(int64) bool) func(db.Scanner) error) error {
	if s.db.Engine() == db.SQLite && slices.IsSorted(ns) {
		if in := denseIn(ns); in != nil {
			return db.Each(ctx, q, selectFrom+` WHERE `+col+` >= $1 AND `+col+` <= $2`+tail, []any{ns[0], ns[len(ns)-1]}, fn(in))
		}
	}
	return db.QueryIn(ctx, q, s.db.Engine(), selectFrom+` WHERE `+col+` IN `, nil, ns, tail, fn(nil))
}

// denseMin is the fewest persons read by range rather than by IN lists.
const denseMin = 64

// insertBlankRows inserts the default (green, undecided) status row of each
// person, followed by tail (an ON CONFLICT and RETURNING clause), and calls
// fn on each row returned. Only person and region are parameters, so it
// builds its own VALUES rows, in statements of db.BatchRows rows; on
// PostgreSQL many persons go as two arrays in one statement.
func (s *Service) insertBlankRows(ctx context.Context, tx db.Tx, people []personRef, tail string, fn func(db.Scanner) error) error {
	e := s.db.Engine()
	if e == db.Postgres && len(people) >= unnestRows {
		// One statement, the persons and regions as two arrays.
		ns, regions := make([]int64, len(people)), make([]string, len(people))
		for i, p := range people {
			ns[i], regions[i] = p.num, p.region
		}
		return db.Each(ctx, tx, fmt.Sprintf(`INSERT INTO status (person_num, region_code, color, rule_id, reason_zh, reason_en,
			advice_zh, advice_en, next_eval_at, version, rules_version, evaluated_at, updated_at)
			SELECT n, r, %d, '', '', '', '', '', NULL, 0, 0, 0, 0 FROM unnest($1::bigint[], $2::text[]) AS u (n, r) `, rules.Green)+tail,
			[]any{ns, regions}, fn)
	}
	per := e.BatchRows(2)
	for len(people) > 0 {
		part := people[:min(per, len(people))]
		people = people[len(part):]
		args := make([]any, 0, 2*len(part))
		var b strings.Builder
		b.WriteString(`INSERT INTO status (person_num, region_code, color, rule_id, reason_zh, reason_en,
		advice_zh, advice_en, next_eval_at, version, rules_version, evaluated_at, updated_at) VALUES `)
		for j, p := range part {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "($%d, $%d, %d, '', '', '', '', '', NULL, 0, 0, 0, 0)", 2*j+1, 2*j+2, rules.Green)
			args = append(args, p.num, p.region)
		}
		b.WriteString(" " + tail)
		if err := db.Each(ctx, tx, e.Positional(b.String()), args, fn); err != nil {
			return err
		}
	}
	return nil
}

// factRowsOf reads the facts of persons (sorted) from the facts table, in
// recording order. Evaluation reads packs instead (pack.go).
func (s *Service) factRowsOf(ctx context.Context, q db.Querier, ns []int64) ([]storedFact, error) {
	var out []storedFact
	err := db.QueryIn(ctx, q, s.db.Engine(), `SELECT `+factCols+` FROM facts WHERE person_num IN `, nil, ns, ` ORDER BY person_num, id`,
		collectFacts(&out))
	if err != nil {
		return nil, fmt.Errorf("status: read facts: %w", err)
	}
	return out, nil
}

// collectFacts appends each row scanned to out.
func collectFacts(out *[]storedFact) func(db.Scanner) error {
	return func(sc db.Scanner) error {
		f, err := scanFact(sc)
		if err != nil {
			return err
		}
		*out = append(*out, f)
		return nil
	}
}

// evaluate decides every person of people (sorted by num) over their facts
// (sorted by person, then recording order), in parallel for big batches.
func (s *Service) evaluate(prog *rules.Program, people []personRef, facts []storedFact, now time.Time) ([]rules.Decision, error) {
	// spans[i] is the slice of facts of people[i].
	spans := make([][2]int, len(people))
	j := 0
	for i, p := range people {
		for j < len(facts) && facts[j].num < p.num {
			j++
		}
		start := j
		for j < len(facts) && facts[j].num == p.num {
			j++
		}
		spans[i] = [2]int{start, j}
	}
	out := make([]rules.Decision, len(people))
	work := func(lo, hi int) error {
		var buf []fact.Fact
		for i := lo; i < hi; i++ {
			buf = buf[:0]
			for k := spans[i][0]; k < spans[i][1]; k++ {
				f, err := facts[k].fact()
				if err != nil {
					return err
				}
				buf = append(buf, f)
			}
			out[i] = prog.Eval(buf, now)
		}
		return nil
	}
	workers := s.cfg.Workers
	if len(people) < 256 || workers < 2 {
		return out, work(0, len(people))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	per := (len(people) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min((w+1)*per, len(people))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = work(lo, hi)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ceilMillis stores a re-evaluation time in milliseconds, rounding up: a
// time rounded down would wake the scheduler before the rule's answer
// changes, and it would find nothing to do again and again until it did.
func ceilMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return ms
}

// change is a committed change, for this node's cache.
type change struct {
	num   int64
	color rules.Color
	seq   int64
}

// written counts what write did, for recompute progress and the metrics.
type written struct {
	rows    int // status rows written
	changes []change
	cause   string
	notes   int // notifications queued
	facts   int // facts stored
	failed  ruleFailure
}

// ruleFailure is how many decisions of a write had rules fail at run time,
// and the first of them. It is logged once the write has committed, so that
// an attempt rolled back and written again (a bulk chunk's lost claim) is
// not reported twice.
type ruleFailure struct {
	persons int
	first   rules.RuleError
	person  int64
	version int64
}

// write stores the decisions that differ from the current rows: a
// different colour or deciding rule is a change (a change-log entry, a new
// version, and for a different colour a notification); a different reason
// text or re-evaluation time only updates the row.
//
// Persons missing from cur had no status row when it was read; absent says
// what write does about them.
func (s *Service) write(ctx context.Context, tx db.Tx, ver int64, people []personRef, cur map[int64]row,
	ds []rules.Decision, now time.Time, cause string, mode absent) (written, error) {
	w := written{cause: cause}
	nowMs := now.UnixMilli()
	if mode == absentFresh {
		var err error
		if people, ds, err = s.claimFresh(ctx, tx, people, cur, ds); err != nil {
			return w, err
		}
	}
	type upd struct {
		row
		reason, advice rules.Text
		claim          bool // inserted, not updated: a row that was absent (absentClaim)
	}
	var upds []upd
	var logged []int      // indexes into upds
	var blank []personRef // absent, and the default decision (absentClaim)
	for i, p := range people {
		d := &ds[i]
		if len(d.Errors) > 0 {
			// One line per batch: a broken rule fails for everyone it reaches.
			if w.failed.persons == 0 {
				w.failed = ruleFailure{first: d.Errors[0], person: p.num, version: ver}
			}
			w.failed.persons++
		}
		old, ok := cur[p.num]
		if !ok {
			old = defaultRow(p)
		}
		claim := !ok && mode == absentClaim
		next := ceilMillis(d.NextEval)
		if old.color == d.Color && old.ruleID == d.RuleID && old.nextEval == next && old.region == p.region {
			same, err := s.sameTexts(ctx, tx, old, d)
			if err != nil {
				return w, err
			}
			if same {
				if claim {
					blank = append(blank, p)
				}
				continue
			}
		}
		nr := upd{row: row{num: p.num, region: p.region, color: d.Color, ruleID: d.RuleID,
			nextEval: next, version: old.version, rulesVer: ver, updatedAt: old.updatedAt}, reason: d.Reason, advice: d.Advice,
			claim: claim}
		if old.color != d.Color || old.ruleID != d.RuleID {
			nr.updatedAt = nowMs
			logged = append(logged, len(upds))
		}
		upds = append(upds, nr)
		// Keep the old row for the change log.
		cur[p.num] = old
	}
	if len(blank) > 0 {
		err := claimInsert(ctx, tx, func() error {
			return s.insertBlankRows(ctx, tx, blank, ``, func(db.Scanner) error { return nil })
		})
		if err != nil {
			return w, fmt.Errorf("status: create status rows: %w", err)
		}
	}
	if len(upds) == 0 {
		return w, nil
	}
	var first int64
	if len(logged) > 0 {
		last, err := db.NextVal(ctx, tx, "status_changes", int64(len(logged)))
		if err != nil {
			return w, err
		}
		first = last - int64(len(logged)) + 1
	}
	// A rule's own texts are not copied into every status row and change
	// (a risk area over a city writes a million of each): readers take them
	// from the rule in the row's version (rowTexts). ownTexts is the rule's
	// texts when it has them to give.
	texts := map[string]ruleText{}
	ownTexts := func(ruleID string) (ruleText, bool, error) {
		if ruleID == "" || ruleID == rules.AppealRuleID {
			return ruleText{}, false, nil
		}
		t, ok := texts[ruleID]
		if !ok {
			var err error
			if t, err = s.ruleText(ctx, tx, ver, ruleID); err != nil {
				return t, false, err
			}
			texts[ruleID] = t
		}
		return t, true, nil
	}
	changeArgs := make([]any, 0, 12*len(logged))
	var noteArgs []any
	var runs []noteRun
	notes := 0
	for k, i := range logged {
		nr := &upds[i]
		old := cur[nr.num]
		nr.version = first + int64(k)
		reason := nr.reason
		if t, ok, err := ownTexts(nr.ruleID); err != nil {
			return w, err
		} else if ok && t.reason == reason {
			reason = rules.Text{}
		}
		changeArgs = append(changeArgs, nr.version, nr.num, nr.region, int64(old.color), int64(nr.color), old.ruleID, nr.ruleID,
			reason.ZH, reason.EN, ver, cause, nowMs)
		if old.color != nr.color {
			notes++
			if n := len(runs); n > 0 && runs[n-1].last == nr.version-1 && runs[n-1].reason == nr.reason.ZH && runs[n-1].advice == nr.advice.ZH {
				runs[n-1].last = nr.version
			} else {
				runs = append(runs, noteRun{first: nr.version, last: nr.version, reason: nr.reason.ZH, advice: nr.advice.ZH})
			}
		}
		w.changes = append(w.changes, change{num: nr.num, color: nr.color, seq: nr.version})
	}
	// The status rows of a long run of changes to the same decision are
	// copied from the change log as the notifications are (below); the
	// rest go as values.
	var sruns []statusRun
	args := make([]any, 0, 13*len(upds))
	var claimArgs []any // the rows of claimed persons, inserted rather than upserted
	rowArgs := func(nr *upd, reason, advice rules.Text) {
		var next any
		if nr.nextEval != 0 {
			next = nr.nextEval
		}
		to := &args
		if nr.claim {
			to = &claimArgs
		}
		*to = append(*to, nr.num, nr.region, int64(nr.color), nr.ruleID, reason.ZH, reason.EN, advice.ZH, advice.EN,
			next, nr.version, nr.rulesVer, nowMs, nr.updatedAt)
	}
	isLogged := make([]bool, len(upds))
	for _, i := range logged {
		isLogged[i] = true
	}
	for i := range upds {
		nr := &upds[i]
		reason, advice := nr.reason, nr.advice
		if t, ok, err := ownTexts(nr.ruleID); err != nil {
			return w, err
		} else if ok && t.reason == reason && t.advice == advice {
			reason, advice = rules.Text{}, rules.Text{}
		}
		if !isLogged[i] {
			rowArgs(nr, reason, advice)
			continue
		}
		r := statusRun{first: nr.version, last: nr.version, color: nr.color, ruleID: nr.ruleID, reason: reason, advice: advice,
			next: nr.nextEval, rulesVer: nr.rulesVer, claim: nr.claim}
		if n := len(sruns); n > 0 && sruns[n-1].last == nr.version-1 && sruns[n-1].same(r) {
			sruns[n-1].last = nr.version
		} else {
			sruns = append(sruns, r)
		}
	}
	for _, r := range sruns {
		if r.last-r.first+1 < copyRun {
			for _, i := range logged[r.first-first : r.last-first+1] {
				rowArgs(&upds[i], r.reason, r.advice)
			}
		}
	}
	const statusCols = `person_num, region_code, color, rule_id, reason_zh, reason_en, advice_zh, advice_en, next_eval_at, version,
		rules_version, evaluated_at, updated_at`
	const statusUpsert = `ON CONFLICT (person_num) DO UPDATE SET region_code = excluded.region_code, color = excluded.color,
		rule_id = excluded.rule_id, reason_zh = excluded.reason_zh, reason_en = excluded.reason_en,
		advice_zh = excluded.advice_zh, advice_en = excluded.advice_en, next_eval_at = excluded.next_eval_at,
		version = excluded.version, rules_version = excluded.rules_version, evaluated_at = excluded.evaluated_at,
		updated_at = excluded.updated_at`
	// Claimed rows go first, so that the claim waits on another
	// transaction's row as soon after taking the status_changes counter as
	// it can (claimWait): the copied ones need only the change log before
	// them.
	if len(claimArgs) > 0 {
		err := claimInsert(ctx, tx, func() error {
			return s.execMany(ctx, tx, `INSERT INTO status (`+statusCols+`)`, ``, 13, claimArgs)
		})
		if err != nil {
			return w, fmt.Errorf("status: write status: %w", err)
		}
	}
	if len(changeArgs) > 0 {
		if err := s.execMany(ctx, tx, `INSERT INTO status_changes (seq, person_num, region_code, old_color, new_color,
			old_rule, rule_id, reason_zh, reason_en, rules_version, cause, at)`, "", 12, changeArgs); err != nil {
			return w, fmt.Errorf("status: log changes: %w", err)
		}
	}
	copied := func(r statusRun) error {
		var next any
		if r.next != 0 {
			next = r.next
		}
		insert := func(tail string) error {
			_, err := tx.ExecContext(ctx, s.db.Engine().Positional(`INSERT INTO status (`+statusCols+`)
			SELECT person_num, region_code, new_color, rule_id, CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT),
			CAST($5 AS BIGINT), seq, CAST($6 AS BIGINT), CAST($7 AS BIGINT), CAST($8 AS BIGINT) FROM status_changes
			WHERE seq >= $9 AND seq <= $10 `+tail), r.reason.ZH, r.reason.EN, r.advice.ZH, r.advice.EN, next, r.rulesVer,
				nowMs, nowMs, r.first, r.last)
			return err
		}
		var err error
		if r.claim {
			err = claimInsert(ctx, tx, func() error { return insert(``) })
		} else {
			err = insert(statusUpsert)
		}
		if err != nil {
			return fmt.Errorf("status: write status: %w", err)
		}
		return nil
	}
	for _, claimed := range []bool{true, false} {
		for _, r := range sruns {
			if r.claim != claimed || r.last-r.first+1 < copyRun {
				continue
			}
			if err := copied(r); err != nil {
				return w, err
			}
		}
		if claimed && len(args) > 0 {
			if err := s.execMany(ctx, tx, `INSERT INTO status (`+statusCols+`)`, statusUpsert, 13, args); err != nil {
				return w, fmt.Errorf("status: write status: %w", err)
			}
		}
	}
	// A notification repeats its change's columns: a long run of changes
	// with the same texts (a risk area over a city) is queued as one row,
	// which the sender turns into notifications a slice at a time
	// (expandRun), copying them from the change log.
	const noteCols = `seq, person_num, region_code, old_color, new_color, reason_zh, advice_zh, state, attempts, next_at, delivered, last_error, created_at`
	var runArgs []any
	for _, r := range runs {
		if r.last-r.first+1 < copyRun {
			for k, i := range logged[r.first-first : r.last-first+1] {
				nr := &upds[i]
				noteArgs = append(noteArgs, r.first+int64(k), nr.num, nr.region, int64(cur[nr.num].color), int64(nr.color),
					nr.reason.ZH, nr.advice.ZH, "pending", 0, nowMs, "", "", nowMs)
			}
			continue
		}
		runArgs = append(runArgs, r.first, r.last, r.first, r.reason, r.advice, nowMs)
	}
	if len(runArgs) > 0 {
		if err := s.execMany(ctx, tx, `INSERT INTO notification_runs (first_seq, last_seq, next_seq, reason_zh, advice_zh, created_at)`, "", 6,
			runArgs); err != nil {
			return w, fmt.Errorf("status: queue notifications: %w", err)
		}
	}
	if len(noteArgs) > 0 {
		if err := s.execMany(ctx, tx, `INSERT INTO notifications (`+noteCols+`)`, "", 13, noteArgs); err != nil {
			return w, fmt.Errorf("status: queue notifications: %w", err)
		}
	}
	w.rows, w.notes = len(upds), notes
	return w, nil
}

// statusRun is changes with consecutive seqs to the same decision, whose
// status rows are the same but for the change.
type statusRun struct {
	first, last    int64
	color          rules.Color
	ruleID         string
	reason, advice rules.Text
	next, rulesVer int64
	claim          bool
}

func (r statusRun) same(o statusRun) bool {
	return r.color == o.color && r.ruleID == o.ruleID && r.reason == o.reason && r.advice == o.advice && r.next == o.next &&
		r.rulesVer == o.rulesVer && r.claim == o.claim
}

// noteRun is changes with consecutive seqs that each change a colour with
// the same texts, whose notifications are the same but for the change.
type noteRun struct {
	first, last    int64
	reason, advice string
}

// copyRun is the length from which a run's status rows are copied from
// the change log in one statement, and its notifications queued as one run.
const copyRun = 64

// settle re-evaluates persons (sorted, distinct) in tx under the active
// version and writes what changed. The caller has already read the active
// version with activeProgram as the transaction's first statement.
// added are facts this transaction stored (sorted by person, then id): they
// are appended to the persons' packs and evaluated with the rest.
// sameTexts reports whether a row's reason and advice equal a decision's
// with the same rule: the row's are those of its rule in its version.
func (s *Service) sameTexts(ctx context.Context, q db.Querier, old row, d *rules.Decision) (bool, error) {
	switch old.ruleID {
	case "":
		return d.Reason == (rules.Text{}) && d.Advice == (rules.Text{}), nil
	case rules.AppealRuleID:
		return true, nil // fixed by the rules package, the same in every version
	}
	t, err := s.ruleText(ctx, q, old.rulesVer, old.ruleID)
	if err != nil {
		return false, err
	}
	return t.reason == d.Reason && t.advice == d.Advice, nil
}

type ruleText struct{ reason, advice rules.Text }

// rowTexts fills in the reason and advice of a status row that does not
// copy them (write): a row with a rule and no texts has its rule's texts in
// its rules version.
func (s *Service) rowTexts(ctx context.Context, q db.Querier, version int64, ruleID string, reason, advice *rules.Text) error {
	if ruleID == "" || ruleID == rules.AppealRuleID || *reason != (rules.Text{}) || *advice != (rules.Text{}) {
		return nil
	}
	t, err := s.ruleText(ctx, q, version, ruleID)
	if err != nil {
		return err
	}
	*reason, *advice = t.reason, t.advice
	return nil
}

// ruleText returns the reason and advice of a rule in a version ("" rule,
// or a rule the version lacks: none).
func (s *Service) ruleText(ctx context.Context, q db.Querier, version int64, ruleID string) (ruleText, error) {
	s.progMu.Lock()
	m, ok := s.texts[version]
	s.progMu.Unlock()
	if !ok {
		set, err := s.loadSet(ctx, q, version)
		if err != nil {
			return ruleText{}, err
		}
		m = make(map[string]ruleText, len(set.Rules))
		for _, r := range set.Rules {
			m[r.ID] = ruleText{r.Reason, r.Advice}
		}
		s.progMu.Lock()
		s.texts[version] = m
		s.progMu.Unlock()
	}
	return m[ruleID], nil
}

// With claim, on PostgreSQL, persons without a status row are not given a
// blank one to lock before they are evaluated: write inserts their rows,
// and fails with errClaimLost if another transaction created one meanwhile
// (the caller then runs the transaction again without claim), as their
// first packs do. A row inserted only to be updated a moment later was a
// fifth of what a bulk Record cost the database, where nearly every person
// is new.
func (s *Service) settle(ctx context.Context, tx db.Tx, ver int64, prog *rules.Program, people []personRef,
	now time.Time, cause string, added []storedFact, claim bool) (written, error) {
	if len(people) == 0 {
		return written{}, nil
	}
	mode := absentLocked
	var cur map[int64]row
	var err error
	if claim && s.db.Engine() == db.Postgres {
		mode = absentClaim
		cur, err = s.lockPresent(ctx, tx, people)
	} else {
		cur, err = s.lockRows(ctx, tx, people)
	}
	if err != nil {
		return written{}, err
	}
	facts, raw, err := s.packsOf(ctx, stmtTx{tx, s}, nums(people))
	if err != nil {
		return written{}, err
	}
	if len(added) > 0 {
		if err := s.appendPacks(ctx, tx, raw, added, mode == absentClaim); err != nil {
			return written{}, err
		}
		facts = mergeFacts(facts, added, 0, 0)
	}
	ds, err := s.evaluate(prog, people, facts, now)
	if err != nil {
		return written{}, err
	}
	return s.write(ctx, tx, ver, people, cur, ds, now, cause, mode)
}

// claimFresh inserts default rows for the persons without one whose
// decision is not the default, and drops from people those whose row
// another transaction created meanwhile. Inserted rows are then locked by
// this transaction and updated by write like any other.
func (s *Service) claimFresh(ctx context.Context, tx db.Tx, people []personRef, cur map[int64]row,
	ds []rules.Decision) ([]personRef, []rules.Decision, error) {
	var want []personRef
	for i, p := range people {
		if _, ok := cur[p.num]; ok {
			continue
		}
		d := &ds[i]
		if d.Color == rules.Green && d.RuleID == "" && d.NextEval.IsZero() && d.Reason == (rules.Text{}) {
			continue
		}
		want = append(want, p)
	}
	if len(want) == 0 {
		return people, ds, nil
	}
	got := map[int64]bool{}
	err := s.insertBlankRows(ctx, tx, want, `ON CONFLICT (person_num) DO NOTHING RETURNING person_num`, func(sc db.Scanner) error {
		n, err := scanNum(sc)
		if err != nil {
			return err
		}
		got[n] = true
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("status: create status rows: %w", err)
	}
	if len(got) == len(want) {
		return people, ds, nil
	}
	keepP := make([]personRef, 0, len(people))
	keepD := make([]rules.Decision, 0, len(ds))
	lost := map[int64]bool{}
	for _, p := range want {
		if !got[p.num] {
			lost[p.num] = true
		}
	}
	for i, p := range people {
		if !lost[p.num] {
			keepP = append(keepP, p)
			keepD = append(keepD, ds[i])
		}
	}
	return keepP, keepD, nil
}

// applyLocal puts this node's own committed changes into its cache at once,
// so that a caller's next Colour sees them; the tail applies them again,
// harmlessly. It counts them, and reports rules that failed at run time,
// now that they are committed.
func (s *Service) applyLocal(w written) {
	if f := w.failed; f.persons > 0 {
		s.log.Warn("rules failed at run time", "persons", f.persons, "first_person", f.person, "rule", f.first.RuleID,
			"field", f.first.Field, "err", f.first.Message, "rules_version", f.version)
	}
	for _, c := range w.changes {
		s.cache.set(c.num, c.color, uint64(c.seq))
	}
	if n := len(w.changes); n > 0 {
		if c := s.metrics.changes[w.cause]; c != nil {
			c.Add(float64(n))
		}
	}
	if w.notes > 0 {
		s.metrics.notesQueued.Add(float64(w.notes))
	}
	if w.facts > 0 {
		s.metrics.facts.Add(float64(w.facts))
	}
}

func sortedDistinct(ns []int64) []int64 {
	out := append([]int64(nil), ns...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	k := 0
	for i, n := range out {
		if i == 0 || n != out[k-1] {
			out[k] = n
			k++
		}
	}
	return out[:k]
}
