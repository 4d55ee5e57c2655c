package nat

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// CoverageRow counts one region's residents.
type CoverageRow struct {
	Region    string
	Name      string
	Residents int64
	Negative  int64 // with a negative result sampled in the window
	Untested  int64 // without one: 应检未检
	// Pending counts the untested who were sampled in the window and
	// await their result.
	Pending int64
	Share   float64 // negative / residents
}

// Untested is a resident without a negative result in the window.
type Untested struct {
	PersonRef
	// LastNegative is the sampling time of their latest negative result,
	// before the window; absent if they never had one.
	LastNegative *time.Time
	Pending      bool // sampled in the window, result not out
}

// Coverage is who among the registered residents of a region has no
// negative result sampled in the last Hours hours.
type Coverage struct {
	Region   string
	Name     string
	Hours    int
	Since    time.Time
	At       time.Time
	Total    CoverageRow
	Rows     []CoverageRow // per region one level down (per town for a county)
	Untested []Untested
	// Next is the "after" for the next page of Untested; empty at the end.
	Next string
}

// CoverageQuery selects the region, the window and a page of the list.
type CoverageQuery struct {
	Region string
	Hours  int
	After  string // person id of the last entry of the previous page
	Limit  int
}

// MaxCoverageHours bounds the window (30 days).
const MaxCoverageHours = 720

// Coverage counts, per region one level below the one asked for, the
// registered residents and those without a negative result sampled in
// the window, and lists a page of the latter (masked) for the grid
// workers. The listed persons are audited as read.
func (s *Service) Coverage(ctx context.Context, by *auth.Principal, q CoverageQuery) (*Coverage, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	if q.Hours == 0 {
		q.Hours = 48
	}
	if q.Hours < 1 || q.Hours > MaxCoverageHours {
		return nil, ErrHoursInvalid.Withf("hours must be 1-%d", MaxCoverageHours)
	}
	if q.Region == "" {
		q.Region = by.Region
		if q.Region == "" {
			q.Region = s.cfg.Region
		}
	}
	lo, hi, err := s.scope(by, q.Region)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	c := &Coverage{Region: q.Region, Name: s.regions.FullName(q.Region), Hours: q.Hours,
		Since: now.Add(-time.Duration(q.Hours) * time.Hour), At: now, Rows: []CoverageRow{}, Untested: []Untested{}}
	since, until := c.Since.UnixMilli(), now.UnixMilli()

	children := s.regions.Children(q.Region)
	byChild := map[string]*CoverageRow{}
	for _, ch := range children {
		c.Rows = append(c.Rows, CoverageRow{Region: ch.Code, Name: ch.Name})
	}
	for i := range c.Rows {
		byChild[c.Rows[i].Region] = &c.Rows[i]
	}
	var own *CoverageRow // residents registered at the region itself, not below it
	rowOf := func(code string) *CoverageRow {
		for _, ch := range children {
			if strings.HasPrefix(code, ch.Code) {
				return byChild[ch.Code]
			}
		}
		if own == nil {
			own = &CoverageRow{Region: q.Region, Name: s.regions.FullName(q.Region)}
		}
		return own
	}
	// The residents come from the counts per region the person service
	// keeps, the tested from the window's samples: asking of every
	// resident in scope whether a sample clears them cost a province's
	// population at each read.
	residents, err := s.persons.CountByRegion(ctx, lo, hi)
	if err != nil {
		return nil, err
	}
	for code, n := range residents {
		for _, r := range []*CoverageRow{rowOf(code), &c.Total} {
			r.Residents += n
			r.Untested += n
		}
	}
	// The tested come from the kept sampling times (nat_tested): one index
	// entry per resident with a negative sampled in the window, and per
	// resident without one whose sample awaits its result.
	counts := func(what, query string, args []any, add func(r *CoverageRow, n int64)) error {
		err := db.Each(ctx, s.db, query, args, func(sc db.Scanner) error {
			var code string
			var n int64
			if err := sc.Scan(&code, &n); err != nil {
				return err
			}
			if n == 0 {
				// A count a code at a time (byCodeSQL) has a row for
				// every code it found, counted or not: a 0 adds nothing,
				// and would have rowOf make a row of the scope's own
				// code where no resident is registered.
				return nil
			}
			for _, r := range []*CoverageRow{rowOf(code), &c.Total} {
				add(r, n)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("nat: coverage counts (%s): %w", what, err)
		}
		return nil
	}
	if err := s.countNegatives(ctx, lo, hi, since, until, counts); err != nil {
		return nil, err
	}
	pending, err := s.pendingQuery(ctx, lo, hi, since)
	if err != nil {
		return nil, err
	}
	if err := counts("pending", pending, testedArgs(lo, hi, since, until), func(r *CoverageRow, n int64) { r.Pending += n }); err != nil {
		return nil, err
	}
	posted, err := s.countPosted(ctx, lo, hi, since, until, func(code string, pend bool) {
		row := own
		for _, ch := range children {
			if strings.HasPrefix(code, ch.Code) {
				row = byChild[ch.Code]
				break
			}
		}
		for _, r := range []*CoverageRow{row, &c.Total} {
			if r == nil {
				continue
			}
			r.Negative, r.Untested = r.Negative+1, r.Untested-1
			if pend {
				r.Pending--
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if own != nil {
		c.Rows = append([]CoverageRow{*own}, c.Rows...)
	}
	c.Total.Region, c.Total.Name = q.Region, "合计"
	for i := range c.Rows {
		c.Rows[i].Share = share(c.Rows[i].Negative, c.Rows[i].Residents)
	}
	c.Total.Share = share(c.Total.Negative, c.Total.Residents)

	if err := s.untested(ctx, by, q, c, lo, hi, since, until, posted); err != nil {
		return nil, err
	}
	return c, nil
}

func share(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// testedWindow is how many kept times past the window's start a count
// reads through the times' index; past it, through the regions'.
const testedWindow = 20_000

// testedColumns are the time column col and the region column a count of
// nat_tested reads. A city's or a town's count reads its range of region
// codes (its residents tested at any time, few); the unary + keeps both
// engines off the times' index, and gives it a text of its own on
// PostgreSQL, where a prepared statement settles after five runs on a plan
// made once for every value (the generic plan): sharing the province's
// text, a town's count was planned as the province's and read the whole
// window (17 ms for a town of 1,800 residents at 3M, 77 ms at 10M). A
// province's count reads the window's range of times, on SQLite while it
// holds few rows; when it holds many, the province's range of region codes,
// which SQLite groups as it reads, where the times' range must be sorted by
// region first (six times the CPU at 100,000 rows). SQLite has no
// statistics to choose by: the concatenation keeps it off the region index.
// (SQLite's pending counts read a code at a time instead: pendingByCodeSQL.)
func (s *Service) testedColumns(ctx context.Context, lo, col string, since int64) (string, string, error) {
	if len(lo) > 2 {
		return "+k." + col, "k.region_code", nil
	}
	if s.db.Engine() == db.Postgres {
		// The province's own text, planned from the statistics: at 10M
		// residents pinning the times' range with the concatenation took
		// its untested count from 79 to 205 ms.
		return "k." + col, "k.region_code", nil
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM nat_tested WHERE `+col+` >= $1 LIMIT $2) x`,
		since, testedWindow).Scan(&n); err != nil {
		return "", "", fmt.Errorf("nat: coverage window: %w", err)
	}
	if n < testedWindow {
		return "k." + col, "k.region_code || ''", nil
	}
	return "+k." + col, "k.region_code", nil
}

// coverageCounts runs a count of the coverage, whose rows are a region code
// and a number (args are testedArgs'), and adds each to its region's rows.
type coverageCounts func(what, query string, args []any, add func(r *CoverageRow, n int64)) error

// countNegatives counts the residents in scope [lo, hi) whose latest
// negative was sampled in the window [since, until]. A province's window
// holds a million of them at 10M residents: its whole hours are read from
// the counts per city and hour (nat_negative_hours), and only the partial
// hours at either edge from nat_tested, through the times' index. A city's,
// a county's or a town's scope reads its range of nat_tested_region, every
// resident of the scope tested at any time, which the edges would read as
// well (the times' index would read the province's edges); so there, and
// for a window without a whole hour, the rows are counted.
func (s *Service) countNegatives(ctx context.Context, lo, hi string, since, until int64, counts coverageCounts) error {
	add := func(r *CoverageRow, n int64) { r.Negative, r.Untested = r.Negative+n, r.Untested-n }
	first, end := hourOf(since+hourMillis-1), hourOf(until+1) // the whole hours are [first, end)
	if len(lo) > 2 || first >= end {
		tneg, region, err := s.testedColumns(ctx, lo, "last_negative", since)
		if err != nil {
			return err
		}
		return counts("negative", negativesSQL(tneg, region, hi), testedArgs(lo, hi, since, until), add)
	}
	// The whole hours are a row per city and hour (migration 4756): 16
	// cities by 47 hours in Anhui, where a row per town and hour was 77,000
	// rows to group (12-20 ms on PostgreSQL at 10M residents, and sorted on
	// SQLite). On SQLite, which has no statistics, the concatenations keep
	// the hours on their index, where the primary key would read every hour
	// kept of the province's cities, and the edges on the times' index,
	// where nat_tested_region would read every tested resident. On
	// PostgreSQL the province's statements have texts of their own
	// (testedColumns).
	city, tested := "h.city_code", "k.region_code"
	if s.db.Engine() == db.SQLite {
		city, tested = "h.city_code || ''", "k.region_code || ''"
	}
	hours := negativeHoursSQL(city, hi)
	if err := counts("negative hours", hours, testedArgs(lo, hi, first, end), add); err != nil {
		return err
	}
	edge := negativesSQL("k.last_negative", tested, hi)
	if since < first {
		if err := counts("negative, the window's first hour", edge, testedArgs(lo, hi, since, first-1), add); err != nil {
			return err
		}
	}
	if end <= until {
		if err := counts("negative, the window's last hour", edge, testedArgs(lo, hi, end, until), add); err != nil {
			return err
		}
	}
	return nil
}

// negativeHoursSQL sums per city the negatives of nat_negative_hours in
// the hours [$1, $2), in the scope on $3 and $4 read as city.
func negativeHoursSQL(city, hi string) string {
	return `SELECT h.city_code, CAST(SUM(h.n) AS BIGINT) FROM nat_negative_hours h
		WHERE h.hour >= $1 AND h.hour < $2 AND ` + testedScope(city, hi) + ` GROUP BY h.city_code`
}

// negativesSQL counts per region the rows of nat_tested whose negative,
// read as tneg, lies in [$1, $2], in the scope on $3 and $4 read as region.
func negativesSQL(tneg, region, hi string) string {
	return `SELECT k.region_code, COUNT(*) FROM nat_tested k
		WHERE ` + tneg + ` >= $1 AND ` + tneg + ` <= $2 AND ` + testedScope(region, hi) + ` GROUP BY k.region_code`
}

// pendingQuery is the statement that counts the residents awaiting a
// result (pendingSQL's rows, on testedArgs). On SQLite it reads a code at
// a time (pendingByCodeSQL); on PostgreSQL, as testedColumns chooses.
func (s *Service) pendingQuery(ctx context.Context, lo, hi string, since int64) (string, error) {
	if s.db.Engine() == db.SQLite {
		return pendingByCodeSQL(hi), nil
	}
	tpend, region, err := s.testedColumns(ctx, lo, "last_pending", since)
	if err != nil {
		return "", err
	}
	return pendingSQL(tpend, region, hi), nil
}

// pendingByCodeSQL is pendingSQL for SQLite, a region code at a time
// (byCodeSQL) in nat_tested_region (region_code, last_pending,
// last_negative), each code's seek reading its window of pending samples.
// Grouping a range by region, SQLite either reads the scope's every tested
// resident through the regions' index, which groups as it reads (a
// province's 1M entries at 10M residents for 100,000 pending), or the
// window's pending through the times' index and sorts them by region.
// PostgreSQL, which hashes the groups, reads the window's range of times
// faster than it runs the seeks (22 against 30 ms at 1M tested).
func pendingByCodeSQL(hi string) string {
	return byCodeSQL("nat_tested", "COUNT(*)", `k.last_pending >= $1 AND k.last_pending <= $2
		AND (k.last_negative IS NULL OR k.last_negative < $1 OR k.last_negative > $2)`, hi)
}

// byCodeSQL counts on SQLite a region code at a time: the codes in scope
// ($3, $4) found by a seek each in an index of table that starts with
// region_code, and for each code value, an aggregate over its rows (as k)
// that meet cond, read by a seek in the same index. It reads the rows
// counted and a few pages per code (1,685 towns in Anhui), and sorts
// nothing. Every code in scope that table holds is a row, with 0 if none
// of its rows met cond.
func byCodeSQL(table, value, cond, hi string) string {
	below := ""
	if hi != "" {
		below = " AND region_code < $4"
	}
	return `WITH RECURSIVE codes(code) AS (
			SELECT MIN(region_code) FROM ` + table + ` WHERE ` + testedScope("region_code", hi) + `
			UNION ALL
			SELECT (SELECT MIN(region_code) FROM ` + table + ` WHERE region_code > codes.code` + below + `)
			FROM codes WHERE codes.code IS NOT NULL)
		SELECT code, (SELECT ` + value + ` FROM ` + table + ` k WHERE k.region_code = codes.code AND ` + cond + `)
		FROM codes WHERE code IS NOT NULL`
}

// pendingSQL counts per region the rows of nat_tested sampled in [$1, $2],
// the sample read as tpend, awaiting a result and without a negative in the
// window, in the scope on $3 and $4 read as region.
func pendingSQL(tpend, region, hi string) string {
	return `SELECT k.region_code, COUNT(*) FROM nat_tested k
		WHERE ` + tpend + ` >= $1 AND ` + tpend + ` <= $2 AND ` + testedScope(region, hi) + `
			AND (k.last_negative IS NULL OR k.last_negative < $1 OR k.last_negative > $2) GROUP BY k.region_code`
}

// testedScope is the region scope of the counts, on $3 and $4.
func testedScope(region, hi string) string {
	if hi == "" {
		return region + " >= $3 AND $4 = ''"
	}
	return region + " >= $3 AND " + region + " < $4"
}

func testedArgs(lo, hi string, since, until int64) []any { return []any{since, until, lo, hi} }

// countPosted finds the persons with a negative result posted as a fact
// in the window and calls moved for each whom the tubes counted untested
// (with its region and whether a tube of theirs is pending), so that the
// counts move them to negative.
func (s *Service) countPosted(ctx context.Context, lo, hi string, since, until int64, moved func(region string, pending bool)) (map[int64]bool, error) {
	if s.deps.Posted == nil {
		return nil, nil
	}
	posted, err := s.deps.Posted.PostedNegatives(ctx, lo, hi, since, until)
	if err != nil || len(posted) == 0 {
		return posted, err
	}
	nums := make([]int64, 0, len(posted))
	for n := range posted {
		nums = append(nums, n)
	}
	err = db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT p.region_code,
			CASE WHEN k.last_pending >= $1 AND k.last_pending <= $2 THEN 1 ELSE 0 END
		FROM persons p LEFT JOIN nat_tested k ON k.person_num = p.num
		WHERE (k.last_negative IS NULL OR k.last_negative < $1 OR k.last_negative > $2) AND p.num IN `, []any{since, until}, nums, ``,
		func(sc db.Scanner) error {
			var code string
			var pend int
			if err := sc.Scan(&code, &pend); err != nil {
				return err
			}
			moved(code, pend == 1)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("nat: coverage of posted results: %w", err)
	}
	return posted, nil
}

// browseResidents pages the residents in scope by number (db.Browse).
var browseResidents = db.Browse{Table: "persons", Alias: "p", Key: "num", Cols: "p.num"}

func (s *Service) untested(ctx context.Context, by *auth.Principal, q CoverageQuery, c *Coverage, lo, hi string, since, until int64, posted map[int64]bool) error {
	after := int64(0)
	if q.After != "" {
		n, err := s.persons.Handles().ParseID(q.After)
		if err != nil {
			return ErrAfterInvalid.Withf("after must be a person id from the previous page")
		}
		after = n
	}
	lim := limit(q.Limit)
	type row struct {
		num     int64
		last    *int64
		pending int
	}
	var w db.Where
	w.Scope("p.region_code", lo, hi)
	w.Add(`NOT EXISTS (SELECT 1 FROM nat_tested k WHERE k.person_num = p.num AND k.last_negative >= ? AND k.last_negative <= ?)`, since, until)
	// A page is lim persons the tubes count untested and no posted result
	// clears; a page the posted results thinned is filled from further on.
	var nums []int64
	more := true
	for more && len(nums) < lim {
		part, err := db.Page(ctx, s.db, browseResidents, w, after, lim, func(sc db.Scanner) (int64, error) {
			var n int64
			return n, sc.Scan(&n)
		})
		if err != nil {
			return fmt.Errorf("nat: untested: %w", err)
		}
		more = len(part) == lim
		for _, n := range part {
			after = n
			if !posted[n] && len(nums) < lim {
				nums = append(nums, n)
			}
		}
	}
	// A listed resident has no negative in the window, so the latest kept
	// is the latest before it.
	byNum := map[int64]row{}
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT person_num, last_negative,
			CASE WHEN last_pending >= $1 AND last_pending <= $2 THEN 1 ELSE 0 END
		FROM nat_tested WHERE person_num IN `, []any{since, until}, nums, ``, func(sc db.Scanner) error {
		var r row
		err := sc.Scan(&r.num, &r.last, &r.pending)
		byNum[r.num] = r
		return err
	})
	if err != nil {
		return fmt.Errorf("nat: untested: %w", err)
	}
	list := make([]row, 0, len(nums))
	for _, n := range nums {
		r := byNum[n]
		r.num = n
		list = append(list, r)
	}
	listed := make([]string, 0, len(list))
	for _, r := range list {
		p, err := s.persons.Get(ctx, r.num)
		if err != nil {
			return err
		}
		u := Untested{PersonRef: s.personRef(p), Pending: r.pending == 1}
		if r.last != nil {
			t := time.UnixMilli(*r.last).UTC()
			u.LastNegative = &t
		}
		c.Untested = append(c.Untested, u)
		listed = append(listed, p.ID)
	}
	if len(list) == lim {
		c.Next = listed[len(listed)-1]
	}
	return audit.Record(ctx, s.db, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "nat.coverage.read",
		Subject: "nat_coverage", Region: lo, Detail: map[string]any{"region": q.Region, "hours": q.Hours, "results": listed}})
}

// NegativeAmong tells which of nums have a negative result sampled in the
// window [since, until], on a tube or posted as a fact in region bounds
// [lo, hi): the tested of a population list (the grids' 应检未检), which
// the caller has scoped.
func (s *Service) NegativeAmong(ctx context.Context, nums []int64, lo, hi string, since, until int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT DISTINCT s.person_num FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
		WHERE s.sampled_at >= $1 AND s.sampled_at <= $2 AND t.result = 'negative' AND s.person_num IN `, []any{since, until}, nums, ``,
		func(sc db.Scanner) error {
			var n int64
			err := sc.Scan(&n)
			out[n] = true
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("nat: negatives among a list: %w", err)
	}
	if s.deps.Posted != nil {
		posted, err := s.deps.Posted.PostedNegatives(ctx, lo, hi, since, until)
		if err != nil {
			return nil, err
		}
		for _, n := range nums {
			if posted[n] {
				out[n] = true
			}
		}
	}
	return out, nil
}
