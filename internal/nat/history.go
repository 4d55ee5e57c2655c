package nat

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
)

// HistoryTube is a tube sampled, and perhaps reported negative, before it
// was imported: another system's records, the demo's simulated city.
type HistoryTube struct {
	Barcode    string
	SiteID     string
	Capacity   int
	Persons    []int64   // person numbers, in the order swabbed
	SampledAt  time.Time // the first swab; each next one a few seconds later
	Negative   bool      // reported negative at ReportedAt; false: not reported yet
	ReportedAt time.Time
	Lab        string
}

// ImportHistory stores tubes that were sampled (and reported) before, in
// one transaction of multi-row inserts, and records the negative results'
// facts in one call to the status engine, as an upload does. Only negative
// and unreported tubes are imported: a positive or invalid result calls for
// tasks and alerts that only PostResult makes.
func (s *Service) ImportHistory(ctx context.Context, by *auth.Principal, tubes []HistoryTube) error {
	if err := by.Require(auth.TubeWrite); err != nil {
		return err
	}
	if err := by.Require(auth.ResultWrite); err != nil {
		return err
	}
	if s.deps.Facts == nil {
		return errNoFacts
	}
	var pend []pendingResult
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		sites := map[string]*Site{}
		var tubeArgs, sampleArgs, resultArgs []any
		for _, t := range tubes {
			b, err := ParseBarcode(t.Barcode)
			if err != nil {
				return err
			}
			if len(t.Persons) == 0 || len(t.Persons) > t.Capacity {
				return ErrCapacityInvalid.Withf("tube %s holds %d swabs for a capacity of %d", b, len(t.Persons), t.Capacity)
			}
			st, ok := sites[t.SiteID]
			if !ok {
				if st, err = s.site(ctx, tx, t.SiteID); err != nil || !by.InScope(st.Region) {
					return ErrSiteNotFound
				}
				sites[t.SiteID] = st
			}
			at := t.SampledAt.UTC().Truncate(time.Millisecond)
			sealed := at.Add(time.Duration(len(t.Persons)) * 20 * time.Second)
			var result, resultAt any
			version := 0
			if t.Negative {
				result, resultAt, version = Negative, t.ReportedAt.UnixMilli(), 1
				lab, err := labName(t.Lab)
				if err != nil {
					return err
				}
				resultArgs = append(resultArgs, b, 1, Negative, lab, "import", "", t.ReportedAt.UnixMilli(), by.Actor(), false)
				pend = append(pend, pendingResult{barcode: b, version: 1, word: Negative, capacity: t.Capacity, site: st.ID, lab: lab, source: "nat-import/" + b})
			}
			tubeArgs = append(tubeArgs, b, t.Capacity, st.ID, st.Region, len(t.Persons), at.UnixMilli(), by.Actor(),
				sealed.UnixMilli(), by.Actor(), result, version, resultAt)
			for i, p := range t.Persons {
				sampleArgs = append(sampleArgs, ids.New(), b, p, i+1, at.Add(time.Duration(i)*20*time.Second).UnixMilli(), "dynamic", by.Actor())
			}
		}
		if _, err := insertHistoryTubes.Exec(ctx, tx, s.db.Engine(), tubeArgs); err != nil {
			if db.IsUniqueViolation(err) {
				return ErrTubeExists.Withf("a tube of the import was already opened; every tube is used once")
			}
			return fmt.Errorf("nat: import tubes: %w", err)
		}
		if _, err := insertHistorySamples.Exec(ctx, tx, s.db.Engine(), sampleArgs); err != nil {
			if db.IsUniqueViolation(err) {
				return ErrSampleDuplicate.Withf("a person is twice in a tube of the import")
			}
			return fmt.Errorf("nat: import samples: %w", err)
		}
		if _, err := insertHistoryResults.Exec(ctx, tx, s.db.Engine(), resultArgs); err != nil {
			return fmt.Errorf("nat: import results: %w", err)
		}
		var nums []int64
		swabs := map[swabKey]int64{}
		for _, t := range tubes {
			nums = append(nums, t.Persons...)
			result := ""
			if t.Negative {
				result = Negative
			}
			at := t.SampledAt.UTC().Truncate(time.Millisecond)
			for i := range t.Persons {
				swabs[swabKey{sites[t.SiteID].Region, s.day(at.Add(time.Duration(i) * 20 * time.Second)), result}]++
			}
		}
		// The residents' rows first and the swab counts after, as result
		// reporting takes them: in the other order, an import and a result
		// of the same day and residents each waited for the other.
		if err := s.retally(ctx, tx, nums); err != nil {
			return err
		}
		return addSwabs(ctx, tx, swabs)
	})
	if err != nil {
		return err
	}
	_, err = s.recordFacts(ctx, by.Actor(), pend)
	return err
}

var (
	insertHistoryTubes = db.Insert{Head: `INSERT INTO nat_tubes (barcode, capacity, site_id, region_code, samples, opened_at, opened_by,
		sealed_at, sealed_by, result, result_version, result_at) VALUES `, Cols: 12}
	insertHistorySamples = db.Insert{Head: `INSERT INTO nat_samples (id, barcode, person_num, position, sampled_at, method, bound_by) VALUES `, Cols: 7}
	insertHistoryResults = db.Insert{Head: `INSERT INTO nat_results (barcode, version, result, lab, source, reason, reported_at, reported_by,
		facts_recorded) VALUES `, Cols: 9}
)
