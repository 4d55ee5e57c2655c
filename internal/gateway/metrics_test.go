package gateway

import (
	"bytes"
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/org"
)

// TestScanMetrics: every scan is counted once, by how it was made and how
// it ended.
func TestScanMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ph := &org.Org{ID: "ph", Num: 7, Kind: org.Pharmacy}
	s, err := New(oneOrg{ph}, &verifier{}, bytes.Repeat([]byte{9}, 32), Config{IDBurst: 3, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	desk := &auth.Principal{Kind: auth.APIKey, ID: "k1", Org: "ph"}
	ctx := context.Background()
	for _, in := range []ScanInput{
		{Code: "HC1:x"}, // admitted
		{Code: "bad"},   // expired
		{Code: "x", IDNumber: "1"},
		{IDType: "passport_typo", IDNumber: "x"},
		{IDType: "resident_id", IDNumber: "341881194801010118"}, // yellow
		{IDType: "resident_id", IDNumber: "110101194801010118"}, // nobody
		{IDType: "resident_id", IDNumber: "341881194801010118"},
		{IDType: "resident_id", IDNumber: "341881194801010118"}, // the fourth lookup
	} {
		s.Scan(ctx, desk, in)
	}
	s.Scan(ctx, &auth.Principal{Kind: auth.APIKey, ID: "k9", Org: "another"}, ScanInput{Code: "HC1:x"})
	for _, m := range []struct {
		by, outcome string
		want        float64
	}{
		{"code", "admitted", 1},
		{"code", "invalid", 1},
		{"code", "bad_input", 1},
		{"code", "denied", 1},
		{"id", "bad_input", 1},
		{"id", "refused", 2},
		{"id", "not_registered", 1},
		{"id", "limited", 1},
		{"id", "admitted", 0},
	} {
		if got := metricstest.Value(t, reg, "healthcode_gateway_scans_total", "by", m.by, "outcome", m.outcome); got != m.want {
			t.Errorf("scans by %s %s = %v, want %v", m.by, m.outcome, got, m.want)
		}
	}
	if got := metricstest.Value(t, reg, "healthcode_gateway_scans_total"); got != 9 {
		t.Errorf("%v scans counted, want 9", got)
	}
}
