package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/metricstest"
)

// TestLoginMetrics: logins by kind and outcome, one-time codes requested,
// and the lockouts an operator watches for (a password sprayed, a code
// guessed at).
func TestLoginMetrics(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		reg := prometheus.NewRegistry()
		f := newFixture(t, d, auth.Config{LoginFailures: 3, OTPAttempts: 2, Metrics: reg})
		const phone = "13800000009"
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		f.svc.SendOTP(ctx, phone) // too soon
		code := f.lastCode(t, phone)
		if _, err := f.svc.Login(ctx, phone, code); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if err := f.svc.SendOTP(ctx, phone); err != nil {
			t.Fatal(err)
		}
		for range 4 { // two wrong, then refused: the third voids the code
			f.svc.Login(ctx, phone, "000000x")
		}
		_, pw, err := f.svc.EnsureAdmin(ctx, "341881", "")
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			f.svc.OperatorLogin(ctx, "admin", "wrong password")
		}
		_, _, err = f.svc.OperatorLogin(ctx, "admin", pw)
		wantCode(t, err, auth.ErrLoginLocked)

		for _, m := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"healthcode_auth_otp_requests_total", []string{"outcome", "sent"}, 2},
			{"healthcode_auth_otp_requests_total", []string{"outcome", "too_soon"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "resident", "outcome", "ok"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "resident", "outcome", "failed"}, 2},
			{"healthcode_auth_logins_total", []string{"kind", "resident", "outcome", "locked"}, 2},
			{"healthcode_auth_lockouts_total", []string{"kind", "resident"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "operator", "outcome", "failed"}, 3},
			{"healthcode_auth_logins_total", []string{"kind", "operator", "outcome", "locked"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "operator", "outcome", "ok"}, 0},
			{"healthcode_auth_lockouts_total", []string{"kind", "operator"}, 1},
			{"healthcode_auth_lockouts_total", []string{"kind", "unit"}, 0},
		} {
			if got := metricstest.Value(t, reg, m.name, m.labels...); got != m.want {
				t.Errorf("%s%q = %v, want %v", m.name, m.labels, got, m.want)
			}
		}
	})
}
