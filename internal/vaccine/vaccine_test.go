package vaccine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat/nattest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/vaccine"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is a morning in Ningguo (08:00 CST).
var t0 = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)

type fixture struct {
	t       testing.TB
	ctx     context.Context
	d       *db.DB
	svc     *vaccine.Service
	persons *person.Service
	auth    *auth.Service
	outbox  *sms.Outbox
	rec     *nattest.Recorder
	codes   *nattest.Codes
	now     time.Time
	admin   *auth.Principal
	nurse   *auth.Principal
	outside *auth.Principal
	site    *vaccine.Site
	product *vaccine.Product
	seq     int
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), d: d, now: t0}
	clock := func() time.Time { return f.now }
	if f.persons, err = person.New(d, keys, region.Default(), person.Config{Region: "341881"}); err != nil {
		t.Fatal(err)
	}
	f.outbox = sms.NewOutbox(d, keys)
	f.auth = auth.New(d, keys, f.outbox, region.Default(), auth.Config{})
	f.rec = nattest.NewRecorder(clock)
	f.codes = nattest.NewCodes(f.persons.Handles())
	f.codes.Clock = clock
	f.svc = vaccine.New(d, f.persons, region.Default(), vaccine.Deps{Facts: f.rec, Codes: f.codes, Keys: f.codes, SMS: f.outbox},
		vaccine.Config{Region: "341881"}, quiet)
	f.svc.SetClock(clock)
	op := func(id string, role auth.Role, reg string) *auth.Principal {
		return &auth.Principal{Kind: auth.Operator, ID: id, Name: id, Role: role, Region: reg}
	}
	f.admin = op("admin", auth.Admin, "")
	f.nurse = op("nurse", auth.Sampler, "341881")
	f.outside = op("outsider", auth.Sampler, "341802")
	if f.site, err = f.svc.CreateSite(f.ctx, f.admin, vaccine.SiteInput{Name: "西津街道社区卫生服务中心接种点", Address: "宁国市西津街道",
		Lat: 30.63, Lng: 118.98, Region: "341881001"}); err != nil {
		t.Fatal(err)
	}
	if f.product, err = f.svc.CreateProduct(f.ctx, f.admin, vaccine.ProductInput{Name: "克尔来福 CoronaVac", Maker: "科兴",
		Doses: 2, IntervalDays: 21}); err != nil {
		t.Fatal(err)
	}
	return f
}

// resident registers a person with an account of their own and returns
// the principal of the account and the person.
func (f *fixture) resident() (*auth.Principal, *person.Person) {
	f.t.Helper()
	f.seq++
	acct, err := f.auth.EnsureAccount(f.ctx, fmt.Sprintf("1380000%04d", f.seq))
	if err != nil {
		f.t.Fatal(err)
	}
	first17 := fmt.Sprintf("341881199001%02d%03d", 1+f.seq%28, f.seq%1000)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.persons.Register(f.ctx, acct, person.Input{Name: fmt.Sprintf("王五%d", f.seq), IDType: "resident_id",
		IDNumber: first17 + string(c), Region: "341881001"})
	if err != nil {
		f.t.Fatal(err)
	}
	return &auth.Principal{Kind: auth.Resident, ID: acct}, p
}

func (f *fixture) slot(start time.Duration, capacity int, p *vaccine.Product) *vaccine.Slot {
	f.t.Helper()
	sl, err := f.svc.CreateSlot(f.ctx, f.admin, vaccine.SlotInput{SiteID: f.site.ID, ProductID: p.ID,
		StartsAt: f.now.Add(start), EndsAt: f.now.Add(start + time.Hour), Capacity: capacity})
	if err != nil {
		f.t.Fatal(err)
	}
	return sl
}

func wantErr(t testing.TB, err error, status int, code string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// Many residents booking the few places of one slot at once book exactly
// the capacity, on both engines; the rest are told slot_full.
func TestOverbooking(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		const places, people = 5, 40
		sl := f.slot(24*time.Hour, places, f.product)
		who := make([]*auth.Principal, people)
		for i := range who {
			who[i], _ = f.resident()
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		booked, full := 0, 0
		for _, pr := range who {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Book(f.ctx, pr, "", sl.ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					booked++
				case errors.Is(err, vaccine.ErrSlotFull):
					full++
				default:
					t.Errorf("booking: %v", err)
				}
			}()
		}
		wg.Wait()
		var n, b int
		if err := d.QueryRowContext(f.ctx, `SELECT booked FROM vac_slots WHERE id = $1`, sl.ID).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM vac_appointments WHERE slot_id = $1 AND state = 'booked'`, sl.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if booked != places || full != people-places || n != places || b != places {
			t.Fatalf("booked %d, full %d, stored %d, counter %d; want %d places", booked, full, n, b, places)
		}
	})
}

// A resident books, is vaccinated by scanning, and gets a record and a
// certificate that verifies offline; the schedule refuses with the reason.
func TestBookVaccinateCertify(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pr, p := f.resident()
		sl := f.slot(2*time.Hour, 10, f.product)
		a, err := f.svc.Book(f.ctx, pr, "", sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Dose != 1 || a.State != vaccine.Booked || a.Slot.Remaining != 9 {
			t.Fatalf("appointment: %+v", a)
		}
		// One open appointment per person and dose, even in another slot.
		other := f.slot(3*time.Hour, 10, f.product)
		_, err = f.svc.Book(f.ctx, pr, "", other.ID)
		wantErr(t, err, 409, "appointment_exists")
		if f.count("vac_appointments") != 1 {
			t.Fatal("a double booking was stored")
		}

		// Bad registrations write nothing.
		code := f.codes.Issue(p.Num, codeformat.KindDynamic, f.now, 5*time.Minute)
		in := vaccine.DoseInput{Code: code, ProductID: f.product.ID, Lot: "202105A01", Dose: 1, SiteID: f.site.ID}
		for _, c := range []struct {
			name   string
			change func(*vaccine.DoseInput)
			by     *auth.Principal
			status int
			code   string
		}{
			{"impossible lot", func(in *vaccine.DoseInput) { in.Lot = "x" }, f.nurse, 400, "lot_invalid"},
			{"dose 3 of 2", func(in *vaccine.DoseInput) { in.Dose = 3 }, f.nurse, 400, "dose_invalid"},
			{"dose 2 first", func(in *vaccine.DoseInput) { in.Dose = 2 }, f.nurse, 422, "dose_out_of_order"},
			{"unknown person", func(in *vaccine.DoseInput) { in.Code, in.IDNumber = "", "11010519491231002X" }, f.nurse, 404, "person_not_found"},
			{"site out of scope", func(*vaccine.DoseInput) {}, f.outside, 404, "vaccination_site_not_found"},
			{"no permission", func(*vaccine.DoseInput) {}, &auth.Principal{Kind: auth.Operator, ID: "v", Role: auth.Viewer}, 403, "forbidden"},
		} {
			x := in
			c.change(&x)
			_, err := f.svc.Register(f.ctx, c.by, x)
			if err == nil {
				t.Fatalf("%s: registered", c.name)
			}
			wantErr(t, err, c.status, c.code)
		}
		if f.count("vac_doses") != 0 || f.rec.Total() != 0 {
			t.Fatal("a refused dose was written")
		}

		f.now = f.now.Add(2 * time.Hour)
		in.Code = f.codes.Issue(p.Num, codeformat.KindDynamic, f.now, 5*time.Minute)
		reg, err := f.svc.Register(f.ctx, f.nurse, in)
		if err != nil {
			t.Fatal(err)
		}
		if reg.Dose.Dose != 1 || reg.PersonID != p.ID {
			t.Fatalf("registered: %+v", reg)
		}
		facts := f.rec.Facts(p.Num)
		if len(facts) != 1 || facts[0].Kind != "vaccine.dose" || facts[0].Attrs["dose"] != int64(1) {
			t.Fatalf("facts: %+v", facts)
		}
		// The appointment is done.
		as, _ := f.svc.Appointments(f.ctx, pr, "")
		if len(as) != 1 || as[0].State != vaccine.Done {
			t.Fatalf("appointments: %+v", as)
		}

		// Dose 2 too early, with another vaccine: refused with the reason.
		in.Dose = 2
		f.now = f.now.Add(7 * 24 * time.Hour)
		in.Code = f.codes.Issue(p.Num, codeformat.KindDynamic, f.now, 5*time.Minute)
		_, err = f.svc.Register(f.ctx, f.nurse, in)
		wantErr(t, err, 422, "dose_too_early")
		if !strings.Contains(err.Error(), "2021-06-22") {
			t.Fatalf("the reason does not say when: %v", err)
		}
		other2, err := f.svc.CreateProduct(f.ctx, f.admin, vaccine.ProductInput{Name: "BBIBP-CorV", Maker: "国药", Doses: 2, IntervalDays: 21})
		if err != nil {
			t.Fatal(err)
		}
		x := in
		x.ProductID = other2.ID
		_, err = f.svc.Register(f.ctx, f.nurse, x)
		wantErr(t, err, 422, "dose_wrong_vaccine")
		// Booking dose 2 before it is due is refused too.
		early := f.slot(24*time.Hour, 5, f.product)
		_, err = f.svc.Book(f.ctx, pr, "", early.ID)
		wantErr(t, err, 422, "appointment_too_early")

		f.now = f.now.Add(14 * 24 * time.Hour)
		in.Code = f.codes.Issue(p.Num, codeformat.KindDynamic, f.now, 5*time.Minute)
		if _, err := f.svc.Register(f.ctx, f.nurse, in); err != nil {
			t.Fatal(err)
		}
		rec, err := f.svc.RecordFor(f.ctx, pr, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Doses) != 2 || !rec.Complete || rec.NextDue != nil {
			t.Fatalf("record: %+v", rec)
		}
		// A third booking: the series is complete.
		_, err = f.svc.Book(f.ctx, pr, "", f.slot(time.Hour, 5, f.product).ID)
		wantErr(t, err, 409, "series_complete")

		cert, err := f.svc.CertificateFor(f.ctx, pr, "")
		if err != nil {
			t.Fatal(err)
		}
		v := codeformat.NewVerifier(f.codes.TrustList(), codeformat.Options{Kinds: []codeformat.Kind{codeformat.KindCertificate}})
		r := v.Verify(cert.Code, f.now.Add(time.Hour))
		if !r.Valid || r.Claims.Result != codeformat.Vaccinated || r.Claims.Site != "2/2 克尔来福 CoronaVac" ||
			r.Claims.Handle != f.persons.Handles().Handle(p.Num) {
			t.Fatalf("certificate: %+v %v", r.Claims, r.Reasons)
		}
		// Someone else's record is not found.
		stranger, _ := f.resident()
		if _, err := f.svc.RecordFor(f.ctx, stranger, p.ID); err == nil {
			t.Fatal("a stranger read the record")
		}
	})
}

// Bad bookings: a slot in the past, an unknown slot; cancellation gives
// the place back; the reminder is queued the day before.
func TestBookingRefusalsCancelRemind(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pr, _ := f.resident()
		sl := f.slot(26*time.Hour, 1, f.product)
		_, err := f.svc.Book(f.ctx, pr, "", "nope")
		wantErr(t, err, 404, "slot_not_found")
		_, err = f.svc.CreateSlot(f.ctx, f.admin, vaccine.SlotInput{SiteID: f.site.ID, ProductID: f.product.ID,
			StartsAt: f.now.Add(-time.Hour), EndsAt: f.now, Capacity: 3})
		wantErr(t, err, 422, "slot_past")

		a, err := f.svc.Book(f.ctx, pr, "", sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The next morning (the day before), the reminder is queued once.
		f.now = f.now.Add(4 * time.Hour)
		for range 2 {
			if err := f.svc.SendReminders(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		items, err := f.outbox.List(f.ctx, sms.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if it.Purpose == sms.KindVaccinationReminder {
				n++
				if !strings.Contains(it.Body, f.site.Name) {
					t.Fatalf("reminder: %s", it.Body)
				}
			}
		}
		if n != 1 {
			t.Fatalf("%d reminders", n)
		}

		stranger, _ := f.resident()
		_, err = f.svc.Cancel(f.ctx, stranger, a.ID)
		wantErr(t, err, 404, "appointment_not_found")
		if _, err := f.svc.Cancel(f.ctx, pr, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Cancel(f.ctx, pr, a.ID)
		wantErr(t, err, 409, "appointment_closed")
		// The place is free again.
		if _, err := f.svc.Book(f.ctx, stranger, "", sl.ID); err != nil {
			t.Fatal(err)
		}
		// The slot's start passes: no more booking.
		f.now = f.now.Add(23 * time.Hour)
		_, err = f.svc.Book(f.ctx, pr, "", sl.ID)
		wantErr(t, err, 422, "slot_past")
	})
}

// Earlier doses come from CSV with a report per line.
func TestImportDoses(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, p := f.resident()
		csv := "id_type,id_number,vaccine,dose,lot,site,given_at\n" +
			"resident_id," + p.IDNumber + ",克尔来福 CoronaVac,1,202104B02," + f.site.Name + ",2021-05-01 09:00\n" +
			"resident_id," + p.IDNumber + ",克尔来福 CoronaVac,2,202104B02," + f.site.Name + ",2021-05-10 09:00\n" +
			"resident_id,11010519491231002X,克尔来福 CoronaVac,1,202104B02," + f.site.Name + ",2021-05-01\n" +
			"resident_id," + p.IDNumber + ",克尔来福 CoronaVac,9,202104B02," + f.site.Name + ",2021-05-30\n"
		rep, err := f.svc.ImportDoses(f.ctx, f.nurse, []byte(csv))
		if err != nil {
			t.Fatal(err)
		}
		codes := []string{}
		for _, l := range rep.Refused {
			codes = append(codes, fmt.Sprintf("%d:%s", l.Line, l.Code))
		}
		if rep.Lines != 4 || rep.Accepted != 1 || strings.Join(codes, " ") != "3:dose_too_early 4:person_not_found 5:dose_invalid" {
			t.Fatalf("report: %+v %v", rep, codes)
		}
		_, err = f.svc.ImportDoses(f.ctx, f.nurse, []byte("a,b\n"))
		wantErr(t, err, 400, "csv_header")
	})
}

// A dose whose fact could not be recorded (the status engine unreachable)
// is still registered, and the worker records its fact later, once.
func TestDoseFactLeftPendingIsRecordedLater(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, p := f.resident()
		f.rec.Fail = errors.New("status engine unreachable")
		reg, err := f.svc.Register(f.ctx, f.nurse, vaccine.DoseInput{Code: f.codes.Issue(p.Num, codeformat.KindDynamic, f.now, 5*time.Minute),
			ProductID: f.product.ID, Lot: "202105A01", Dose: 1, SiteID: f.site.ID})
		if err != nil {
			t.Fatalf("the dose was refused for the status engine's failure: %v", err)
		}
		if f.count("vac_doses") != 1 || f.rec.Total() != 0 {
			t.Fatalf("doses %d, facts %d; want the dose and no fact yet", f.count("vac_doses"), f.rec.Total())
		}
		f.rec.Fail = nil
		if err := f.svc.RecordPending(f.ctx); err != nil || f.rec.Total() != 0 {
			t.Fatalf("a dose still on its way was taken by the worker: %v, %d facts", err, f.rec.Total())
		}
		f.now = f.now.Add(2 * time.Minute)
		for range 2 {
			if err := f.svc.RecordPending(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		facts := f.rec.Facts(p.Num)
		if len(facts) != 1 || facts[0].Kind != "vaccine.dose" || facts[0].Source != "vaccine:"+reg.Dose.ID || f.rec.Calls != 2 {
			t.Fatalf("facts after the worker: %+v (%d calls; want one fact: the failed call and one by the worker)", facts, f.rec.Calls)
		}
	})
}

// TestRebookBesideCancel books a slot again while the appointment held in
// it is being cancelled, as a resident's second tap would: the booking
// takes the slot's row and then meets the cancelled appointment in the
// index of open appointments, and the cancel must take the slot's row
// before the appointment's, in that order, or PostgreSQL ends one of them
// as a deadlock. On PostgreSQL the test holds the slot's row until both
// wait for it, the booking first, so that it gets the row first.
func TestRebookBesideCancel(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pr, _ := f.resident()
		sl := f.slot(26*time.Hour, 2, f.product)
		a, err := f.svc.Book(f.ctx, pr, "", sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		errs := dbtest.Contend(t, d, `SELECT id FROM vac_slots WHERE id = $1 FOR UPDATE`, []any{sl.ID},
			func() error {
				_, err := f.svc.Book(f.ctx, pr, "", sl.ID)
				return err
			},
			func() error {
				_, err := f.svc.Cancel(f.ctx, pr, a.ID)
				return err
			})
		if err := errs[1]; err != nil {
			t.Fatalf("cancel: %v", err)
		}
		// Booked again after the cancel, or refused before it: either is
		// an answer, a deadlock is not.
		err = errs[0]
		if err != nil && !errors.Is(err, vaccine.ErrAlreadyBooked) {
			t.Fatalf("book again: %v", err)
		}
		var places, open int
		if err := d.QueryRowContext(f.ctx, `SELECT booked, (SELECT COUNT(*) FROM vac_appointments WHERE slot_id = $1 AND state = 'booked')
			FROM vac_slots WHERE id = $1`, sl.ID).Scan(&places, &open); err != nil {
			t.Fatal(err)
		}
		if places != open || open != map[bool]int{true: 1}[err == nil] {
			t.Errorf("%d places taken by %d open appointments (book again: %v)", places, open, err)
		}
	})
}
