package tracing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// Task kinds and statuses.
const (
	TaskCompanion = "companion"

	TaskOpen     = "open"
	TaskAssigned = "assigned"
	TaskVisited  = "visited"
)

// Task is a follow-up visit (上门排查) for the grid worker of a person's
// residential region: a companion found by a tracing run.
type Task struct {
	ID         string
	Kind       string
	Status     string
	Person     Ref
	Region     string
	RunID      string
	Case       *Ref
	ExposureAt time.Time
	OperatorID string
	Note       string
	CreatedAt  time.Time
	AssignedAt *time.Time
	VisitedAt  *time.Time
	VisitedBy  string
	// A colour task's reason and advice (those of the change), colour,
	// deadline, escalation and the visit's outcome.
	Reason      string
	Advice      string
	Color       rules.Color
	DueAt       *time.Time
	EscalatedAt *time.Time
	Outcome     string
	num         int64
	personNum   int64
	caseNum     int64
}

const taskCols = `id, kind, status, person_num, region_code, run_id, case_num, exposure_at, COALESCE(operator_id, ''), note,
	created_at, assigned_at, visited_at, COALESCE(visited_by, ''), reason, advice, color, due_at, escalated_at, outcome`

func (s *Service) scanTask(row interface{ Scan(...any) error }) (*Task, error) {
	var t Task
	var id, exposure, created int64
	var assigned, visited, due, escalated sql.NullInt64
	if err := row.Scan(&id, &t.Kind, &t.Status, &t.personNum, &t.Region, &t.RunID, &t.caseNum, &exposure, &t.OperatorID,
		&t.Note, &created, &assigned, &visited, &t.VisitedBy, &t.Reason, &t.Advice, &t.Color, &due, &escalated, &t.Outcome); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		v   sql.NullInt64
		dst **time.Time
	}{{due, &t.DueAt}, {escalated, &t.EscalatedAt}} {
		if x.v.Valid {
			v := db.Time(x.v.Int64).In(s.cfg.Location)
			*x.dst = &v
		}
	}
	loc := s.cfg.Location
	t.ID, t.num = strconv.FormatInt(id, 10), id
	t.ExposureAt, t.CreatedAt = db.Time(exposure).In(loc), db.Time(created).In(loc)
	if assigned.Valid {
		a := db.Time(assigned.Int64).In(loc)
		t.AssignedAt = &a
	}
	if visited.Valid {
		v := db.Time(visited.Int64).In(loc)
		t.VisitedAt = &v
	}
	return &t, nil
}

func (s *Service) describe(ctx context.Context, rv *resolver, t *Task) error {
	var err error
	if t.Person, err = rv.person(ctx, t.personNum); err != nil {
		return err
	}
	if t.caseNum != 0 {
		c, err := rv.person(ctx, t.caseNum)
		if err != nil {
			return err
		}
		t.Case = &c
	}
	return nil
}

// TaskFilter narrows the task list.
type TaskFilter struct {
	Status     string // open, assigned, visited; "" for all
	Region     string // a region inside the operator's scope
	OperatorID string // tasks assigned to this operator
	Kind       string // companion, colour; "" for all
	Escalated  bool   // only the tasks escalated past their deadline
	After      string // id of the last task of the previous page
	Limit      int
}

// taskNum reads a task id; anything else is an unknown task.
func taskNum(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// Tasks lists the tasks of the operator's scope, oldest first (by id). The list
// shows persons (masked), so it is audited.
func (s *Service) Tasks(ctx context.Context, by *auth.Principal, f TaskFilter) ([]*Task, error) {
	if err := by.Require(auth.TaskWrite); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	lo, hi := by.Bounds()
	if f.Region != "" {
		if !by.InScope(f.Region) {
			return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", f.Region, by.Region)
		}
		lo, hi = auth.Bounds(f.Region)
	}
	switch f.Status {
	case "", TaskOpen, TaskAssigned, TaskVisited:
	default:
		return nil, ErrStatusInvalid
	}
	after := int64(0)
	if f.After != "" {
		var ok bool
		if after, ok = taskNum(f.After); !ok {
			return nil, ErrAfterInvalid
		}
	}
	switch f.Kind {
	case "", TaskCompanion, TaskColour:
	default:
		return nil, ErrKindInvalid
	}
	var w db.Where
	w.Scope("region_code", lo, hi)
	if f.Status != "" {
		w.Add("status = ?", f.Status)
	}
	if f.OperatorID != "" {
		w.Add("operator_id = ?", f.OperatorID)
	}
	if f.Kind != "" {
		w.Add("kind = ?", f.Kind)
	}
	if f.Escalated {
		w.Add("escalated_at IS NOT NULL")
	}
	out, err := db.Page(ctx, s.db, browseTasks, w, after, f.Limit, s.scanTask)
	if err != nil {
		return nil, fmt.Errorf("tracing: list tasks: %w", err)
	}
	rv := s.resolver()
	for _, t := range out {
		if err := s.describe(ctx, rv, t); err != nil {
			return nil, err
		}
	}
	if len(out) > 0 {
		err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "task.list",
			Subject: "tasks", Region: by.Region, Detail: map[string]any{"rows": len(out), "status": f.Status}})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// browseTasks is the tasks oldest first, a page of a scope at a time
// (db.Browse).
var browseTasks = db.Browse{Table: "followup_tasks", Alias: "t", Key: "id", Cols: taskCols}

func (s *Service) task(ctx context.Context, q db.Querier, by *auth.Principal, id string) (*Task, error) {
	num, ok := taskNum(id)
	if !ok {
		return nil, ErrTaskNotFound
	}
	t, err := s.scanTask(q.QueryRowContext(ctx, `SELECT `+taskCols+` FROM followup_tasks WHERE id = $1`, num))
	if errors.Is(err, sql.ErrNoRows) || err == nil && !by.InScope(t.Region) {
		return nil, ErrTaskNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: task: %w", err)
	}
	return t, nil
}

// Assign gives a task to an operator whose region covers the person's home
// (the grid worker) and who may handle tasks.
func (s *Service) Assign(ctx context.Context, by *auth.Principal, id, operatorID string) (*Task, error) {
	if err := by.Require(auth.TaskWrite); err != nil {
		return nil, err
	}
	if operatorID == "" {
		return nil, ErrOperatorIDMissing
	}
	t, err := s.task(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	if t.Status == TaskVisited {
		return nil, ErrTaskVisited
	}
	ops, err := s.operators.Operators(ctx, by)
	if err != nil {
		return nil, err
	}
	var op *auth.OperatorInfo
	for i := range ops {
		if ops[i].ID == operatorID {
			op = &ops[i]
		}
	}
	switch {
	case op == nil:
		return nil, auth.ErrOperatorNotFound.Withf("no operator %q in your scope", operatorID)
	case op.Disabled:
		return nil, ErrOperatorDisabled.Withf("operator %s is disabled", op.Username)
	case !strings.HasPrefix(t.Region, op.Region):
		return nil, ErrOperatorOutOfRegion.Withf(
			"operator %s works in %s, which does not cover the person's region %s", op.Username, op.Region, t.Region)
	case !op.Role.Can(auth.TaskWrite):
		return nil, ErrOperatorCannotVisit.Withf("operator %s's role (%s) may not handle tasks", op.Username, op.Role)
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET status = $1, operator_id = $2, assigned_at = $3, assigned_by = $4
			WHERE id = $5 AND status <> $6`, TaskAssigned, op.ID, now.UnixMilli(), by.Actor(), t.num, TaskVisited)
		if err != nil {
			return fmt.Errorf("tracing: assign task: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTaskVisited
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "task.assign",
			Subject: "task:" + t.ID, Region: t.Region, Detail: map[string]any{"operator": op.ID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.reload(ctx, by, t.ID)
}

// Outcomes of a visit.
const (
	OutcomeMet      = "met"       // 已见面核实
	OutcomeIsolated = "isolated"  // 已落实隔离管控
	OutcomeNotHome  = "not_home"  // 不在家，已电话联系
	OutcomeMoved    = "moved_out" // 已搬离本网格
)

// Outcomes lists the outcomes in the order the visit form offers them.
var Outcomes = []string{OutcomeMet, OutcomeIsolated, OutcomeNotHome, OutcomeMoved}

// Visited closes a task with the visit's note.
func (s *Service) Visited(ctx context.Context, by *auth.Principal, id, note string) (*Task, error) {
	return s.Visit(ctx, by, id, "", note)
}

// Visit closes a task with the visit's outcome (one of Outcomes, or ""
// for a companion task closed by note alone) and note. A task is closed
// once: closing it again is ErrTaskVisited (409).
func (s *Service) Visit(ctx context.Context, by *auth.Principal, id, outcome, note string) (*Task, error) {
	if err := by.Require(auth.TaskWrite); err != nil {
		return nil, err
	}
	if outcome != "" && !slices.Contains(Outcomes, outcome) {
		return nil, ErrOutcomeInvalid
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 1000 {
		return nil, ErrNoteTooLong
	}
	t, err := s.task(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	if t.Status == TaskVisited {
		return nil, ErrTaskVisited
	}
	if outcome == "" && t.Kind == TaskColour {
		return nil, ErrOutcomeInvalid.Withf("say what the visit found in outcome (one of %s)", strings.Join(Outcomes, ", "))
	}
	if note == "" && outcome == "" {
		return nil, ErrNoteMissing
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE followup_tasks SET status = $1, note = $2, visited_at = $3, visited_by = $4, outcome = $6
			WHERE id = $5 AND status <> $1`, TaskVisited, note, now.UnixMilli(), by.Actor(), t.num, outcome)
		if err != nil {
			return fmt.Errorf("tracing: close task: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrTaskVisited
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "task.visited",
			Subject: "task:" + t.ID, Region: t.Region, Detail: map[string]any{"outcome": outcome}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.reload(ctx, by, t.ID)
}

func (s *Service) reload(ctx context.Context, by *auth.Principal, id string) (*Task, error) {
	t, err := s.task(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	return t, s.describe(ctx, s.resolver(), t)
}

// Task returns one task in by's scope, for the visit form.
func (s *Service) Task(ctx context.Context, by *auth.Principal, id string) (*Task, error) {
	if err := by.Require(auth.TaskWrite); err != nil {
		return nil, err
	}
	return s.reload(ctx, by, id)
}
