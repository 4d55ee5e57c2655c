package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// Figures are a place's day in numbers, for the health authority: never a
// name.
type Figures struct {
	Org      *org.Org
	Slots    int64
	Capacity int64
	Tally
}

// Overview is the places of a kind in an operator's scope on one day.
type Overview struct {
	Day    time.Time
	Places []*Figures
	Total  Figures // Org nil
}

// Overview counts a day's slots and bookings at every place of the kind
// (scenic spots or service halls) in the operator's scope; for operators
// who read statistics.
func (s *Service) Overview(ctx context.Context, by *auth.Principal, kind org.Kind, day time.Time) (*Overview, error) {
	if kind != org.ScenicSpot && kind != org.ServiceHall {
		return nil, ErrNotBookable.Withf("%s does not open slots", kind)
	}
	os, err := org.InScope(ctx, s.orgs, by, kind)
	if err != nil {
		return nil, err
	}
	fs, err := s.figures(ctx, os, day)
	if err != nil {
		return nil, err
	}
	out := &Overview{Day: day, Places: fs}
	for _, f := range fs {
		out.Total.Slots += f.Slots
		out.Total.Capacity += f.Capacity
		out.Total.Booked += f.Booked
		out.Total.Entered += f.Entered
		out.Total.Cancelled += f.Cancelled
	}
	return out, nil
}

// Figures counts one place's day, as Attendance does without the slots.
func (s *Service) Figures(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Figures, error) {
	o, err := org.ReportOf(ctx, s.orgs, by, orgID, org.ScopeSlots, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if !bookable(o) {
		return nil, ErrNotBookable.Withf("%s is not a scenic spot or service hall", o.Name)
	}
	fs, err := s.figures(ctx, []*org.Org{o}, day)
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

func (s *Service) figures(ctx context.Context, os []*org.Org, day time.Time) ([]*Figures, error) {
	out, byID := org.Index(os, func(o *org.Org) *Figures { return &Figures{Org: o} })
	ids := org.IDs(os)
	e := s.db.Engine()
	err := db.QueryIn(ctx, s.db, e, `SELECT org_id, COUNT(*), COALESCE(SUM(capacity), 0) FROM bk_slots WHERE day = $1 AND org_id IN `,
		[]any{s.day(day)}, ids, ` GROUP BY org_id`, func(sc db.Scanner) error {
			var id string
			var n, c int64
			if err := sc.Scan(&id, &n, &c); err != nil {
				return err
			}
			if f := byID[id]; f != nil {
				f.Slots, f.Capacity = n, c
			}
			return nil
		})
	if err == nil {
		err = db.QueryIn(ctx, s.db, e, `SELECT sl.org_id, b.state, COUNT(*) FROM bk_bookings b JOIN bk_slots sl ON sl.id = b.slot_id
			WHERE sl.day = $1 AND sl.org_id IN `, []any{s.day(day)}, ids, ` GROUP BY sl.org_id, b.state`, func(sc db.Scanner) error {
			var id, state string
			var n int64
			if err := sc.Scan(&id, &state, &n); err != nil {
				return err
			}
			f := byID[id]
			if f == nil {
				return nil
			}
			f.add(state, n)
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("booking: figures: %w", err)
	}
	return out, nil
}
