// Package transport is the gateway's transport scenario (公交、出租车扫码乘车):
// a bus operator's or taxi company's vehicles, each a venue of kind
// vehicle with a venue code of its own, printed in the vehicle, that
// passengers scan to ride. A ride is an ordinary check-in, so tracing finds
// co-riders with the window configured for vehicles; the company sees how
// many rode, never who. At stations the company's gate checks the code and
// the temperature together: a fever refuses with the reason, as a yellow
// or red code does.
package transport

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/venue"
)

// Orgs authorises gateway callers (the organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*org.Org, error)
	List(ctx context.Context, by *auth.Principal, f org.Filter) ([]*org.Org, error)
}

// Venues registers the vehicles' venues and reads their current codes
// (the venue service).
type Venues interface {
	Register(ctx context.Context, actor string, in venue.Input) (*venue.Venue, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*venue.Venue, error)
}

// Rides counts the check-ins at venues (the check-in service).
type Rides interface {
	VenueTotals(ctx context.Context, venueIDs []string, from, to time.Time) (map[string]int64, error)
	VenueRefusals(ctx context.Context, venueIDs []string, from, to time.Time) (map[string]int64, error)
}

// Scanner verifies codes for an organisation (the gateway).
type Scanner interface {
	Scan(ctx context.Context, p *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error)
	Resolve(o *org.Org, ref string) (gateway.Subject, error)
}

// Deps are the services transport uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Venues   Venues
	Rides    Rides
	Scanner  Scanner
	Location *time.Location // days of rides (Asia/Shanghai by default)
}

// Service keeps vehicles and checks at stations. It is safe for concurrent
// use.
type Service struct {
	d   Deps
	now func() time.Time
}

// New returns the service.
func New(d Deps) *Service {
	if d.Location == nil {
		d.Location = time.FixedZone("CST", 8*3600)
	}
	return &Service{d: d, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// VehicleKind is what a company's kind runs.
func vehicleKind(k org.Kind) string {
	if k == org.Taxi {
		return "taxi"
	}
	return "bus"
}

func (s *Service) company(ctx context.Context, by *auth.Principal) (*org.Org, error) {
	o, err := s.d.Orgs.Authorize(ctx, by, org.ScopeTransport)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Bus && o.Kind != org.Taxi {
		return nil, ErrNotTransport
	}
	return o, nil
}

// Vehicle is a bus or a taxi with the code passengers scan.
type Vehicle struct {
	ID        string
	Kind      string // bus, taxi
	Plate     string
	Route     string
	VenueID   string
	Token     string // the venue code's token: the QR in the vehicle
	Rides     int64  // check-ins of the day asked for
	Driver    string // the driver on duty, masked; "" when none is bound
	DriverAt  time.Time
	CreatedAt time.Time
}

// VehicleInput registers a vehicle.
type VehicleInput struct {
	Plate string
	Route string // a bus's line
}

// AddVehicle registers a vehicle of the caller's company with a venue
// code of its own.
func (s *Service) AddVehicle(ctx context.Context, by *auth.Principal, in VehicleInput) (*Vehicle, error) {
	o, err := s.company(ctx, by)
	if err != nil {
		return nil, err
	}
	v := &Vehicle{ID: ids.New(), Kind: vehicleKind(o.Kind), CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if v.Plate, err = idnum.CleanText("plate", in.Plate); err != nil {
		return nil, err
	}
	if v.Route, err = idnum.CleanText("route", in.Route); err != nil {
		return nil, err
	}
	switch {
	case v.Plate == "":
		return nil, ErrPlateMissing
	case utf8.RuneCountInString(v.Plate) > 20:
		return nil, ErrPlateTooLong
	case utf8.RuneCountInString(v.Route) > 50:
		return nil, ErrRouteTooLong
	}
	var n int
	if err := s.d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM transport_vehicles WHERE org_id = $1 AND plate = $2`, o.ID, v.Plate).Scan(&n); err != nil {
		return nil, fmt.Errorf("transport: find plate: %w", err)
	}
	if n > 0 {
		return nil, ErrVehicleExists.Withf("%s already has a vehicle %s", o.Name, v.Plate)
	}
	name := v.Plate
	if v.Route != "" {
		name = v.Route + " " + v.Plate
	}
	// The venue is made first: a vehicle row never points at nothing, and
	// a venue left by a failed insert below is only an unused code.
	ven, err := s.d.Venues.Register(ctx, by.Actor(), venue.Input{Name: name, Kind: "vehicle", Region: o.Region, Address: o.Name})
	if err != nil {
		return nil, err
	}
	v.VenueID, v.Token = ven.ID, ven.Token
	err = s.d.DB.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO transport_vehicles (id, org_id, venue_id, kind, plate, route, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.ID, o.ID, v.VenueID, v.Kind, v.Plate, v.Route, v.CreatedAt.UnixMilli(), by.Actor()); err != nil {
			return fmt.Errorf("transport: insert vehicle: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: v.CreatedAt, Actor: by.Actor(), Action: "transport.vehicle",
			Subject: "org:" + o.ID, Region: o.Region, Detail: map[string]any{"vehicle": v.ID, "kind": v.Kind, "venue": v.VenueID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Day is a company's vehicles with the rides of one day.
type Day struct {
	Org      *org.Org
	Date     time.Time
	Vehicles []*Vehicle
	Rides    int64
}

// ParseDay reads a day ("2022-04-01") in the deployment's zone; "" is today.
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		y, m, d := s.now().In(s.d.Location).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, s.d.Location), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.d.Location)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

// Vehicles lists the caller's vehicles, by plate, with their codes and
// how many rode each on day.
func (s *Service) Vehicles(ctx context.Context, by *auth.Principal, day time.Time) (*Day, error) {
	o, err := s.company(ctx, by)
	if err != nil {
		return nil, err
	}
	return s.OrgDay(ctx, o, day)
}

// OrgDay is Vehicles for an organisation the caller was already
// authorised for (a unit page, the demo).
func (s *Service) OrgDay(ctx context.Context, o *org.Org, day time.Time) (*Day, error) {
	vs, err := db.Collect(ctx, s.d.DB, `SELECT v.id, v.kind, v.plate, v.route, v.venue_id, v.created_at,
		COALESCE(d.masked_name, ''), COALESCE(d.bound_at, 0)
		FROM transport_vehicles v LEFT JOIN transport_drivers d ON d.vehicle_id = v.id
		WHERE v.org_id = $1 ORDER BY v.plate`, []any{o.ID}, func(sc db.Scanner) (*Vehicle, error) {
		var v Vehicle
		var at, dat int64
		if err := sc.Scan(&v.ID, &v.Kind, &v.Plate, &v.Route, &v.VenueID, &at, &v.Driver, &dat); err != nil {
			return nil, err
		}
		v.CreatedAt = db.Time(at)
		if dat > 0 {
			v.DriverAt = db.Time(dat)
		}
		return &v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("transport: vehicles: %w", err)
	}
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.VenueID
		ven, err := s.d.Venues.Get(ctx, nil, v.VenueID)
		if err != nil && !errors.Is(err, venue.ErrNotFound) {
			return nil, err
		}
		if ven != nil {
			v.Token = ven.Token
		}
	}
	y, m, dd := day.In(s.d.Location).Date()
	from := time.Date(y, m, dd, 0, 0, 0, 0, s.d.Location)
	totals, err := s.d.Rides.VenueTotals(ctx, ids, from, from.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	out := &Day{Org: o, Date: from, Vehicles: vs}
	for _, v := range vs {
		v.Rides = totals[v.VenueID]
		out.Rides += v.Rides
	}
	return out, nil
}

// StationInput is a check at a station's gate: the code (or an ID number
// typed at the desk) and the temperature read with it.
type StationInput struct {
	Code     string
	IDType   string
	IDNumber string
	Celsius  *float64
}

// Station checks a passenger at a station: the gateway's scan with the
// temperature, so a fever (37.3 °C or more) is recorded and refuses with
// the reason fever, as a yellow or red code refuses with its colour.
func (s *Service) Station(ctx context.Context, by *auth.Principal, in StationInput) (*gateway.Scan, error) {
	if _, err := s.company(ctx, by); err != nil {
		return nil, err
	}
	if in.Celsius == nil {
		return nil, ErrTemperatureNeeded
	}
	return s.d.Scanner.Scan(ctx, by, gateway.ScanInput{Code: in.Code, IDType: in.IDType, IDNumber: in.IDNumber,
		Temperature: codes.Temperature{Celsius: *in.Celsius, Set: true}})
}

// DriverInput is a driver's code (or ID number typed at the depot) scanned
// at the start of a shift.
type DriverInput struct {
	Code     string
	IDType   string
	IDNumber string
}

// Duty is the answer to a driver's on-duty check: the scan's, and whether
// the driver is now bound to the vehicle.
type Duty struct {
	Vehicle *Vehicle
	Scan    *gateway.Scan
	Bound   bool
}

// Driver checks a driver going on duty in one of the company's vehicles
// by the gateway's scan: a green driver is bound to the vehicle (replacing
// the one before); yellow or red is refused with the reasons and binds
// nobody. A code that is not valid is the scan's 422, nothing written.
func (s *Service) Driver(ctx context.Context, by *auth.Principal, vehicleID string, in DriverInput) (*Duty, error) {
	o, err := s.company(ctx, by)
	if err != nil {
		return nil, err
	}
	v := &Vehicle{ID: vehicleID}
	var at, dat int64
	err = s.d.DB.QueryRowContext(ctx, `SELECT v.kind, v.plate, v.route, v.venue_id, v.created_at, COALESCE(d.masked_name, ''), COALESCE(d.bound_at, 0)
		FROM transport_vehicles v LEFT JOIN transport_drivers d ON d.vehicle_id = v.id WHERE v.id = $1 AND v.org_id = $2`,
		vehicleID, o.ID).Scan(&v.Kind, &v.Plate, &v.Route, &v.VenueID, &at, &v.Driver, &dat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrVehicleNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("transport: find vehicle: %w", err)
	}
	v.CreatedAt = db.Time(at)
	if dat > 0 {
		v.DriverAt = db.Time(dat)
	}
	sc, err := s.d.Scanner.Scan(ctx, by, gateway.ScanInput{Code: in.Code, IDType: in.IDType, IDNumber: in.IDNumber})
	if err != nil {
		return nil, err
	}
	d := &Duty{Vehicle: v, Scan: sc}
	if !sc.Admitted {
		return d, nil
	}
	sub, err := s.d.Scanner.Resolve(o, sc.Subject)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	err = s.d.DB.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM transport_drivers WHERE vehicle_id = $1`, v.ID); err != nil {
			return fmt.Errorf("transport: unbind driver: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO transport_drivers (vehicle_id, org_id, person_num, masked_name, bound_at, bound_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, v.ID, o.ID, sub.Person, sc.MaskedName, now.UnixMilli(), by.Actor()); err != nil {
			return fmt.Errorf("transport: bind driver: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Bound, v.Driver, v.DriverAt = true, sc.MaskedName, now
	return d, nil
}
