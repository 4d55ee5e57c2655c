package clinic

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// ParseDay reads a day ("2022-04-01") in the deployment's zone; "" is today.
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		y, m, d := s.now().In(s.cfg.Location).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.cfg.Location)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

// List is a clinic's follow-up: every visit still open, oldest first,
// and the visits of one day, registered or closed that day, newest first.
type List struct {
	Org        *org.Org
	Day        time.Time // midnight in the deployment's zone
	Open       []*Visit
	Closed     []*Visit // closed that day
	Registered int64    // visits registered that day
	Fever      int64    // of those, with a temperature of 37.3 °C or more
}

// maxList bounds each part of a list (a busy clinic sees hundreds a day).
const maxList = 2000

// Visits is a clinic's list: for the clinic's own keys (scope
// clinic.fever) and accounts, with orgID "" or their own; for operators
// who read organisations, of a clinic in their scope.
func (s *Service) Visits(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*List, error) {
	o, err := org.ReportOf(ctx, s.orgs, by, orgID, org.ScopeClinicFever, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.FeverClinic && o.Kind != org.Hospital {
		return nil, ErrNotClinic.Withf("%s is not a fever clinic or a hospital", o.Name)
	}
	from, to := day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli()
	l := &List{Org: o, Day: day}
	read := func(query string, args ...any) ([]*Visit, error) {
		out, err := db.Collect(ctx, s.db, query, args, func(sc db.Scanner) (*Visit, error) {
			v, _, err := scanVisit(sc)
			return v, err
		})
		if err != nil {
			return nil, fmt.Errorf("clinic: list: %w", err)
		}
		if out == nil {
			out = []*Visit{}
		}
		return out, nil
	}
	if l.Open, err = read(`SELECT `+visitCols+` FROM clinic_visits WHERE org_id = $1 AND closed_at IS NULL
		ORDER BY at, id LIMIT $2`, o.ID, maxList); err != nil {
		return nil, err
	}
	if l.Closed, err = read(`SELECT `+visitCols+` FROM clinic_visits WHERE org_id = $1 AND closed_at >= $2 AND closed_at < $3
		ORDER BY closed_at DESC, id LIMIT $4`, o.ID, from, to, maxList); err != nil {
		return nil, err
	}
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN temperature >= 373 THEN 1 ELSE 0 END), 0)
		FROM clinic_visits WHERE org_id = $1 AND at >= $2 AND at < $3`, o.ID, from, to).Scan(&l.Registered, &l.Fever)
	if err != nil {
		return nil, fmt.Errorf("clinic: list: %w", err)
	}
	return l, nil
}

// TownRow is one town's fever-clinic day.
type TownRow struct {
	Region     string // the town of the clinic (finer local codes roll up into it)
	Visits     int64  // registered that day
	Fever      int64  // of those, 37.3 °C or more
	Clinics    int64  // clinics that registered a visit
	Negative   int64  // follow-ups closed that day with a negative test
	Positive   int64  // ... with a positive one
	Discharged int64  // ... by discharge
	Open       int64  // follow-ups still open at the end of the day
}

// Summary is the authority's view of a day: fever-clinic visits and their
// follow-up per town of the clinic.
type Summary struct {
	Day   time.Time
	Towns []*TownRow
	Total TownRow
}

// townLen is the length of a town's code (GB/T 2260 with the 3-digit
// township level).
const townLen = 9

// Summary counts a day's visits and follow-ups per town in the operator's
// scope; for operators who read statistics.
func (s *Service) Summary(ctx context.Context, by *auth.Principal, day time.Time) (*Summary, error) {
	if by == nil || by.Kind != auth.Operator || !by.Can(auth.StatsRead) {
		return nil, ErrForbidden.Withf("this needs an operator with %s", auth.StatsRead)
	}
	lo, hi := by.Bounds()
	from, to := day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli()
	town := fmt.Sprintf("SUBSTR(org_region, 1, %d)", townLen)
	scope, _ := db.Scope("org_region", lo, hi, nil) // $1, $2: lo and hi below
	sum := &Summary{Day: day}
	towns := map[string]*TownRow{}
	row := func(region string) *TownRow {
		t := towns[region]
		if t == nil {
			t = &TownRow{Region: region}
			towns[region] = t
		}
		return t
	}
	err := db.Each(ctx, s.db, `SELECT `+town+`, COUNT(*), COALESCE(SUM(CASE WHEN temperature >= 373 THEN 1 ELSE 0 END), 0),
			COUNT(DISTINCT org_id)
		FROM clinic_visits WHERE `+scope+` AND at >= $3 AND at < $4 GROUP BY `+town, []any{lo, hi, from, to},
		func(sc db.Scanner) error {
			var region string
			var n, fever, clinics int64
			if err := sc.Scan(&region, &n, &fever, &clinics); err != nil {
				return err
			}
			t := row(region)
			t.Visits, t.Fever, t.Clinics = n, fever, clinics
			return nil
		})
	if err == nil {
		err = db.Each(ctx, s.db, `SELECT `+town+`, outcome, COUNT(*) FROM clinic_visits
			WHERE `+scope+` AND closed_at >= $3 AND closed_at < $4 GROUP BY `+town+`, outcome`, []any{lo, hi, from, to},
			func(sc db.Scanner) error {
				var region, outcome string
				var n int64
				if err := sc.Scan(&region, &outcome, &n); err != nil {
					return err
				}
				t := row(region)
				switch outcome {
				case Negative:
					t.Negative += n
				case Positive:
					t.Positive += n
				case Discharged:
					t.Discharged += n
				}
				return nil
			})
	}
	if err == nil {
		err = db.Each(ctx, s.db, `SELECT `+town+`, COUNT(*) FROM clinic_visits
			WHERE `+scope+` AND at < $3 AND (closed_at IS NULL OR closed_at >= $3) GROUP BY `+town, []any{lo, hi, to},
			func(sc db.Scanner) error {
				var region string
				var n int64
				if err := sc.Scan(&region, &n); err != nil {
					return err
				}
				row(region).Open = n
				return nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("clinic: summary: %w", err)
	}
	for _, t := range towns {
		sum.Towns = append(sum.Towns, t)
		sum.Total.Visits += t.Visits
		sum.Total.Fever += t.Fever
		sum.Total.Clinics += t.Clinics // a clinic is in one town
		sum.Total.Negative += t.Negative
		sum.Total.Positive += t.Positive
		sum.Total.Discharged += t.Discharged
		sum.Total.Open += t.Open
	}
	sort.Slice(sum.Towns, func(i, j int) bool { return sum.Towns[i].Region < sum.Towns[j].Region })
	return sum, nil
}
