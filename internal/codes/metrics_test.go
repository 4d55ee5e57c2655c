package codes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/rules"
)

func TestMetricsCountIssuesAndVerifications(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, rules.Green, func(c *codes.Config) { c.Metrics = reg })
	ctx := context.Background()
	iss, err := f.svc.MyCode(ctx, "acct")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code string
		t    codes.Temperature
	}{
		{iss.Code, codes.Temperature{}},                         // admitted
		{iss.Code, codes.Temperature{Celsius: 38.5, Set: true}}, // fever: refused
		{strings.ToLower(iss.Code), codes.Temperature{}},        // not a code
	} {
		if _, err := f.svc.Verify(ctx, key, tc.code, tc.t); err != nil {
			t.Fatal(err)
		}
	}
	// Refused input is not a verification.
	f.svc.Verify(ctx, key, "\r\n", codes.Temperature{})
	for _, m := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"healthcode_codes_issued_total", []string{"kind", "dynamic"}, 1},
		{"healthcode_codes_issued_total", []string{"kind", "care"}, 0},
		{"healthcode_codes_verified_total", []string{"kind", "dynamic", "outcome", "admitted"}, 1},
		{"healthcode_codes_verified_total", []string{"kind", "dynamic", "outcome", "refused"}, 1},
		{"healthcode_codes_verified_total", []string{"kind", "unknown", "outcome", "invalid"}, 1},
		{"healthcode_codes_verified_total", nil, 3},
	} {
		if got := metricstest.Value(t, reg, m.name, m.labels...); got != m.want {
			t.Errorf("%s%q = %v, want %v", m.name, m.labels, got, m.want)
		}
	}
}
