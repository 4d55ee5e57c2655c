package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/org"
)

// Figures are a transport company's day in numbers, for the health
// authority: never a name.
type Figures struct {
	Org      *org.Org
	Vehicles int64
	Drivers  int64 // vehicles with a driver bound
	Rides    int64 // passengers' check-ins in the vehicles
	Refused  int64 // scans in the vehicles turned away by the vehicle policy
}

// Overview is the bus operators and taxi companies in an operator's scope
// on one day.
type Overview struct {
	Day       time.Time
	Companies []*Figures
	Total     Figures // Org nil
}

// Overview counts a day's rides of every bus operator and taxi company in
// the operator's scope; for operators who read statistics.
func (s *Service) Overview(ctx context.Context, by *auth.Principal, day time.Time) (*Overview, error) {
	os, err := org.InScope(ctx, s.d.Orgs, by, org.Bus, org.Taxi)
	if err != nil {
		return nil, err
	}
	fs, err := s.figures(ctx, os, day)
	if err != nil {
		return nil, err
	}
	out := &Overview{Day: day, Companies: fs}
	for _, f := range fs {
		out.Total.Vehicles += f.Vehicles
		out.Total.Drivers += f.Drivers
		out.Total.Rides += f.Rides
		out.Total.Refused += f.Refused
	}
	return out, nil
}

// Figures counts one company's day: for its own keys and accounts (orgID
// "" or their own), for operators who read organisations, of a company in
// their scope.
func (s *Service) Figures(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Figures, error) {
	o, err := org.ReportOf(ctx, s.d.Orgs, by, orgID, org.ScopeTransport, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Bus && o.Kind != org.Taxi {
		return nil, ErrNotTransport.Withf("%s is not a bus operator or a taxi company", o.Name)
	}
	fs, err := s.figures(ctx, []*org.Org{o}, day)
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

func (s *Service) figures(ctx context.Context, os []*org.Org, day time.Time) ([]*Figures, error) {
	out, byID := org.Index(os, func(o *org.Org) *Figures { return &Figures{Org: o} })
	venues := map[string]*Figures{}
	var venueIDs []string
	err := db.QueryIn(ctx, s.d.DB, s.d.DB.Engine(), `SELECT v.org_id, v.venue_id, d.vehicle_id IS NOT NULL
		FROM transport_vehicles v LEFT JOIN transport_drivers d ON d.vehicle_id = v.id WHERE v.org_id IN `, nil, org.IDs(os), ``,
		func(sc db.Scanner) error {
			var id, venueID string
			var driver bool
			if err := sc.Scan(&id, &venueID, &driver); err != nil {
				return err
			}
			f := byID[id]
			if f == nil {
				return nil
			}
			f.Vehicles++
			if driver {
				f.Drivers++
			}
			venues[venueID] = f
			venueIDs = append(venueIDs, venueID)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("transport: figures: %w", err)
	}
	y, m, dd := day.In(s.d.Location).Date()
	from := time.Date(y, m, dd, 0, 0, 0, 0, s.d.Location)
	rides, err := s.d.Rides.VenueTotals(ctx, venueIDs, from, from.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	refused, err := s.d.Rides.VenueRefusals(ctx, venueIDs, from, from.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	for v, f := range venues {
		f.Rides += rides[v]
		f.Refused += refused[v]
	}
	return out, nil
}
