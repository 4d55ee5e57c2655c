package booking_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
)

var admin = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}

type orgs = orgtest.Orgs

// persons: a resident principal's ID is the index of their person.
type persons []person.Profile

func (p persons) ActingFor(_ context.Context, by *auth.Principal, personID string) (person.Profile, error) {
	var i int
	if by == nil || by.Kind != auth.Resident || personID != "" {
		return person.Profile{}, auth.ErrForbidden
	}
	fmt.Sscan(by.ID, &i)
	return p[i], nil
}

// scanner reads "code:N:COLOR" as person N's code of that colour; "forged"
// and "expired" are the gateway's refusals. References are "ref:N:ORG".
type scanner struct{ orgs orgs }

func (s scanner) Scan(_ context.Context, p *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error) {
	switch in.Code {
	case "forged":
		return nil, gateway.ErrCodeForged
	case "expired":
		return nil, gateway.ErrCodeExpired
	}
	parts := strings.Split(in.Code, ":")
	if len(parts) != 3 {
		return nil, gateway.ErrCodeUnreadable
	}
	c, _ := rules.ParseColor(parts[2])
	return &gateway.Scan{Subject: "ref:" + parts[1] + ":" + p.Org, Color: c, MaskedName: "*" + parts[1], Admitted: c == rules.Green}, nil
}

func (scanner) Resolve(o *org.Org, ref string) (gateway.Subject, error) {
	parts := strings.Split(ref, ":")
	if len(parts) != 3 || parts[2] != o.ID {
		return gateway.Subject{}, gateway.ErrSubjectForeign
	}
	var n int64
	fmt.Sscan(parts[1], &n)
	return gateway.Subject{Person: n, Ref: ref}, nil
}

type fixture struct {
	t       testing.TB
	ctx     context.Context
	d       *db.DB
	svc     *booking.Service
	persons persons
	now     time.Time
	reg     *prometheus.Registry
}

// t0 is 08:00 in Ningguo.
var t0 = time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, d *db.DB, people int) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), d: d, now: t0, reg: prometheus.NewRegistry()}
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	ps, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	ins := make([]person.Input, people)
	for i := range ins {
		first17 := fmt.Sprintf("3418811990%02d%02d%03d", 1+i/28%12, 1+i%28, i%1000)
		c, _ := idnum.ResidentCheckChar(first17)
		ins[i] = person.Input{Name: fmt.Sprintf("游客%d", i), IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881001"}
	}
	list, err := ps.Import(f.ctx, admin, ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		f.persons = append(f.persons, person.Profile{Num: p.Num, ID: p.ID, MaskedName: idnum.MaskName(p.Name), Region: p.Region})
	}
	os := orgs{}
	for i, o := range []*org.Org{
		{ID: "spot", Num: 1, Kind: org.ScenicSpot, Name: "恩龙世界木屋村", Region: "341881001"},
		{ID: "spot2", Num: 2, Kind: org.ScenicSpot, Name: "夏霖风景区", Region: "341881002"},
		{ID: "hall", Num: 3, Kind: org.ServiceHall, Name: "宁国市政务服务中心", Region: "341881001"},
		{ID: "pharmacy", Num: 4, Kind: org.Pharmacy, Name: "国胜大药房", Region: "341881001"},
	} {
		if _, err := d.ExecContext(f.ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		os[o.ID] = o
	}
	f.svc = booking.New(d, os, f.persons, scanner{os}, booking.Config{Metrics: f.reg})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

func unit(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.Unit, ID: "u-" + orgID, Org: orgID}
}

func resident(i int) *auth.Principal { return &auth.Principal{Kind: auth.Resident, ID: fmt.Sprint(i)} }

func (f *fixture) code(i int, c string) string { return fmt.Sprintf("code:%d:%s", f.persons[i].Num, c) }

func (f *fixture) slot(orgID string, start time.Duration, capacity int64) *booking.Slot {
	f.t.Helper()
	sl, err := f.svc.CreateSlot(f.ctx, unit(orgID), booking.SlotInput{StartsAt: f.now.Add(start), EndsAt: f.now.Add(start + 2*time.Hour), Capacity: capacity})
	if err != nil {
		f.t.Fatal(err)
	}
	return sl
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// wantCounts fails unless each outcome of the family counted as given.
func (f *fixture) wantCounts(t *testing.T, family string, want map[string]float64) {
	t.Helper()
	for outcome, n := range want {
		if got := metricstest.Value(t, f.reg, family, "outcome", outcome); got != n {
			t.Errorf("%s{outcome=%q} = %v, want %v", family, outcome, got, n)
		}
	}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// A thousand residents booking a slot of a hundred places at once book
// exactly a hundred, on both engines; the others are told slot_full.
func TestThousandBookAHundredPlaces(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		const places, people = 100, 1000
		f := newFixture(t, d, people)
		sl := f.slot("spot", 2*time.Hour, places)
		var wg sync.WaitGroup
		var mu sync.Mutex
		booked, full := 0, 0
		for i := range people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Book(f.ctx, resident(i), "", sl.ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					booked++
				case errors.Is(err, booking.ErrSlotFull):
					full++
				default:
					t.Errorf("booking: %v", err)
				}
			}()
		}
		wg.Wait()
		stored := f.count(`SELECT COUNT(*) FROM bk_bookings WHERE slot_id = $1 AND state = 'booked'`, sl.ID)
		counter := f.count(`SELECT booked FROM bk_slots WHERE id = $1`, sl.ID)
		if booked != places || full != people-places || stored != places || counter != places {
			t.Fatalf("booked %d, full %d, stored %d, counter %d; want %d places", booked, full, stored, counter, places)
		}
		f.wantCounts(t, "healthcode_booking_bookings_total", map[string]float64{"booked": places, "slot_full": people - places})
	})
}

// A resident books, cancels (the place is free again), books again; a
// second booking in the slot, a past slot and a bad slot are refused and
// change nothing.
func TestBookCancel(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 3)
		sl := f.slot("spot", time.Hour, 1)
		b, err := f.svc.Book(f.ctx, resident(0), "", sl.ID)
		if err != nil || b.State != booking.Booked || b.Slot.Remaining != 0 || b.Org.ID != "spot" {
			t.Fatalf("book: %+v, %v", b, err)
		}
		_, err = f.svc.Book(f.ctx, resident(0), "", sl.ID)
		wantErr(t, err, booking.ErrSlotFull)
		_, err = f.svc.Book(f.ctx, resident(1), "", sl.ID)
		wantErr(t, err, booking.ErrSlotFull)
		_, err = f.svc.Cancel(f.ctx, resident(1), "", b.ID)
		wantErr(t, err, booking.ErrBookingMissing) // another's booking
		if _, err := f.svc.Cancel(f.ctx, resident(0), "", b.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Cancel(f.ctx, resident(0), "", b.ID)
		wantErr(t, err, booking.ErrBookingClosed)
		if _, err := f.svc.Book(f.ctx, resident(1), "", sl.ID); err != nil {
			t.Fatal(err)
		}
		big := f.slot("spot", time.Hour, 5)
		if _, err := f.svc.Book(f.ctx, resident(2), "", big.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Book(f.ctx, resident(2), "", big.ID)
		wantErr(t, err, booking.ErrAlreadyBooked)
		if n := f.count(`SELECT booked FROM bk_slots WHERE id = $1`, big.ID); n != 1 {
			t.Fatalf("a refused second booking kept its place: booked %d", n)
		}
		_, err = f.svc.Book(f.ctx, resident(2), "", "nope")
		wantErr(t, err, booking.ErrSlotNotFound)
		_, err = f.svc.Book(f.ctx, resident(2), "", "")
		wantErr(t, err, booking.ErrSlotIDMissing)
		f.now = f.now.Add(4 * time.Hour)
		_, err = f.svc.Book(f.ctx, resident(0), "", big.ID)
		wantErr(t, err, booking.ErrSlotPast)
		if n := f.count(`SELECT COUNT(*) FROM bk_bookings`); n != 3 {
			t.Fatalf("%d bookings stored, want 3", n)
		}
		list, err := f.svc.Bookings(f.ctx, resident(0), "")
		if err != nil || len(list) != 1 || list[0].State != booking.Cancelled {
			t.Fatalf("bookings: %+v, %v", list, err)
		}
		// Bad input (no slot, a slot that is not one) is no booking refused.
		f.wantCounts(t, "healthcode_booking_bookings_total", map[string]float64{"booked": 3, "slot_full": 2, "already_booked": 1, "slot_past": 1})
		if got := metricstest.Value(t, f.reg, "healthcode_booking_cancellations_total"); got != 1 {
			t.Errorf("%v cancellations counted, want 1", got)
		}

		// The authority's figures of the day: the booked count is the
		// bookings made, the cancelled one apart.
		day := f.svc.DayStart(sl.StartsAt)
		ov, err := f.svc.Overview(f.ctx, admin, org.ScenicSpot, day)
		if err != nil || len(ov.Places) != 2 || ov.Total.Booked != 2 || ov.Total.Cancelled != 1 {
			t.Fatalf("overview: %+v %v", ov, err)
		}
		if x := ov.Places[0]; x.Org.ID != "spot" || x.Slots != 2 || x.Capacity != 6 || x.Booked != 2 || x.Cancelled != 1 || x.Entered != 0 {
			t.Fatalf("the spot's figures: %+v", x)
		}
		town := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Viewer, Region: "341881002"}
		if ov, err := f.svc.Overview(f.ctx, town, org.ScenicSpot, day); err != nil || len(ov.Places) != 1 || ov.Places[0].Org.ID != "spot2" {
			t.Fatalf("the town's overview: %+v %v", ov, err)
		}
		_, err = f.svc.Figures(f.ctx, town, "spot", day)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.Figures(f.ctx, admin, "pharmacy", day)
		wantErr(t, err, booking.ErrNotBookable)
		_, err = f.svc.Overview(f.ctx, admin, org.Pharmacy, day)
		wantErr(t, err, booking.ErrNotBookable)
		_, err = f.svc.Overview(f.ctx, resident(0), org.ScenicSpot, day)
		wantErr(t, err, auth.ErrForbidden)
	})
}

// Slots are opened by a scenic spot's or hall's own accounts only, within
// bounds.
func TestCreateSlot(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 0)
		for _, c := range []struct {
			name  string
			by    *auth.Principal
			start time.Duration
			len   time.Duration
			cap   int64
			want  error
		}{
			{"a pharmacy", unit("pharmacy"), time.Hour, time.Hour, 10, org.ErrScopeMissing},
			{"an operator", admin, time.Hour, time.Hour, 10, org.ErrOrgOnly},
			{"no places", unit("spot"), time.Hour, time.Hour, 0, booking.ErrSlotInvalid},
			{"too many places", unit("spot"), time.Hour, time.Hour, booking.MaxCapacity + 1, booking.ErrSlotInvalid},
			{"ends before it starts", unit("spot"), time.Hour, -time.Minute, 10, booking.ErrSlotInvalid},
			{"over", unit("spot"), -3 * time.Hour, time.Hour, 10, booking.ErrSlotInvalid},
			{"longer than a day", unit("spot"), time.Hour, 25 * time.Hour, 10, booking.ErrSlotInvalid},
			{"a spot", unit("spot"), time.Hour, time.Hour, 10, nil},
			{"a hall", unit("hall"), time.Hour, time.Hour, 10, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := f.count(`SELECT COUNT(*) FROM bk_slots`)
				_, err := f.svc.CreateSlot(f.ctx, c.by, booking.SlotInput{StartsAt: f.now.Add(c.start), EndsAt: f.now.Add(c.start + c.len), Capacity: c.cap})
				if c.want != nil {
					wantErr(t, err, c.want)
					if n := f.count(`SELECT COUNT(*) FROM bk_slots`); n != before {
						t.Fatal("a refused slot was stored")
					}
				} else if err != nil {
					t.Fatal(err)
				}
			})
		}
		slots, err := f.svc.Slots(f.ctx, "spot", 1)
		if err != nil || len(slots) != 1 {
			t.Fatalf("slots: %v, %v", slots, err)
		}
		_, err = f.svc.Slots(f.ctx, "pharmacy", 1)
		wantErr(t, err, booking.ErrPlaceNotFound)
	})
}

// At the gate a green code with a booking for now enters once; every other
// case is refused with its reason and changes nothing.
func TestEnter(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 5)
		now := f.slot("spot", 10*time.Minute, 10)    // 08:10-10:10
		later := f.slot("spot", 4*time.Hour, 10)     // 12:00-14:00
		other := f.slot("spot2", 10*time.Minute, 10) // another spot
		for i, sl := range []*booking.Slot{now, now, later, other, now} {
			if _, err := f.svc.Book(f.ctx, resident(i), "", sl.ID); err != nil {
				t.Fatal(err)
			}
		}
		gate := &auth.Principal{Kind: auth.APIKey, ID: "gate", Org: "spot", Scopes: []string{org.ScopeScan, org.ScopeEntry}}
		for _, c := range []struct {
			name string
			by   *auth.Principal
			code string
			want error
		}{
			{"forged", gate, "forged", gateway.ErrCodeForged},
			{"expired", gate, "expired", gateway.ErrCodeExpired},
			{"red with a booking", gate, f.code(1, "red"), booking.ErrEntryRed},
			{"yellow with a booking", gate, f.code(1, "yellow"), booking.ErrEntryYellow},
			{"booked for later", gate, f.code(2, "green"), booking.ErrEntryWrongSlot},
			{"booked elsewhere", gate, f.code(3, "green"), booking.ErrEntryNoBooking},
			{"a hall's account", unit("hall"), f.code(0, "green"), org.ErrScopeMissing},
			{"a pharmacy", unit("pharmacy"), f.code(0, "green"), org.ErrScopeMissing},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Enter(f.ctx, c.by, c.code)
				wantErr(t, err, c.want)
				if n := f.count(`SELECT COUNT(*) FROM bk_bookings WHERE state = 'entered'`); n != 0 {
					t.Fatal("a refused entry was stored")
				}
			})
		}
		e, err := f.svc.Enter(f.ctx, gate, f.code(0, "green"))
		if err != nil || e.Slot.ID != now.ID {
			t.Fatalf("enter: %+v, %v", e, err)
		}
		_, err = f.svc.Enter(f.ctx, gate, f.code(0, "green"))
		wantErr(t, err, booking.ErrEntryUsed)
		var ae *apierr.Error
		if _, err := f.svc.Enter(f.ctx, gate, f.code(2, "green")); !errors.As(err, &ae) || !strings.Contains(ae.Message, "12:00-14:00") {
			t.Fatalf("the wrong slot's message does not name the booked one: %v", err)
		}
		f.now = f.now.Add(3*time.Hour + 35*time.Minute) // 11:35, within the early half hour
		if _, err := f.svc.Enter(f.ctx, gate, f.code(2, "green")); err != nil {
			t.Fatal(err)
		}
		// Forged and expired codes are the gateway's to count, and the wrong
		// accounts never reached a booking.
		f.wantCounts(t, "healthcode_booking_entries_total", map[string]float64{"entered": 2, "red": 1, "yellow": 1,
			"wrong_slot": 2, "no_booking": 1, "used": 1})
		_, err = f.svc.Cancel(f.ctx, resident(2), "", "x")
		wantErr(t, err, booking.ErrBookingMissing)

		a, err := f.svc.Attendance(f.ctx, unit("spot"), "", f.svc.DayStart(f.now))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Slots) != 2 || a.Capacity != 20 || a.Booked != 4 || a.Entered != 2 || a.Cancelled != 0 {
			t.Fatalf("attendance: %+v", a)
		}
		_, err = f.svc.Attendance(f.ctx, unit("spot2"), "spot", f.svc.DayStart(f.now))
		wantErr(t, err, org.ErrNotFound)
		town := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.HealthOfficer, Region: "341881002"}
		_, err = f.svc.Attendance(f.ctx, town, "spot", f.svc.DayStart(f.now))
		wantErr(t, err, org.ErrNotFound)
	})
}

// BenchmarkScenicBooking books one place per iteration, in parallel, in
// slots large enough never to fill: the booking's throughput.
func BenchmarkScenicBooking(b *testing.B) {
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.New(b, e)
			const people = 2000
			f := newFixture(b, d, people)
			sl := f.slot("spot", time.Hour, booking.MaxCapacity)
			var next sync.Mutex
			i := 0
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					next.Lock()
					who := i
					i++
					if i%people == 0 {
						// every person once per slot: a new slot for the next round
						sl = f.slot("spot", time.Hour, booking.MaxCapacity)
					}
					slot := sl.ID
					next.Unlock()
					if _, err := f.svc.Book(f.ctx, resident(who%people), "", slot); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestRebookBesideCancel books a slot again while the booking held in it
// is being cancelled, as a resident's second tap would: the booking takes
// the slot's row and then meets the cancelled booking in the slot's index
// of open bookings, and the cancel must take the slot's row before the
// booking's, in that order, or PostgreSQL ends one of them as a deadlock.
// On PostgreSQL the test holds the slot's row until both wait for it, the
// booking first, so that it gets the row first.
func TestRebookBesideCancel(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 1)
		sl := f.slot("spot", time.Hour, 2)
		b, err := f.svc.Book(f.ctx, resident(0), "", sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		errs := dbtest.Contend(t, d, `SELECT id FROM bk_slots WHERE id = $1 FOR UPDATE`, []any{sl.ID},
			func() error {
				_, err := f.svc.Book(f.ctx, resident(0), "", sl.ID)
				return err
			},
			func() error {
				_, err := f.svc.Cancel(f.ctx, resident(0), "", b.ID)
				return err
			})
		if err := errs[1]; err != nil {
			t.Fatalf("cancel: %v", err)
		}
		// Booked again after the cancel, or refused before it: either is
		// an answer, a deadlock is not.
		err = errs[0]
		if err != nil && !errors.Is(err, booking.ErrAlreadyBooked) {
			t.Fatalf("book again: %v", err)
		}
		open := f.count(`SELECT COUNT(*) FROM bk_bookings WHERE slot_id = $1 AND state <> 'cancelled'`, sl.ID)
		if places := f.count(`SELECT booked FROM bk_slots WHERE id = $1`, sl.ID); places != open || open != map[bool]int{true: 1}[err == nil] {
			t.Errorf("%d places taken by %d open bookings (book again: %v)", places, open, err)
		}
	})
}
