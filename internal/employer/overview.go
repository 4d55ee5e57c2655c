package employer

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// Figures are an employer's day in numbers, for the health authority:
// never a name.
type Figures struct {
	Org      *org.Org
	Staff    int64 // lines on the roster
	Linked   int64 // of those, linked to a person
	Present  int64 // staff admitted at least once that day
	Refused  int64 // staff refused and never admitted that day
	Absent   int64 // staff not admitted and not refused
	Refusals int64 // refused scans, by reason in ByReason
	ByReason map[string]int64
}

// Overview is the employers in an operator's scope on one day.
type Overview struct {
	Day       time.Time
	Employers []*Figures
	Total     Figures // Org nil
}

// Overview counts a day at the gates of every employer in the operator's
// scope; for operators who read statistics.
func (s *Service) Overview(ctx context.Context, by *auth.Principal, day time.Time) (*Overview, error) {
	os, err := org.InScope(ctx, s.orgs, by, org.Employer)
	if err != nil {
		return nil, err
	}
	fs, err := s.figures(ctx, os, day)
	if err != nil {
		return nil, err
	}
	out := &Overview{Day: day, Employers: fs, Total: Figures{ByReason: map[string]int64{}}}
	for _, f := range fs {
		out.Total.Staff += f.Staff
		out.Total.Linked += f.Linked
		out.Total.Present += f.Present
		out.Total.Refused += f.Refused
		out.Total.Absent += f.Absent
		out.Total.Refusals += f.Refusals
		for r, n := range f.ByReason {
			out.Total.ByReason[r] += n
		}
	}
	return out, nil
}

// Figures counts one employer's day: for its own keys and accounts (orgID
// "" or their own), for operators who read organisations, of an employer
// in their scope.
func (s *Service) Figures(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Figures, error) {
	o, err := org.ReportOf(ctx, s.orgs, by, orgID, org.ScopeEmployerStaff, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Employer {
		return nil, ErrNotEmployer.Withf("%s is not an employer", o.Name)
	}
	fs, err := s.figures(ctx, []*org.Org{o}, day)
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

func (s *Service) figures(ctx context.Context, os []*org.Org, day time.Time) ([]*Figures, error) {
	out, byID := org.Index(os, func(o *org.Org) *Figures { return &Figures{Org: o, ByReason: map[string]int64{}} })
	ids := org.IDs(os)
	e := s.db.Engine()
	date := day.Format(time.DateOnly)
	err := db.QueryIn(ctx, s.db, e, `SELECT org_id, COUNT(*), COUNT(person_num) FROM employer_staff WHERE org_id IN `, nil, ids,
		` GROUP BY org_id`, func(sc db.Scanner) error {
			var id string
			var n, linked int64
			if err := sc.Scan(&id, &n, &linked); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				f.Staff, f.Linked = n, linked
			}
			return nil
		})
	// count reads one number per employer into the field set sets.
	count := func(head string, set func(*Figures, int64)) error {
		return db.QueryIn(ctx, s.db, e, head, []any{date}, ids, ` GROUP BY org_id`, func(sc db.Scanner) error {
			var id string
			var n int64
			if err := sc.Scan(&id, &n); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				set(f, n)
			}
			return nil
		})
	}
	if err == nil {
		err = count(`SELECT org_id, COUNT(DISTINCT staff_id) FROM employer_gate WHERE day = $1 AND admitted AND org_id IN `,
			func(f *Figures, n int64) { f.Present = n })
	}
	if err == nil {
		err = count(`SELECT org_id, COUNT(DISTINCT staff_id) FROM employer_gate g WHERE day = $1 AND NOT admitted
			AND NOT EXISTS (SELECT 1 FROM employer_gate a WHERE a.staff_id = g.staff_id AND a.day = g.day AND a.admitted) AND org_id IN `,
			func(f *Figures, n int64) { f.Refused = n })
	}
	if err == nil {
		err = db.QueryIn(ctx, s.db, e, `SELECT org_id, reason, COUNT(*) FROM employer_gate WHERE day = $1 AND NOT admitted AND org_id IN `,
			[]any{date}, ids, ` GROUP BY org_id, reason`, func(sc db.Scanner) error {
				var id, reason string
				var n int64
				if err := sc.Scan(&id, &reason, &n); err != nil {
					return err
				}
				if f := byID[id]; f != nil {
					f.ByReason[reason] += n
					f.Refusals += n
				}
				return nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("employer: figures: %w", err)
	}
	for _, f := range out {
		f.Absent = max(f.Staff-f.Present-f.Refused, 0)
	}
	return out, nil
}
