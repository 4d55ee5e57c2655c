package coldchain

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/csvsafe"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// Chain is a batch with its holders, moves and inspections.
type Chain struct {
	Batch       *Batch
	Holders     []*Stock
	Moves       []*Move
	Inspections []*Inspection
	// Operators only: the handlings and the tasks of positive inspections.
	Handlings []*Handling
	Tasks     []*Task
}

func (s *Service) chain(ctx context.Context, b *Batch) (*Chain, error) {
	c := &Chain{Batch: b}
	var err error
	if c.Holders, err = stock(ctx, s.db, b.ID); err != nil {
		return nil, fmt.Errorf("coldchain: read stock: %w", err)
	}
	c.Moves, err = db.Collect(ctx, s.db, `SELECT m.id, m.kind, COALESCE(m.from_org, ''), COALESCE(f.name, ''), COALESCE(m.to_org, ''),
			COALESCE(t.name, ''), m.quantity, m.at
		FROM cc_moves m LEFT JOIN orgs f ON f.id = m.from_org LEFT JOIN orgs t ON t.id = m.to_org
		WHERE m.batch_id = $1 ORDER BY m.at, m.id`, []any{b.ID}, func(sc db.Scanner) (*Move, error) {
		m := Move{Batch: b.ID}
		var at int64
		if err := sc.Scan(&m.ID, &m.Kind, &m.From, &m.FromName, &m.To, &m.ToName, &m.Quantity, &at); err != nil {
			return nil, err
		}
		m.At = db.Time(at)
		return &m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read moves: %w", err)
	}
	c.Inspections, err = db.Collect(ctx, s.db, `SELECT i.id, i.org_id, o.name, i.kind, i.result, i.certificate, i.sampled_at, i.recorded_at
		FROM cc_inspections i JOIN orgs o ON o.id = i.org_id WHERE i.batch_id = $1 ORDER BY i.sampled_at, i.id`, []any{b.ID},
		func(sc db.Scanner) (*Inspection, error) {
			i := Inspection{Batch: b.ID}
			var sat, rat int64
			if err := sc.Scan(&i.ID, &i.Org, &i.OrgName, &i.Kind, &i.Result, &i.Certificate, &sat, &rat); err != nil {
				return nil, err
			}
			i.SampledAt, i.RecordedAt = db.Time(sat), db.Time(rat)
			return &i, nil
		})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read inspections: %w", err)
	}
	return c, nil
}

// Public is a batch as a consumer sees it by its code: origin, inspections
// and chain, with no personal data (no handlers).
func (s *Service) Public(ctx context.Context, code string) (*Chain, error) {
	b, err := s.byCode(ctx, s.db, code)
	if err != nil {
		return nil, err
	}
	return s.chain(ctx, b)
}

// reads refuses operators who may not read the cold chain.
func reads(by *auth.Principal) error {
	if by.Can(auth.OrgWrite) || by.Can(auth.ResultWrite) {
		return nil
	}
	return by.Require(auth.StatsRead)
}

// inScope reports whether a holder of the batch is in the operator's region.
func inScope(by *auth.Principal, hs []*Stock) bool {
	for _, h := range hs {
		if by.InScope(h.Region) {
			return true
		}
	}
	return false
}

// Batch is a batch's chain for an operator (stats.read, result.write or
// org.write) with a holder in their region, with the handlers (masked) and
// the tasks; elsewhere it does not exist.
func (s *Service) Batch(ctx context.Context, by *auth.Principal, id string) (*Chain, error) {
	if err := reads(by); err != nil {
		return nil, err
	}
	b, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.chain(ctx, b)
	if err != nil {
		return nil, err
	}
	if !inScope(by, c.Holders) {
		return nil, ErrBatchNotFound
	}
	c.Handlings, err = db.Collect(ctx, s.db, `SELECT h.id, h.org_id, o.name, h.masked_name, h.at
		FROM cc_handlings h JOIN orgs o ON o.id = h.org_id WHERE h.batch_id = $1 ORDER BY h.at DESC, h.id LIMIT 500`, []any{b.ID},
		func(sc db.Scanner) (*Handling, error) {
			h := Handling{Batch: b.ID}
			var at int64
			if err := sc.Scan(&h.ID, &h.Org, &h.OrgName, &h.MaskedName, &at); err != nil {
				return nil, err
			}
			h.At = db.Time(at)
			return &h, nil
		})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read handlings: %w", err)
	}
	if c.Tasks, err = db.Collect(ctx, s.db, taskQuery+`WHERE t.batch_id = $1 ORDER BY t.created_at, t.org_id, t.kind`, []any{b.ID}, scanTask); err != nil {
		return nil, fmt.Errorf("coldchain: read tasks: %w", err)
	}
	return c, nil
}

// Batches lists the batches with a holder in the operator's region, newest
// first (at most 200); positive only if asked.
func (s *Service) Batches(ctx context.Context, by *auth.Principal, positive bool) ([]*Batch, error) {
	if err := reads(by); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	cond, args := db.Scope("s.org_region", lo, hi, nil)
	q := `SELECT ` + batchCols + batchFrom + ` WHERE b.id IN (SELECT s.batch_id FROM cc_stock s WHERE ` + cond + `)`
	if positive {
		q += ` AND b.positive_at IS NOT NULL`
	}
	out, err := db.Collect(ctx, s.db, q+` ORDER BY b.created_at DESC, b.id LIMIT 200`, args, scanBatch)
	if err != nil {
		return nil, fmt.Errorf("coldchain: list batches: %w", err)
	}
	return out, nil
}

// Report is a positive inspection's trace, for an operator who may read
// the batch: the holders it traced (downstream of the sampling holder, by
// the transfers recorded until the inspection) with what they hold and
// sold now, the upstream ones for information, the handlers it found
// (masked) and the tasks it opened, with their state.
func (s *Service) Report(ctx context.Context, by *auth.Principal, inspection string) (*Trace, error) {
	if err := reads(by); err != nil {
		return nil, err
	}
	var batch string
	err := s.db.QueryRowContext(ctx, `SELECT batch_id FROM cc_inspections WHERE id = $1 AND result = 'positive'`, inspection).Scan(&batch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInspectionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("coldchain: read inspection: %w", err)
	}
	c, err := s.Batch(ctx, by, batch)
	if errors.Is(err, ErrBatchNotFound) {
		return nil, ErrInspectionNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.report(ctx, c, inspection)
}

// HolderReport is the trace of a positive inspection the caller's
// organisation recorded (its key with scope coldchain.inspect, or account),
// as Report gives it to operators; another's is not found.
func (s *Service) HolderReport(ctx context.Context, by *auth.Principal, inspection string) (*Trace, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainInspect)
	if err != nil {
		return nil, err
	}
	var batch string
	err = s.db.QueryRowContext(ctx, `SELECT batch_id FROM cc_inspections WHERE id = $1 AND org_id = $2 AND result = 'positive'`,
		inspection, o.ID).Scan(&batch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInspectionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("coldchain: read inspection: %w", err)
	}
	b, err := s.byID(ctx, batch)
	if err != nil {
		return nil, err
	}
	c, err := s.chain(ctx, b)
	if err != nil {
		return nil, err
	}
	return s.report(ctx, c, inspection)
}

// report is a positive inspection's trace from its batch's chain.
func (s *Service) report(ctx context.Context, c *Chain, inspection string) (*Trace, error) {
	tr := &Trace{Batch: c.Batch}
	for _, i := range c.Inspections {
		if i.ID == inspection {
			tr.Inspection = i
		}
	}
	if tr.Inspection == nil {
		return nil, ErrInspectionNotFound
	}
	down, err := downstream(ctx, s.db, c.Batch.ID, tr.Inspection.Org, tr.Inspection.RecordedAt)
	if err != nil {
		return nil, err
	}
	tr.Holders, tr.Upstream = split(c.Holders, down)
	if tr.Tasks, err = db.Collect(ctx, s.db, taskQuery+`WHERE t.inspection_id = $1 ORDER BY t.created_at, t.org_id, t.kind`,
		[]any{inspection}, scanTask); err != nil {
		return nil, fmt.Errorf("coldchain: read tasks: %w", err)
	}
	if tr.Handlers, err = s.exposures(ctx, s.db, inspection); err != nil {
		return nil, err
	}
	return tr, nil
}

// Holdings is what a holder holds and the tasks it has, for its key (scope
// coldchain.move) or account.
type Holdings struct {
	Org     *org.Org
	Batches []*HeldBatch
	Tasks   []*Task // open first, then the latest done
	// The positive inspections it recorded, newest first (at most 50),
	// each with its trace report.
	Positives []*Inspection
}

// HeldBatch is a batch as one of its holders sees it.
type HeldBatch struct {
	Batch *Batch
	Stock *Stock
}

// Holdings reads the caller's organisation's batches (received, newest
// first, at most 200) and its tasks.
func (s *Service) Holdings(ctx context.Context, by *auth.Principal) (*Holdings, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainMove)
	if err != nil {
		return nil, err
	}
	h := &Holdings{Org: o}
	h.Batches, err = db.Collect(ctx, s.db, `SELECT `+batchCols+`, s.received, s.held, s.sold, s.received_at`+batchFrom+`
		JOIN cc_stock s ON s.batch_id = b.id WHERE s.org_id = $1 ORDER BY s.received_at DESC, b.id LIMIT 200`, []any{o.ID},
		func(sc db.Scanner) (*HeldBatch, error) {
			var hb HeldBatch
			st := Stock{Org: o.ID, OrgName: o.Name, Kind: o.Kind, Region: o.Region}
			var at int64
			b, err := scanBatch(multiScanner{sc, []any{&st.Received, &st.Held, &st.Sold, &at}})
			if err != nil {
				return nil, err
			}
			st.ReceivedAt, st.PassedOn = db.Time(at), st.Received-st.Held-st.Sold
			hb.Batch, hb.Stock = b, &st
			return &hb, nil
		})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read holdings: %w", err)
	}
	h.Tasks, err = db.Collect(ctx, s.db, taskQuery+`WHERE t.org_id = $1 ORDER BY CASE WHEN t.done_at IS NULL THEN 0 ELSE 1 END,
		t.created_at DESC, t.kind LIMIT 200`, []any{o.ID}, scanTask)
	if err != nil {
		return nil, fmt.Errorf("coldchain: read tasks: %w", err)
	}
	h.Positives, err = db.Collect(ctx, s.db, `SELECT i.id, i.batch_id, b.product, b.code, i.kind, i.sampled_at, i.recorded_at
		FROM cc_inspections i JOIN cc_batches b ON b.id = i.batch_id WHERE i.org_id = $1 AND i.result = 'positive'
		ORDER BY i.recorded_at DESC, i.id LIMIT 50`, []any{o.ID}, func(sc db.Scanner) (*Inspection, error) {
		i := Inspection{Org: o.ID, OrgName: o.Name, Result: "positive"}
		var sat, rat int64
		if err := sc.Scan(&i.ID, &i.Batch, &i.Product, &i.BatchCode, &i.Kind, &sat, &rat); err != nil {
			return nil, err
		}
		i.SampledAt, i.RecordedAt = db.Time(sat), db.Time(rat)
		return &i, nil
	})
	if err != nil {
		return nil, fmt.Errorf("coldchain: read positive inspections: %w", err)
	}
	return h, nil
}

// multiScanner scans a batch's columns and then extra ones.
type multiScanner struct {
	sc    db.Scanner
	extra []any
}

func (m multiScanner) Scan(dest ...any) error { return m.sc.Scan(append(dest, m.extra...)...) }

// WriteReport writes a trace as CSV, in zh-CN or English: one line per
// downstream holder, per upstream holder (for information), per task, then
// one per handler, every typed text through csvsafe.
func (s *Service) WriteReport(w io.Writer, tr *Trace, en bool) error {
	loc := s.loc
	pick := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	cw := csv.NewWriter(w)
	b := tr.Batch
	recs := [][]string{
		{pick("批次", "batch"), b.Code, csvsafe.Text(b.Product), b.OriginCountry, csvsafe.Text(b.Port), b.Declaration},
		{pick("阳性检测", "positive inspection"), tr.Inspection.ID, tr.Inspection.Kind, csvsafe.Text(tr.Inspection.OrgName), ts(tr.Inspection.SampledAt)},
		{pick("类别", "section"), pick("单位", "holder"), pick("类型", "kind"), pick("收货", "received"), pick("在库", "held"),
			pick("已售", "sold"), pick("转出", "passed on"), pick("姓名/任务", "name/task"), pick("时间", "time")},
	}
	for _, h := range tr.Holders {
		recs = append(recs, []string{pick("经营单位", "holder"), csvsafe.Text(h.OrgName), string(h.Kind), strconv.FormatInt(h.Received, 10),
			strconv.FormatInt(h.Held, 10), strconv.FormatInt(h.Sold, 10), strconv.FormatInt(h.PassedOn, 10), "", ts(h.ReceivedAt)})
	}
	for _, h := range tr.Upstream {
		recs = append(recs, []string{pick("上游单位（仅供参考）", "upstream (for information)"), csvsafe.Text(h.OrgName), string(h.Kind),
			strconv.FormatInt(h.Received, 10), strconv.FormatInt(h.Held, 10), strconv.FormatInt(h.Sold, 10), strconv.FormatInt(h.PassedOn, 10),
			"", ts(h.ReceivedAt)})
	}
	for _, t := range tr.Tasks {
		state := pick("未完成", "open")
		if t.Done() {
			state = pick("已完成 ", "done ") + ts(t.DoneAt)
		}
		recs = append(recs, []string{pick("处置任务", "task"), csvsafe.Text(t.OrgName), t.Kind, "", strconv.FormatInt(t.Quantity, 10), "", "",
			state, ts(t.CreatedAt)})
	}
	for _, e := range tr.Handlers {
		recs = append(recs, []string{pick("从业人员", "handler"), csvsafe.Text(e.OrgName), "", "", "", "", "", csvsafe.Text(e.MaskedName), ts(e.HandledAt)})
	}
	if err := cw.WriteAll(recs); err != nil {
		return fmt.Errorf("coldchain: write report: %w", err)
	}
	return nil
}
