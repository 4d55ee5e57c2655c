package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// row is one check-in as stored.
type row struct {
	place, at, person int64
}

// verRow is one verification event as stored.
type verRow struct {
	at, place, person int64
	keyID             string
	valid             bool
	reason            string
	color             int64
	kind              string
}

// pending is what one request asks to be written. The request is answered
// through done once the transaction holding it has committed.
type pending struct {
	checkins []row
	verif    *verRow
	done     chan error
}

func (p *pending) size() int {
	if p.verif != nil {
		return len(p.checkins) + 1
	}
	return len(p.checkins)
}

// errClosed answers writes that arrive after shutdown began.
var errClosed = errors.New("checkin: the writer is shut down")

// writer is the group commit: requests queue on a channel; a writer
// goroutine takes the first, collects what else is queued (and, with a
// delay, what comes for up to delay, until the batch is full or requests
// stop coming for a moment), commits the whole batch in one transaction and
// only then answers every request in it. One fsync (or WAL append) is shared by the
// batch, which is where the throughput comes from; nobody is answered before
// their rows are durable, which is where the guarantee comes from.
type writer struct {
	db       *db.DB
	delay    time.Duration
	maxBatch int
	flush    bool // on PostgreSQL, wait for the WAL flush (Config.WaitForFlush)
	in       chan *pending

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared multi-row INSERTs (SQLite), by text

	mu     sync.RWMutex // guards closed against sends racing the close of in
	closed bool
	wg     sync.WaitGroup

	// Requests accepted, and batches and requests committed: for the tests
	// that check requests really share transactions.
	accepted, batches, requests atomic.Int64
	metrics                     *metrics

	// journal, once opened (SQLite), takes the batches instead of the
	// tables (journal.go).
	journal atomic.Pointer[journal]
}

func newWriter(d *db.DB, delay time.Duration, maxBatch, writers int, flush bool, m *metrics) *writer {
	w := &writer{db: d, delay: delay, maxBatch: maxBatch, flush: flush, in: make(chan *pending, 4*maxBatch), metrics: m}
	if d.Engine() == db.Postgres && !flush && writers > 0 {
		w.wg.Add(1)
		go w.pipeLoop()
		return w
	}
	for range writers {
		w.wg.Add(1)
		go w.loop()
	}
	return w
}

// submit queues p and waits until it is committed. If ctx ends first the
// rows may still be committed; the caller just stops waiting.
func (w *writer) submit(ctx context.Context, p *pending) error {
	p.done = make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.in <- p:
		w.accepted.Add(1)
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops accepting, commits everything already queued and returns
// when the last batch is answered.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	w.wg.Wait()
	if j := w.journal.Load(); j != nil {
		j.close()
	}
	w.closeStatements()
}

// gap ends the collection of a batch early: once no request has arrived
// for this long, the clients that were going to join have joined, and
// waiting out the rest of the delay would only add latency.
const gap = 300 * time.Microsecond

// Without a delay, a batch is what queued while the writer was committing
// the previous one, plus what arrives while it yields, at most yieldRounds
// times and for at most yieldFor, to the request handlers that are running.
const (
	yieldRounds = 8
	yieldFor    = time.Millisecond
)

func (w *writer) loop() {
	defer w.wg.Done()
	batch := make([]*pending, 0, 64)
	for {
		first, ok := <-w.in
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		var open bool
		if w.delay > 0 {
			batch, open = w.collectFor(batch)
		} else {
			batch, open = w.collectRunning(batch)
		}
		w.commit(batch)
		if !open {
			return
		}
	}
}

// collectFor adds requests to batch until it is full, the delay has passed
// since the first, or none has arrived for the gap. open is false once the
// queue is closed.
func (w *writer) collectFor(batch []*pending) (_ []*pending, open bool) {
	n := batch[0].size()
	deadline := time.Now().Add(w.delay)
	idle := time.NewTimer(min(gap, w.delay))
	defer idle.Stop()
	for n < w.maxBatch {
		select {
		case p, ok := <-w.in:
			if !ok {
				return batch, false
			}
			batch = append(batch, p)
			n += p.size()
			idle.Reset(min(gap, time.Until(deadline)))
		case <-idle.C:
			return batch, true
		}
	}
	return batch, true
}

// collectRunning adds what is queued, then yields the processor to the
// goroutines that are ready to run (request handlers about to submit) and
// takes what they queued, until a round brings nothing. No timer: on an
// idle server a request commits at once; under load the batch holds every
// request that reached the writer during the previous commit. With many
// clients on a busy machine a timed wait mostly waits for the clients'
// next requests, which cannot come before these are answered.
func (w *writer) collectRunning(batch []*pending) (_ []*pending, open bool) {
	n := batch[0].size()
	start := time.Now()
	for round := 0; n < w.maxBatch; round++ {
		got := 0
	drain:
		for n < w.maxBatch {
			select {
			case p, ok := <-w.in:
				if !ok {
					return batch, false
				}
				batch = append(batch, p)
				n += p.size()
				got++
			default:
				break drain
			}
		}
		if (got == 0 && round > 0) || round == yieldRounds || time.Since(start) > yieldFor {
			break
		}
		runtime.Gosched()
	}
	return batch, true
}

// commit writes the batch in one transaction. If that fails, each request
// is retried in a transaction of its own, so one bad request cannot fail
// the others of its batch.
func (w *writer) commit(batch []*pending) {
	ctx := context.Background()
	began := time.Now()
	if j := w.journal.Load(); j != nil {
		err := j.append(batch)
		if err == nil {
			w.metrics.committed(batch, time.Since(began).Seconds())
			w.batches.Add(1)
			w.requests.Add(int64(len(batch)))
		} else {
			w.metrics.failures.Inc()
		}
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	err := w.write(ctx, batch)
	if err == nil {
		w.metrics.committed(batch, time.Since(began).Seconds())
	} else {
		w.metrics.failures.Inc()
	}
	if err == nil || len(batch) == 1 {
		if err == nil {
			w.batches.Add(1)
			w.requests.Add(int64(len(batch)))
		}
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	for _, p := range batch {
		one := []*pending{p}
		began := time.Now()
		err := w.write(ctx, one)
		if err == nil {
			w.metrics.committed(one, time.Since(began).Seconds())
		}
		p.done <- err
	}
}

// statement is one multi-row INSERT of a batch.
type statement struct {
	query string
	args  []any
	what  string // for errors: "4 check-ins"
}

// write commits the batch's rows in one transaction.
func (w *writer) write(ctx context.Context, batch []*pending) error {
	stmts := plan(w.db.Engine(), batch)
	if w.db.Engine() == db.Postgres && !w.flush {
		// One round trip, and the commit returns without waiting for
		// PostgreSQL's WAL flush: a killed node loses nothing it answered;
		// a crash of PostgreSQL or its machine may lose the events answered
		// in its last 600 ms (docs/OPERATIONS.md, "What a crash may lose").
		// Waiting for the flush, and the transaction's four round trips,
		// were most of a scan's time on PostgreSQL (docs/PERFORMANCE.md,
		// "The wrk measure").
		q := make([]db.Stmt, len(stmts))
		for i, st := range stmts {
			q[i] = db.Stmt{Query: st.query, Args: st.args}
		}
		if err := w.db.ExecUnflushed(ctx, q); err != nil {
			return fmt.Errorf("checkin: insert %d statements: %w", len(stmts), err)
		}
		return nil
	}
	// Prepared before the transaction: SQLite's single connection is the
	// transaction's while it runs.
	prepared := w.prepared(ctx, stmts)
	return w.db.InTx(ctx, func(tx db.Tx) error { return execAll(ctx, tx, stmts, prepared, false) })
}

// insert writes the batch's rows in tx, without prepared statements.
func insert(ctx context.Context, e db.Engine, tx db.Tx, batch []*pending) error {
	stmts := plan(e, batch)
	return execAll(ctx, tx, stmts, make([]*sql.Stmt, len(stmts)), false)
}

// execAll runs stmts in tx, each through its prepared statement if it has
// one.
func execAll(ctx context.Context, tx db.Tx, stmts []statement, prepared []*sql.Stmt, yield bool) error {
	for i, st := range stmts {
		if yield && i > 0 {
			runtime.Gosched()
		}
		var err error
		if prepared[i] != nil {
			_, err = tx.StmtContext(ctx, prepared[i]).ExecContext(ctx, st.args...)
		} else {
			_, err = tx.ExecContext(ctx, st.query, st.args...)
		}
		if err != nil {
			return fmt.Errorf("checkin: insert %s: %w", st.what, err)
		}
	}
	return nil
}

// plan splits the batch's rows into multi-row INSERTs of the sizes chunk
// allows, within the engine's batch size (db.Engine.BatchRows), on SQLite;
// on PostgreSQL it is one INSERT per table (planArrays).
func plan(e db.Engine, batch []*pending) []statement {
	rows, vers := batchRows(batch)
	if e == db.Postgres {
		return planArrays(rows, vers)
	}
	return planRows(e, rows, vers)
}

// batchRows is the batch's check-ins and verification events.
func batchRows(batch []*pending) (rows []row, vers []verRow) {
	for _, p := range batch {
		rows = append(rows, p.checkins...)
		if p.verif != nil {
			vers = append(vers, *p.verif)
		}
	}
	return rows, vers
}

// planRows is plan as multi-row INSERTs (SQLite; PostgreSQL's before
// planArrays, which BenchmarkCommitPostgres compares with it).
func planRows(e db.Engine, rows []row, vers []verRow) []statement {
	var out []statement
	for len(rows) > 0 {
		n := min(chunk(e, len(rows)), e.BatchRows(3))
		args := make([]any, 0, 3*n)
		for _, r := range rows[:n] {
			args = append(args, r.place, r.at, r.person)
		}
		out = append(out, statement{checkinSQL(e, n), args, fmt.Sprintf("%d check-ins", n)})
		rows = rows[n:]
	}
	for len(vers) > 0 {
		n := min(chunk(e, len(vers)), 64, e.BatchRows(8))
		args := make([]any, 0, 8*n)
		for _, v := range vers[:n] {
			args = append(args, v.at, v.place, v.person, v.keyID, v.valid, v.reason, v.color, v.kind)
		}
		out = append(out, statement{verificationSQL(e, n), args, fmt.Sprintf("%d verifications", n)})
		vers = vers[n:]
	}
	return out
}

// planArrays is plan on PostgreSQL: each table's rows in one INSERT whose
// columns are arrays, unnested into rows. The statement's text is the same
// for any batch, so pgx prepares it once per connection, and PostgreSQL
// starts one executor (the partition routing, the indexes opened) a batch
// rather than one per chunk: a batch of 7 events was 4 statements
// (4+1+1+1). PostgreSQL's own work is the rows, whichever way they come
// (docs/PERFORMANCE.md, "Where a scan's time goes on PostgreSQL").
func planArrays(rows []row, vers []verRow) []statement {
	var out []statement
	if len(rows) > 0 {
		out = append(out, statement{checkinsArrays, checkinColumns(rows), fmt.Sprintf("%d check-ins", len(rows))})
	}
	if len(vers) > 0 {
		out = append(out, statement{verificationsArrays, verificationColumns(vers), fmt.Sprintf("%d verifications", len(vers))})
	}
	return out
}

// checkinColumns is rows as the arrays of checkinsArrays' parameters.
func checkinColumns(rows []row) []any {
	place, at, person := make([]int64, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		place[i], at[i], person[i] = r.place, r.at, r.person
	}
	return []any{place, at, person}
}

// verificationColumns is vers as the arrays of verificationsArrays'
// parameters.
func verificationColumns(vers []verRow) []any {
	n := len(vers)
	at, place, person, color := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	keyID, reason, kind := make([]string, n), make([]string, n), make([]string, n)
	valid := make([]bool, n)
	for i, v := range vers {
		at[i], place[i], person[i], keyID[i], valid[i], reason[i], color[i], kind[i] =
			v.at, v.place, v.person, v.keyID, v.valid, v.reason, v.color, v.kind
	}
	return []any{at, place, person, keyID, valid, reason, color, kind}
}

// prepared returns the writer's prepared statement for each of stmts on
// SQLite, preparing those it has not met yet, or nils: parsing a multi-row
// INSERT cost a quarter of the writer's time under load, and SQLite's
// driver keeps no statement cache. (pgx caches statements itself.) A
// statement that fails to prepare is executed unprepared.
func (w *writer) prepared(ctx context.Context, stmts []statement) []*sql.Stmt {
	out := make([]*sql.Stmt, len(stmts))
	if w.db.Engine() != db.SQLite {
		return out
	}
	w.stmtMu.Lock()
	defer w.stmtMu.Unlock()
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	for i, st := range stmts {
		p, ok := w.stmts[st.query]
		if !ok {
			var err error
			if p, err = w.db.Writer().PrepareContext(ctx, st.query); err != nil {
				continue
			}
			w.stmts[st.query] = p
		}
		out[i] = p
	}
	return out
}

// closeStatements releases the prepared statements once the writers have
// stopped.
func (w *writer) closeStatements() {
	w.stmtMu.Lock()
	defer w.stmtMu.Unlock()
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts = nil
}

// chunk picks the largest of a few fixed statement sizes that fits, so
// both engines see a handful of distinct statements (pgx caches them per
// connection, the writer prepares them on SQLite) rather than one per batch
// size. On SQLite, where they are prepared once, powers of two make any
// batch a few statements (7 rows: 4+2+1, not 4+1+1+1).
func chunk(e db.Engine, n int) int {
	sizes := []int{256, 64, 16, 4}
	if e == db.SQLite {
		sizes = []int{256, 128, 64, 32, 16, 8, 4, 2}
	}
	for _, c := range sizes {
		if n >= c {
			return c
		}
	}
	return 1
}

var sqlCache sync.Map // statement key -> text

// multiInsert is ins for n rows (db.Insert.SQL); cached, as the writer
// builds the same few sizes over and over.
func multiInsert(e db.Engine, ins db.Insert, n int) string {
	key := string(e) + ins.Head + strconv.Itoa(n)
	if s, ok := sqlCache.Load(key); ok {
		return s.(string)
	}
	s := ins.SQL(e, n)
	sqlCache.Store(key, s)
	return s
}

// A check-in that is already stored (same person, place and millisecond)
// is the same check-in sent twice; the conflict clause makes it a no-op on
// SQLite, whose primary key would otherwise refuse the whole batch.
//
// On SQLite the statements say OR IGNORE instead: a statement that may fail
// half way (a NOT NULL column, which ours never are) makes SQLite copy
// every page it touches into a statement journal first, a quarter of the
// cost of a multi-row INSERT into these indexed tables; OR IGNORE cannot
// fail half way, and ignores the same primary-key conflicts.
func checkinSQL(e db.Engine, n int) string {
	if e == db.SQLite {
		return multiInsert(e, checkinsSQLite, n)
	}
	return multiInsert(e, checkinsPostgres, n)
}

func verificationSQL(e db.Engine, n int) string {
	if e == db.SQLite {
		return multiInsert(e, verificationsSQLite, n)
	}
	return multiInsert(e, verificationsPostgres, n)
}

var (
	checkinsSQLite   = db.Insert{Head: `INSERT OR IGNORE INTO checkins (place, at, person) VALUES `, Cols: 3}
	checkinsPostgres = db.Insert{Head: `INSERT INTO checkins (place, at, person) VALUES `, Cols: 3, Tail: ` ON CONFLICT DO NOTHING`}

	checkinsArrays = `INSERT INTO checkins (place, at, person)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING`
	verificationsArrays = `INSERT INTO verifications (at, place, person, key_id, valid, reason, color, kind)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::boolean[], $6::text[], $7::bigint[], $8::text[])`

	verificationsSQLite   = db.Insert{Head: `INSERT OR IGNORE INTO verifications (at, place, person, key_id, valid, reason, color, kind) VALUES `, Cols: 8}
	verificationsPostgres = db.Insert{Head: `INSERT INTO verifications (at, place, person, key_id, valid, reason, color, kind) VALUES `, Cols: 8}
)
