package coldchain

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/status"
)

// InspectionInput records an inspection of a batch by its scanned code.
type InspectionInput struct {
	Code        string
	Holder      string // where it was sampled: an operator names it; a holder's is itself
	Kind        string // goods, packaging, disinfection
	Result      string // negative or positive for a sample; empty for a disinfection
	Certificate string // the disinfection certificate's number (optional for a sample: the lab report)
	SampledAt   time.Time
}

// Inspection is a sample or a disinfection of a batch at a holder.
type Inspection struct {
	ID, Batch, Org, OrgName string
	Kind, Result            string
	Certificate             string
	SampledAt, RecordedAt   time.Time
	Product, BatchCode      string // in a holder's list of its positives
}

// Positive reports whether the inspection found the virus.
func (i *Inspection) Positive() bool { return i.Result == fact.ResultPositive }

// Stock is what a holder received, holds and sold of a batch.
type Stock struct {
	Org, OrgName, Region string
	Kind                 org.Kind
	Received, Held, Sold int64
	ReceivedAt           time.Time
	PassedOn             int64 // received - held - sold
}

// Exposure is a handler a positive inspection found.
type Exposure struct {
	Org, OrgName string
	MaskedName   string
	HandledAt    time.Time
	person       int64
	foundAt      time.Time
}

// Task is what a positive inspection asks of a holder.
type Task struct {
	ID, Inspection, Batch, Org, OrgName string
	BatchCode, Product                  string
	Kind                                string // seal, disinfect
	Quantity                            int64  // to seal
	CreatedAt, DoneAt                   time.Time
}

// Done reports whether the holder closed the task.
func (t *Task) Done() bool { return !t.DoneAt.IsZero() }

// Trace is what a positive inspection found: the holders downstream of
// where the sample was taken with what they hold and sold, the handlers at
// them, and the tasks opened; the holders upstream only for information.
type Trace struct {
	Inspection *Inspection
	Batch      *Batch
	Holders    []*Stock // downstream: the sampling holder and those it passed goods on to
	Upstream   []*Stock // for information: no tasks, no exposures
	Handlers   []*Exposure
	Tasks      []*Task
}

func checkInspection(in InspectionInput, created, now time.Time) (InspectionInput, error) {
	in.Certificate = strings.TrimSpace(in.Certificate)
	if !slices.Contains(InspectionKinds, in.Kind) {
		return in, ErrInspectionKind
	}
	switch {
	case in.Kind == Disinfection && in.Result != "":
		return in, ErrResultInvalid
	case in.Kind != Disinfection && in.Result != fact.ResultNegative && in.Result != fact.ResultPositive:
		return in, ErrResultInvalid
	}
	n := utf8.RuneCountInString(in.Certificate)
	if n > maxCert || in.Kind == Disinfection && n == 0 {
		return in, ErrCertificateInvalid
	}
	if in.SampledAt.IsZero() {
		in.SampledAt = now
	}
	in.SampledAt = in.SampledAt.UTC().Truncate(time.Millisecond)
	if in.SampledAt.Before(created) || in.SampledAt.After(now) {
		return in, ErrSampledAtInvalid.Withf("the sampling time is between the batch's registration (%s) and now", created.Format(time.RFC3339))
	}
	return in, nil
}

// Inspect records an inspection of a batch: by a sampling holder's key
// (scope coldchain.inspect) or account, of a batch it holds; or by an
// operator with result.write, at a holder of the batch in their region. A
// positive sample traces the batch downstream of that holder in the same
// transaction (see trace); the handlers' cold_chain.exposure
// facts are recorded after it commits (RecordPending retries). Refused
// input writes nothing.
func (s *Service) Inspect(ctx context.Context, by *auth.Principal, in InspectionInput) (*Trace, error) {
	var at *org.Org
	if by != nil && by.Kind == auth.Operator {
		if err := by.Require(auth.ResultWrite); err != nil {
			return nil, err
		}
		o, err := s.orgs.Public(ctx, in.Holder)
		if err != nil || !by.InScope(o.Region) {
			return nil, org.ErrNotFound.Withf("no organisation %q in your region", in.Holder)
		}
		at = o
	} else {
		o, err := s.holder(ctx, by, org.ScopeColdChainInspect)
		if err != nil {
			return nil, err
		}
		at = o
	}
	b, err := s.byCode(ctx, s.db, in.Code)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if in, err = checkInspection(in, b.CreatedAt, now); err != nil {
		return nil, err
	}
	have, err := held(ctx, s.db, b.ID, at.ID)
	if err != nil {
		return nil, fmt.Errorf("coldchain: read stock: %w", err)
	}
	if have == 0 {
		return nil, ErrNotHeld.Withf("%s holds none of batch %s", at.Name, b.Code)
	}
	ins := &Inspection{ID: ids.New(), Batch: b.ID, Org: at.ID, OrgName: at.Name, Kind: in.Kind, Result: in.Result,
		Certificate: in.Certificate, SampledAt: in.SampledAt, RecordedAt: now}
	tr := &Trace{Inspection: ins, Batch: b}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cc_inspections (id, batch_id, org_id, kind, result, certificate, sampled_at,
				recorded_at, recorded_by, facts_recorded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			ins.ID, b.ID, at.ID, ins.Kind, ins.Result, ins.Certificate, ins.SampledAt.UnixMilli(), now.UnixMilli(), by.Actor(),
			!ins.Positive()); err != nil {
			return err
		}
		if !ins.Positive() {
			return nil
		}
		return s.trace(ctx, tx, tr, now)
	})
	if err != nil {
		return nil, fmt.Errorf("coldchain: record inspection: %w", err)
	}
	if ins.Positive() {
		s.m.traces.Inc()
		s.m.tasks.Add(float64(len(tr.Tasks)))
		b.PositiveAt = now
		if err := s.recordExposures(ctx, b, ins.ID, tr.Handlers); err != nil {
			return nil, err
		}
	}
	return tr, nil
}

// trace finds, in the inspection's transaction, the holders downstream of
// where the sample was taken (that holder and everyone it passed goods on
// to, transitively, by the transfers recorded until now) with what they hold
// and sold, and the handlers who scanned the batch at those holders (the
// latest handling of each person there); it opens a seal task for each of
// them with stock left and a disinfection task for each. Upstream holders
// are listed for information only: no tasks, no exposures. A repeat
// positive of the same batch adds only what is new: a holder's task of a
// kind the batch already has is not opened again, and a handler already
// exposed by this batch is not again unless they handled it since.
func (s *Service) trace(ctx context.Context, tx db.Tx, tr *Trace, now time.Time) error {
	b, at := tr.Batch, now.UnixMilli()
	// COALESCE makes every trace take the batch's row lock, so two traces of
	// one batch see each other's tasks and exposures.
	if _, err := tx.ExecContext(ctx, `UPDATE cc_batches SET positive_at = COALESCE(positive_at, $1) WHERE id = $2`, at, b.ID); err != nil {
		return err
	}
	all, err := stock(ctx, tx, b.ID)
	if err != nil {
		return err
	}
	down, err := downstream(ctx, tx, b.ID, tr.Inspection.Org, now)
	if err != nil {
		return err
	}
	tr.Holders, tr.Upstream = split(all, down)
	opened := map[string]bool{}
	err = db.Each(ctx, tx, `SELECT org_id, kind FROM cc_tasks WHERE batch_id = $1`, []any{b.ID}, func(sc db.Scanner) error {
		var o, k string
		if err := sc.Scan(&o, &k); err != nil {
			return err
		}
		opened[o+"/"+k] = true
		return nil
	})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, st := range tr.Holders {
		names[st.Org] = st.OrgName
		if st.Held > 0 && !opened[st.Org+"/"+TaskSeal] {
			tr.Tasks = append(tr.Tasks, &Task{ID: ids.New(), Kind: TaskSeal, Org: st.Org, OrgName: st.OrgName, Quantity: st.Held})
		}
		if !opened[st.Org+"/"+TaskDisinfect] {
			tr.Tasks = append(tr.Tasks, &Task{ID: ids.New(), Kind: TaskDisinfect, Org: st.Org, OrgName: st.OrgName})
		}
	}
	ins := db.Insert{Head: `INSERT INTO cc_tasks (id, inspection_id, batch_id, org_id, kind, quantity, created_at) VALUES `, Cols: 7}
	var rows []any
	for _, t := range tr.Tasks {
		t.Inspection, t.Batch, t.BatchCode, t.Product, t.CreatedAt = tr.Inspection.ID, b.ID, b.Code, b.Product, now
		rows = append(rows, t.ID, t.Inspection, b.ID, t.Org, t.Kind, t.Quantity, at)
	}
	if _, err := ins.Exec(ctx, tx, s.db.Engine(), rows); err != nil {
		return err
	}
	exposed := map[int64]int64{}
	err = db.Each(ctx, tx, `SELECT e.person_num, MAX(e.handled_at) FROM cc_exposures e JOIN cc_inspections i ON i.id = e.inspection_id
		WHERE i.batch_id = $1 GROUP BY e.person_num`, []any{b.ID}, func(sc db.Scanner) error {
		var p, hat int64
		if err := sc.Scan(&p, &hat); err != nil {
			return err
		}
		exposed[p] = hat
		return nil
	})
	if err != nil {
		return err
	}
	// The latest handling of each person at a downstream holder: the facts
	// say when they last touched the batch, and where.
	latest := map[int64]*Exposure{}
	err = db.Each(ctx, tx, `SELECT person_num, org_id, masked_name, at FROM cc_handlings WHERE batch_id = $1`, []any{b.ID},
		func(sc db.Scanner) error {
			var e Exposure
			var hat int64
			if err := sc.Scan(&e.person, &e.Org, &e.MaskedName, &hat); err != nil {
				return err
			}
			if !down[e.Org] {
				return nil
			}
			e.HandledAt = db.Time(hat)
			if old := latest[e.person]; old == nil || e.HandledAt.After(old.HandledAt) {
				e.OrgName, e.foundAt = names[e.Org], now
				latest[e.person] = &e
			}
			return nil
		})
	if err != nil {
		return err
	}
	for p, e := range latest {
		if hat, ok := exposed[p]; ok && e.HandledAt.UnixMilli() <= hat {
			continue
		}
		tr.Handlers = append(tr.Handlers, e)
	}
	slices.SortFunc(tr.Handlers, func(a, b *Exposure) int {
		if c := a.HandledAt.Compare(b.HandledAt); c != 0 {
			return c
		}
		return cmp.Compare(a.person, b.person)
	})
	ex := db.Insert{Head: `INSERT INTO cc_exposures (inspection_id, person_num, org_id, masked_name, handled_at) VALUES `, Cols: 5}
	rows = rows[:0]
	for _, e := range tr.Handlers {
		rows = append(rows, tr.Inspection.ID, e.person, e.Org, e.MaskedName, e.HandledAt.UnixMilli())
	}
	_, err = ex.Exec(ctx, tx, s.db.Engine(), rows)
	return err
}

// downstream is the set of holders the batch reached from org by the
// transfers recorded until then: origin itself and, transitively, everyone it
// passed goods on to.
func downstream(ctx context.Context, q db.Querier, batch, origin string, until time.Time) (map[string]bool, error) {
	next := map[string][]string{}
	err := db.Each(ctx, q, `SELECT from_org, to_org FROM cc_moves WHERE batch_id = $1 AND kind = $2 AND at <= $3`,
		[]any{batch, MoveTransfer, until.UnixMilli()}, func(sc db.Scanner) error {
			var from, to string
			if err := sc.Scan(&from, &to); err != nil {
				return err
			}
			next[from] = append(next[from], to)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read transfers: %w", err)
	}
	seen := map[string]bool{origin: true}
	for todo := []string{origin}; len(todo) > 0; {
		o := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, to := range next[o] {
			if !seen[to] {
				seen[to] = true
				todo = append(todo, to)
			}
		}
	}
	return seen, nil
}

// split parts a batch's holders into those downstream and the rest.
func split(all []*Stock, down map[string]bool) (in, out []*Stock) {
	for _, st := range all {
		if down[st.Org] {
			in = append(in, st)
		} else {
			out = append(out, st)
		}
	}
	return in, out
}

// recordExposures records cold_chain.exposure for each handler (keyed by
// the inspection, so a retry records nothing twice) and marks the
// inspection recorded.
func (s *Service) recordExposures(ctx context.Context, b *Batch, inspection string, hs []*Exposure) error {
	const chunk = 1000
	for lo := 0; lo < len(hs); lo += chunk {
		part := hs[lo:min(lo+chunk, len(hs))]
		nf := make([]status.NewFact, len(part))
		for i, e := range part {
			nf[i] = status.NewFact{Person: e.person, RecordedBy: "system", Key: "cold_chain.exposure:" + inspection,
				Fact: fact.Fact{Kind: fact.ColdChainExposure, At: e.foundAt, Source: "coldchain:" + b.ID, Attrs: map[string]any{
					"batch": b.ID, "product": b.Product, "holder": e.Org, "handled_at": e.HandledAt,
					"inspection": inspection, "run": inspection}}}
		}
		if _, err := s.facts.Record(ctx, nf...); err != nil {
			return fmt.Errorf("coldchain: record exposures of inspection %s: %w", inspection, err)
		}
		s.m.exposures.Add(float64(len(part)))
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE cc_inspections SET facts_recorded = TRUE WHERE id = $1`, inspection); err != nil {
		return fmt.Errorf("coldchain: mark inspection %s recorded: %w", inspection, err)
	}
	return nil
}

// RecordPending records the exposures a failure left behind (the status
// engine was unreachable, the node stopped after the trace committed); the
// server runs it every minute.
func (s *Service) RecordPending(ctx context.Context) error {
	type pending struct{ id, batch string }
	todo, err := db.Collect(ctx, s.db, `SELECT id, batch_id FROM cc_inspections WHERE facts_recorded = FALSE ORDER BY recorded_at LIMIT 50`,
		nil, func(sc db.Scanner) (pending, error) {
			var p pending
			return p, sc.Scan(&p.id, &p.batch)
		})
	if err != nil {
		return fmt.Errorf("coldchain: read pending inspections: %w", err)
	}
	for _, p := range todo {
		b, err := s.byID(ctx, p.batch)
		if err != nil {
			return err
		}
		var found int64
		if err := s.db.QueryRowContext(ctx, `SELECT recorded_at FROM cc_inspections WHERE id = $1`, p.id).Scan(&found); err != nil {
			return fmt.Errorf("coldchain: read inspection: %w", err)
		}
		hs, err := s.exposures(ctx, s.db, p.id)
		if err != nil {
			return err
		}
		for _, e := range hs {
			e.foundAt = db.Time(found)
		}
		if err := s.recordExposures(ctx, b, p.id, hs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) exposures(ctx context.Context, q db.Querier, inspection string) ([]*Exposure, error) {
	out, err := db.Collect(ctx, q, `SELECT e.person_num, e.org_id, o.name, e.masked_name, e.handled_at
		FROM cc_exposures e JOIN orgs o ON o.id = e.org_id WHERE e.inspection_id = $1 ORDER BY e.handled_at, e.person_num`,
		[]any{inspection}, func(sc db.Scanner) (*Exposure, error) {
			var e Exposure
			var at int64
			if err := sc.Scan(&e.person, &e.Org, &e.OrgName, &e.MaskedName, &at); err != nil {
				return nil, err
			}
			e.HandledAt = db.Time(at)
			return &e, nil
		})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read exposures: %w", err)
	}
	return out, nil
}

// stock reads every holder of a batch, in the order they received it.
func stock(ctx context.Context, q db.Querier, batch string) ([]*Stock, error) {
	return db.Collect(ctx, q, `SELECT s.org_id, o.name, o.kind, s.org_region, s.received, s.held, s.sold, s.received_at
		FROM cc_stock s JOIN orgs o ON o.id = s.org_id WHERE s.batch_id = $1 ORDER BY s.received_at, s.org_id`, []any{batch},
		func(sc db.Scanner) (*Stock, error) {
			var st Stock
			var kind string
			var at int64
			if err := sc.Scan(&st.Org, &st.OrgName, &kind, &st.Region, &st.Received, &st.Held, &st.Sold, &at); err != nil {
				return nil, err
			}
			st.Kind, st.ReceivedAt = org.Kind(kind), db.Time(at)
			st.PassedOn = st.Received - st.Held - st.Sold
			return &st, nil
		})
}

func scanTask(sc db.Scanner) (*Task, error) {
	var t Task
	var at int64
	var done sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Inspection, &t.Batch, &t.BatchCode, &t.Product, &t.Org, &t.OrgName, &t.Kind, &t.Quantity, &at, &done); err != nil {
		return nil, err
	}
	t.CreatedAt = db.Time(at)
	if done.Valid {
		t.DoneAt = db.Time(done.Int64)
	}
	return &t, nil
}

const taskQuery = `SELECT t.id, t.inspection_id, t.batch_id, b.code, b.product, t.org_id, o.name, t.kind, t.quantity, t.created_at, t.done_at
	FROM cc_tasks t JOIN cc_batches b ON b.id = t.batch_id JOIN orgs o ON o.id = t.org_id `

// CloseTask marks one of the caller's organisation's tasks done (the stock
// sealed, the premises disinfected), for a holder's key (scope
// coldchain.tasks) or account; a task closes once.
func (s *Service) CloseTask(ctx context.Context, by *auth.Principal, id string) (*Task, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainTasks)
	if err != nil {
		return nil, err
	}
	t, err := scanTask(s.db.QueryRowContext(ctx, taskQuery+`WHERE t.id = $1 AND t.org_id = $2`, id, o.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTaskNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("coldchain: read task: %w", err)
	}
	if t.Done() {
		return nil, ErrTaskDone
	}
	now := s.clock()
	res, err := s.db.ExecContext(ctx, `UPDATE cc_tasks SET done_at = $1, done_by = $2 WHERE id = $3 AND done_at IS NULL`,
		now.UnixMilli(), by.Actor(), t.ID)
	if err != nil {
		return nil, fmt.Errorf("coldchain: close task: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("coldchain: close task: %w", err)
	} else if n == 0 {
		return nil, ErrTaskDone
	}
	t.DoneAt = now
	return t, nil
}
