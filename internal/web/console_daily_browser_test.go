package web_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/school"
)

// residentOf is a demo resident as their phone's session would act.
func (e *env) residentOf(phone string) *auth.Principal {
	e.t.Helper()
	acct, err := e.App.Auth.EnsureAccount(context.Background(), phone)
	if err != nil {
		e.t.Fatal(err)
	}
	return &auth.Principal{Kind: auth.Resident, ID: acct}
}

// cell is the number in an overview's cell (or an organisation page's
// tile) of class n-<name> within sel.
func (u *ui) cell(sel, name string) int {
	u.t.Helper()
	v := strings.TrimSpace(u.text(sel + " .n-" + name))
	n, err := strconv.Atoi(v)
	if err != nil {
		u.t.Fatalf("%s .n-%s is %q, not a number", sel, name, v)
	}
	return n
}

func (u *ui) wantCells(sel string, want map[string]int) {
	u.t.Helper()
	for name, n := range want {
		if got := u.cell(sel, name); got != n {
			u.t.Errorf("%s %s: %d, want %d", sel, name, got, n)
		}
	}
}

// The authority's overviews of daily life on the code, with the demo's
// organisations and what this test adds to their day: each figure is what
// happened, the overview and the organisation's own page agree, and no
// name of a person is shown.
func TestBrowserConsoleDailyOverviews(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()

	// The employer imports two more lines of its roster: they are absent.
	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("employer")
	u.open("/unit/staff")
	u.fill("#roster-csv", "E007,钱多多,销售部\nE008,吴小米,销售部")
	u.submit("#import-form button")

	// 张小宝's father reports a fever at noon.
	parent := e.residentOf("13800000001")
	deps, err := e.App.Persons.Dependents(ctx, parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	reported := false
	for _, d := range deps {
		if d.Name == "张小宝" {
			if _, err := e.App.School.Report(ctx, parent, d.ID, school.CheckInput{Slot: school.Noon, Temperature: 38.2}); err != nil {
				t.Fatal(err)
			}
			reported = true
		}
	}
	if !reported {
		t.Fatal("the demo has no 张小宝")
	}

	// Two residents book the scenic spot's first slot in two days; one
	// more books and cancels.
	spot := e.demoOrg("恩龙")
	inTwo := e.App.Booking.DayStart(time.Now()).AddDate(0, 0, 2)
	loc := inTwo.Location()
	slots, err := e.App.Booking.Slots(ctx, spot.ID, 7)
	if err != nil {
		t.Fatal(err)
	}
	var slot *booking.Slot
	var capacity int64
	nSlots := 0
	for _, sl := range slots {
		if sl.StartsAt.In(loc).Format(time.DateOnly) == inTwo.Format(time.DateOnly) {
			if slot == nil {
				slot = sl
			}
			capacity += sl.Capacity
			nSlots++
		}
	}
	if slot == nil {
		t.Fatalf("the scenic spot has no slot on %s", inTwo.Format(time.DateOnly))
	}
	for i, phone := range []string{"13800000002", "13800000005", "13800000006"} {
		by := e.residentOf(phone)
		b, err := e.App.Booking.Book(ctx, by, "", slot.ID)
		if err != nil {
			t.Fatalf("booking of %s: %v", phone, err)
		}
		if i == 2 {
			if _, err := e.App.Booking.Cancel(ctx, by, "", b.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	// One more ride on the bus; the red resident's scan in the bus counts
	// as a ride or, where the vehicle's policy turns red away, a refusal.
	bus := e.demoOrg("公共交通")
	day, err := e.App.Transport.OrgDay(ctx, bus, time.Now())
	if err != nil || len(day.Vehicles) != 1 {
		t.Fatalf("the demo's bus: %v %+v", err, day)
	}
	rides, refused := int(day.Rides), 0
	for _, phone := range []string{"13800000002", "13800000003"} {
		_, err := e.App.Checkins.CheckIn(ctx, e.residentOf(phone).ID, checkin.Input{VenueToken: day.Vehicles[0].Token})
		switch {
		case err == nil:
			rides++
		case errors.Is(err, checkin.ErrRefusedRed):
			refused++
		default:
			t.Fatalf("ride of %s: %v", phone, err)
		}
	}

	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.wantText(".side", "用人单位", "学校晨午检", "景区预约", "政务大厅", "公交出租")

	// Employers: the demo's gate this morning (张三丰 and 李秀英 admitted,
	// 王建国 red and 陈静 yellow refused) and the two new lines absent.
	emp := e.demoOrg("中溪机械")
	op.open("/console/employers")
	row := "#org-" + emp.ID
	op.wantCells(row, map[string]int{"staff": 8, "present": 2, "refused": 2, "absent": 4, "reason-color_red": 1, "reason-color_yellow": 1, "reason-fever": 0})
	op.wantCells("#employers tfoot", map[string]int{"staff": 8, "present": 2, "refused": 2, "absent": 4})
	op.noNames("#employers", "张三丰", "王建国", "钱多多")
	op.shot("employers")
	op.submit(row + " a")
	if !strings.HasPrefix(op.path(), "/console/orgs/"+emp.ID) {
		t.Fatalf("the employer's line leads to %s", op.path())
	}
	op.wantCells("#org-figures", map[string]int{"staff": 8, "present": 2, "refused": 2, "absent": 4, "reason-color_red": 1})

	// Schools: one pupil, reported in the morning (36.6) and at noon
	// (38.2, a fever).
	sch := e.demoOrg("津河小学")
	op.open("/console/schools")
	row = "#org-" + sch.ID
	op.wantCells(row, map[string]int{"classes": 2, "pupils": 1, "morning": 1, "morning-absent": 0, "noon": 1, "noon-absent": 0, "fever": 1})
	op.noNames("#schools", "张小宝", "张*宝")
	op.open("/console/orgs/" + sch.ID)
	op.wantCells("#org-figures", map[string]int{"pupils": 1, "morning": 1, "noon": 1, "fever": 1})

	// Scenic spots: the booked count is the bookings made, the cancelled
	// one apart; tomorrow's are the demo's (three booked, one cancelled).
	op.open("/console/scenic?date=" + inTwo.Format(time.DateOnly))
	row = "#org-" + spot.ID
	op.wantCells(row, map[string]int{"slots": nSlots, "capacity": int(capacity), "booked": 2, "entered": 0, "cancelled": 1})
	op.open("/console/scenic?date=" + inTwo.AddDate(0, 0, -1).Format(time.DateOnly))
	op.wantCells(row, map[string]int{"booked": 3, "cancelled": 1})
	op.shot("scenic")
	op.open("/console/orgs/" + spot.ID + "?date=" + inTwo.Format(time.DateOnly))
	op.wantCells("#org-figures", map[string]int{"booked": 2, "cancelled": 1, "capacity": int(capacity)})

	// Service halls: the demo's morning, three tickets (陈静's yellow code
	// routed to the window, 张三丰 served and rating 5).
	hall := e.demoOrg("政务服务中心")
	op.open("/console/halls")
	row = "#org-" + hall.ID
	op.wantCells(row, map[string]int{"tickets": 3, "green": 2, "routed": 1, "done": 1, "waiting": 2})
	op.wantText(row+" .n-rating", "5.0 (1)")
	op.noNames("#halls", "张三丰", "陈*")
	op.open("/console/orgs/" + hall.ID)
	op.wantCells("#org-figures", map[string]int{"tickets": 3, "routed": 1, "done": 1})

	// Transport: the bus with its driver, the demo's three riders and ours.
	op.open("/console/transport")
	row = "#org-" + bus.ID
	op.wantCells(row, map[string]int{"vehicles": 1, "drivers": 1, "rides": rides, "ride-refused": refused})
	op.wantCells("#transport-tiles", map[string]int{"companies": 1, "vehicles": 1, "rides": rides})
	op.noNames("#transport", "张三丰", "张*丰")
	op.open("/console/orgs/" + bus.ID)
	op.wantCells("#org-figures", map[string]int{"vehicles": 1, "rides": rides})

	// The same in English.
	op.open("/console/halls?lang=en")
	op.wantText("#halls thead", "Tickets", "Mean rating")
}

func (u *ui) noNames(sel string, names ...string) {
	u.t.Helper()
	text := u.text(sel)
	for _, n := range names {
		if strings.Contains(text, n) {
			u.t.Errorf("%s shows the name %s", sel, n)
		}
	}
}

// An operator of another town sees none of these organisations: the
// overviews list nothing of them, their pages are not found, and the
// service refuses the figures alike.
func TestBrowserConsoleDailyOtherTown(t *testing.T) {
	e := newEnv(t, true)
	e.NewOperator("meilin.stats", "viewer", "341881101") // 梅林镇
	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("meilin.stats", "a long password")
	u.wantText(".side", "用人单位", "公交出租")
	emp, bus := e.demoOrg("中溪机械"), e.demoOrg("公共交通")
	for _, pg := range []struct{ path, table string }{{"/console/employers", "#employers"}, {"/console/transport", "#transport"}} {
		if st := u.open(pg.path); st != 200 {
			t.Fatalf("%s answered %d", pg.path, st)
		}
		if got := u.text(pg.table + " tbody"); strings.Contains(got, "中溪机械") || strings.Contains(got, "公共交通") {
			t.Fatalf("a 梅林镇 operator sees %q", got)
		}
	}
	for _, o := range []*org.Org{emp, bus} {
		if st := u.open("/console/orgs/" + o.ID); st != 404 {
			t.Fatalf("a 梅林镇 operator opened %s: %d", o.Name, st)
		}
	}
	town := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Viewer, Region: "341881101"}
	today, _ := e.App.Employer.ParseDay("")
	if _, err := e.App.Employer.Figures(context.Background(), town, emp.ID, today); !errors.Is(err, org.ErrNotFound) {
		t.Fatalf("the employer's figures for another town: %v", err)
	}
	if _, err := e.App.Transport.Figures(context.Background(), town, bus.ID, today); !errors.Is(err, org.ErrNotFound) {
		t.Fatalf("the bus operator's figures for another town: %v", err)
	}
}
