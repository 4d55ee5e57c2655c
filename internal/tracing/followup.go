package tracing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// TaskColour is the follow-up of a change to red or yellow.
const TaskColour = "colour"

// DefaultDue is how long a grid worker has to visit before the task
// escalates to the town.
const DefaultDue = 24 * time.Hour

// ChangeLog reads the status change log (the status engine).
type ChangeLog interface {
	Changes(ctx context.Context, q db.Querier, after int64, limit int) ([]status.Change, error)
}

// Grids tells the grid of persons (the grid service): a task goes to the
// grid worker of the person's grid, or to the person's town without one.
type Grids interface {
	GridOf(ctx context.Context, q db.Querier, nums []int64) (map[int64]string, error)
}

type followUp struct {
	log   ChangeLog
	grids Grids
	due   time.Duration
}

// SetFollowUp turns on the follow-up of colour changes: every change to red
// or yellow opens a task for the person's grid worker, due within due
// (DefaultDue if 0). The worker (Start) follows the log; FollowChanges and
// Escalate do one round, for tests and tools.
func (s *Service) SetFollowUp(log ChangeLog, grids Grids, due time.Duration) {
	if due <= 0 {
		due = DefaultDue
	}
	s.follow = &followUp{log: log, grids: grids, due: due}
}

const followPage = 1000

// FollowChanges turns the change log after the last followed seq into
// tasks, a page per transaction, and returns how many it opened. The
// cursor moves in the transaction that opens the tasks, and its counter
// row stays locked until then, so two nodes never open a task twice and a
// crash loses none.
func (s *Service) FollowChanges(ctx context.Context) (int, error) {
	if s.follow == nil {
		return 0, nil
	}
	total := 0
	for {
		opened, read := 0, 0
		err := s.db.InTx(ctx, func(tx db.Tx) error {
			cursor, err := db.NextVal(ctx, tx, "followup_changes", 0) // locks the row
			if err != nil {
				return err
			}
			changes, err := s.follow.log.Changes(ctx, tx, cursor, followPage)
			if err != nil || len(changes) == 0 {
				return err
			}
			read = len(changes)
			latest := map[int64]status.Change{} // a person's last change of the page decides
			var nums []int64
			for _, c := range changes {
				if _, seen := latest[c.Person]; !seen {
					nums = append(nums, c.Person)
				}
				latest[c.Person] = c
			}
			// The persons' tasks are written in the persons' order, as the
			// escalation locks them: in the log's order a follower and an
			// escalation over the same overdue tasks each waited for the other.
			slices.Sort(nums)
			grids, err := s.follow.grids.GridOf(ctx, tx, nums)
			if err != nil {
				return err
			}
			now := s.now().UnixMilli()
			due := now + s.follow.due.Milliseconds()
			for _, num := range nums {
				c := latest[num]
				if c.New < rules.Yellow || c.New == c.Old {
					continue
				}
				region := c.Region
				if g, ok := grids[num]; ok {
					region = g
				}
				// A person with an open colour task keeps it, with the newest reason.
				res, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET reason = $1, advice = $2, color = $3, region_code = $4
					WHERE person_num = $5 AND kind = $6 AND status <> $7`, c.ReasonZH, c.AdviceZH, int64(c.New), region, num, TaskColour, TaskVisited)
				if err != nil {
					return fmt.Errorf("tracing: update colour task: %w", err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					continue
				}
				// A person already waiting for a visit (a companion a tracing
				// run found) gets no second one: that visit tells them the
				// reason and advice of their new colour.
				res, err = tx.ExecContext(ctx, `UPDATE followup_tasks SET reason = $1, advice = $2, color = $3
					WHERE person_num = $4 AND status <> $5`, c.ReasonZH, c.AdviceZH, int64(c.New), num, TaskVisited)
				if err != nil {
					return fmt.Errorf("tracing: update open task: %w", err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					continue
				}
				id, err := db.NextVal(ctx, tx, "followup_tasks", 1)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO followup_tasks (id, kind, person_num, region_code, run_id, case_num, exposure_at,
						status, note, created_at, reason, advice, color, due_at) VALUES ($1, $2, $3, $4, '', 0, $5, $6, '', $7, $8, $9, $10, $11)`,
					id, TaskColour, num, region, now, TaskOpen, now, c.ReasonZH, c.AdviceZH, int64(c.New), due); err != nil {
					return fmt.Errorf("tracing: open colour task: %w", err)
				}
				opened++
			}
			_, err = tx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = 'followup_changes'`, changes[len(changes)-1].Seq)
			return err
		})
		if err != nil {
			return total, err
		}
		total += opened
		s.metrics.colourTasks.Add(float64(opened))
		if read < followPage {
			return total, nil
		}
	}
}

// Escalate marks the tasks past their deadline and not yet visited as
// escalated: the town's list shows them (TaskFilter.Escalated). It returns
// how many it marked.
func (s *Service) Escalate(ctx context.Context) (int64, error) {
	now := s.now().UnixMilli()
	var n int64
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		// The tasks are locked first, in the persons' order, as the follower
		// writes them (FollowChanges): the UPDATE finds them through the index of
		// the deadlines, in the deadlines' order, and waited for a follower that
		// waited for it.
		if err := db.LockRows(ctx, tx, s.db.Engine(), `SELECT id FROM followup_tasks WHERE due_at < $1 AND escalated_at IS NULL AND status <> $2
			ORDER BY person_num, id FOR UPDATE`, now, TaskVisited); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET escalated_at = $1
			WHERE due_at < $1 AND escalated_at IS NULL AND status <> $2`, now, TaskVisited)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("tracing: escalate tasks: %w", err)
	}
	s.metrics.escalated.Add(float64(n))
	return n, nil
}
