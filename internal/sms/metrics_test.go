package sms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/sms"
)

type meterFake struct {
	name string
	err  error
}

func (f meterFake) Name() string { return f.name }

func (f meterFake) Submit(context.Context, sms.Outgoing) (sms.Receipt, error) {
	return sms.Receipt{}, f.err
}

// TestMeteredCountsByProviderAndOutcome: two providers share a registry,
// each with its own series; a failure is counted and still returned.
func TestMeteredCountsByProviderAndOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	down := errors.New("gateway down")
	a := sms.Metered(meterFake{name: "outbox"}, reg)
	b := sms.Metered(meterFake{name: "other", err: down}, reg)
	ctx := context.Background()
	for range 2 {
		if _, err := a.Submit(ctx, sms.Outgoing{To: "13900000001", Purpose: "otp"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Submit(ctx, sms.Outgoing{To: "13900000001", Purpose: "status"}); !errors.Is(err, down) {
		t.Fatalf("the provider's error was not returned: %v", err)
	}
	for _, m := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"provider", "outbox", "purpose", "otp", "outcome", "sent"}, 2},
		{[]string{"provider", "outbox", "outcome", "failed"}, 0},
		{[]string{"provider", "other", "purpose", "status", "outcome", "failed"}, 1},
		{[]string{"provider", "other", "outcome", "sent"}, 0},
	} {
		if got := metricstest.Value(t, reg, "healthcode_sms_sends_total", m.labels...); got != m.want {
			t.Errorf("sends%q = %v, want %v", m.labels, got, m.want)
		}
	}
	if got := metricstest.Value(t, reg, "healthcode_sms_send_duration_seconds", "provider", "other"); got != 1 {
		t.Errorf("%v sends timed for provider other, want 1", got)
	}
}
