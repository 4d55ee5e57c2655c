package status

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Job is a recompute of everyone after an activation. It runs in the
// background on whichever node holds its lease, in transactions of
// Config.Batch persons by number; each transaction moves the persisted
// cursor, so a node that dies loses at most one batch, and another node (or
// the same one restarted) resumes from the cursor once the lease lapses.
type Job struct {
	ID         int64     `json:"id"`
	Version    int64     `json:"rules_version"`
	State      string    `json:"state"` // running, done, superseded
	Done       int64     `json:"done"`
	Total      int64     `json:"total"`
	Changed    int64     `json:"changed"`
	Cursor     int64     `json:"cursor"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"-"`
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

// LatestJob is the most recent recompute (nil if there never was one).
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
func (s *Service) RunRecompute(ctx context.Context) error {
	j, err := s.claimJob(ctx)
	if err != nil || j == nil {
		return err
	}
	for ctx.Err() == nil {
		more, err := s.recomputeStep(ctx, j)
		if err != nil || !more {
			return err
		}
	}
	return nil
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

// recomputeStep evaluates the next batch of persons by number under the
// job's version and moves the cursor, in one transaction. It reports whether
// there is more to do.
func (s *Service) recomputeStep(ctx context.Context, j *Job) (bool, error) {
	var maxNum int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM persons`).Scan(&maxNum); err != nil {
		return false, fmt.Errorf("status: recompute: %w", err)
	}
	if j.Cursor > maxNum {
		return false, s.finishJob(ctx, j)
	}
	lo, hi := j.Cursor, j.Cursor+int64(s.cfg.Batch)
	var w written
	var people []personRef
	lost := false
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		ver, prog, err := s.activeProgram(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		// The lease check and the heartbeat in one statement; it also locks
		// the job row, so a competing node waits rather than doubles the work.
		res, err := tx.ExecContext(ctx, `UPDATE recompute_jobs SET lease_until = $1 WHERE id = $2 AND owner = $3 AND state = 'running'`,
			now.UnixMilli()+s.cfg.Lease.Milliseconds(), j.ID, s.cfg.Node)
		if err != nil {
			return fmt.Errorf("status: recompute heartbeat: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || ver != j.Version {
			lost = true
			return nil
		}
		prs, err := tx.QueryContext(ctx, `SELECT num, region_code FROM persons WHERE num >= $1 AND num < $2 ORDER BY num`, lo, hi)
		if err != nil {
			return fmt.Errorf("status: recompute: read persons: %w", err)
		}
		for prs.Next() {
			var p personRef
			if err := prs.Scan(&p.num, &p.region); err != nil {
				prs.Close()
				return fmt.Errorf("status: recompute: read persons: %w", err)
			}
			people = append(people, p)
		}
		prs.Close()
		if err := prs.Err(); err != nil {
			return fmt.Errorf("status: recompute: read persons: %w", err)
		}
		srs, err := tx.QueryContext(ctx, `SELECT `+rowCols+` FROM status WHERE person_num >= $1 AND person_num < $2 ORDER BY person_num`+
			s.forUpdate(false), lo, hi)
		if err != nil {
			return fmt.Errorf("status: recompute: read status: %w", err)
		}
		cur := make(map[int64]row, len(people))
		for srs.Next() {
			r, err := scanRow(srs)
			if err != nil {
				srs.Close()
				return fmt.Errorf("status: recompute: read status: %w", err)
			}
			cur[r.num] = r
		}
		srs.Close()
		if err := srs.Err(); err != nil {
			return fmt.Errorf("status: recompute: read status: %w", err)
		}
		// Facts are read after the status rows are locked, so a Record that
		// held one of them has committed and its facts are visible.
		facts, err := factsInRange(ctx, tx, lo, hi)
		if err != nil {
			return err
		}
		ds, err := s.evaluate(prog, people, facts, now)
		if err != nil {
			return err
		}
		if w, err = s.write(ctx, tx, ver, people, cur, ds, now, CauseRules, true); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE recompute_jobs SET cursor_num = $1, done = done + $2, changed = changed + $3 WHERE id = $4`,
			hi, len(people), len(w.changes), j.ID)
		if err != nil {
			return fmt.Errorf("status: recompute progress: %w", err)
		}
		return nil
	})
	if err != nil || lost {
		return false, err
	}
	s.applyLocal(w.changes)
	j.Cursor, j.Done, j.Changed = hi, j.Done+int64(len(people)), j.Changed+int64(len(w.changes))
	return true, nil
}

func (s *Service) finishJob(ctx context.Context, j *Job) error {
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE recompute_jobs SET state = 'done', finished_at = $1, total = done
			WHERE id = $2 AND owner = $3 AND state = 'running'`, now, j.ID, s.cfg.Node)
		if err != nil {
			return fmt.Errorf("status: finish recompute: %w", err)
		}
		return nil
	})
}
