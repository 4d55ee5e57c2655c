package employer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/rules"
)

// Day is an employer's day at the gate.
type Day struct {
	Org  *org.Org
	Day  time.Time
	Size int // lines on the roster
	// Present were admitted at least once; Refused were refused and never
	// admitted that day (by their last refusal's reason); Absent were not
	// scanned at all.
	Present   []*StaffDay
	Refused   []*StaffDay
	Absent    []*Staff
	ByReason  map[string]int
	Refusals  int // refused scans, a person refused twice counted twice
	Admission int // admitted scans
}

// StaffDay is a staff member's day at the gate.
type StaffDay struct {
	Staff  *Staff
	First  time.Time // the first admission, or the last refusal
	Reason string    // of the refused
}

// Reasons lists the refusal reasons in the order reports show them.
var Reasons = admissionReasons

// Day reports one day at the employer's gate.
func (s *Service) Day(ctx context.Context, by *auth.Principal, day time.Time) (*Day, error) {
	o, err := s.employerOf(ctx, by)
	if err != nil {
		return nil, err
	}
	staff, err := s.roster(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	d := &Day{Org: o, Day: day, Size: len(staff), ByReason: map[string]int{}}
	type state struct {
		admitted     time.Time
		refusedAt    time.Time
		refusedWhy   string
		admittedOnce bool
	}
	states := map[string]*state{}
	err = db.Each(ctx, s.db, `SELECT staff_id, at, admitted, reason FROM employer_gate WHERE org_id = $1 AND day = $2 ORDER BY at`,
		[]any{o.ID, day.Format(time.DateOnly)}, func(sc db.Scanner) error {
			var id, reason string
			var at int64
			var ok bool
			if err := sc.Scan(&id, &at, &ok, &reason); err != nil {
				return err
			}
			st := states[id]
			if st == nil {
				st = &state{}
				states[id] = st
			}
			if ok {
				d.Admission++
				if !st.admittedOnce {
					st.admittedOnce, st.admitted = true, db.Time(at)
				}
			} else {
				d.Refusals++
				st.refusedAt, st.refusedWhy = db.Time(at), reason
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("employer: gate events: %w", err)
	}
	for _, x := range staff {
		st := states[x.ID]
		switch {
		case st == nil:
			d.Absent = append(d.Absent, x)
		case st.admittedOnce:
			d.Present = append(d.Present, &StaffDay{Staff: x, First: st.admitted})
		default:
			d.Refused = append(d.Refused, &StaffDay{Staff: x, First: st.refusedAt, Reason: st.refusedWhy})
			d.ByReason[st.refusedWhy]++
		}
	}
	slices.SortStableFunc(d.Present, func(a, b *StaffDay) int { return a.First.Compare(b.First) })
	return d, nil
}

// Record is a staff member's health as the employer sees it: a colour per
// day, and nothing else (no facts, no reasons). A day's colour is the worst
// the gate saw that day; today's adds the colour now, for linked staff.
type Record struct {
	Staff  *Staff
	Colors []rules.Color // one per day of Records' days, oldest first; 0 where unknown
}

// ParseDays reads how many days of records to show ("" is 14).
func ParseDays(v string) (int, error) {
	if v == "" {
		return 14, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 31 {
		return 0, ErrDaysInvalid
	}
	return n, nil
}

// Records is the roster's health records over the last n days (1-31).
func (s *Service) Records(ctx context.Context, by *auth.Principal, n int) ([]time.Time, []*Record, error) {
	o, err := s.employerOf(ctx, by)
	if err != nil {
		return nil, nil, err
	}
	n = min(max(n, 1), 31)
	staff, err := s.roster(ctx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	today, _ := s.ParseDay("")
	days := make([]time.Time, n)
	index := map[string]int{}
	for i := range n {
		days[i] = today.AddDate(0, 0, i-n+1)
		index[days[i].Format(time.DateOnly)] = i
	}
	recs := make([]*Record, len(staff))
	byID := map[string]*Record{}
	for i, x := range staff {
		recs[i] = &Record{Staff: x, Colors: make([]rules.Color, n)}
		byID[x.ID] = recs[i]
		if x.Linked && s.colors != nil {
			if c, _ := s.colors.Color(x.num); c.Valid() {
				recs[i].Colors[n-1] = c
			}
		}
	}
	err = db.Each(ctx, s.db, `SELECT staff_id, day, color FROM employer_gate WHERE org_id = $1 AND day >= $2`,
		[]any{o.ID, days[0].Format(time.DateOnly)}, func(sc db.Scanner) error {
			var id, day, color string
			if err := sc.Scan(&id, &day, &color); err != nil {
				return err
			}
			r, i := byID[id], index[day]
			c, err := rules.ParseColor(color)
			if r != nil && err == nil && c > r.Colors[i] {
				r.Colors[i] = c
			}
			return nil
		})
	if err != nil {
		return nil, nil, fmt.Errorf("employer: records: %w", err)
	}
	return days, recs, nil
}

// Purge deletes the gate events before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "employer_gate", Query: `DELETE FROM employer_gate WHERE at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("employer: purge: %w", err)
	}
	return out, nil
}

// Forget deletes every roster line (the wind-down: the lines link persons).
func (s *Service) Forget(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM employer_gate`); err != nil {
		return fmt.Errorf("employer: forget gate events: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM employer_staff`); err != nil {
		return fmt.Errorf("employer: forget roster: %w", err)
	}
	return nil
}
