package status

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// Job is a recompute of everyone after an activation. It runs in the
// background on whichever node holds its lease, in transactions of
// Config.Batch persons by number; each transaction moves the persisted
// cursor, so a node that dies loses at most one batch, and another node (or
// the same one restarted) resumes from the cursor once the lease lapses.
type Job struct {
	ID         int64
	Version    int64
	State      string // running, done, superseded
	Done       int64
	Total      int64
	Changed    int64
	Cursor     int64
	StartedAt  time.Time
	FinishedAt time.Time
	Owner      string
	LeaseUntil time.Time
}

const jobCols = `id, rules_version, state, done, total, changed, cursor_num, started_at, COALESCE(finished_at, 0), owner, lease_until`

func scanJob(sc scanner) (*Job, error) {
	var j Job
	var started, finished, lease int64
	if err := sc.Scan(&j.ID, &j.Version, &j.State, &j.Done, &j.Total, &j.Changed, &j.Cursor, &started, &finished, &j.Owner, &lease); err != nil {
		return nil, err
	}
	j.StartedAt, j.FinishedAt, j.LeaseUntil = db.Time(started), db.Time(finished), db.Time(lease)
	return &j, nil
}

func (s *Service) newJob(ctx context.Context, tx db.Tx, version int64, now time.Time) (*Job, error) {
	id, err := db.NextVal(ctx, tx, "recompute_jobs", 1)
	if err != nil {
		return nil, err
	}
	j := &Job{ID: id, Version: version, State: "running", StartedAt: now}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(num), 1) FROM persons`).Scan(&j.Total, &j.Cursor); err != nil {
		return nil, fmt.Errorf("status: count persons: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO recompute_jobs (id, rules_version, state, cursor_num, total, done, changed,
		started_at, owner, lease_until) VALUES ($1, $2, 'running', $3, $4, 0, 0, $5, '', 0)`,
		j.ID, version, j.Cursor, j.Total, now.UnixMilli()); err != nil {
		return nil, fmt.Errorf("status: create recompute job: %w", err)
	}
	return j, nil
}

// Recompute is the most recent recompute as a reader with rules.read sees
// it (nil if there never was one).
func (s *Service) Recompute(ctx context.Context, by *auth.Principal) (*Job, error) {
	if err := by.Require(auth.RulesRead); err != nil {
		return nil, err
	}
	return s.LatestJob(ctx)
}

// LatestJob is the most recent recompute (nil if there never was one), for
// the platform itself: operators read it through Recompute.
func (s *Service) LatestJob(ctx context.Context) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM recompute_jobs ORDER BY id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: read recompute job: %w", err)
	}
	return j, nil
}

// RunRecompute runs the pending recompute, if any, until it is done, ctx
// ends, or another node takes it over. The server calls it every second on
// every node; only the lease holder works.
//
// The work is a pipeline of two stages. A goroutine reads the next batch's
// facts outside any transaction and evaluates them (in parallel), while the
// current batch is written. A batch remembers the highest fact id that
// existed when it was read (ids become visible in order: they come from a
// counter locked until commit), and when it was evaluated; its transaction
// locks the status rows, reads the facts recorded since, and evaluates again
// the few persons they concern, so every decision written is exactly the one
// the person's facts give at that time. (A boundary that falls between the
// evaluation and the write, such as 14 days ending, leaves a next evaluation
// already due, and the scheduler takes it at once.)
func (s *Service) RunRecompute(ctx context.Context) error {
	j, err := s.claimJob(ctx)
	if err != nil || j == nil {
		return err
	}
	prog, err := s.program(ctx, s.db, j.Version)
	if err != nil {
		return err
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	batches := make(chan prefetch, 1)
	go s.prefetch(pctx, prog, j.Cursor, batches)
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		if b.end {
			return s.finishJob(ctx, j)
		}
		more, err := s.recomputeStep(ctx, j, prog, b)
		if err != nil || !more {
			return err
		}
	}
	return ctx.Err()
}

// prefetch is a batch read and evaluated ahead: the persons lo <= num < hi
// who have facts (ids up to hw), their facts and their decisions at at, and
// the decision of an empty history; end marks that no person is left.
type prefetch struct {
	lo, hi int64
	hw     int64
	at     time.Time
	facts  []storedFact
	people []int64
	ds     []rules.Decision
	empty  rules.Decision
	end    bool
	err    error
}

func (s *Service) prefetch(ctx context.Context, prog *rules.Program, from int64, out chan<- prefetch) {
	defer close(out)
	send := func(p prefetch) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var maxNum int64
	for lo := from; ; lo += int64(s.cfg.Batch) {
		if lo > maxNum {
			// Re-read at the end, so that persons registered meanwhile are included.
			if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM persons`).Scan(&maxNum); err != nil {
				send(prefetch{err: fmt.Errorf("status: recompute: %w", err)})
				return
			}
			if lo > maxNum {
				send(prefetch{end: true})
				return
			}
		}
		p := prefetch{lo: lo, hi: lo + int64(s.cfg.Batch)}
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM facts`).Scan(&p.hw); err != nil {
			send(prefetch{err: fmt.Errorf("status: recompute: %w", err)})
			return
		}
		// Facts committed between the two reads are read again in the
		// batch's transaction; keep one copy.
		facts, err := packsInRange(ctx, s.db, p.lo, p.hi, p.hw)
		if err != nil {
			send(prefetch{err: err})
			return
		}
		p.facts = facts
		refs := make([]personRef, 0, s.cfg.Batch)
		for i := range facts {
			if i == 0 || facts[i-1].num != facts[i].num {
				refs = append(refs, personRef{num: facts[i].num})
				p.people = append(p.people, facts[i].num)
			}
		}
		p.at = s.now()
		if p.ds, err = s.evaluate(prog, refs, facts, p.at); err != nil {
			send(prefetch{err: err})
			return
		}
		p.empty = prog.Eval(nil, p.at)
		if !send(p) {
			return
		}
	}
}

// claimJob takes the running job's lease if it is free or already ours.
func (s *Service) claimJob(ctx context.Context) (*Job, error) {
	now := s.now().UnixMilli()
	var j *Job
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE recompute_jobs SET owner = $1, lease_until = $2
			WHERE id = (SELECT MAX(id) FROM recompute_jobs WHERE state = 'running')
			AND state = 'running' AND (owner = $1 OR owner = '' OR lease_until < $3)
			RETURNING `+jobCols, s.cfg.Node, now+s.cfg.Lease.Milliseconds(), now))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: claim recompute job: %w", err)
	}
	return j, nil
}

// isDefault reports whether a decision is what a person without a status
// row has.
func isDefault(d *rules.Decision) bool {
	return d.Color == rules.Green && d.RuleID == "" && d.NextEval.IsZero() && d.Reason == (rules.Text{}) && d.Advice == (rules.Text{})
}

// recomputeStep writes one prefetched batch and moves the cursor, in one
// transaction. It reports whether the job is still ours to continue.
//
// Who is written: everyone with a status row (Record gives one to every
// person it records a fact for) and anyone with a fact. Everyone else has
// no facts, and Eval depends only on the facts and the time, so the
// evaluation of an empty history decides them all: when it is the default
// (green, no rule), as with every sensible set, they are skipped without
// being read; otherwise every person in the range is read and written.
func (s *Service) recomputeStep(ctx context.Context, j *Job, prog *rules.Program, b prefetch) (bool, error) {
	var w written
	var covered int64
	lost := false
	began := time.Now()
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		ver, _, err := s.activeProgram(ctx, tx)
		if err != nil {
			return err
		}
		// The lease check and the heartbeat in one statement; it also locks
		// the job row, so a competing node waits rather than doubles the work.
		res, err := tx.ExecContext(ctx, `UPDATE recompute_jobs SET lease_until = $1 WHERE id = $2 AND owner = $3 AND state = 'running'`,
			s.now().UnixMilli()+s.cfg.Lease.Milliseconds(), j.ID, s.cfg.Node)
		if err != nil {
			return fmt.Errorf("status: recompute heartbeat: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || ver != j.Version || b.lo != j.Cursor {
			lost = true
			return nil
		}
		cur := make(map[int64]row, s.cfg.Batch)
		var people []personRef
		err = db.Each(ctx, tx, `SELECT `+rowLine+` FROM status WHERE person_num >= $1 AND person_num < $2 ORDER BY person_num`+
			s.forUpdate(false), []any{b.lo, b.hi}, func(sc db.Scanner) error {
			r, err := scanRowLine(sc)
			if err != nil {
				return err
			}
			cur[r.num] = r
			people = append(people, personRef{num: r.num, region: r.region})
			return nil
		})
		if err != nil {
			return fmt.Errorf("status: recompute: read status: %w", err)
		}
		// Facts recorded since the prefetch; the status rows are locked, so
		// a Record that held one of them has committed by now. No ORDER BY:
		// SQLite would rather scan the table in key order than sort the few
		// rows the id index finds.
		newer, err := db.Collect(ctx, tx, `SELECT `+factCols+` FROM facts WHERE id > $1`, []any{b.hw}, scanFact)
		if err != nil {
			return fmt.Errorf("status: recompute: read new facts: %w", err)
		}
		decided := make(map[int64]*rules.Decision, len(b.people))
		for i, n := range b.people {
			decided[n] = &b.ds[i]
		}
		var redo []personRef
		if len(newer) > 0 {
			facts := mergeFacts(b.facts, newer, b.lo, b.hi)
			for i := range facts {
				if f := &facts[i]; f.id > b.hw && (len(redo) == 0 || redo[len(redo)-1].num != f.num) {
					redo = append(redo, personRef{num: f.num})
				}
			}
			ds, err := s.evaluate(prog, redo, facts, b.at)
			if err != nil {
				return err
			}
			for i, p := range redo {
				decided[p.num] = &ds[i]
			}
		}
		var missing []int64
		if isDefault(&b.empty) {
			// A person without a row whose decision is the default keeps
			// having none: only the others need reading.
			for n, d := range decided {
				if !hasRow(cur, n) && !isDefault(d) {
					missing = append(missing, n)
				}
			}
		} else {
			err := db.Each(ctx, tx, `SELECT num FROM persons WHERE num >= $1 AND num < $2 ORDER BY num`, []any{b.lo, b.hi},
				func(sc db.Scanner) error {
					var n int64
					if err := sc.Scan(&n); err != nil {
						return err
					}
					if !hasRow(cur, n) {
						missing = append(missing, n)
					}
					return nil
				})
			if err != nil {
				return fmt.Errorf("status: recompute: read persons: %w", err)
			}
		}
		if len(missing) > 0 {
			sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
			more, err := s.personRegions(ctx, tx, missing)
			if err != nil {
				return err
			}
			people = append(people, more...)
			sort.Slice(people, func(i, j int) bool { return people[i].num < people[j].num })
		}
		ds := make([]rules.Decision, len(people))
		for i, p := range people {
			if d := decided[p.num]; d != nil {
				ds[i] = *d
			} else {
				ds[i] = b.empty
			}
		}
		if w, err = s.write(ctx, tx, ver, people, cur, ds, b.at, CauseRules, absentFresh); err != nil {
			return err
		}
		// Progress counts the persons the batch covered, evaluated or not.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons WHERE num >= $1 AND num < $2`, b.lo, b.hi).Scan(&covered); err != nil {
			return fmt.Errorf("status: recompute: count persons: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE recompute_jobs SET cursor_num = $1, done = done + $2, changed = changed + $3 WHERE id = $4`,
			b.hi, covered, len(w.changes), j.ID)
		if err != nil {
			return fmt.Errorf("status: recompute progress: %w", err)
		}
		return nil
	})
	if err != nil || lost {
		return false, err
	}
	s.applyLocal(w)
	j.Cursor, j.Done, j.Changed = b.hi, j.Done+covered, j.Changed+int64(len(w.changes))
	s.metrics.recBatch.Observe(time.Since(began).Seconds())
	s.metrics.recPersons.Add(float64(covered))
	if j.Total > 0 {
		s.metrics.recProgress.Set(min(1, float64(j.Done)/float64(j.Total)))
	}
	return true, nil
}

func hasRow(cur map[int64]row, n int64) bool {
	_, ok := cur[n]
	return ok
}

func (s *Service) finishJob(ctx context.Context, j *Job) error {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE recompute_jobs SET state = 'done', finished_at = $1,
		total = CASE WHEN done > total THEN done ELSE total END
		WHERE id = $2 AND owner = $3 AND state = 'running'`, now.UnixMilli(), j.ID, s.cfg.Node)
	if err != nil {
		return fmt.Errorf("status: finish recompute: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		s.metrics.recProgress.Set(1)
		s.metrics.recLast.Set(now.Sub(j.StartedAt).Seconds())
	}
	return nil
}
