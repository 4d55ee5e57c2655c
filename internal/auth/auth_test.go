package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/logtest"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/prometheus/client_golang/prometheus"
)

type anyRegion struct{}

func (anyRegion) Validate(code string) error {
	if code == "999999" {
		return apierr.BadRequest("region_unknown", "no region %s", code)
	}
	return nil
}

type fixture struct {
	svc    *auth.Service
	outbox *sms.Outbox
	now    time.Time
	db     *db.DB
}

func newFixture(t *testing.T, d *db.DB, cfg auth.Config) *fixture {
	keys, err := secret.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{outbox: sms.NewOutbox(d, keys), now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), db: d}
	cfg.Region = "341881"
	f.svc = auth.New(d, keys, f.outbox, anyRegion{}, cfg)
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

var sixDigits = regexp.MustCompile(`\d{6}`)

func (f *fixture) lastCode(t *testing.T, phone string) string {
	t.Helper()
	items, err := f.outbox.List(context.Background(), sms.Filter{To: phone, Limit: 1})
	if err != nil || len(items) == 0 {
		t.Fatalf("no message to %s in the outbox (%v)", phone, err)
	}
	return sixDigits.FindString(items[0].Body)
}

func wantCode(t *testing.T, err error, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestResidentLoginByOneTimeCode(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{})
		const phone = "13800000001"
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t, phone)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, err := f.svc.Login(ctx, phone, wrong)
		wantCode(t, err, auth.ErrOTPWrong)
		login, err := f.svc.Login(ctx, phone, code)
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Authenticate(ctx, login.Token)
		if err != nil || p.Kind != auth.Resident || p.ID != login.AccountID {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		_, err = f.svc.Login(ctx, phone, code)
		wantCode(t, err, auth.ErrOTPInvalid) // single use

		// A second login from the same phone is the same account.
		f.now = f.now.Add(2 * time.Minute)
		f.svc.SendOTP(ctx, phone)
		again, err := f.svc.Login(ctx, phone, f.lastCode(t, phone))
		if err != nil || again.AccountID != login.AccountID {
			t.Fatalf("second login account %v (%v), want %s", again, err, login.AccountID)
		}
		if err := f.svc.Logout(ctx, login.Token); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, login.Token)
		wantCode(t, err, auth.ErrTokenInvalid)
	})
}

func TestOneTimeCodeLimits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{OTPPerDay: 3, OTPAttempts: 2})
		const phone = "13800000002"
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.SendOTP(ctx, phone), auth.ErrOTPTooSoon)
		code := f.lastCode(t, phone)
		f.svc.Login(ctx, phone, "999999x")
		_, err := f.svc.Login(ctx, phone, "999999y")
		wantCode(t, err, auth.ErrOTPWrong)
		_, err = f.svc.Login(ctx, phone, code)
		wantCode(t, err, auth.ErrOTPAttempts) // void after two wrong guesses, even with the right code

		f.now = f.now.Add(61 * time.Second)
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(6 * time.Minute)
		_, err = f.svc.Login(ctx, phone, f.lastCode(t, phone))
		wantCode(t, err, auth.ErrOTPExpired)

		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(2 * time.Minute)
		wantCode(t, f.svc.SendOTP(ctx, phone), auth.ErrOTPDailyLimit)
		f.now = f.now.Add(24 * time.Hour)
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatalf("next day: %v", err)
		}
		if err := f.svc.PurgeExpired(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRateLimitsCanBeTurnedOff(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, auth.Config{OTPInterval: -1, OTPPerDay: -1})
		for i := 0; i < 15; i++ {
			if err := f.svc.SendOTP(context.Background(), "13800000003"); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	})
}

func TestOperators(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{LoginFailures: 3})
		created, pw, err := f.svc.EnsureAdmin(ctx, "341881", "")
		if err != nil || !created || len(pw) < 20 {
			t.Fatalf("EnsureAdmin = %v %q %v", created, pw, err)
		}
		if again, _, _ := f.svc.EnsureAdmin(ctx, "341881", ""); again {
			t.Fatal("EnsureAdmin created a second admin")
		}
		token, op, err := f.svc.OperatorLogin(ctx, "admin", pw)
		if err != nil || op.Role != auth.Admin || op.Region != "341881" {
			t.Fatalf("admin login: %+v %v", op, err)
		}
		admin, err := f.svc.Authenticate(ctx, token)
		if err != nil || admin.Kind != auth.Operator || !admin.Can(auth.OperatorWrite) {
			t.Fatalf("admin principal %+v %v", admin, err)
		}
		officer := auth.NewOperator{Username: "cdc.xijin", Password: "long enough pw", Role: "health_officer", Region: "341881001"}
		if _, err := f.svc.CreateOperator(ctx, admin, officer); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateOperator(ctx, admin, officer)
		wantCode(t, err, auth.ErrUsernameTaken)
		_, err = f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "far", Password: "long enough pw", Role: "viewer", Region: "110101"})
		wantCode(t, err, auth.ErrOutOfScope)
		_, err = f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "x", Password: "long enough pw", Role: "viewer"})
		wantCode(t, err, auth.ErrUsernameInvalid)
		_, err = f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "xyz", Password: "short", Role: "viewer"})
		wantCode(t, err, auth.ErrPasswordTooShort)
		_, err = f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "xyz", Password: strings.Repeat("long enough pw", 20), Role: "viewer"})
		wantCode(t, err, auth.ErrPasswordTooLong)
		_, err = f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "xyz", Password: "long enough pw", Role: "viewer", DisplayName: strings.Repeat("长", 65)})
		wantCode(t, err, auth.ErrDisplayNameTooLong)
		_, err = f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "xyz", Password: "long enough pw", Role: "king"})
		wantCode(t, err, auth.ErrRoleUnknown)

		tok, _, err := f.svc.OperatorLogin(ctx, "cdc.xijin", "long enough pw")
		if err != nil {
			t.Fatal(err)
		}
		cdc, _ := f.svc.Authenticate(ctx, tok)
		if cdc.Can(auth.OperatorWrite) || !cdc.Can(auth.FactWrite) {
			t.Fatalf("health officer permissions wrong: %+v", cdc)
		}
		if !cdc.InScope("341881001002") || cdc.InScope("341881100") {
			t.Fatal("health officer scope wrong")
		}
		_, err = f.svc.CreateOperator(ctx, cdc, auth.NewOperator{Username: "abc", Password: "long enough pw", Role: "viewer"})
		wantCode(t, err, auth.ErrForbidden)
		list, _ := f.svc.Operators(ctx, cdc)
		if len(list) != 1 || list[0].Username != "cdc.xijin" {
			t.Fatalf("scoped operator list = %+v", list)
		}

		for i := 0; i < 3; i++ {
			_, _, err = f.svc.OperatorLogin(ctx, "cdc.xijin", "wrong password")
			wantCode(t, err, auth.ErrLoginFailed)
		}
		_, _, err = f.svc.OperatorLogin(ctx, "cdc.xijin", "long enough pw")
		wantCode(t, err, auth.ErrLoginLocked)
		f.now = f.now.Add(16 * time.Minute)
		if _, _, err = f.svc.OperatorLogin(ctx, "cdc.xijin", "long enough pw"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		_, _, err = f.svc.OperatorLogin(ctx, "nobody", "whatever")
		wantCode(t, err, auth.ErrLoginFailed)

		// A password reset ends the operator's sessions.
		if err := f.svc.SetPassword(ctx, "cdc.xijin", "a brand new password"); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, tok)
		wantCode(t, err, auth.ErrTokenInvalid)
		wantCode(t, f.svc.SetPassword(ctx, "nobody", "a brand new password"), auth.ErrOperatorNotFound)
	})
}

func TestAPIKeys(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{})
		by := &auth.Principal{Kind: auth.Operator, ID: "op", Role: auth.Admin, Region: "341881"}
		var id, key string
		err := d.InTx(ctx, func(tx db.Tx) (err error) {
			id, key, err = f.svc.CreateAPIKey(ctx, tx, by, auth.NewKey{Kind: "integrator", Name: "药店", Scopes: []string{"facts:pharmacy.purchase"}, Region: "341881"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Authenticate(ctx, key)
		if err != nil || !p.HasScope("facts:pharmacy.purchase") || p.HasScope("verify") {
			t.Fatalf("key principal %+v %v", p, err)
		}
		d.InTx(ctx, func(tx db.Tx) error { return f.svc.RevokeAPIKey(ctx, tx, id) })
		_, err = f.svc.Authenticate(ctx, key)
		wantCode(t, err, auth.ErrAPIKeyRevoked)
		_, err = f.svc.Authenticate(ctx, "hck_unknown")
		wantCode(t, err, auth.ErrAPIKeyInvalid)
		_, err = f.svc.Authenticate(ctx, "Basic abc")
		wantCode(t, err, auth.ErrTokenInvalid)
		_, err = auth.ParseScopes([]string{"admin"})
		wantCode(t, err, auth.ErrScopeUnknown)
	})
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct{ scope, lo, hi string }{
		{"", "", ""}, {"34", "34", "35"}, {"3418", "3418", "3419"}, {"341889", "341889", "34189"}, {"3499", "3499", "35"},
	} {
		lo, hi := auth.Bounds(tc.scope)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("Bounds(%q) = %q, %q", tc.scope, lo, hi)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h := auth.HashPassword("correct horse")
	if ok, err := auth.CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Fatal("right password refused")
	}
	if ok, _ := auth.CheckPassword(h, "wrong horse"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := auth.CheckPassword("$argon2id$garbage", "x"); err == nil {
		t.Fatal("malformed hash accepted")
	}
}

// The limits hold when the guesses and the requests come all at once: a
// limit checked on a row read without a lock lets every concurrent request
// through.
func TestOneTimeCodeLimitsUnderConcurrency(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{OTPAttempts: 3, OTPPerDay: 2})
		const phone = "13800000009"
		const n = 40
		count := func(fn func() error) map[string]int {
			var mu sync.Mutex
			codes := map[string]int{}
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					code := "ok"
					if e, ok := apierr.As(fn()); ok {
						code = e.Code
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				})
			}
			wg.Wait()
			return codes
		}
		sent := count(func() error { return f.svc.SendOTP(ctx, phone) })
		if sent["ok"] != 1 {
			t.Fatalf("%d concurrent requests for a code sent %d codes, want 1: %v", n, sent["ok"], sent)
		}
		right := f.lastCode(t, phone)
		wrong := "000000"
		if right == wrong {
			wrong = "111111"
		}
		guesses := count(func() error { _, err := f.svc.Login(ctx, phone, wrong); return err })
		if guesses["otp_wrong"] != 3 || guesses["otp_attempts"] != n-3 {
			t.Fatalf("%d concurrent wrong guesses: %v, want 3 otp_wrong and the rest otp_attempts", n, guesses)
		}
		_, err := f.svc.Login(ctx, phone, right)
		wantCode(t, err, auth.ErrOTPAttempts)
	})
}

// failingOutbox refuses every message, as a full disk or a broken template would.
type failingOutbox struct{ *sms.Outbox }

func (failingOutbox) Send(context.Context, sms.Message) error { return errors.New("outbox down") }
func (failingOutbox) SendTx(context.Context, db.Tx, sms.Message) error {
	return errors.New("outbox down")
}

// A code whose message could not be queued is not stored: it uses up
// neither the phone's interval nor its daily count, so the next request
// gets a code and its message.
func TestOneTimeCodeIsStoredOnlyWithItsMessage(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{OTPPerDay: 1})
		keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
		broken := auth.New(d, keys, failingOutbox{f.outbox}, anyRegion{}, auth.Config{OTPPerDay: 1, Region: "341881"})
		broken.SetClock(func() time.Time { return f.now })
		const phone = "13800000009"
		if err := broken.SendOTP(ctx, phone); err == nil {
			t.Fatal("SendOTP succeeded without its message")
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM otps WHERE day_count > 0`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d codes stored without their message (%v)", n, err)
		}
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatalf("the next request: %v", err)
		}
		if _, err := f.svc.Login(ctx, phone, f.lastCode(t, phone)); err != nil {
			t.Fatal(err)
		}
	})
}

// The limits across phones: one client address may not text any number of
// phones, all clients together not more than the minute's limit, and the
// day's budget is a cap with an alert. They are counted in the database,
// so a second node (another Service on the same store) sees the same counts.
func TestOneTimeCodeLimitsAcrossPhones(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var logs logtest.Buffer
		reg := prometheus.NewRegistry()
		cfg := auth.Config{OTPPerAddr: 3, OTPPerMinute: 5, SMSBudget: 8, Metrics: reg, Log: slog.New(slog.NewTextHandler(&logs, nil))}
		f := newFixture(t, d, cfg)
		cfg.Metrics, cfg.Log = nil, nil
		other := newFixture(t, d, cfg) // a second node
		other.now = f.now
		phone := func(i int) string { return fmt.Sprintf("139%08d", i) }
		for i := range 3 {
			if err := other.svc.SendOTPFrom(ctx, phone(i), "", "203.0.113.5"); err != nil {
				t.Fatalf("code %d: %v", i, err)
			}
		}
		wantCode(t, f.svc.SendOTPFrom(ctx, phone(3), "", "203.0.113.5"), auth.ErrOTPAddrLimit)
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_outbox`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d messages after a refusal, want 3 (%v)", n, err)
		}
		// Other addresses go on, until the minute's limit for everyone.
		if err := f.svc.SendOTPFrom(ctx, phone(4), "", "203.0.113.6"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SendOTPFrom(ctx, phone(5), "", "2001:db8::/64"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.SendOTPFrom(ctx, phone(6), "", "198.51.100.1"), auth.ErrOTPBusy)
		// An hour later the address may ask again; the budget of 8 has 3 left.
		f.now = f.now.Add(time.Hour)
		for i := 7; i < 10; i++ {
			if err := f.svc.SendOTPFrom(ctx, phone(i), "", "203.0.113.5"); err != nil {
				t.Fatalf("code %d: %v", i, err)
			}
		}
		wantCode(t, f.svc.SendOTPFrom(ctx, phone(10), "", "198.51.100.2"), auth.ErrSMSBudget)
		if v := metricstest.Value(t, reg, "healthcode_auth_sms_budget_alerts_total", "level", "spent"); v != 1 {
			t.Errorf("spent alerts = %v, want 1", v)
		}
		if v := metricstest.Value(t, reg, "healthcode_auth_sms_budget_used_ratio"); v != 1 {
			t.Errorf("budget used = %v, want 1", v)
		}
		if !strings.Contains(logs.String(), "SMS budget spent") {
			t.Errorf("no alert logged: %s", logs.String())
		}
		// The next day the budget is new.
		f.now = f.now.Add(24 * time.Hour)
		if err := f.svc.SendOTPFrom(ctx, phone(10), "", "198.51.100.2"); err != nil {
			t.Fatalf("next day: %v", err)
		}
	})
}

// Only mainland mobile numbers get a text, whichever door asked.
func TestOneTimeCodeOnlyToMobileNumbers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, auth.Config{})
		for phone, want := range map[string]error{
			"12345678901":    idnum.ErrPhonePrefix,
			"1380000000":     idnum.ErrPhoneLength,
			"+8613800000001": idnum.ErrPhoneFormat, // not normalised
			"02112345678":    idnum.ErrPhonePrefix,
		} {
			wantCode(t, f.svc.SendOTP(context.Background(), phone), want)
		}
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM sms_outbox`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d messages sent to refused numbers (%v)", n, err)
		}
	})
}

// The product keeps only a keyed hash of a one-time code; the clear code is
// in the message alone.
func TestOneTimeCodesAreStoredHashed(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{})
		const phone = "13800000010"
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t, phone)
		var stored []byte
		if err := d.QueryRowContext(ctx, `SELECT code_hash FROM otps`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if len(stored) < 16 || bytes.Contains(stored, []byte(code)) {
			t.Fatalf("the stored code %x holds the code %s", stored, code)
		}
	})
}

// Someone guessing an operator's password locks their own address and the
// username, on every node; the operator still logs in with the right
// password from an address they used before. Each failure past the limit
// doubles the lock.
func TestOperatorLockoutAcrossNodes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{LoginFailures: 3})
		other := newFixture(t, d, auth.Config{LoginFailures: 3}) // a second node
		other.svc.SetClock(func() time.Time { return f.now })
		_, pw, err := f.svc.EnsureAdmin(ctx, "341881", "")
		if err != nil {
			t.Fatal(err)
		}
		login := func(svc *auth.Service, password, addr string) error {
			_, _, err := svc.OperatorLoginWith(ctx, auth.OperatorCredentials{Username: "admin", Password: password, Addr: addr})
			return err
		}
		const office, attacker, elsewhere = "192.0.2.10", "203.0.113.66", "198.51.100.7"
		if err := login(f.svc, pw, office); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			svc := f.svc
			if i%2 == 1 {
				svc = other.svc
			}
			wantCode(t, login(svc, "a guess", attacker), auth.ErrLoginFailed)
		}
		wantCode(t, login(other.svc, pw, attacker), auth.ErrLoginLocked)      // the attacker's address
		wantCode(t, login(other.svc, pw, elsewhere), auth.ErrLoginLocked)     // the username, from an unknown address
		wantCode(t, login(other.svc, "a guess", office), auth.ErrLoginFailed) // a known address is still checked
		if err := login(other.svc, pw, office); err != nil {
			t.Fatalf("the right password from a known address: %v", err)
		}
		// The attacker's address stays locked; after 15 minutes it may try
		// once more, and a failure then locks it for 30.
		wantCode(t, login(f.svc, pw, attacker), auth.ErrLoginLocked)
		f.now = f.now.Add(16 * time.Minute)
		wantCode(t, login(f.svc, "a guess", attacker), auth.ErrLoginFailed)
		f.now = f.now.Add(16 * time.Minute)
		wantCode(t, login(f.svc, pw, attacker), auth.ErrLoginLocked)
		f.now = f.now.Add(15 * time.Minute)
		if err := login(f.svc, pw, attacker); err != nil {
			t.Fatalf("after the doubled lock: %v", err)
		}
	})
}

// An operator enrols a TOTP second factor (the secret shown once, confirmed
// by a code); from then on logins need the current code, once.
func TestOperatorSecondFactor(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{AdminTOTP: true})
		_, pw, err := f.svc.EnsureAdmin(ctx, "341881", "")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := f.svc.OperatorLogin(ctx, "admin", pw)
		if err != nil {
			t.Fatal(err)
		}
		admin, err := f.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		// Required for admins: nothing but enrolling until then.
		wantCode(t, admin.Require(auth.OperatorWrite), auth.ErrTOTPEnrolRequired)
		wantCode(t, f.svc.ConfirmTOTP(ctx, admin, "123456"), auth.ErrTOTPNotPending)
		e, err := f.svc.BeginTOTP(ctx, admin)
		if err != nil || !strings.HasPrefix(e.URI, "otpauth://totp/") || !strings.Contains(e.URI, "secret="+e.Secret) {
			t.Fatalf("BeginTOTP = %+v, %v", e, err)
		}
		wantCode(t, f.svc.ConfirmTOTP(ctx, admin, "000000"), auth.ErrTOTPWrong)
		code := func() string {
			c, err := auth.TOTPCode(e.Secret, f.now)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if err := f.svc.ConfirmTOTP(ctx, admin, code()); err != nil {
			t.Fatal(err)
		}
		admin, _ = f.svc.Authenticate(ctx, token)
		if err := admin.Require(auth.OperatorWrite); err != nil {
			t.Fatalf("after enrolling: %v", err)
		}
		with := func(totp string) error {
			_, _, err := f.svc.OperatorLoginWith(ctx, auth.OperatorCredentials{Username: "admin", Password: pw, TOTP: totp})
			return err
		}
		wantCode(t, with(""), auth.ErrTOTPRequired)
		_, _, err = f.svc.OperatorLoginWith(ctx, auth.OperatorCredentials{Username: "admin", Password: "a guess"})
		wantCode(t, err, auth.ErrTOTPRequired) // the same answer whatever the password
		f.now = f.now.Add(time.Minute)
		// A wrong code and a wrong password are one answer.
		wantCode(t, with("000000"), auth.ErrLoginFailed)
		_, _, err = f.svc.OperatorLoginWith(ctx, auth.OperatorCredentials{Username: "admin", Password: "a guess", TOTP: code()})
		wantCode(t, err, auth.ErrLoginFailed)
		if err := with(code()); err != nil {
			t.Fatalf("with the current code: %v", err)
		}
		wantCode(t, with(code()), auth.ErrLoginFailed) // a code is good once
		wantCode(t, with("x"), auth.ErrLoginFailed)
	})
}

// An operator who lost the phone with their second factor gets back in:
// another administrator in scope resets it (never their own, never one out
// of scope), or, for the only administrator, `operators recover` on the
// server. Each ends the operator's sessions and is audited.
func TestLostSecondFactor(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{})
		_, pw, err := f.svc.EnsureAdmin(ctx, "341881", "")
		if err != nil {
			t.Fatal(err)
		}
		principal := func(username, password string) (*auth.Principal, string) {
			t.Helper()
			tok, _, err := f.svc.OperatorLogin(ctx, username, password)
			if err != nil {
				t.Fatalf("login %s: %v", username, err)
			}
			p, err := f.svc.Authenticate(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return p, tok
		}
		admin, _ := principal("admin", pw)
		officer, err := f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "cdc.lost", Password: "long enough pw", Role: "health_officer"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "town.admin", Password: "long enough pw", Role: "admin", Region: "341881100"}); err != nil {
			t.Fatal(err)
		}
		townAdmin, _ := principal("town.admin", "long enough pw")
		offP, offTok := principal("cdc.lost", "long enough pw")
		e, err := f.svc.BeginTOTP(ctx, offP)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := auth.TOTPCode(e.Secret, f.now)
		if err := f.svc.ConfirmTOTP(ctx, offP, code); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Minute)
		_, _, err = f.svc.OperatorLogin(ctx, "cdc.lost", "long enough pw")
		wantCode(t, err, auth.ErrTOTPRequired)

		_, err = f.svc.ResetTOTP(ctx, offP, admin.ID)
		wantCode(t, err, auth.ErrForbidden)
		_, err = f.svc.ResetTOTP(ctx, admin, admin.ID)
		wantCode(t, err, auth.ErrTOTPResetSelf)
		_, err = f.svc.ResetTOTP(ctx, townAdmin, officer.ID)
		wantCode(t, err, auth.ErrOperatorNotFound)
		_, err = f.svc.ResetTOTP(ctx, admin, "no-such-operator")
		wantCode(t, err, auth.ErrOperatorNotFound)
		got, err := f.svc.ResetTOTP(ctx, admin, officer.ID)
		if err != nil || got.TOTP || got.Username != "cdc.lost" {
			t.Fatalf("ResetTOTP = %+v, %v", got, err)
		}
		_, err = f.svc.ResetTOTP(ctx, admin, officer.ID)
		wantCode(t, err, auth.ErrTOTPNotOn)
		if _, err := f.svc.Authenticate(ctx, offTok); err == nil {
			t.Error("the officer's session outlived the reset")
		}
		principal("cdc.lost", "long enough pw") // the password alone again

		// The only administrator, locked out: recovered on the server.
		_, err = f.svc.RecoverOperator(ctx, "nobody", true)
		wantCode(t, err, auth.ErrOperatorNotFound)
		newPW, err := f.svc.RecoverOperator(ctx, "admin", true)
		if err != nil || len(newPW) < 10 {
			t.Fatalf("RecoverOperator = %q, %v", newPW, err)
		}
		if _, _, err := f.svc.OperatorLogin(ctx, "admin", pw); err == nil {
			t.Error("the old password still logs in")
		}
		principal("admin", newPW)

		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('operator.totp_reset', 'operator.recover')`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("audited resets = %d, %v; want 2", n, err)
		}
	})
}
