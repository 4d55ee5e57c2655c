package hall

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// Figures are a hall's day of tickets in numbers, for the health
// authority: never a name. Red codes are refused before a ticket is
// written, so they are not among them.
type Figures struct {
	Org     *org.Org
	Tickets int64
	Green   int64
	Yellow  int64 // yellow codes given a ticket (routed to the window)
	Routed  int64
	Booked  int64 // tickets of online bookings
	Foreign int64 // other regions' residents
	Waiting int64
	Done    int64
	Rated   int64
	Rating  float64 // the mean rating, 0 when none
}

// Overview is the halls in an operator's scope on one day.
type Overview struct {
	Day   time.Time
	Halls []*Figures
	Total Figures // Org nil; Rating the mean of every rating
}

// Overview counts a day's tickets at every hall in the operator's scope;
// for operators who read statistics.
func (s *Service) Overview(ctx context.Context, by *auth.Principal, day time.Time) (*Overview, error) {
	os, err := org.InScope(ctx, s.d.Orgs, by, org.ServiceHall)
	if err != nil {
		return nil, err
	}
	fs, err := s.figures(ctx, os, day)
	if err != nil {
		return nil, err
	}
	out := &Overview{Day: day, Halls: fs}
	var stars float64
	for _, f := range fs {
		t := &out.Total
		t.Tickets += f.Tickets
		t.Green += f.Green
		t.Yellow += f.Yellow
		t.Routed += f.Routed
		t.Booked += f.Booked
		t.Foreign += f.Foreign
		t.Waiting += f.Waiting
		t.Done += f.Done
		t.Rated += f.Rated
		stars += f.Rating * float64(f.Rated)
	}
	if out.Total.Rated > 0 {
		out.Total.Rating = stars / float64(out.Total.Rated)
	}
	return out, nil
}

// Figures counts one hall's day, as Tickets does without the tickets.
func (s *Service) Figures(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Figures, error) {
	o, err := org.ReportOf(ctx, s.d.Orgs, by, orgID, org.ScopeHallQueue, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.ServiceHall {
		return nil, ErrNotHall.Withf("%s is not a service hall", o.Name)
	}
	fs, err := s.figures(ctx, []*org.Org{o}, day)
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

func (s *Service) figures(ctx context.Context, os []*org.Org, day time.Time) ([]*Figures, error) {
	out, byID := org.Index(os, func(o *org.Org) *Figures { return &Figures{Org: o} })
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT org_id, color, state, routed, booked, issuer <> '', COUNT(*),
			COUNT(rating), COALESCE(SUM(rating), 0)
		FROM hall_tickets WHERE day = $1 AND org_id IN `, []any{s.day(day)}, org.IDs(os), ` GROUP BY org_id, color, state, routed, booked, issuer <> ''`,
		func(sc db.Scanner) error {
			var id, color, state string
			var routed, booked, foreign bool
			var n, rated, stars int64
			if err := sc.Scan(&id, &color, &state, &routed, &booked, &foreign, &n, &rated, &stars); err != nil {
				return err
			}
			f := byID[id]
			if f == nil {
				return nil
			}
			f.Tickets += n
			switch color {
			case "green":
				f.Green += n
			case "yellow":
				f.Yellow += n
			}
			if state == Done {
				f.Done += n
			} else {
				f.Waiting += n
			}
			if routed {
				f.Routed += n
			}
			if booked {
				f.Booked += n
			}
			if foreign {
				f.Foreign += n
			}
			// Rating holds the sum until the mean is taken below.
			f.Rated += rated
			f.Rating += float64(stars)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("hall: figures: %w", err)
	}
	for _, f := range out {
		if f.Rated > 0 {
			f.Rating /= float64(f.Rated)
		}
	}
	return out, nil
}
