package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/venue"
)

// demoVenue is the token of a demo venue.
func demoVenue(t *testing.T, e *env, name string) *venue.Venue {
	t.Helper()
	admin := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}
	vs, err := e.App.Venues.List(context.Background(), admin, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no demo venue %s", name)
	return nil
}

// A phone's camera opens the venue's QR: a stranger logs in and comes
// back; one tap checks in the resident and a parent; the result shows the
// venue, the time and the colour; the venue's page counts, never names.
func TestBrowserCheckinPage(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	v := demoVenue(t, e, "西津农贸市场")

	// The poster's QR is the page's URL.
	op := newUI(t, e, desktopW, desktopH)
	op.open("/venues/" + v.Token + "/poster")
	url := decodeQR(t, op.elementShot(".poster-qr"))

	u := newUI(t, e, phoneW, phoneH)
	u.do(chromedp.Navigate(url))
	u.wantText("#venue-name", "西津农贸市场")
	u.submit("#login-to-checkin")
	u.fill("#phone", "13800000001")
	u.submit("form[action='/login/otp'] button")
	u.fill("#otp", e.OTP("13800000001"))
	u.submit("form[action='/login'] button")
	if p := u.path(); p != "/c/"+v.Token {
		t.Fatalf("after logging in the resident is on %s, want the check-in page", p)
	}
	u.wantText("#checkin-form", "张*丰", "张*汉", "张*宝")
	u.shot("checkin")
	u.do(chromedp.Click(chromedp.CSS("#checkin-form input[name=dependent]")))
	if st := u.submit("#checkin-button"); st != 201 {
		t.Fatalf("check-in answered %d", st)
	}
	u.wantText("#checkin-ok", "登记成功")
	u.wantText("#checkin-venue", "西津农贸市场")
	u.wantText("#checkin-color", "绿码")
	u.wantText("#checkin-dependents", "张*汉")
	if got := u.text("#checkin-time"); !strings.HasPrefix(got, time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")) {
		t.Fatalf("the check-in time reads %q", got)
	}
	c1 := u.text("#clock")
	time.Sleep(1100 * time.Millisecond)
	if u.text("#clock") == c1 {
		t.Fatal("the result's clock stands still")
	}
	u.shot("done")

	// The venue's page: two check-ins this hour, no names.
	op.operatorLogin("admin", adminPassword)
	op.open("/console/venues/" + v.ID)
	op.wantText("#venue-total", "2")
	if got := op.text("main"); strings.Contains(got, "张") {
		t.Fatalf("the venue page names people: %q", got)
	}
	op.shot("venue-counts")
}

// A tracing run from a case: the companion who was at the same venue is
// found, the run shows progress and a report, and the companion turns
// yellow; the grid task appears.
func TestBrowserTracingRun(t *testing.T) {
	browserTest(t)
	e := newEnvHistory(t)
	v := demoVenue(t, e, "西津农贸市场")
	ctx := context.Background()
	for _, phone := range []string{"13800000001", "13800000002"} {
		acct, err := e.App.Auth.EnsureAccount(ctx, phone)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Checkins.CheckIn(ctx, acct, checkinInput(v.Token)); err != nil {
			t.Fatal(err)
		}
	}
	caseP, err := e.App.Persons.FindByIDNumber(ctx, "resident_id", rid("19850312", 31))
	if err != nil {
		t.Fatal(err)
	}
	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.open("/console/tracing")
	// The case is found by a search, not an id pasted from elsewhere.
	op.fill("#ts-id_number", rid("19850312", 31))
	op.submit("#tracing-search button")
	op.wantText("#tracing-found", "张三丰")
	if !eval[bool](op, `document.getElementById("case-`+caseP.ID+`").checked`) {
		t.Fatal("the person found is not ticked as a case")
	}
	op.wantText("#tracing-runs", "市疾控中心", "已完成") // the demo's run of its two cases
	op.submit("#tracing-cases button")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(op.text("#run-status"), "已完成") {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not finish: %s", op.text("#run-status"))
		}
		time.Sleep(500 * time.Millisecond)
		op.open(op.path())
	}
	op.wantText("#report", "李*英", "西津农贸市场")
	op.shot("run")
	if c := colourOf(t, e, rid("19900721", 42)); c.String() != "yellow" {
		t.Fatalf("the companion is %v after the run", c)
	}
	op.open("/console/tasks")
	op.wantText("#grid-tasks", "李*英")
}

func checkinInput(token string) checkin.Input { return checkin.Input{VenueToken: token} }
