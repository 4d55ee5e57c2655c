package vaccine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/sms"
)

// Appointment states.
const (
	Booked    = "booked"
	Cancelled = "cancelled"
	Done      = "done"
)

// slotPlaces are the places of the slots (db.Places: never more booked
// than the capacity under any concurrency).
var slotPlaces = db.Places{Table: "vac_slots"}

// Appointment is a place booked for one person and one dose.
type Appointment struct {
	ID         string
	PersonID   string
	MaskedName string
	Dose       int
	State      string
	Slot       Slot
	CreatedAt  time.Time
}

// Book books a place in a slot for the resident or one of their
// dependents (personID empty: themselves). The place is taken by one
// conditional UPDATE (booked < capacity) in the transaction that stores the
// appointment, so no number of concurrent bookings on any number of nodes
// books more places than the slot has; the unique index on open
// appointments per person and dose refuses a second booking and rolls the
// place back.
func (s *Service) Book(ctx context.Context, by *auth.Principal, personID, slotID string) (*Appointment, error) {
	a, err := s.book(ctx, by, personID, slotID)
	switch {
	case err == nil:
		s.metrics.bookings.WithLabelValues("booked").Inc()
	case errors.Is(err, ErrSlotFull):
		s.metrics.bookings.WithLabelValues("full").Inc()
	default:
		s.metrics.bookings.WithLabelValues("refused").Inc()
	}
	return a, err
}

func (s *Service) book(ctx context.Context, by *auth.Principal, personID, slotID string) (*Appointment, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	if slotID == "" {
		return nil, ErrSlotIDMissing
	}
	sl, err := s.slot(ctx, s.db, slotID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if !sl.StartsAt.After(now) {
		return nil, ErrSlotPast.Withf("the slot began at %s; choose a later one", sl.StartsAt.In(s.cfg.Location).Format("2006-01-02 15:04"))
	}
	prior, err := s.doses(ctx, s.db, who.Num)
	if err != nil {
		return nil, err
	}
	dose := len(prior) + 1
	if err := s.bookable(prior, &sl.Product, sl.StartsAt); err != nil {
		return nil, err
	}
	a := &Appointment{ID: ids.New(), PersonID: who.ID, MaskedName: who.MaskedName, Dose: dose, State: Booked, Slot: *sl, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		took, err := slotPlaces.Take(ctx, tx, slotID, `starts_at > $2`, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("vaccine: %w", err)
		}
		if !took {
			return ErrSlotFull
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO vac_appointments (id, slot_id, person_num, dose, state, booked_by, starts_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, a.ID, slotID, who.Num, dose, Booked, by.Actor(), sl.StartsAt.UnixMilli(), now.UnixMilli())
		if db.IsUniqueViolation(err) {
			return ErrAlreadyBooked.Withf("%s already has an appointment for dose %d; cancel it first", who.MaskedName, dose)
		}
		if err != nil {
			return fmt.Errorf("vaccine: store appointment: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.Slot.Booked++
	a.Slot.Remaining--
	return a, nil
}

// bookable says whether the next dose of the person's series may be given
// with product at t.
func (s *Service) bookable(prior []Dose, p *Product, at time.Time) error {
	if len(prior) == 0 {
		return nil
	}
	last := prior[len(prior)-1]
	if last.Product.ID != p.ID {
		return ErrAppointmentWrongVacc.Withf("the series was begun with %s; this slot offers %s", last.Product.Name, p.Name)
	}
	if len(prior) >= p.Doses {
		return ErrSeriesComplete.Withf("every dose of %s (%d) has been given", p.Name, p.Doses)
	}
	if due := s.due(last, p); at.Before(due) {
		return ErrAppointmentTooEarly.Withf("dose %d is due from %s; choose a slot on or after that day", len(prior)+1,
			due.In(s.cfg.Location).Format("2006-01-02"))
	}
	return nil
}

// due is the day from which the dose after last may be given: the
// interval counts whole days in the deployment's zone.
func (s *Service) due(last Dose, p *Product) time.Time {
	return s.dayStart(last.GivenAt).AddDate(0, 0, p.IntervalDays)
}

const apptCols = `a.id, a.dose, a.state, a.created_at, a.person_num, ` + slotCols

func scanAppt(sc db.Scanner) (*Appointment, int64, error) {
	var a Appointment
	var at, num, start, end int64
	sl := &a.Slot
	if err := sc.Scan(&a.ID, &a.Dose, &a.State, &at, &num, &sl.ID, &sl.SiteID, &sl.SiteName, &sl.Product.ID, &sl.Product.Name,
		&sl.Product.Maker, &sl.Product.Doses, &sl.Product.IntervalDays, &start, &end, &sl.Capacity, &sl.Booked); err != nil {
		return nil, 0, err
	}
	a.CreatedAt, sl.StartsAt, sl.EndsAt, sl.Remaining = db.Time(at), db.Time(start), db.Time(end), sl.Capacity-sl.Booked
	return &a, num, nil
}

const apptFrom = ` FROM vac_appointments a JOIN vac_slots sl ON sl.id = a.slot_id JOIN vac_sites st ON st.id = sl.site_id
	JOIN vac_products p ON p.id = sl.product_id`

// Appointments are the resident's or a dependent's appointments, newest
// first.
func (s *Service) Appointments(ctx context.Context, by *auth.Principal, personID string) ([]*Appointment, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+apptCols+apptFrom+` WHERE a.person_num = $1 ORDER BY a.created_at DESC LIMIT 50`,
		[]any{who.Num}, func(sc db.Scanner) (*Appointment, error) {
			a, _, err := scanAppt(sc)
			if err == nil {
				a.PersonID, a.MaskedName = who.ID, who.MaskedName
			}
			return a, err
		})
	if err != nil {
		return nil, fmt.Errorf("vaccine: list appointments: %w", err)
	}
	return out, nil
}

// Cancel cancels an open appointment of the resident or of one of their
// dependents and gives the place back. Anyone else's is a 404.
func (s *Service) Cancel(ctx context.Context, by *auth.Principal, id string) (*Appointment, error) {
	if by == nil || by.Kind != auth.Resident {
		return nil, auth.ErrForbidden.Withf("only a resident cancels their appointments")
	}
	a, num, err := scanAppt(s.db.QueryRowContext(ctx, `SELECT `+apptCols+apptFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrAppointmentNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("vaccine: read appointment: %w", err)
	}
	p, err := s.persons.Get(ctx, num)
	if err != nil {
		return nil, err
	}
	who, err := s.persons.ActingFor(ctx, by, p.ID)
	if err != nil {
		return nil, ErrAppointmentNotFound
	}
	a.PersonID, a.MaskedName = who.ID, who.MaskedName
	if a.State != Booked {
		return nil, ErrAppointmentClosed.Withf("the appointment is %s", a.State)
	}
	now := s.clock()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		// The slot's row first, as a booking takes it: a booking of the same dose
		// in the same slot, holding the slot, waits for this appointment's row in
		// the index of open appointments, and a cancel that held that row and
		// then waited for the slot deadlocked with it.
		if err := db.LockRows(ctx, tx, s.db.Engine(), `SELECT id FROM vac_slots WHERE id = $1 FOR UPDATE`, a.Slot.ID); err != nil {
			return fmt.Errorf("vaccine: cancel: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE vac_appointments SET state = $1, closed_at = $2 WHERE id = $3 AND state = $4`,
			Cancelled, now.UnixMilli(), id, Booked)
		if err != nil {
			return fmt.Errorf("vaccine: cancel: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrAppointmentClosed
		}
		if err := slotPlaces.Give(ctx, tx, a.Slot.ID); err != nil {
			return fmt.Errorf("vaccine: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.State = Cancelled
	return a, nil
}

// SendReminders queues an SMS for every open appointment of tomorrow (in
// the deployment's zone) not reminded yet, to the phones that hear about
// the person; each is marked in the transaction that queues its messages.
func (s *Service) SendReminders(ctx context.Context) error {
	if s.deps.SMS == nil {
		return nil
	}
	tomorrow := s.dayStart(s.clock()).AddDate(0, 0, 1)
	type due struct {
		id, site string
		num      int64
		start    time.Time
		dose     int
		region   string
	}
	list, err := db.Collect(ctx, s.db, `SELECT a.id, a.person_num, a.starts_at, a.dose, st.name, st.region_code
		FROM vac_appointments a JOIN vac_slots sl ON sl.id = a.slot_id JOIN vac_sites st ON st.id = sl.site_id
		WHERE a.state = 'booked' AND a.reminded_at IS NULL AND a.starts_at >= $1 AND a.starts_at < $2 LIMIT 1000`,
		[]any{tomorrow.UnixMilli(), tomorrow.AddDate(0, 0, 1).UnixMilli()}, func(sc db.Scanner) (due, error) {
			var d due
			var at int64
			err := sc.Scan(&d.id, &d.num, &at, &d.dose, &d.site, &d.region)
			d.start = db.Time(at)
			return d, err
		})
	if err != nil {
		return fmt.Errorf("vaccine: due reminders: %w", err)
	}
	for _, d := range list {
		p, err := s.persons.Get(ctx, d.num)
		if err != nil {
			return err
		}
		phones, err := s.persons.Phones(ctx, d.num)
		if err != nil {
			return err
		}
		vars := map[string]string{"name": p.Masked().Name, "time": d.start.In(s.cfg.Location).Format("01-02 15:04"),
			"site": d.site, "dose": fmt.Sprint(d.dose)}
		err = s.db.InTx(ctx, func(tx db.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE vac_appointments SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL`,
				s.clock().UnixMilli(), d.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another node reminded it
			}
			for _, ph := range phones {
				if err := s.deps.SMS.SendTx(ctx, tx, sms.Message{To: ph, Purpose: sms.KindVaccinationReminder, Vars: vars,
					Region: d.region, TTL: d.start.Sub(s.clock())}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("vaccine: remind: %w", err)
		}
		s.metrics.reminders.Inc()
	}
	return nil
}
