package auth

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a login, as counted.
const (
	loginOK = iota
	loginFailed
	loginLocked
	loginDisabled
	loginError
)

var (
	loginKinds    = [...]Kind{Resident, Operator, Unit}
	loginOutcomes = [...]string{"ok", "failed", "locked", "disabled", "error"}
	otpOutcomes   = [...]string{"sent", "too_soon", "daily_limit", "address_limit", "busy", "budget_spent", "failed"}
	budgetLevels  = [...]string{"warning", "spent"}
)

type metrics struct {
	logins   map[Kind]*[len(loginOutcomes)]prometheus.Counter
	lockouts map[Kind]prometheus.Counter
	otps     map[string]prometheus.Counter
	// budgetUsed is the day's SMS budget used, as of this node's last code.
	budgetUsed   prometheus.Gauge
	budgetAlerts [len(budgetLevels)]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_auth_logins_total",
		Help: "Logins by kind (resident, operator, unit) and outcome (ok, failed, locked: refused while locked out, disabled, error).",
	}, []string{"kind", "outcome"})
	lockouts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_auth_lockouts_total",
		Help: "Lockouts by kind, counted by the node that locked: a username locked after repeated failed passwords, a one-time code voided after repeated wrong guesses (resident).",
	}, []string{"kind"})
	otps := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_auth_otp_requests_total",
		Help: "Requests for a one-time login code by outcome (sent, too_soon, daily_limit, address_limit, busy, budget_spent, failed).",
	}, []string{"outcome"})
	budgetUsed := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "healthcode_auth_sms_budget_used_ratio",
		Help: "Share of the day's budget of login-code messages used, as of the last code this node sent.",
	})
	budgetAlerts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_auth_sms_budget_alerts_total",
		Help: "SMS budget alerts raised by this node: warning (80 % used), spent (codes refused until the next day).",
	}, []string{"level"})
	m := &metrics{logins: map[Kind]*[len(loginOutcomes)]prometheus.Counter{}, lockouts: map[Kind]prometheus.Counter{},
		otps: map[string]prometheus.Counter{}, budgetUsed: budgetUsed}
	for i, l := range budgetLevels {
		m.budgetAlerts[i] = budgetAlerts.WithLabelValues(l)
	}
	for _, k := range loginKinds {
		var cs [len(loginOutcomes)]prometheus.Counter
		for i, o := range loginOutcomes {
			cs[i] = logins.WithLabelValues(string(k), o)
		}
		m.logins[k] = &cs
		m.lockouts[k] = lockouts.WithLabelValues(string(k))
	}
	for _, o := range otpOutcomes {
		m.otps[o] = otps.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(logins, lockouts, otps, budgetUsed, budgetAlerts)
	}
	return m
}

// login counts a login of kind that ended with err.
func (m *metrics) login(kind Kind, err error) {
	o := loginError
	switch {
	case err == nil:
		o = loginOK
	case errors.Is(err, ErrLoginLocked), errors.Is(err, ErrOTPAttempts):
		o = loginLocked
	case errors.Is(err, ErrOperatorDisabled), errors.Is(err, ErrUnitDisabled):
		o = loginDisabled
	case errors.Is(err, ErrLoginFailed), errors.Is(err, ErrOTPInvalid), errors.Is(err, ErrOTPExpired), errors.Is(err, ErrOTPWrong):
		o = loginFailed
	}
	m.logins[kind][o].Inc()
}

// otp counts a request for a one-time code that ended with err.
func (m *metrics) otp(err error) {
	o := "failed"
	switch {
	case err == nil:
		o = "sent"
	case errors.Is(err, ErrOTPTooSoon):
		o = "too_soon"
	case errors.Is(err, ErrOTPDailyLimit):
		o = "daily_limit"
	case errors.Is(err, ErrOTPAddrLimit):
		o = "address_limit"
	case errors.Is(err, ErrOTPBusy):
		o = "busy"
	case errors.Is(err, ErrSMSBudget):
		o = "budget_spent"
	}
	m.otps[o].Inc()
}
