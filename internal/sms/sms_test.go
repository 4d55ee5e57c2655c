package sms_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
)

// fake is a gateway that records what it is handed and fails while down.
type fake struct {
	mu     sync.Mutex
	got    []sms.Outgoing
	down   error
	during func(sms.Outgoing) // runs inside Submit, as a gateway's early report would
}

func (f *fake) Name() string { return "fake" }

func (f *fake) Submit(_ context.Context, m sms.Outgoing) (sms.Receipt, error) {
	f.mu.Lock()
	f.got = append(f.got, m)
	down, during := f.down, f.during
	f.mu.Unlock()
	if during != nil {
		during(m)
	}
	return sms.Receipt{}, down
}

func (f *fake) handed() []sms.Outgoing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sms.Outgoing(nil), f.got...)
}

type fixture struct {
	t   *testing.T
	box *sms.Outbox
	now time.Time
}

func keyring(t *testing.T) *secret.Keyring {
	keys, err := secret.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newFixture(t *testing.T, d *db.DB, cfg sms.Config) *fixture {
	f := &fixture{t: t, now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	if cfg.ReportURL == "" {
		cfg.ReportURL = "https://hc.example/api/v1/sms/dlr"
	}
	cfg.ReportSecret = []byte("a report secret")
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.box = sms.New(d, keyring(t), cfg)
	f.box.SetClock(func() time.Time { return f.now })
	return f
}

func (f *fixture) send(to string, m sms.Message) {
	f.t.Helper()
	m.To = to
	if m.Purpose == "" {
		m.Purpose = sms.KindLoginCode
		m.Vars = map[string]string{"code": "123456", "minutes": "5"}
	}
	if err := f.box.Send(context.Background(), m); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) deliver() {
	f.t.Helper()
	if err := f.box.Deliver(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// only returns the one message to phone.
func (f *fixture) only(phone string) sms.Item {
	f.t.Helper()
	items, err := f.box.List(context.Background(), sms.Filter{To: phone})
	if err != nil || len(items) != 1 {
		f.t.Fatalf("messages to %s: %v %+v", phone, err, items)
	}
	return items[0]
}

func TestMessagesAreWrittenFromTheTemplates(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, sms.Config{})
		code := map[string]string{"code": "204863", "minutes": "5"}
		f.send("13800000001", sms.Message{Purpose: sms.KindLoginCode, Vars: code})
		f.send("13800000002", sms.Message{Purpose: sms.KindLoginCode, Lang: "en", Vars: code})
		f.send("13800000003", sms.Message{Purpose: sms.KindColourChange, Vars: map[string]string{"name": "张*丰", "old": "red", "new": "green"}})
		f.send("13800000004", sms.Message{Purpose: sms.KindColourChange, Lang: "en", Vars: map[string]string{"name": "张*丰", "old": "green", "new": "yellow",
			"reason": "您与确诊病例有时空交集。", "advice": "请三天两检。"}})
		f.send("13800000005", sms.Message{Purpose: "notice", Body: "a text of its own"})
		for phone, want := range map[string]string{
			"13800000001": "【健康码】您的验证码是204863，5分钟内有效，请勿告诉他人。",
			"13800000002": "[Health Code] Your login code is 204863, valid for 5 minutes. Do not share it.",
			"13800000003": "【健康码】张*丰的健康码已由红码转为绿码。原因：原有风险信息已解除或到期。",
			"13800000004": "[Health Code] The health code of 张*丰 changed from green to yellow. Reason: 您与确诊病例有时空交集。 Advice: 请三天两检。",
			"13800000005": "a text of its own",
		} {
			if got := f.only(phone); got.Body != want || got.State != sms.StateQueued || got.Attempts != 0 {
				t.Errorf("%s: %q %s %d, want %q queued", phone, got.Body, got.State, got.Attempts, want)
			}
		}
		err := f.box.Send(context.Background(), sms.Message{To: "13800000006", Purpose: "unheard-of"})
		if !errors.Is(err, sms.ErrTemplateUnknown) {
			t.Fatalf("a kind without a template: %v", err)
		}
		if items, _ := f.box.List(context.Background(), sms.Filter{To: "13800000006"}); len(items) != 0 {
			t.Fatal("a message without a text was stored")
		}
	})
}

func TestTheWorkerHandsMessagesToTheProvider(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		gw := &fake{}
		f := newFixture(t, d, sms.Config{Provider: gw})
		f.send("13800000011", sms.Message{})
		f.deliver()
		got := gw.handed()
		if len(got) != 1 || got[0].To != "13800000011" || !strings.Contains(got[0].Body, "123456") {
			t.Fatalf("handed %+v", got)
		}
		it := f.only("13800000011")
		if it.State != sms.StateSent || it.Attempts != 1 || it.SentAt.IsZero() || it.Provider != "fake" {
			t.Fatalf("after the hand-over: %+v", it)
		}
		// The report URL names the message and carries its token.
		u, err := url.Parse(got[0].ReportURL)
		if err != nil || u.Host != "hc.example" || u.Query().Get("id") == "" || len(u.Query().Get("t")) != 32 {
			t.Fatalf("report URL %q", got[0].ReportURL)
		}
		f.deliver()
		if n := len(gw.handed()); n != 1 {
			t.Fatalf("a sent message was handed over again (%d)", n)
		}

		// The outbox provider keeps the message: delivered where it is read.
		hold := newFixture(t, d, sms.Config{})
		hold.send("13800000012", sms.Message{})
		hold.deliver()
		if it := hold.only("13800000012"); it.State != sms.StateDelivered || it.DoneAt.IsZero() || it.Provider != "outbox" {
			t.Fatalf("held: %+v", it)
		}
	})
}

func TestAGatewayThatIsDownLosesNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		gw := &fake{down: errors.New("connection refused")}
		f := newFixture(t, d, sms.Config{Provider: gw, RetryMin: 10 * time.Second, RetryMax: time.Minute})
		f.send("13800000021", sms.Message{})
		f.deliver()
		it := f.only("13800000021")
		if it.State != sms.StateQueued || it.Attempts != 1 || it.LastError != "connection refused" {
			t.Fatalf("after a failed attempt: %+v", it)
		}
		// Not again before the backoff, then again; each wait doubles.
		f.deliver()
		f.now = f.now.Add(9 * time.Second)
		f.deliver()
		if n := len(gw.handed()); n != 1 {
			t.Fatalf("retried before the backoff: %d attempts", n)
		}
		f.now = f.now.Add(time.Second)
		f.deliver()
		f.now = f.now.Add(19 * time.Second)
		f.deliver()
		if n := len(gw.handed()); n != 2 {
			t.Fatalf("%d attempts after 29 s, want 2", n)
		}
		gw.mu.Lock()
		gw.down = nil
		gw.mu.Unlock()
		f.now = f.now.Add(time.Second)
		f.deliver()
		if it := f.only("13800000021"); it.State != sms.StateSent || it.Attempts != 3 || it.LastError != "" {
			t.Fatalf("once the gateway is back: %+v", it)
		}

		// A message the gateway cannot take before it expires fails, with the reason.
		gw.mu.Lock()
		gw.down = errors.New("503 Service Unavailable")
		gw.mu.Unlock()
		f.send("13800000022", sms.Message{TTL: 30 * time.Second})
		for range 5 {
			f.deliver()
			f.now = f.now.Add(10 * time.Second)
		}
		it = f.only("13800000022")
		if it.State != sms.StateFailed || it.Attempts != 2 || it.LastError != "503 Service Unavailable" || it.DoneAt.IsZero() {
			t.Fatalf("expired: %+v", it)
		}
	})
}

func TestRatesHoldMessagesBackWithoutDroppingThem(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		gw := &fake{}
		f := newFixture(t, d, sms.Config{Provider: gw, Rate: sms.Rate{N: 3, Per: time.Minute}, PhoneRate: sms.NoLimit})
		for _, p := range []string{"13800000031", "13800000032", "13800000033", "13800000034", "13800000035"} {
			f.send(p, sms.Message{})
		}
		f.deliver()
		if n := len(gw.handed()); n != 3 {
			t.Fatalf("%d handed at once, want the burst of 3", n)
		}
		f.now = f.now.Add(20 * time.Second) // one more every 20 s
		f.deliver()
		if n := len(gw.handed()); n != 4 {
			t.Fatalf("%d handed after 20 s, want 4", n)
		}
		f.now = f.now.Add(20 * time.Second)
		f.deliver()
		if n := len(gw.handed()); n != 5 {
			t.Fatalf("%d handed after 40 s, want 5", n)
		}

		// One phone: two in ten minutes, the third waits its turn.
		one := &fake{}
		g := newFixture(t, d, sms.Config{Provider: one, PhoneRate: sms.Rate{N: 2, Per: 10 * time.Minute}})
		g.now = f.now.Add(time.Hour) // the global rate's burst is back
		for range 3 {
			g.send("13800000036", sms.Message{})
		}
		g.deliver()
		if n := len(one.handed()); n != 2 {
			t.Fatalf("%d to one phone, want 2", n)
		}
		items, _ := g.box.List(context.Background(), sms.Filter{To: "13800000036", State: sms.StateQueued})
		if len(items) != 1 || !strings.Contains(items[0].LastError, "held back") || items[0].Attempts != 0 {
			t.Fatalf("the third: %+v", items)
		}
		g.now = g.now.Add(10 * time.Minute)
		g.deliver()
		if n := len(one.handed()); n != 2 {
			t.Fatalf("handed before the window passed: %d", n)
		}
		g.now = g.now.Add(time.Second)
		g.deliver()
		if n := len(one.handed()); n != 3 {
			t.Fatalf("%d after the window, want 3", n)
		}
	})
}

// report reads the id and token of the report URL a message was handed
// with.
func report(t *testing.T, m sms.Outgoing, typ string) sms.Report {
	t.Helper()
	u, err := url.Parse(m.ReportURL)
	if err != nil {
		t.Fatal(err)
	}
	return sms.Report{ID: u.Query().Get("id"), Token: u.Query().Get("t"), Type: typ}
}

func TestDeliveryReports(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		gw := &fake{}
		f := newFixture(t, d, sms.Config{Provider: gw, PhoneRate: sms.NoLimit})
		f.send("13800000041", sms.Message{})
		f.send("13800000042", sms.Message{})
		f.deliver()
		m1, m2 := gw.handed()[0], gw.handed()[1]

		bad := []struct {
			name string
			r    sms.Report
			want *apierr.Error
		}{
			{"no token", sms.Report{ID: report(t, m1, "").ID, Type: "1"}, sms.ErrReportInvalid},
			{"no id", sms.Report{Token: report(t, m1, "").Token, Type: "1"}, sms.ErrReportInvalid},
			{"another message's token", sms.Report{ID: report(t, m1, "").ID, Token: report(t, m2, "").Token, Type: "1"}, sms.ErrReportForged},
			{"a made-up token", sms.Report{ID: report(t, m1, "").ID, Token: strings.Repeat("0", 32), Type: "1"}, sms.ErrReportForged},
			{"an unknown type", report(t, m1, "3"), sms.ErrReportInvalid},
			{"a type that is no number", report(t, m1, "%d"), sms.ErrReportInvalid},
		}
		for _, c := range bad {
			if _, err := f.box.Record(ctx, c.r); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if it := f.only("13800000041"); it.State != sms.StateSent || it.Report != 0 {
			t.Fatalf("a refused report changed the message: %+v", it)
		}

		steps := []struct {
			m     sms.Outgoing
			typ   string
			state string
		}{
			{m1, "8", sms.StateSent},      // the carrier took it
			{m1, "1", sms.StateDelivered}, // it reached the phone
			{m1, "2", sms.StateDelivered}, // a late contrary report changes nothing
			{m2, "16", sms.StateFailed},   // the carrier refused it
			{m2, "1", sms.StateFailed},
		}
		for _, s := range steps {
			r := report(t, s.m, s.typ)
			r.Answer = "NACK/0x0000000b/Invalid Destination Address"
			state, err := f.box.Record(ctx, r)
			if err != nil || state != s.state {
				t.Fatalf("report %s: %q %v, want %s", s.typ, state, err, s.state)
			}
		}
		if it := f.only("13800000042"); it.LastError != "the carrier refused it: NACK/0x0000000b/Invalid Destination Address" || it.Report != 16 {
			t.Fatalf("refused: %+v", it)
		}

		// A gateway may report before the worker has recorded the hand-over.
		gw.during = func(m sms.Outgoing) {
			if _, err := f.box.Record(ctx, report(t, m, "1")); err != nil {
				t.Error(err)
			}
		}
		f.send("13800000043", sms.Message{})
		f.deliver()
		if it := f.only("13800000043"); it.State != sms.StateDelivered || it.Attempts != 1 || it.SentAt.IsZero() {
			t.Fatalf("reported early: %+v", it)
		}
	})
}

type reader struct {
	may    bool
	lo, hi string
}

var errNotAllowed = apierr.Forbidden("forbidden", "no")

func (r reader) MayReadOutbox() error {
	if !r.may {
		return errNotAllowed
	}
	return nil
}

func (r reader) Bounds() (string, string) { return r.lo, r.hi }

func (r reader) Actor() string { return "operator:reader" }

// While a real gateway carries the messages the outbox is off: they are the
// residents' to read. Messages a gateway carried before the deployment went
// back to the outbox show their states but not their codes.
func TestOperatorsReadStatesButNotTheCodesOfARealGateway(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		gw := &fake{}
		f := newFixture(t, d, sms.Config{Provider: gw})
		f.send("13800000051", sms.Message{Region: "341881001"})
		f.send("13800000052", sms.Message{Region: "341802001", Purpose: sms.KindColourChange, Vars: map[string]string{"name": "李*", "old": "green", "new": "red"}})
		f.deliver()
		f.send("13800000053", sms.Message{Region: "341881002"})

		if _, err := f.box.ListFor(ctx, reader{may: true}, sms.Filter{}); !errors.Is(err, sms.ErrOutboxOff) {
			t.Fatalf("the outbox with a gateway: %v, want outbox_off", err)
		}
		hold := newFixture(t, d, sms.Config{})
		if _, err := hold.box.ListFor(ctx, reader{}, sms.Filter{}); !errors.Is(err, errNotAllowed) {
			t.Fatalf("a reader without the permission: %v", err)
		}
		items, err := hold.box.ListFor(ctx, reader{may: true, lo: "341881", hi: "341882"}, sms.Filter{})
		if err != nil || len(items) != 2 {
			t.Fatalf("in scope: %v %+v", err, items)
		}
		for _, it := range items {
			if strings.Contains(it.Body, "123456") || !strings.Contains(it.Body, "您的验证码是******") {
				t.Errorf("an operator reads %q", it.Body)
			}
		}
		if items[0].State != sms.StateQueued || items[1].State != sms.StateSent {
			t.Errorf("states: %s %s", items[0].State, items[1].State)
		}
		sent, err := hold.box.ListFor(ctx, reader{may: true}, sms.Filter{State: sms.StateSent})
		if err != nil || len(sent) != 2 {
			t.Fatalf("?state=sent: %v %d", err, len(sent))
		}
		if _, err := hold.box.ListFor(ctx, reader{may: true}, sms.Filter{State: "lost"}); !errors.Is(err, sms.ErrStateUnknown) {
			t.Fatalf("an unknown state: %v", err)
		}
		// In a demo the outbox is the phone: its codes show.
		hold.send("13800000054", sms.Message{})
		items, _ = hold.box.ListFor(ctx, reader{may: true}, sms.Filter{To: "13800000054"})
		if len(items) != 1 || !strings.Contains(items[0].Body, "123456") {
			t.Fatalf("outbox: %+v", items)
		}
	})
}

// Every read of the outbox is in the audit log, with the reader and the
// messages shown; a refused read writes nothing.
func TestOutboxReadsAreAudited(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, sms.Config{})
		f.send("13800000061", sms.Message{Region: "341881001"})
		f.box.ListFor(ctx, reader{}, sms.Filter{})
		items, err := f.box.ListFor(ctx, reader{may: true}, sms.Filter{To: "13800000061"})
		if err != nil || len(items) != 1 {
			t.Fatalf("%v %+v", err, items)
		}
		var n int
		var actor, detail string
		err = d.QueryRowContext(ctx, `SELECT COUNT(*), MIN(actor), MIN(detail) FROM audit_log WHERE action = 'outbox.read'`).Scan(&n, &actor, &detail)
		if err != nil || n != 1 || actor != "operator:reader" {
			t.Fatalf("audit: %d entries by %q (%v), want 1 by operator:reader", n, actor, err)
		}
		if !strings.Contains(detail, `"login_codes":1`) || !strings.Contains(detail, "138****0061") || strings.Contains(detail, "13800000061") {
			t.Errorf("audit detail %s", detail)
		}
	})
}

func TestDelayedWhenTheGatewayFails(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		gw := &fake{}
		f := newFixture(t, d, sms.Config{Provider: gw})
		delayed := func() bool {
			t.Helper()
			v, err := f.box.Delayed(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		f.send("13800000061", sms.Message{})
		if delayed() {
			t.Fatal("a message just queued is not late")
		}
		f.deliver()
		gw.down = errors.New("connection refused")
		f.send("13800000062", sms.Message{})
		f.deliver()
		if !delayed() {
			t.Fatal("a failed attempt is a delay")
		}
		gw.down = nil
		f.now = f.now.Add(5 * time.Second)
		f.deliver()
		if delayed() {
			t.Fatal("still delayed once the gateway took it")
		}
		// A message nobody sends for half a minute (no worker runs).
		f.send("13800000063", sms.Message{})
		f.now = f.now.Add(31 * time.Second)
		if !delayed() {
			t.Fatal("a message waiting for 31 s is late")
		}
		hold := newFixture(t, d, sms.Config{})
		hold.now = f.now
		if v, _ := hold.box.Delayed(ctx); v {
			t.Fatal("the outbox provider is never late")
		}
	})
}

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want sms.Rate
		ok   bool
	}{
		{"20/1s", sms.Rate{N: 20, Per: time.Second}, true},
		{"20/s", sms.Rate{N: 20, Per: time.Second}, true},
		{" 10 / 10m ", sms.Rate{N: 10, Per: 10 * time.Minute}, true},
		{"none", sms.NoLimit, true},
		{"20", sms.Rate{}, false},
		{"0/1s", sms.Rate{}, false},
		{"-3/1s", sms.Rate{}, false},
		{"5/0s", sms.Rate{}, false},
		{"5/soon", sms.Rate{}, false},
		{"2000000/1s", sms.Rate{}, false},
	} {
		got, err := sms.ParseRate(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseRate(%q) = %v, %v", c.in, got, err)
		}
		if c.ok {
			if again, _ := sms.ParseRate(got.String()); again != got {
				t.Errorf("%q does not read back (%q)", c.in, got.String())
			}
		}
	}
}
