package nat

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

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
	reason, err = textField(ErrReasonInvalid, "reason", reason, 2, 500)
	if err != nil {
		return nil, ErrReasonInvalid
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
			return ErrTubeNotFound
		}
		if t.Result == "" {
			return ErrResultMissing.Withf("tube %s has no result to correct; post the result", b)
		}
		if t.Result == word {
			return ErrResultUnchanged.Withf("tube %s is already %s", b, word)
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
			return ErrResultPending.Withf("the previous result of tube %s is still being passed on; try again in a minute", b)
		}
		now := s.clock()
		pend = pendingResult{barcode: b, version: t.Version + 1, word: word, capacity: t.Capacity, site: t.SiteID,
			lab: prev.lab, source: "nat-correction/" + b}
		if _, err := tx.ExecContext(ctx, `INSERT INTO nat_results (barcode, version, result, lab, source, reason, reported_at, reported_by, facts_recorded)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE)`, b, pend.version, word, pend.lab, pend.source, reason, now.UnixMilli(), by.Actor()); err != nil {
			if db.IsUniqueViolation(err) {
				return ErrResultPending.Withf("another correction of tube %s arrived meanwhile", b)
			}
			return fmt.Errorf("nat: insert correction: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE nat_tubes SET result = $1, result_version = $2, result_at = $3 WHERE barcode = $4`,
			word, pend.version, now.UnixMilli(), b); err != nil {
			return fmt.Errorf("nat: correct tube: %w", err)
		}
		if err := s.retallyTubes(ctx, tx, []string{b}); err != nil {
			return err
		}
		if err := s.moveSwabs(ctx, tx, map[string]string{b: t.Region}, map[string]string{b: t.Result}, map[string]string{b: word}); err != nil {
			return err
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
