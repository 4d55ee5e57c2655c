package hotline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/hotline"
	"github.com/healthcode/healthcode/internal/idnum"
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
)

type appeals map[int64][]*status.Appeal

func (a appeals) PersonAppeals(_ context.Context, num int64) ([]*status.Appeal, error) {
	return a[num], nil
}

func rid(i int) string {
	first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
	c, _ := idnum.ResidentCheckChar(first17)
	return first17 + string(c)
}

// A ticket goes to the person's region, is overdue past its deadline,
// leads to a correction only by an operator with person.correct, and is
// closed once; refusals change nothing.
func TestTicketLifecycle(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
		persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
		if err != nil {
			t.Fatal(err)
		}
		var ps []*person.Person
		for i, name := range []string{"王小明", "李秀英"} {
			p, err := persons.Create(ctx, admin, person.Input{Name: name, IDType: "resident_id", IDNumber: rid(i), Region: "341881001"})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		ap := appeals{ps[0].Num: {{ID: "a2", Person: ps[0].Num}, {ID: "a1", Person: ps[0].Num}}}
		svc := hotline.New(d, persons, ap, region.Default())
		now := time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)
		svc.SetClock(func() time.Time { return now })

		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   hotline.Input
			want error
		}{
			{"viewer", viewer, hotline.Input{Category: hotline.WrongColor, Summary: "x", PersonID: ps[0].ID}, auth.ErrForbidden},
			{"another town's person", other, hotline.Input{Category: hotline.WrongColor, Summary: "x", IDNumber: rid(0)}, person.ErrNotFound},
			{"no person", officer, hotline.Input{Category: hotline.WrongIdentity, Summary: "x"}, hotline.ErrPersonRequired},
			{"unregistered without region", officer, hotline.Input{Category: hotline.CannotRegister, Summary: "x", IDNumber: rid(7)}, hotline.ErrRegionRequired},
			{"unregistered elsewhere", officer, hotline.Input{Category: hotline.CannotRegister, Summary: "x", Region: "341881002"}, auth.ErrOutOfScope},
			{"category", officer, hotline.Input{Category: "lost_phone", Summary: "x", PersonID: ps[0].ID}, hotline.ErrCategoryInvalid},
		} {
			if _, err := svc.OpenTicket(ctx, c.by, c.in); !errors.Is(err, c.want) {
				t.Fatalf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM hotline_tickets`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refusals stored %d tickets (%v)", n, err)
		}

		tk, err := svc.OpenTicket(ctx, officer, hotline.Input{Category: hotline.WrongIdentity, Summary: "姓名有误", IDNumber: rid(0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.OpenTicket(ctx, officer, hotline.Input{Category: hotline.CannotRegister, Summary: "无法申领", Region: "341881001"}); err != nil {
			t.Fatal(err)
		}
		if ts, _ := svc.Tickets(ctx, other, ""); len(ts) != 0 {
			t.Fatalf("another town sees %d tickets", len(ts))
		}
		now = now.Add(73 * time.Hour)
		if ts, err := svc.Tickets(ctx, officer, hotline.Overdue); err != nil || len(ts) != 2 {
			t.Fatalf("overdue after 73 hours: %d (%v)", len(ts), err)
		}
		if _, err := svc.Correct(ctx, officer, tk.ID, person.Correction{Name: "王晓明"}); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("a correction without person.correct: %v", err)
		}
		if _, err := svc.Correct(ctx, admin, tk.ID, person.Correction{IDNumber: rid(1)}); !errors.Is(err, person.ErrExists) {
			t.Fatalf("a correction to another's number: %v", err)
		}
		got, err := svc.Correct(ctx, admin, tk.ID, person.Correction{Name: "王晓明", IDNumber: rid(2)})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Correction.Fields) != "[name id_number]" || got.Correction.After["name"] != "王*明" {
			t.Fatalf("correction %+v", got.Correction)
		}
		p, err := persons.FindByIDNumber(ctx, "resident_id", rid(2))
		if err != nil || p.Name != "王晓明" || p.ID != ps[0].ID {
			t.Fatalf("the corrected person by the new number: %+v %v", p, err)
		}
		if _, err := persons.FindByIDNumber(ctx, "resident_id", rid(0)); !errors.Is(err, person.ErrNotFound) {
			t.Fatalf("the old number still finds someone: %v", err)
		}
		if l, err := svc.LinkAppeal(ctx, officer, tk.ID, ""); err != nil || l.AppealID != "a2" {
			t.Fatalf("link the newest appeal: %+v %v", l, err)
		}
		if _, err := svc.LinkAppeal(ctx, officer, tk.ID, "a9"); !errors.Is(err, hotline.ErrAppealNotOfPerson) {
			t.Fatalf("link another's appeal: %v", err)
		}
		if _, err := svc.Close(ctx, other, tk.ID, "done"); !errors.Is(err, hotline.ErrNotFound) {
			t.Fatalf("close out of scope: %v", err)
		}
		if _, err := svc.Close(ctx, officer, tk.ID, "已更正"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Close(ctx, officer, tk.ID, "again"); !errors.Is(err, hotline.ErrClosed) {
			t.Fatalf("second close: %v", err)
		}
	})
}
