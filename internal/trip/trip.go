// Package trip is the trip card (通信行程卡): the cities a phone stayed in
// over the last days, each starred while it contains a medium- or
// high-risk area. Stays come from the carrier's data (phone, city, first
// and last seen; a file or the carrier's API) and from the person's own
// check-ins and verifications (the venue's or checkpoint's city). A city
// counts after a stay of more than MinStay. No identity number is needed:
// a phone login alone shows the card.
//
// Publishing a risk area appends a visit.risk_area fact for each person
// whose stays in the window touch its city; the rules decide the colour.
package trip

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

// Presence is where persons were (the check-in service).
type Presence interface {
	Stops(ctx context.Context, person, from, to int64) ([]checkin.Stop, error)
	StopsOfMany(ctx context.Context, persons []int64, from, to int64, fn func(person int64, stops []checkin.Stop) error) error
	Place(ctx context.Context, num int64) (checkin.Place, error)
	VenuePlace(ctx context.Context, venueID string) (int64, error)
	CheckpointPlace(ctx context.Context, checkpointID string) (int64, error)
	Visitors(ctx context.Context, place, from, to int64, fn func(checkin.Presence)) error
}

// Venues gives venues' regions (the venue service).
type Venues interface {
	Get(ctx context.Context, by *auth.Principal, id string) (*venue.Venue, error)
	IDsInRegion(ctx context.Context, code string) ([]string, error)
}

// Checkpoints gives checkpoints' regions (the checkpoint service).
type Checkpoints interface {
	ByID(ctx context.Context, id string) (*checkpoint.Checkpoint, error)
	IDsInRegion(ctx context.Context, code string) ([]string, error)
}

// Facts appends facts and evaluates proposed ones (the status engine).
type Facts interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
	RecordStream(ctx context.Context, next func(context.Context) ([]status.NewFact, error)) (int, error)
	WhatIf(ctx context.Context, proposed []status.NewFact) ([]status.WhatIfChange, error)
	Facts(ctx context.Context, num int64, limit int) ([]status.Stored, error)
}

// Deps are the services this feature calls.
type Deps struct {
	DB          *db.DB
	Keys        *secret.Keyring
	Regions     *region.Table
	Areas       *riskarea.Service
	Persons     *person.Service
	Presence    Presence
	Venues      Venues
	Checkpoints Checkpoints
	Facts       Facts
}

// Config tunes the card.
type Config struct {
	// Window is how far back the card looks (default 14 days; 7 in the
	// later rules).
	Window time.Duration
	// MinStay is how long a stay must last for its city to count (default
	// 4 hours: longer than that, not equal).
	MinStay time.Duration
}

// Defaults of Config.
const (
	DefaultWindow  = 14 * 24 * time.Hour
	DefaultMinStay = 4 * time.Hour
)

// Service is the trip card. It is safe for concurrent use.
type Service struct {
	d         Deps
	cfg       Config
	now       func() time.Time
	placeCity sync.Map // place num -> city code ("" when the place has no region)
	policies  policyCache
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MinStay <= 0 {
		cfg.MinStay = DefaultMinStay
	}
	return &Service{d: d, cfg: cfg, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Config is the service's settings after defaults.
func (s *Service) Config() Config { return s.cfg }

// Stay is one stay in a city (unix ms).
type Stay struct {
	City        string
	First, Last int64
}

// City is one line of the card.
type City struct {
	Code      string
	Name      string
	FirstSeen time.Time
	LastSeen  time.Time
	Starred   bool
}

// Card is a trip card.
type Card struct {
	PersonID   string // "" for a phone's own card without registration
	MaskedName string
	From, To   time.Time
	Window     time.Duration
	Cities     []City
	Starred    bool
}

// CardFor is the card of a resident's phone (personID "" or their own id)
// or of one of their dependents (the proxy sees it, as for the code).
// A phone login alone is enough for one's own card.
func (s *Service) CardFor(ctx context.Context, by *auth.Principal, personID string) (*Card, error) {
	if by == nil || by.Kind != auth.Resident {
		return nil, auth.ErrForbidden.Withf("only a resident sees a trip card")
	}
	hash, own, err := s.d.Persons.AccountPhoneHash(ctx, by.ID)
	if err != nil {
		return nil, err
	}
	card := &Card{}
	num := own
	if personID != "" {
		p, err := s.d.Persons.ActingFor(ctx, by, personID)
		if err != nil {
			return nil, err
		}
		card.PersonID, card.MaskedName = p.ID, p.MaskedName
		if p.Num != own {
			// A dependent's card is their own presence: the account's
			// phone is the proxy's, not theirs.
			hash, num = nil, p.Num
		}
	}
	if err := s.fill(ctx, card, hash, num); err != nil {
		return nil, err
	}
	return card, nil
}

// CardOf is the card of a phone (its blind index, nil for none) and a
// person (number, 0 for none), for the platform's own checks after a
// guarded lookup (a venue's entry policy).
func (s *Service) CardOf(ctx context.Context, phoneHash []byte, num int64) (*Card, error) {
	c := &Card{}
	if err := s.fill(ctx, c, phoneHash, num); err != nil {
		return nil, err
	}
	return c, nil
}

// fill computes the card of a phone (blind index, may be nil) and a person
// (number, 0 for none).
func (s *Service) fill(ctx context.Context, card *Card, hash []byte, num int64) error {
	now := s.now().UTC()
	from := now.Add(-s.cfg.Window)
	card.From, card.To, card.Window = from.Truncate(time.Millisecond), now.Truncate(time.Millisecond), s.cfg.Window
	stays, err := s.stays(ctx, hash, num, from.UnixMilli(), now.UnixMilli())
	if err != nil {
		return err
	}
	starred, err := s.d.Areas.StarredCities(ctx, now)
	if err != nil {
		return err
	}
	card.Cities = s.cities(stays, starred)
	for _, c := range card.Cities {
		card.Starred = card.Starred || c.Starred
	}
	return nil
}

// cities folds stays into the card's lines: the cities with a stay longer
// than MinStay, most recent first.
func (s *Service) cities(stays []Stay, starred map[string]bool) []City {
	byCode := map[string]*City{}
	minStay := s.cfg.MinStay.Milliseconds()
	for _, st := range stays {
		if st.Last-st.First <= minStay {
			continue
		}
		c := byCode[st.City]
		if c == nil {
			c = &City{Code: st.City, Name: s.d.Regions.FullName(st.City), FirstSeen: time.UnixMilli(st.First).UTC(),
				LastSeen: time.UnixMilli(st.Last).UTC(), Starred: starred[st.City]}
			byCode[st.City] = c
		}
		if t := time.UnixMilli(st.First).UTC(); t.Before(c.FirstSeen) {
			c.FirstSeen = t
		}
		if t := time.UnixMilli(st.Last).UTC(); t.After(c.LastSeen) {
			c.LastSeen = t
		}
	}
	out := make([]City, 0, len(byCode))
	for _, c := range byCode {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b City) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return compareStrings(a.Code, b.Code)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stays are the carrier's stays of the phone and the stays derived from
// the person's presence, overlapping [from, to] (unix ms).
func (s *Service) stays(ctx context.Context, hash []byte, num, from, to int64) ([]Stay, error) {
	var out []Stay
	if hash != nil {
		err := db.Each(ctx, s.d.DB, `SELECT city_code, first_seen, last_seen FROM trip_stays
			WHERE phone_hash = $1 AND last_seen >= $2 AND first_seen <= $3`, []any{hash, from, to}, func(sc db.Scanner) error {
			var st Stay
			if err := sc.Scan(&st.City, &st.First, &st.Last); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("trip: read stays: %w", err)
		}
	}
	if num != 0 {
		ps, err := s.presenceStays(ctx, num, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// presenceStays turns a person's check-ins and verifications into stays:
// consecutive presence in one city, from the first to the last of them.
func (s *Service) presenceStays(ctx context.Context, num, from, to int64) ([]Stay, error) {
	stops, err := s.d.Presence.Stops(ctx, num, from, to)
	if err != nil {
		return nil, err
	}
	return s.stopsToStays(ctx, stops)
}

// stopsToStays folds a person's stops (oldest first) into stays.
func (s *Service) stopsToStays(ctx context.Context, stops []checkin.Stop) ([]Stay, error) {
	var out []Stay
	for _, st := range stops {
		city, err := s.cityOfPlace(ctx, st.Place)
		if err != nil {
			return nil, err
		}
		if city == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].City == city {
			out[n-1].Last = st.At
			continue
		}
		out = append(out, Stay{City: city, First: st.At, Last: st.At})
	}
	return out, nil
}

// cityOfPlace is the city of a venue or checkpoint. Places keep their
// region, so the answer is cached for the life of the process.
func (s *Service) cityOfPlace(ctx context.Context, num int64) (string, error) {
	if c, ok := s.placeCity.Load(num); ok {
		return c.(string), nil
	}
	p, err := s.d.Presence.Place(ctx, num)
	if err != nil {
		return "", err
	}
	var code string
	switch p.Kind {
	case checkin.PlaceVenue:
		v, err := s.d.Venues.Get(ctx, nil, p.Ref)
		if err != nil {
			return "", err
		}
		code = v.Region
	case checkin.PlaceCheckpoint:
		c, err := s.d.Checkpoints.ByID(ctx, p.Ref)
		if err != nil {
			return "", err
		}
		code = c.Region
	}
	city := riskarea.CityOf(code)
	s.placeCity.Store(num, city)
	return city, nil
}
