package isolation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/isolation"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/status"
)

var (
	admin   = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}
	officer = &auth.Principal{Kind: auth.Operator, ID: "xijin", Role: auth.HealthOfficer, Region: "341881001"}
	other   = &auth.Principal{Kind: auth.Operator, ID: "nanshan", Role: auth.HealthOfficer, Region: "341881002"}
	viewer  = &auth.Principal{Kind: auth.Operator, ID: "viewer", Role: auth.Viewer, Region: "341881"}
	sampler = &auth.Principal{Kind: auth.Operator, ID: "sampler", Role: auth.Sampler, Region: "341881001"}
)

// facts keeps what would be recorded.
type facts struct{ got []status.NewFact }

func (f *facts) Record(_ context.Context, nf ...status.NewFact) (int, error) {
	f.got = append(f.got, nf...)
	return len(nf), nil
}

// codes reads "CODE:N" as person N's health code.
type codes struct{}

func (codes) Resolve(_ context.Context, scanned string) (int64, codeformat.Kind, error) {
	var n int64
	if _, err := fmt.Sscanf(scanned, "CODE:%d", &n); err != nil {
		return 0, 0, errors.New("not a code")
	}
	return n, codeformat.KindDynamic, nil
}

type fixture struct {
	svc     *isolation.Service
	facts   *facts
	ids     []string
	numbers []string
	nums    []int64
	site    *isolation.Site
	room    *isolation.Room
	now     time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{facts: &facts{}, now: time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)} // 10:00 in Ningguo
	for i, name := range []string{"王小明", "李秀英"} {
		first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := persons.Create(ctx, admin, person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881001"})
		if err != nil {
			t.Fatal(err)
		}
		f.ids, f.numbers, f.nums = append(f.ids, p.ID), append(f.numbers, first17+string(c)), append(f.nums, p.Num)
	}
	f.svc = isolation.New(isolation.Deps{DB: d, Persons: persons, Codes: codes{}, Facts: f.facts})
	f.svc.SetClock(func() time.Time { return f.now })
	if f.site, err = f.svc.CreateSite(ctx, officer, isolation.SiteInput{Kind: isolation.Hotel, Name: "西津隔离酒店"}); err != nil {
		t.Fatal(err)
	}
	if f.room, err = f.svc.AddRoom(ctx, officer, f.site.ID, isolation.RoomInput{Number: "101", Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	return f
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Who may admit, and what is refused before anything is written: a role
// without isolation.write, a site outside the operator's region, a person
// already admitted, a full room.
func TestAdmitRefusals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		if _, err := f.svc.Admit(ctx, officer, isolation.AdmitInput{Identity: isolation.Identity{Code: fmt.Sprintf("CODE:%d", f.nums[0])},
			Site: f.site.ID, Room: f.room.ID, Reason: "inbound", Days: 14}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   isolation.AdmitInput
			want error
		}{
			{"viewer", viewer, isolation.AdmitInput{Identity: isolation.Identity{PersonID: f.ids[1]}, Site: f.site.ID, Room: f.room.ID,
				Reason: "inbound", Days: 14}, auth.ErrForbidden},
			{"sampler", sampler, isolation.AdmitInput{Identity: isolation.Identity{PersonID: f.ids[1]}, Site: f.site.ID, Room: f.room.ID,
				Reason: "inbound", Days: 14}, auth.ErrForbidden},
			{"another town's site", other, isolation.AdmitInput{Identity: isolation.Identity{PersonID: f.ids[1]}, Site: f.site.ID, Room: f.room.ID,
				Reason: "inbound", Days: 14}, isolation.ErrSiteNotFound},
			{"already admitted", officer, isolation.AdmitInput{Identity: isolation.Identity{IDNumber: f.numbers[0]}, Site: f.site.ID,
				Reason: "inbound", Days: 14, Room: f.room.ID}, isolation.ErrAlreadyAdmitted},
			{"room full", officer, isolation.AdmitInput{Identity: isolation.Identity{IDNumber: f.numbers[1]}, Site: f.site.ID, Room: f.room.ID,
				Reason: "inbound", Days: 14}, isolation.ErrRoomFull},
			{"too long", officer, isolation.AdmitInput{Identity: isolation.Identity{IDNumber: f.numbers[1]}, Site: f.site.ID, Room: f.room.ID,
				Reason: "inbound", Days: 29}, isolation.ErrDaysInvalid},
			{"admitted tomorrow", officer, isolation.AdmitInput{Identity: isolation.Identity{IDNumber: f.numbers[1]}, Site: f.site.ID,
				Room: f.room.ID, Reason: "inbound", Days: 14, At: f.now.Add(24 * time.Hour)}, isolation.ErrTimeInvalid},
			{"two identities", officer, isolation.AdmitInput{Identity: isolation.Identity{IDNumber: f.numbers[1], PersonID: f.ids[1]},
				Site: f.site.ID, Room: f.room.ID, Reason: "inbound", Days: 14}, isolation.ErrIdentity},
		} {
			t.Run(c.name, func(t *testing.T) {
				stays, audits, recorded := count(t, d, "iso_stays"), count(t, d, "audit_log"), len(f.facts.got)
				_, err := f.svc.Admit(ctx, c.by, c.in)
				if !errors.Is(err, c.want) {
					t.Fatalf("err = %v, want %v", err, c.want)
				}
				if count(t, d, "iso_stays") != stays || count(t, d, "audit_log") != audits || len(f.facts.got) != recorded {
					t.Fatal("a refused admission wrote something")
				}
			})
		}
	})
}

// Admission records isolation until the planned end; release records
// case.released at its time; a discharge before the admission and a second
// release are refused; the room's place is given back once.
func TestAdmitReleaseFacts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		st, err := f.svc.Admit(ctx, officer, isolation.AdmitInput{Identity: isolation.Identity{PersonID: f.ids[0]}, Site: f.site.ID,
			Room: f.room.ID, Reason: "close_contact", Days: 14})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.facts.got) != 1 || f.facts.got[0].Fact.Kind != fact.Isolation || !f.facts.got[0].Fact.Until.Equal(f.now.AddDate(0, 0, 14)) ||
			f.facts.got[0].Fact.Attrs["mode"] != "centralized" || f.facts.got[0].Person != f.nums[0] {
			t.Fatalf("admission facts: %+v", f.facts.got)
		}
		if _, err := f.svc.Discharge(ctx, officer, st.ID, isolation.EndInput{Kind: isolation.ToHome, At: f.now.Add(-time.Hour)}); !errors.Is(err, isolation.ErrBeforeAdmission) {
			t.Fatalf("discharge before admission: %v", err)
		}
		if _, err := f.svc.Release(ctx, other, st.ID, isolation.EndInput{Kind: "isolation_ended"}); !errors.Is(err, isolation.ErrStayNotFound) {
			t.Fatalf("release out of scope: %v", err)
		}
		f.now = f.now.Add(14 * 24 * time.Hour)
		if _, err := f.svc.Release(ctx, officer, st.ID, isolation.EndInput{Kind: "isolation_ended"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Release(ctx, officer, st.ID, isolation.EndInput{Kind: "isolation_ended"}); !errors.Is(err, isolation.ErrNotAdmitted) {
			t.Fatalf("second release: %v", err)
		}
		if len(f.facts.got) != 2 || f.facts.got[1].Fact.Kind != fact.CaseReleased || !f.facts.got[1].Fact.At.Equal(f.now) {
			t.Fatalf("release facts: %+v", f.facts.got)
		}
		site, err := f.svc.Site(ctx, officer, f.site.ID)
		if err != nil || site.Occupied != 0 {
			t.Fatalf("site after release: %+v %v", site, err)
		}
	})
}

// Readings: one per half-day; the half-days since the admission without
// one are listed until taken.
func TestMissingReadings(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		st, err := f.svc.Admit(ctx, officer, isolation.AdmitInput{Identity: isolation.Identity{PersonID: f.ids[0]}, Site: f.site.ID,
			Room: f.room.ID, Reason: "inbound", Days: 14})
		if err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(24 * time.Hour) // 10:00 the next day: yesterday's am and pm are over
		missing := func() []string {
			ms, err := f.svc.MissingReadings(ctx, officer, "")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range ms {
				out = append(out, m.Day+" "+m.Slot)
			}
			return out
		}
		if got := fmt.Sprint(missing()); got != "[2022-04-01 am 2022-04-01 pm]" {
			t.Fatalf("missing %s", got)
		}
		if _, err := f.svc.Record(ctx, officer, st.ID, isolation.ReadingInput{Celsius: 36.5, At: time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Record(ctx, officer, st.ID, isolation.ReadingInput{Celsius: 36.9, At: time.Date(2022, 4, 1, 9, 0, 0, 0, time.UTC)}); !errors.Is(err, isolation.ErrReadingExists) {
			t.Fatalf("a second pm reading: %v", err)
		}
		if got := fmt.Sprint(missing()); got != "[2022-04-01 am]" {
			t.Fatalf("missing after the pm reading %s", got)
		}
		if ms, err := f.svc.MissingReadings(ctx, other, ""); err != nil || len(ms) != 0 {
			t.Fatalf("another town sees %d missing readings (%v)", len(ms), err)
		}
	})
}

// A transfer's steps go in order and in time; the trail lists them.
func TestTransferOrder(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		tr, err := f.svc.Dispatch(ctx, officer, isolation.TransferInput{Identity: isolation.Identity{PersonID: f.ids[1]}, Origin: "家中",
			Dest: f.site.ID, Vehicle: "皖P·120"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			step string
			at   time.Time
			want error
		}{
			{isolation.Arrived, time.Time{}, isolation.ErrTransferStep},
			{isolation.PickedUp, f.now.Add(-time.Minute), isolation.ErrTransferStep},
			{isolation.PickedUp, time.Time{}, nil},
			{isolation.PickedUp, time.Time{}, isolation.ErrTransferStep},
			{isolation.Arrived, time.Time{}, nil},
			{isolation.Arrived, time.Time{}, isolation.ErrTransferStep},
		} {
			if _, err := f.svc.Advance(ctx, officer, tr.ID, c.step, isolation.StepInput{At: c.at}); !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("%s at %v: %v, want %v", c.step, c.at, err, c.want)
			}
		}
		got, err := f.svc.Transfer(ctx, viewer, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Trail) != 3 || got.Trail[0].Step != isolation.Dispatched || got.Trail[2].Step != isolation.Arrived || got.State != isolation.Arrived {
			t.Fatalf("trail %+v", got)
		}
		if count(t, d, "iso_transfer_steps") != 3 {
			t.Fatal("refused steps were stored")
		}
	})
}
