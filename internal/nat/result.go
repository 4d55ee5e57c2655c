package nat

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
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
	return "", apierr.BadRequest("result_invalid", "result must be negative, positive or invalid (阴性, 阳性, 无效), not %q", truncate(v, 40))
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
	Tube    *Tube  `json:"tube"`
	Status  string `json:"status"` // accepted, unchanged
	Persons int    `json:"persons"`
	// Facts is how many facts the status engine created now (0 for a
	// repeat whose facts were recorded before).
	Facts int `json:"facts"`
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
	if !by.Can(auth.ResultWrite) {
		return "", "", errForbidden
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
				o.tube, o.err = nil, apierr.NotFound("tube_unknown", "no tube %s", it.barcode)
			case t.SealedAt == nil:
				o.err = apierr.Conflict("tube_unsealed", "tube %s is not sealed; results are taken for sealed tubes only", it.barcode)
			case t.Result == it.word:
				o.status = "unchanged"
				if r := current[it.barcode]; r != nil && !r.recorded {
					pend = append(pend, r.pendingResult)
				}
			case t.Result != "":
				o.err = apierr.Conflict("result_exists", "tube %s was reported %s; to change it, send a correction with a reason", it.barcode, t.Result)
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
		rows := make([][]any, len(fresh))
		for i, p := range fresh {
			rows[i] = []any{p.barcode, p.version, p.word, p.lab, p.source, "", now.UnixMilli(), by.Actor(), false}
		}
		if err := insertRows(ctx, tx, `INSERT INTO nat_results (barcode, version, result, lab, source, reason, reported_at, reported_by, facts_recorded) VALUES `, 9, rows, s.insertParams()); err != nil {
			return fmt.Errorf("nat: insert results: %w", err)
		}
		for word, bs := range byWord {
			for _, chunk := range chunks(bs, s.inParams()) {
				q, args := inList(`UPDATE nat_tubes SET result = $1, result_version = 1, result_at = $2 WHERE result IS NULL AND barcode IN `, 3, chunk)
				res, err := tx.ExecContext(ctx, q, append([]any{word, now.UnixMilli()}, args...)...)
				if err != nil {
					return fmt.Errorf("nat: set results: %w", err)
				}
				// A concurrent report of the same tube got there first; the
				// primary key of nat_results has refused it already, so this
				// only guards the invariant.
				if n, _ := res.RowsAffected(); n != int64(len(chunk)) {
					return apierr.Conflict("result_exists", "a result for one of these tubes arrived meanwhile; send the file again")
				}
			}
		}
		if err := s.followUp(ctx, tx, fresh, now); err != nil {
			return err
		}
		pend = append(pend, fresh...)
		return nil
	})
	if db.IsUniqueViolation(err) {
		return nil, nil, apierr.Conflict("result_exists", "a result for one of these tubes arrived meanwhile; send it again")
	}
	if err != nil {
		return nil, nil, err
	}
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
	for _, chunk := range chunks(bs, s.inParams()) {
		query, args := inList(`SELECT r.barcode, r.version, r.result, t.capacity, t.site_id, r.lab, r.source, r.facts_recorded
			FROM nat_results r JOIN nat_tubes t ON t.barcode = r.barcode AND t.result_version = r.version WHERE r.barcode IN `, 1, chunk)
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("nat: read reports: %w", err)
		}
		for rows.Next() {
			var r currentReport
			if err := rows.Scan(&r.barcode, &r.version, &r.word, &r.capacity, &r.site, &r.lab, &r.source, &r.recorded); err != nil {
				rows.Close()
				return nil, fmt.Errorf("nat: read reports: %w", err)
			}
			out[r.barcode] = &r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
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
	for _, chunk := range chunks(barcodes, s.inParams()) {
		stmt, args := inList(query, 1, chunk)
		rows, err := q.QueryContext(ctx, stmt, args...)
		if err != nil {
			return nil, fmt.Errorf("nat: read samples: %w", err)
		}
		for rows.Next() {
			var r sampleRow
			var at int64
			if err := rows.Scan(&r.barcode, &r.person, &at, &r.region); err != nil {
				rows.Close()
				return nil, fmt.Errorf("nat: read samples: %w", err)
			}
			r.sampledAt = db.Time(at)
			out[r.barcode] = append(out[r.barcode], r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
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
	var tasks, alerts [][]any
	for _, r := range reports {
		for _, p := range samples[r.barcode] {
			switch {
			case r.word == Invalid:
				tasks = append(tasks, []any{ids.New(), "resample", p.person, p.region, r.barcode, r.version, now.UnixMilli()})
			case r.word == Positive && r.capacity > 1:
				tasks = append(tasks, []any{ids.New(), "retest", p.person, p.region, r.barcode, r.version, now.UnixMilli()})
			case r.word == Positive:
				alerts = append(alerts, []any{ids.New(), p.person, p.region, r.barcode, r.version, r.site, p.sampledAt.UnixMilli(), now.UnixMilli()})
			}
		}
	}
	if err := insertRows(ctx, tx, `INSERT INTO nat_tasks (id, kind, person_num, region_code, barcode, result_version, created_at) VALUES `, 7, tasks, s.insertParams()); err != nil {
		return fmt.Errorf("nat: open tasks: %w", err)
	}
	if err := insertRows(ctx, tx, `INSERT INTO nat_alerts (id, person_num, region_code, barcode, result_version, site_id, sampled_at, created_at) VALUES `, 8, alerts, s.insertParams()); err != nil {
		return fmt.Errorf("nat: raise alerts: %w", err)
	}
	return nil
}

// insertParams is how many parameters one multi-row INSERT takes. The
// embedded SQLite driver binds parameters in time quadratic in their
// number (20,000 rows of 7 columns: 0.23 s in statements of 20 rows, 5.9 s
// in statements of 500), so it gets small statements; PostgreSQL saves a
// round trip per row and takes large ones, under its 65,535 limit.
func (s *Service) insertParams() int {
	if s.db.Engine() == db.SQLite {
		return 160
	}
	return 30000
}

// inParams is how many values an IN list takes, for the same reason.
func (s *Service) inParams() int {
	if s.db.Engine() == db.SQLite {
		return 200
	}
	return 1000
}

// insertRows runs a multi-row INSERT in batches of at most maxParams
// parameters.
func insertRows(ctx context.Context, tx db.Tx, prefix string, ncols int, rows [][]any, maxParams int) error {
	per := max(1, min(500, maxParams/ncols))
	for _, batch := range chunks(rows, per) {
		args := make([]any, 0, len(batch)*ncols)
		for _, row := range batch {
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, prefix+db.Rows(0, len(batch), ncols), args...); err != nil {
			return err
		}
	}
	return nil
}

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
		for _, chunk := range chunks(bs, s.inParams()) {
			q, args := inList(`UPDATE nat_results SET facts_recorded = TRUE WHERE facts_recorded = FALSE AND version <= $1 AND barcode IN `, 2, chunk)
			if _, err := s.db.ExecContext(ctx, q, append([]any{v}, args...)...); err != nil {
				return created, fmt.Errorf("nat: mark facts recorded: %w", err)
			}
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
		rows, err := s.db.QueryContext(ctx, `SELECT r.barcode, r.version, r.result, t.capacity, t.site_id, r.lab, r.source
			FROM nat_results r JOIN nat_tubes t ON t.barcode = r.barcode AND t.result_version = r.version
			WHERE r.facts_recorded = FALSE AND r.reported_at < $1 ORDER BY r.reported_at LIMIT $2`, cutoff, s.cfg.ChunkTubes)
		if err != nil {
			return fmt.Errorf("nat: read pending results: %w", err)
		}
		var pend []pendingResult
		for rows.Next() {
			var p pendingResult
			if err := rows.Scan(&p.barcode, &p.version, &p.word, &p.capacity, &p.site, &p.lab, &p.source); err != nil {
				rows.Close()
				return fmt.Errorf("nat: read pending results: %w", err)
			}
			pend = append(pend, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
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

// Correct replaces a tube's result, with the lab's reason, audited. The
// earlier facts are superseded by new ones marked as a correction (the
// rules stop seeing the replaced result), the tasks and alerts of the
// replaced result are withdrawn, those of the new one opened, and the
// people in the tube re-evaluated.
func (s *Service) Correct(ctx context.Context, by *auth.Principal, barcode, result, reason string) (*Report, error) {
	b, word, err := parseReport(by, barcode, result)
	if err != nil {
		return nil, err
	}
	reason, err = textField("reason", reason, 2, 500)
	if err != nil {
		return nil, apierr.BadRequest("reason_invalid", "a correction needs the reason, in 2-500 characters")
	}
	if s.deps.Facts == nil {
		return nil, errNoFacts
	}
	var t *Tube
	var pend pendingResult
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if t, err = s.tube(ctx, tx, b); err != nil {
			return err
		}
		if !by.InScope(t.Region) {
			return errTubeNotFound
		}
		if t.Result == "" {
			return apierr.Conflict("result_missing", "tube %s has no result to correct; post the result", b)
		}
		if t.Result == word {
			return apierr.Conflict("result_unchanged", "tube %s is already %s", b, word)
		}
		cur, err := s.currentReports(ctx, tx, map[string]*Tube{b: t})
		if err != nil {
			return err
		}
		prev := cur[b]
		if prev == nil {
			return fmt.Errorf("nat: tube %s has result %s but no report", b, t.Result)
		}
		// Facts must reach the status engine in report order, or the
		// replaced result would be recorded after its correction.
		if !prev.recorded {
			return apierr.Conflict("result_pending", "the previous result of tube %s is still being passed on; try again in a minute", b)
		}
		now := s.clock()
		pend = pendingResult{barcode: b, version: t.Version + 1, word: word, capacity: t.Capacity, site: t.SiteID,
			lab: prev.lab, source: "nat-correction/" + b}
		if _, err := tx.ExecContext(ctx, `INSERT INTO nat_results (barcode, version, result, lab, source, reason, reported_at, reported_by, facts_recorded)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE)`, b, pend.version, word, pend.lab, pend.source, reason, now.UnixMilli(), by.Actor()); err != nil {
			if db.IsUniqueViolation(err) {
				return apierr.Conflict("result_pending", "another correction of tube %s arrived meanwhile", b)
			}
			return fmt.Errorf("nat: insert correction: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE nat_tubes SET result = $1, result_version = $2, result_at = $3 WHERE barcode = $4`,
			word, pend.version, now.UnixMilli(), b); err != nil {
			return fmt.Errorf("nat: correct tube: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE nat_tasks SET closed_at = $1, closed_reason = 'superseded' WHERE barcode = $2 AND closed_at IS NULL`,
			now.UnixMilli(), b); err != nil {
			return fmt.Errorf("nat: withdraw tasks: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE nat_alerts SET retracted_at = $1 WHERE barcode = $2 AND retracted_at IS NULL`,
			now.UnixMilli(), b); err != nil {
			return fmt.Errorf("nat: retract alerts: %w", err)
		}
		if err := s.followUp(ctx, tx, []pendingResult{pend}, now); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "nat.result.correct",
			Subject: "tube:" + b, Region: t.Region, Detail: map[string]any{"from": t.Result, "to": word, "reason": reason,
				"version": pend.version, "persons": t.Samples}}); err != nil {
			return err
		}
		t.Result, t.Version, t.ReportedAt, t.State = word, pend.version, &now, "reported"
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := &Report{Tube: t, Status: "corrected", Persons: t.Samples}
	if rep.Facts, err = s.recordFacts(ctx, by.Actor(), []pendingResult{pend}); err != nil {
		return nil, err
	}
	return rep, nil
}

// resultAliases are the column names of a lab's file.
var resultAliases = map[string]string{
	"barcode": "barcode", "tube": "barcode", "条码": "barcode", "试管条码": "barcode", "样本条码": "barcode", "管码": "barcode",
	"result": "result", "结果": "result", "检测结果": "result",
}

// UploadLine is one line of an upload's report.
type UploadLine struct {
	Line    int    `json:"line"`
	Barcode string `json:"barcode,omitempty"`
	Result  string `json:"result,omitempty"`
	Status  string `json:"status"` // accepted, unchanged, refused
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// UploadReport is the outcome of a lab's file.
type UploadReport struct {
	ID        string `json:"id"`
	Lines     int    `json:"lines"`
	Accepted  int    `json:"accepted"`
	Unchanged int    `json:"unchanged"`
	Refused   int    `json:"refused"`
	Persons   int    `json:"persons"` // people in the accepted tubes
	Facts     int    `json:"facts"`   // facts the status engine created
	// FactsPending counts accepted tubes whose facts could not be passed
	// on yet; they are kept and retried in the background.
	FactsPending int          `json:"facts_pending"`
	Report       []UploadLine `json:"report"`
}

// Upload takes a lab's CSV file of tube results: a header line naming the
// barcode and result columns (other columns are ignored), or no header and
// the first two columns. Each line is accepted, unchanged (the same result
// was reported before) or refused with the reason; good lines are kept
// whatever happens to the others. Tubes are stored and their facts
// recorded in chunks, one transaction and one Record call per chunk.
func (s *Service) Upload(ctx context.Context, by *auth.Principal, body []byte, lab string) (*UploadReport, error) {
	if !by.Can(auth.ResultWrite) {
		return nil, errForbidden
	}
	if lab != "" {
		var err error
		if lab, err = labName(lab); err != nil {
			return nil, err
		}
	}
	if s.deps.Facts == nil {
		return nil, errNoFacts
	}
	lines := readCSV(body)
	if len(lines) == 0 {
		return nil, apierr.BadRequest("csv_empty", "the file has no lines; send barcode,result lines")
	}
	if len(lines) > MaxUploadLines {
		return nil, apierr.BadRequest("csv_too_long", "at most %d lines per file", MaxUploadLines)
	}
	bc, rc := 0, 1
	if lines[0].err == nil {
		if cols := header(lines[0].fields, resultAliases); cols != nil {
			var okB, okR bool
			bc, okB = cols["barcode"]
			rc, okR = cols["result"]
			if !okB || !okR {
				return nil, apierr.BadRequest("csv_header", "the header must name a barcode column and a result column")
			}
			lines = lines[1:]
		}
	}
	rep := &UploadReport{ID: ids.New(), Lines: len(lines), Report: make([]UploadLine, len(lines))}
	var items []item
	seen := make(map[string]int, len(lines))
	for i, ln := range lines {
		l := &rep.Report[i]
		l.Line = ln.num
		if ln.err != nil {
			setRefused(l, apierr.BadRequest("csv_malformed", "%v", ln.err))
			continue
		}
		if len(ln.fields) <= max(bc, rc) {
			setRefused(l, apierr.BadRequest("csv_malformed", "the line has %d fields; the barcode and the result are needed", len(ln.fields)))
			continue
		}
		// A refused line shows what it held, cut short; an accepted one the
		// parsed values.
		b, err := ParseBarcode(ln.fields[bc])
		if err != nil {
			l.Barcode, l.Result = truncate(ln.fields[bc], 40), truncate(ln.fields[rc], 20)
			setRefused(l, err)
			continue
		}
		l.Barcode = b
		word, err := ParseResult(ln.fields[rc])
		if err != nil {
			l.Result = truncate(ln.fields[rc], 20)
			setRefused(l, err)
			continue
		}
		l.Result = word
		if first, dup := seen[b]; dup {
			setRefused(l, apierr.BadRequest("duplicate_line", "tube %s is also on line %d", b, first))
			continue
		}
		seen[b] = ln.num
		items = append(items, item{line: i, barcode: b, word: word})
	}
	source := "nat-upload/" + rep.ID
	for _, chunk := range chunks(items, s.cfg.ChunkTubes) {
		outs, pend, err := s.reportChunk(ctx, by, chunk, lab, source)
		if err != nil {
			return nil, err
		}
		for j, o := range outs {
			l := &rep.Report[chunk[j].line]
			switch o.status {
			case "refused":
				setRefused(l, o.err)
			default:
				l.Status = o.status
				if o.status == "accepted" {
					rep.Persons += o.tube.Samples
				}
			}
		}
		n, err := s.recordFacts(ctx, by.Actor(), pend)
		rep.Facts += n
		if err != nil {
			// The results are stored; RecordPending passes them on later.
			s.log.Error("nat: upload: facts not recorded; left for the retry worker", "upload", rep.ID, "tubes", len(pend), "err", err)
			rep.FactsPending += len(pend)
		}
	}
	for _, l := range rep.Report {
		switch l.Status {
		case "accepted":
			rep.Accepted++
		case "unchanged":
			rep.Unchanged++
		default:
			rep.Refused++
		}
	}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `INSERT INTO nat_uploads (id, lab, lines, accepted, refused, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, rep.ID, lab, rep.Lines, rep.Accepted, rep.Refused, now.UnixMilli(), by.Actor()); err != nil {
			return fmt.Errorf("nat: record upload: %w", err)
		}
		lo, _ := by.Bounds()
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "nat.results.upload", Subject: "upload:" + rep.ID,
			Region: lo, Detail: map[string]any{"lines": rep.Lines, "accepted": rep.Accepted, "unchanged": rep.Unchanged, "refused": rep.Refused}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func setRefused(l *UploadLine, err error) {
	l.Status = "refused"
	if e, ok := apierr.As(err); ok {
		l.Code, l.Message = e.Code, e.Message
		return
	}
	l.Code, l.Message = "line_invalid", err.Error()
}
