package nat

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/status"
)

// The lab's words for a tube. A lab reports a tube positive; whether that
// is a person's single-tube positive or a mixed-tube positive follows from
// the tube's capacity, so mixed_positive is never a lab's word.
const (
	Negative = fact.ResultNegative
	Positive = fact.ResultPositive
	Invalid  = fact.ResultInvalid
)

// ParseResult reads a lab's result word, in English or Chinese.
func ParseResult(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "negative", "阴性":
		return Negative, nil
	case "positive", "阳性":
		return Positive, nil
	case "invalid", "无效":
		return Invalid, nil
	}
	return "", ErrResultInvalid.Withf("result must be negative, positive or invalid (阴性, 阳性, 无效), not %q", truncate(v, 40))
}

// PersonResult is what a tube's result means for each person in it.
func PersonResult(word string, capacity int) string {
	if word == Positive && capacity > 1 {
		return fact.ResultMixedPositive
	}
	return word
}

// Report is the answer to one posted result.
type Report struct {
	Tube    *Tube
	Status  string // accepted, unchanged
	Persons int
	// Facts is how many facts the status engine created now (0 for a
	// repeat whose facts were recorded before).
	Facts int
}

type item struct {
	line    int
	barcode string
	word    string
}

type outcome struct {
	status string // accepted, unchanged, refused
	err    error  // why refused
	tube   *Tube
}

// pendingResult is a result report whose facts are to be recorded.
type pendingResult struct {
	barcode  string
	version  int
	word     string
	capacity int
	site     string
	lab      string
	source   string
}

// parseReport checks who reports and what: a tube's barcode and a result.
func parseReport(by *auth.Principal, barcode, result string) (b, word string, err error) {
	if err := by.Require(auth.ResultWrite); err != nil {
		return "", "", err
	}
	if b, err = ParseBarcode(barcode); err != nil {
		return "", "", err
	}
	if word, err = ParseResult(result); err != nil {
		return "", "", err
	}
	return b, word, nil
}

// PostResult records a lab's result for one tube. Posting the same result
// again changes nothing (and records any facts that a failure left
// behind); a different result for a tube that has one needs a correction.
func (s *Service) PostResult(ctx context.Context, by *auth.Principal, barcode, result, lab string) (*Report, error) {
	b, word, err := parseReport(by, barcode, result)
	if err != nil {
		return nil, err
	}
	if lab != "" {
		if lab, err = labName(lab); err != nil {
			return nil, err
		}
	}
	if s.deps.Facts == nil {
		return nil, errNoFacts
	}
	outs, pend, err := s.reportChunk(ctx, by, []item{{barcode: b, word: word}}, lab, "nat-result/"+b)
	if err != nil {
		return nil, err
	}
	o := outs[0]
	if o.status == "refused" {
		return nil, o.err
	}
	rep := &Report{Tube: o.tube, Status: o.status, Persons: o.tube.Samples}
	if rep.Facts, err = s.recordFacts(ctx, by.Actor(), pend); err != nil {
		return nil, err
	}
	return rep, nil
}

// reportChunk stores new results for a chunk of tubes in one transaction,
// with the tasks and alerts they call for. It returns each item's outcome
// and the reports whose facts must now be recorded: the new ones, and
// repeats of reports whose facts were never recorded.
func (s *Service) reportChunk(ctx context.Context, by *auth.Principal, items []item, lab, source string) ([]outcome, []pendingResult, error) {
	outs := make([]outcome, len(items))
	var pend []pendingResult
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		pend = pend[:0]
		barcodes := make([]string, len(items))
		for i, it := range items {
			barcodes[i] = it.barcode
		}
		tubes, err := s.tubesByBarcode(ctx, tx, barcodes)
		if err != nil {
			return err
		}
		current, err := s.currentReports(ctx, tx, tubes)
		if err != nil {
			return err
		}
		now := s.clock()
		var fresh []pendingResult
		byWord := map[string][]string{}
		for i, it := range items {
			t := tubes[it.barcode]
			o := &outs[i]
			o.tube, o.status = t, "refused"
			switch {
			case t == nil || !by.InScope(t.Region):
				o.tube, o.err = nil, ErrTubeUnknown.Withf("no tube %s", it.barcode)
			case t.SealedAt == nil:
				o.err = ErrTubeUnsealed.Withf("tube %s is not sealed; results are taken for sealed tubes only", it.barcode)
			case t.Result == it.word:
				o.status = "unchanged"
				if r := current[it.barcode]; r != nil && !r.recorded {
					pend = append(pend, r.pendingResult)
				}
			case t.Result != "":
				o.err = ErrResultExists.Withf("tube %s was reported %s; to change it, send a correction with a reason", it.barcode, t.Result)
			default:
				o.status = "accepted"
				l := lab
				if l == "" {
					l = t.Lab
				}
				if l == "" {
					l = by.Name
				}
				p := pendingResult{barcode: t.Barcode, version: 1, word: it.word, capacity: t.Capacity, site: t.SiteID, lab: l, source: source}
				fresh = append(fresh, p)
				byWord[it.word] = append(byWord[it.word], t.Barcode)
				t.Result, t.Version, t.State = it.word, 1, "reported"
				t.ReportedAt = &now
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		rows := make([]any, 0, 9*len(fresh))
		for _, p := range fresh {
			rows = append(rows, p.barcode, p.version, p.word, p.lab, p.source, "", now.UnixMilli(), by.Actor(), false)
		}
		if _, err := insertResults.Exec(ctx, tx, s.db.Engine(), rows); err != nil {
			return fmt.Errorf("nat: insert results: %w", err)
		}
		for word, bs := range byWord {
			n, err := db.ExecIn(ctx, tx, s.db.Engine(), `UPDATE nat_tubes SET result = $1, result_version = 1, result_at = $2 WHERE result IS NULL AND barcode IN `,
				[]any{word, now.UnixMilli()}, bs, ``)
			if err != nil {
				return fmt.Errorf("nat: set results: %w", err)
			}
			// A concurrent report of the same tube got there first; the
			// primary key of nat_results has refused it already, so this
			// only guards the invariant.
			if n != int64(len(bs)) {
				return ErrResultExists.Withf("a result for one of these tubes arrived meanwhile; send the file again")
			}
		}
		changed := make([]string, len(fresh))
		region, was, is := map[string]string{}, map[string]string{}, map[string]string{}
		for i, p := range fresh {
			changed[i] = p.barcode
			region[p.barcode], was[p.barcode], is[p.barcode] = tubes[p.barcode].Region, "", p.word
		}
		if err := s.retallyTubes(ctx, tx, changed); err != nil {
			return err
		}
		if err := s.moveSwabs(ctx, tx, region, was, is); err != nil {
			return err
		}
		if err := s.followUp(ctx, tx, fresh, now); err != nil {
			return err
		}
		pend = append(pend, fresh...)
		return nil
	})
	if db.IsUniqueViolation(err) {
		return nil, nil, ErrResultExists.Withf("a result for one of these tubes arrived meanwhile; send it again")
	}
	if err != nil {
		return nil, nil, err
	}
	s.metrics.reported(items, outs)
	return outs, pend, nil
}

type currentReport struct {
	pendingResult
	recorded bool
}

// currentReports reads the latest report of each tube that has one.
func (s *Service) currentReports(ctx context.Context, q db.Querier, tubes map[string]*Tube) (map[string]*currentReport, error) {
	var bs []string
	for b, t := range tubes {
		if t.Result != "" {
			bs = append(bs, b)
		}
	}
	out := map[string]*currentReport{}
	err := db.QueryIn(ctx, q, s.db.Engine(), `SELECT r.barcode, r.version, r.result, t.capacity, t.site_id, r.lab, r.source, r.facts_recorded
		FROM nat_results r JOIN nat_tubes t ON t.barcode = r.barcode AND t.result_version = r.version WHERE r.barcode IN `, nil, bs, ``,
		func(sc db.Scanner) error {
			var r currentReport
			if err := sc.Scan(&r.barcode, &r.version, &r.word, &r.capacity, &r.site, &r.lab, &r.source, &r.recorded); err != nil {
				return err
			}
			out[r.barcode] = &r
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("nat: read reports: %w", err)
	}
	return out, nil
}

// sampleRow is a person in a tube, with what facts and follow-up need.
type sampleRow struct {
	barcode   string
	person    int64
	sampledAt time.Time
	region    string
}

// samplesOf reads the persons in the tubes, with their region when
// follow-up needs it (facts do not).
func (s *Service) samplesOf(ctx context.Context, q db.Querier, barcodes []string, withRegion bool) (map[string][]sampleRow, error) {
	out := make(map[string][]sampleRow, len(barcodes))
	query := `SELECT s.barcode, s.person_num, s.sampled_at, '' FROM nat_samples s WHERE s.barcode IN `
	if withRegion {
		query = `SELECT s.barcode, s.person_num, s.sampled_at, p.region_code
			FROM nat_samples s JOIN persons p ON p.num = s.person_num WHERE s.barcode IN `
	}
	err := db.QueryIn(ctx, q, s.db.Engine(), query, nil, barcodes, ``, func(sc db.Scanner) error {
		var r sampleRow
		var at int64
		if err := sc.Scan(&r.barcode, &r.person, &at, &r.region); err != nil {
			return err
		}
		r.sampledAt = db.Time(at)
		out[r.barcode] = append(out[r.barcode], r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nat: read samples: %w", err)
	}
	return out, nil
}

// followUp opens what a result calls for, per person in the tube: a
// single-tube retest after a positive mixed tube, a resample after an
// invalid tube, and an alert to the health officers of the person's region
// after a single-tube positive.
func (s *Service) followUp(ctx context.Context, tx db.Tx, reports []pendingResult, now time.Time) error {
	var need []string
	for _, r := range reports {
		if r.word != Negative {
			need = append(need, r.barcode)
		}
	}
	if len(need) == 0 {
		return nil
	}
	samples, err := s.samplesOf(ctx, tx, need, true)
	if err != nil {
		return err
	}
	var tasks, alerts []any
	for _, r := range reports {
		for _, p := range samples[r.barcode] {
			switch {
			case r.word == Invalid:
				tasks = append(tasks, ids.New(), "resample", p.person, p.region, r.barcode, r.version, now.UnixMilli())
			case r.word == Positive && r.capacity > 1:
				tasks = append(tasks, ids.New(), "retest", p.person, p.region, r.barcode, r.version, now.UnixMilli())
			case r.word == Positive:
				alerts = append(alerts, ids.New(), p.person, p.region, r.barcode, r.version, r.site, p.sampledAt.UnixMilli(), now.UnixMilli())
			}
		}
	}
	if _, err := insertTasks.Exec(ctx, tx, s.db.Engine(), tasks); err != nil {
		return fmt.Errorf("nat: open tasks: %w", err)
	}
	if _, err := insertAlerts.Exec(ctx, tx, s.db.Engine(), alerts); err != nil {
		return fmt.Errorf("nat: raise alerts: %w", err)
	}
	return nil
}

var (
	insertResults = db.Insert{Head: `INSERT INTO nat_results (barcode, version, result, lab, source, reason, reported_at, reported_by, facts_recorded) VALUES `, Cols: 9}
	insertTasks   = db.Insert{Head: `INSERT INTO nat_tasks (id, kind, person_num, region_code, barcode, result_version, created_at) VALUES `, Cols: 7}
	insertAlerts  = db.Insert{Head: `INSERT INTO nat_alerts (id, person_num, region_code, barcode, result_version, site_id, sampled_at, created_at) VALUES `, Cols: 8}
)

// factKey makes a report's facts idempotent: re-recording a report after a
// failure, or by the retry worker, creates nothing twice.
func factKey(barcode string, version int) string { return fmt.Sprintf("nat:%s:%d", barcode, version) }

// recordFacts appends the nat.result facts of the reports, one per person
// in each tube, in ONE Record call, then marks the reports recorded.
func (s *Service) recordFacts(ctx context.Context, actor string, reports []pendingResult) (int, error) {
	if len(reports) == 0 {
		return 0, nil
	}
	if s.deps.Facts == nil {
		return 0, errNoFacts
	}
	barcodes := make([]string, len(reports))
	for i, r := range reports {
		barcodes[i] = r.barcode
	}
	samples, err := s.samplesOf(ctx, s.db, barcodes, false)
	if err != nil {
		return 0, err
	}
	var facts []status.NewFact
	for _, r := range reports {
		for _, p := range samples[r.barcode] {
			attrs := map[string]any{
				"result":        PersonResult(r.word, r.capacity),
				"tube":          r.barcode,
				"tube_capacity": int64(r.capacity),
				"site":          r.site,
				"lab":           r.lab,
			}
			if r.version > 1 {
				attrs["correction"] = true
			}
			facts = append(facts, status.NewFact{
				Person:     p.person,
				Fact:       fact.Fact{Kind: fact.NATResult, At: p.sampledAt, Attrs: attrs, Source: r.source},
				RecordedBy: actor,
				Key:        factKey(r.barcode, r.version),
			})
		}
	}
	created, err := s.deps.Facts.Record(ctx, facts...)
	if err != nil {
		return 0, fmt.Errorf("nat: record facts: %w", err)
	}
	// Marking covers earlier versions too: once a correction's facts are
	// in, the report it replaced must never be recorded after it.
	byVersion := map[int][]string{}
	for _, r := range reports {
		byVersion[r.version] = append(byVersion[r.version], r.barcode)
	}
	for v, bs := range byVersion {
		if _, err := db.ExecIn(ctx, s.db, s.db.Engine(), `UPDATE nat_results SET facts_recorded = TRUE WHERE facts_recorded = FALSE AND version <= $1 AND barcode IN `,
			[]any{v}, bs, ``); err != nil {
			return created, fmt.Errorf("nat: mark facts recorded: %w", err)
		}
	}
	return created, nil
}

// RecordPending records the facts of reports that a failure left behind
// (the status engine was unreachable, the node stopped between the two
// commits). Only a tube's current report is recorded: an older one must
// never reach the status engine after the correction that replaced it.
func (s *Service) RecordPending(ctx context.Context) error {
	if s.deps.Facts == nil {
		return nil
	}
	cutoff := s.clock().Add(-s.cfg.PendingAfter).UnixMilli()
	for {
		pend, err := db.Collect(ctx, s.db, `SELECT r.barcode, r.version, r.result, t.capacity, t.site_id, r.lab, r.source
			FROM nat_results r JOIN nat_tubes t ON t.barcode = r.barcode AND t.result_version = r.version
			WHERE r.facts_recorded = FALSE AND r.reported_at < $1 ORDER BY r.reported_at LIMIT $2`, []any{cutoff, s.cfg.ChunkTubes},
			func(sc db.Scanner) (pendingResult, error) {
				var p pendingResult
				err := sc.Scan(&p.barcode, &p.version, &p.word, &p.capacity, &p.site, &p.lab, &p.source)
				return p, err
			})
		if err != nil {
			return fmt.Errorf("nat: read pending results: %w", err)
		}
		if len(pend) == 0 {
			return nil
		}
		n, err := s.recordFacts(ctx, "system", pend)
		if err != nil {
			return err
		}
		s.log.Info("nat: recorded facts of results left pending", "results", len(pend), "facts", n)
		if len(pend) < s.cfg.ChunkTubes {
			return nil
		}
	}
}
