package checkin

import (
	"context"
	"errors"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeDepth is how many batches the pipelined writer keeps in flight: the
// one PostgreSQL runs and the next, already on the wire.
const pipeDepth = 2

// pipeRetry is the pause before the pipelined writer takes a new
// connection after losing one.
const pipeRetry = 100 * time.Millisecond

// batchArrays is a batch's check-ins and verification events as one
// statement, so each batch is one transaction of the pipe's one prepared
// statement (an empty array inserts nothing).
const batchArrays = `WITH c AS (INSERT INTO checkins (place, at, person)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING)
	INSERT INTO verifications (at, place, person, key_id, valid, reason, color, kind)
		SELECT * FROM unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::boolean[], $9::text[], $10::bigint[], $11::text[])`

// sent is a batch in the pipe, with when it was sent.
type sent struct {
	batch []*pending
	at    time.Time
}

// pipeLoop is the group commit on PostgreSQL when the flush is not waited
// for: as loop, but the next batch is sent while the one before it still
// runs (db.Pipe). A batch is answered only once its own transaction has
// committed, so what a request's answer promises is unchanged.
func (w *writer) pipeLoop() {
	defer w.wg.Done()
	for {
		open, ran := true, false
		err := w.db.WithPipe(context.Background(), batchArrays, func(p *db.Pipe) error {
			var err error
			ran = true
			open, err = w.runPipe(p)
			return err
		})
		if !open {
			return
		}
		if err == nil {
			continue
		}
		w.metrics.failures.Inc()
		if !ran {
			// No pipe (PostgreSQL unreachable, say): answer what waits
			// the way loop would, a batch at a time, rather than hold
			// it until a connection comes back.
			first, ok := <-w.in
			if !ok {
				return
			}
			batch, open := w.collectRunning([]*pending{first})
			w.commit(batch)
			if !open {
				return
			}
		}
		time.Sleep(pipeRetry)
	}
}

// runPipe sends batches and answers them as their transactions end, until
// the queue is closed and drained (open false) or the connection is lost
// (its batches in flight then go through commit, one request a
// transaction, as a failed batch does).
func (w *writer) runPipe(p *db.Pipe) (open bool, err error) {
	inflight := make([]sent, 0, pipeDepth)
	buf := make([]*pending, 0, 64)
	open = true
	fail := func(err error) (bool, error) {
		for _, s := range inflight {
			w.retry(s.batch)
		}
		return open, err
	}
	for open || len(inflight) > 0 {
		var first *pending
		switch {
		case !open:
		case len(inflight) == 0:
			first, open = <-w.in
		case len(inflight) < pipeDepth:
			select {
			case first, open = <-w.in:
			default:
			}
		}
		if first != nil {
			var batch []*pending
			batch, open = w.collectRunning(append(buf[:0], first))
			buf = make([]*pending, 0, 64)
			if err := p.Send(batchArgs(batch)...); err != nil {
				inflight = append(inflight, sent{batch, time.Now()})
				return fail(err)
			}
			inflight = append(inflight, sent{batch, time.Now()})
			continue
		}
		if len(inflight) == 0 {
			continue
		}
		err := p.Receive()
		s := inflight[0]
		inflight = append(inflight[:0], inflight[1:]...)
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			w.metrics.committed(s.batch, time.Since(s.at).Seconds())
			w.batches.Add(1)
			w.requests.Add(int64(len(s.batch)))
			for _, q := range s.batch {
				q.done <- nil
			}
		case errors.As(err, &pgErr):
			w.metrics.failures.Inc()
			w.retry(s.batch)
		default:
			inflight = append([]sent{s}, inflight...)
			return fail(err)
		}
	}
	return false, nil
}

// retry commits each request of a batch whose transaction failed (or
// whose fate a lost connection left unknown) in a transaction of its own.
func (w *writer) retry(batch []*pending) {
	if len(batch) == 1 {
		batch[0].done <- w.write(context.Background(), batch)
		return
	}
	for _, q := range batch {
		one := []*pending{q}
		began := time.Now()
		err := w.write(context.Background(), one)
		if err == nil {
			w.metrics.committed(one, time.Since(began).Seconds())
		}
		q.done <- err
	}
}

// batchArgs is batchArrays' arguments for a batch.
func batchArgs(batch []*pending) []any {
	rows, vers := batchRows(batch)
	return append(checkinColumns(rows), verificationColumns(vers)...)
}
