// Package booking is time slots with a capacity that residents book at a
// scenic spot (分时预约) or a service hall (网上预约), and entry at the
// gate by scanning the visitor's code against the booking. A place is
// taken as a vaccination appointment takes one (db.Places), so no number
// of concurrent bookings on any number of nodes books more places than a
// slot has. The spot sees who booked as a masked name only; at the gate
// the scan says whether the person has a booking for now, and a red or
// yellow code is refused whatever the booking.
package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Orgs authorises gateway callers and reads organisations (the
// organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*org.Org, error)
	OfKinds(ctx context.Context, kinds ...org.Kind) ([]*org.Org, error)
	List(ctx context.Context, by *auth.Principal, f org.Filter) ([]*org.Org, error)
	Public(ctx context.Context, id string) (*org.Org, error)
}

// Persons says whom a resident acts for (the person service).
type Persons interface {
	ActingFor(ctx context.Context, by *auth.Principal, personID string) (person.Profile, error)
}

// Scanner scans codes for an organisation and opens the subject
// references it answers (the gateway).
type Scanner interface {
	Scan(ctx context.Context, p *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error)
	Resolve(o *org.Org, ref string) (gateway.Subject, error)
}

// Config tunes the service.
type Config struct {
	Location *time.Location // days of slots (Asia/Shanghai by default)
	// Early is how long before its slot a booking admits (default 30 minutes).
	Early   time.Duration
	Metrics prometheus.Registerer // receives the bookings' metrics (nil: not registered)
}

// Service keeps slots and bookings. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	orgs    Orgs
	persons Persons
	scanner Scanner
	cfg     Config
	now     func() time.Time
	m       *metrics
}

// New returns the service.
func New(d *db.DB, orgs Orgs, persons Persons, scanner Scanner, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.Early <= 0 {
		cfg.Early = 30 * time.Minute
	}
	return &Service{db: d, orgs: orgs, persons: persons, scanner: scanner, cfg: cfg, now: time.Now, m: newMetrics(cfg.Metrics)}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Kinds are the kinds of organisation that open slots.
var Kinds = []org.Kind{org.ScenicSpot, org.ServiceHall}

func bookable(o *org.Org) bool { return o.Kind == org.ScenicSpot || o.Kind == org.ServiceHall }

// places are the places of the slots.
var places = db.Places{Table: "bk_slots"}

// States of a booking.
const (
	Booked    = "booked"
	Entered   = "entered"
	Cancelled = "cancelled"
)

// Slot is a time slot of a place with its capacity.
type Slot struct {
	ID        string
	OrgID     string
	StartsAt  time.Time
	EndsAt    time.Time
	Capacity  int64
	Booked    int64
	Remaining int64
}

// SlotInput opens a slot.
type SlotInput struct {
	StartsAt time.Time
	EndsAt   time.Time
	Capacity int64
}

// MaxCapacity bounds a slot's places.
const MaxCapacity = 100_000

func (s *Service) day(t time.Time) int64 {
	y, m, d := t.In(s.cfg.Location).Date()
	return int64(y*10000 + int(m)*100 + d)
}

// DayStart is the start of the day of t in the deployment's zone.
func (s *Service) DayStart(t time.Time) time.Time {
	y, m, d := t.In(s.cfg.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location)
}

// ParseDay reads a day ("2022-04-01") in the deployment's zone; "" is today.
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		return s.DayStart(s.now()), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.cfg.Location)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

// unitOrg is the scenic spot or hall the caller (a key with scope, or a
// unit account) acts for.
func (s *Service) unitOrg(ctx context.Context, by *auth.Principal, scope string) (*org.Org, error) {
	o, err := s.orgs.Authorize(ctx, by, scope)
	if err != nil {
		return nil, err
	}
	if !bookable(o) {
		return nil, ErrNotBookable
	}
	return o, nil
}

// CreateSlot opens a slot at the caller's scenic spot or hall (scope
// booking.slots).
func (s *Service) CreateSlot(ctx context.Context, by *auth.Principal, in SlotInput) (*Slot, error) {
	o, err := s.unitOrg(ctx, by, org.ScopeSlots)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if in.Capacity < 1 || in.Capacity > MaxCapacity || !in.EndsAt.After(in.StartsAt) || !in.EndsAt.After(now) ||
		in.EndsAt.Sub(in.StartsAt) > 24*time.Hour {
		return nil, ErrSlotInvalid
	}
	sl := &Slot{ID: ids.New(), OrgID: o.ID, StartsAt: in.StartsAt.UTC().Truncate(time.Millisecond), EndsAt: in.EndsAt.UTC().Truncate(time.Millisecond),
		Capacity: in.Capacity, Remaining: in.Capacity}
	if err := s.insertSlots(ctx, s.db, by.Actor(), now, []*Slot{sl}); err != nil {
		return nil, err
	}
	return sl, nil
}

func (s *Service) insertSlots(ctx context.Context, q db.Querier, actor string, now time.Time, sls []*Slot) error {
	ins := db.Insert{Head: `INSERT INTO bk_slots (id, org_id, day, starts_at, ends_at, capacity, booked, created_at, created_by) VALUES `, Cols: 9}
	args := make([]any, 0, 9*len(sls))
	for _, sl := range sls {
		args = append(args, sl.ID, sl.OrgID, s.day(sl.StartsAt), sl.StartsAt.UnixMilli(), sl.EndsAt.UnixMilli(), sl.Capacity, sl.Booked,
			now.UnixMilli(), actor)
	}
	if _, err := ins.Exec(ctx, q, s.db.Engine(), args); err != nil {
		return fmt.Errorf("booking: store slots: %w", err)
	}
	return nil
}

const slotCols = `id, org_id, starts_at, ends_at, capacity, booked`

func scanSlot(sc db.Scanner) (*Slot, error) {
	var sl Slot
	var start, end int64
	if err := sc.Scan(&sl.ID, &sl.OrgID, &start, &end, &sl.Capacity, &sl.Booked); err != nil {
		return nil, err
	}
	sl.StartsAt, sl.EndsAt, sl.Remaining = db.Time(start), db.Time(end), sl.Capacity-sl.Booked
	return &sl, nil
}

func (s *Service) slot(ctx context.Context, id string) (*Slot, error) {
	sl, err := scanSlot(s.db.QueryRowContext(ctx, `SELECT `+slotCols+` FROM bk_slots WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSlotNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("booking: read slot: %w", err)
	}
	return sl, nil
}

// Places lists the scenic spots and service halls, for anyone.
func (s *Service) Places(ctx context.Context) ([]*org.Org, error) {
	return s.orgs.OfKinds(ctx, Kinds...)
}

// Place returns a scenic spot or service hall by id, for anyone.
func (s *Service) Place(ctx context.Context, id string) (*org.Org, error) {
	o, err := s.orgs.Public(ctx, id)
	if err != nil || !bookable(o) {
		return nil, ErrPlaceNotFound.Withf("no scenic spot or service hall %q", id)
	}
	return o, nil
}

// maxSlots bounds a list of slots.
const maxSlots = 500

// Slots lists a place's slots that have not ended, from today for days
// days, for anyone: what a resident chooses from.
func (s *Service) Slots(ctx context.Context, orgID string, days int) ([]*Slot, error) {
	o, err := s.Place(ctx, orgID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	until := s.DayStart(now).AddDate(0, 0, days)
	out, err := db.Collect(ctx, s.db, `SELECT `+slotCols+` FROM bk_slots WHERE org_id = $1 AND ends_at > $2 AND starts_at < $3
		ORDER BY starts_at, id LIMIT $4`, []any{o.ID, now.UnixMilli(), until.UnixMilli(), maxSlots}, scanSlot)
	if err != nil {
		return nil, fmt.Errorf("booking: list slots: %w", err)
	}
	return out, nil
}

// Booking is a place booked for one person in one slot.
type Booking struct {
	ID         string
	PersonID   string
	MaskedName string
	State      string
	Slot       Slot
	Org        *org.Org
	CreatedAt  time.Time
	EnteredAt  time.Time // zero until entered
}

// Book books a place in a slot for the resident or one of their dependents
// (personID empty: themselves). The place is taken in the transaction that
// stores the booking, so concurrent bookings never exceed the capacity; a
// second booking of the same person in the slot is refused and gives the
// place back.
func (s *Service) Book(ctx context.Context, by *auth.Principal, personID, slotID string) (*Booking, error) {
	b, err := s.book(ctx, by, personID, slotID)
	s.m.book(err)
	return b, err
}

func (s *Service) book(ctx context.Context, by *auth.Principal, personID, slotID string) (*Booking, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	if slotID == "" {
		return nil, ErrSlotIDMissing
	}
	sl, err := s.slot(ctx, slotID)
	if err != nil {
		return nil, err
	}
	o, err := s.Place(ctx, sl.OrgID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if !sl.EndsAt.After(now) {
		return nil, ErrSlotPast.Withf("the slot ended at %s; choose a later one", sl.EndsAt.In(s.cfg.Location).Format("2006-01-02 15:04"))
	}
	b := &Booking{ID: ids.New(), PersonID: who.ID, MaskedName: who.MaskedName, State: Booked, Slot: *sl, Org: o, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		took, err := places.Take(ctx, tx, slotID, `ends_at > $2`, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("booking: %w", err)
		}
		if !took {
			return ErrSlotFull.Withf("the slot at %s is full (%d places); choose another one",
				sl.StartsAt.In(s.cfg.Location).Format("2006-01-02 15:04"), sl.Capacity)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO bk_bookings (id, slot_id, org_id, person_num, state, starts_at, booked_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, b.ID, slotID, o.ID, who.Num, Booked, sl.StartsAt.UnixMilli(), by.Actor(), now.UnixMilli())
		if db.IsUniqueViolation(err) {
			return ErrAlreadyBooked.Withf("%s has a booking in this slot already", who.MaskedName)
		}
		if err != nil {
			return fmt.Errorf("booking: store booking: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.Slot.Booked++
	b.Slot.Remaining--
	return b, nil
}

const bookingCols = `b.id, b.state, b.created_at, b.entered_at, b.person_num, sl.id, sl.org_id, sl.starts_at, sl.ends_at, sl.capacity, sl.booked`
const bookingFrom = ` FROM bk_bookings b JOIN bk_slots sl ON sl.id = b.slot_id`

func scanBooking(sc db.Scanner) (*Booking, int64, error) {
	var b Booking
	var at, start, end int64
	var entered sql.NullInt64
	var num int64
	sl := &b.Slot
	if err := sc.Scan(&b.ID, &b.State, &at, &entered, &num, &sl.ID, &sl.OrgID, &start, &end, &sl.Capacity, &sl.Booked); err != nil {
		return nil, 0, err
	}
	b.CreatedAt, b.EnteredAt = db.Time(at), db.NullTime(entered)
	sl.StartsAt, sl.EndsAt, sl.Remaining = db.Time(start), db.Time(end), sl.Capacity-sl.Booked
	return &b, num, nil
}

// Bookings are the resident's or a dependent's bookings, newest slot first.
func (s *Service) Bookings(ctx context.Context, by *auth.Principal, personID string) ([]*Booking, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+bookingCols+bookingFrom+` WHERE b.person_num = $1 ORDER BY b.starts_at DESC, b.id LIMIT 50`,
		[]any{who.Num}, func(sc db.Scanner) (*Booking, error) {
			b, _, err := scanBooking(sc)
			if err != nil {
				return nil, err
			}
			b.PersonID, b.MaskedName = who.ID, who.MaskedName
			if b.Org, err = s.orgs.Public(ctx, b.Slot.OrgID); err != nil {
				return nil, err
			}
			return b, nil
		})
	if err != nil {
		return nil, fmt.Errorf("booking: list bookings: %w", err)
	}
	return out, nil
}

// Cancel cancels an open booking of the resident (or of a dependent,
// personID) and gives the place back. Anyone else's is a 404.
func (s *Service) Cancel(ctx context.Context, by *auth.Principal, personID, id string) (*Booking, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	b, num, err := scanBooking(s.db.QueryRowContext(ctx, `SELECT `+bookingCols+bookingFrom+` WHERE b.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && num != who.Num {
		return nil, ErrBookingMissing
	}
	if err != nil {
		return nil, fmt.Errorf("booking: read booking: %w", err)
	}
	b.PersonID, b.MaskedName = who.ID, who.MaskedName
	if b.Org, err = s.orgs.Public(ctx, b.Slot.OrgID); err != nil {
		return nil, err
	}
	if b.State != Booked {
		return nil, ErrBookingClosed.Withf("the booking is %s", b.State)
	}
	now := s.clock()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		// The slot's row first, as a booking takes it: a booking of the same
		// person in the same slot, holding the slot, waits for this booking's row
		// in the index of open bookings, and a cancel that held that row and then
		// waited for the slot deadlocked with it.
		if err := db.LockRows(ctx, tx, s.db.Engine(), `SELECT id FROM bk_slots WHERE id = $1 FOR UPDATE`, b.Slot.ID); err != nil {
			return fmt.Errorf("booking: cancel: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE bk_bookings SET state = $1, closed_at = $2 WHERE id = $3 AND state = $4`,
			Cancelled, now.UnixMilli(), id, Booked)
		if err != nil {
			return fmt.Errorf("booking: cancel: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("booking: cancel: %w", err)
		} else if n == 0 {
			return ErrBookingClosed
		}
		return places.Give(ctx, tx, b.Slot.ID)
	})
	if err != nil {
		return nil, err
	}
	s.m.cancelled.Inc()
	b.State = Cancelled
	b.Slot.Booked--
	b.Slot.Remaining++
	return b, nil
}

// Entry is an admitted visitor.
type Entry struct {
	BookingID  string
	MaskedName string
	Color      rules.Color
	Slot       Slot
	At         time.Time
}

// Enter admits the person whose code was scanned at the gate of the
// caller's scenic spot (scope booking.entry, and scan for the code) when
// their code is green and they have a booking for now (from Early before
// its slot until its end); once per booking. Otherwise it refuses with the
// reason and writes nothing: the code's own fault (expired, forged: the
// gateway's 422), red, yellow, no booking today, a booking for another
// time, a booking used already.
func (s *Service) Enter(ctx context.Context, by *auth.Principal, code string) (*Entry, error) {
	e, err := s.enter(ctx, by, code)
	s.m.enter(err)
	return e, err
}

func (s *Service) enter(ctx context.Context, by *auth.Principal, code string) (*Entry, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeEntry)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.ScenicSpot {
		return nil, ErrNotBookable.Withf("only a scenic spot admits by booking")
	}
	sc, err := s.scanner.Scan(ctx, by, gateway.ScanInput{Code: code})
	if err != nil {
		return nil, err
	}
	switch sc.Color {
	case rules.Red:
		return nil, ErrEntryRed
	case rules.Yellow:
		return nil, ErrEntryYellow
	}
	sub, err := s.scanner.Resolve(o, sc.Subject)
	if err != nil {
		return nil, err
	}
	b, err := s.Arrive(ctx, o, sub.Person, sc.MaskedName, by.Actor())
	if err != nil {
		return nil, err
	}
	return &Entry{BookingID: b.ID, MaskedName: sc.MaskedName, Color: sc.Color, Slot: b.Slot, At: b.EnteredAt}, nil
}

// Arrive uses the booking person num has at place o for now (from Early
// before its slot until its end), once: ErrEntryNoBooking when they have
// none there today, ErrEntryWrongSlot when it is for another time,
// ErrEntryUsed when it was used; name (masked) is for the messages. For
// the place's own doors (the gate, the hall's queue machine) about a person
// they scanned.
func (s *Service) Arrive(ctx context.Context, o *org.Org, num int64, name, actor string) (*Booking, error) {
	now := s.clock()
	today := s.DayStart(now)
	list, err := db.Collect(ctx, s.db, `SELECT `+bookingCols+bookingFrom+` WHERE b.org_id = $1 AND b.person_num = $2 AND b.starts_at >= $3
		AND b.starts_at < $4 AND b.state <> $5 ORDER BY b.starts_at`, []any{o.ID, num, today.UnixMilli(), today.AddDate(0, 0, 1).UnixMilli(), Cancelled},
		func(sc db.Scanner) (*Booking, error) { b, _, err := scanBooking(sc); return b, err })
	if err != nil {
		return nil, fmt.Errorf("booking: bookings at the door: %w", err)
	}
	if len(list) == 0 {
		return nil, ErrEntryNoBooking.Withf("%s has no booking here today", name)
	}
	var b *Booking
	for _, c := range list {
		if !now.Before(c.Slot.StartsAt.Add(-s.cfg.Early)) && now.Before(c.Slot.EndsAt) {
			b = c
			break
		}
	}
	if b == nil {
		c := list[0]
		return nil, ErrEntryWrongSlot.Withf("%s's booking is for %s-%s; entry from %s", name,
			c.Slot.StartsAt.In(s.cfg.Location).Format("15:04"), c.Slot.EndsAt.In(s.cfg.Location).Format("15:04"),
			c.Slot.StartsAt.Add(-s.cfg.Early).In(s.cfg.Location).Format("15:04"))
	}
	if b.State == Entered {
		return nil, ErrEntryUsed.Withf("%s entered at %s with this booking", name, b.EnteredAt.In(s.cfg.Location).Format("15:04"))
	}
	res, err := s.db.ExecContext(ctx, `UPDATE bk_bookings SET state = $1, entered_at = $2, entered_by = $3 WHERE id = $4 AND state = $5`,
		Entered, now.UnixMilli(), actor, b.ID, Booked)
	if err != nil {
		return nil, fmt.Errorf("booking: enter: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("booking: enter: %w", err)
	} else if n == 0 {
		return nil, ErrEntryUsed
	}
	b.State, b.EnteredAt, b.Org = Entered, now, o
	return b, nil
}

// SlotFigures is one slot's attendance.
type SlotFigures struct {
	Slot Slot
	Tally
}

// Tally is bookings counted by state.
type Tally struct {
	Booked    int64 // open bookings (booked or entered)
	Entered   int64
	Cancelled int64
}

// add counts n bookings in state: an entered booking is also still booked.
func (t *Tally) add(state string, n int64) {
	switch state {
	case Cancelled:
		t.Cancelled += n
	case Entered:
		t.Entered += n
		t.Booked += n
	default:
		t.Booked += n
	}
}

// Attendance is a place's figures of a day.
type Attendance struct {
	Org      *org.Org
	Day      time.Time
	Slots    []*SlotFigures
	Capacity int64
	Tally
}

// Attendance is the figures of a day at a place: for its own keys (scope
// booking.slots) and accounts with orgID "" or their own; for operators who
// read organisations, of a place in their scope.
func (s *Service) Attendance(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Attendance, error) {
	o, err := org.ReportOf(ctx, s.orgs, by, orgID, org.ScopeSlots, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if !bookable(o) {
		return nil, ErrNotBookable.Withf("%s is not a scenic spot or service hall", o.Name)
	}
	a := &Attendance{Org: o, Day: day, Slots: []*SlotFigures{}}
	byID := map[string]*SlotFigures{}
	err = db.Each(ctx, s.db, `SELECT `+slotCols+` FROM bk_slots WHERE org_id = $1 AND day = $2 ORDER BY starts_at, id LIMIT $3`,
		[]any{o.ID, s.day(day), maxSlots}, func(sc db.Scanner) error {
			sl, err := scanSlot(sc)
			if err != nil {
				return err
			}
			f := &SlotFigures{Slot: *sl}
			a.Slots, byID[sl.ID] = append(a.Slots, f), f
			a.Capacity += sl.Capacity
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("booking: attendance slots: %w", err)
	}
	err = db.Each(ctx, s.db, `SELECT b.slot_id, b.state, COUNT(*) FROM bk_bookings b JOIN bk_slots sl ON sl.id = b.slot_id
		WHERE sl.org_id = $1 AND sl.day = $2 GROUP BY b.slot_id, b.state`, []any{o.ID, s.day(day)}, func(sc db.Scanner) error {
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
		a.add(state, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("booking: attendance: %w", err)
	}
	return a, nil
}

// Purge deletes the bookings of slots that began before cutoff (who
// visited where, and when, is personal); the slots, which hold no person,
// stay with their counts.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "bk_bookings", Query: `DELETE FROM bk_bookings WHERE starts_at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("booking: purge: %w", err)
	}
	return out, nil
}
