package audit_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/metricstest"
)

func TestAppendsAreCountedByAction(t *testing.T) {
	reg := prometheus.NewRegistry()
	audit.RegisterMetrics(reg)
	d := dbtest.NewSQLite(t)
	fill(t, d, 1) // the series exists from the first append
	before := metricstest.Value(t, reg, "healthcode_audit_appends_total", "action", "person.read")
	fill(t, d, 3)
	if got := metricstest.Value(t, reg, "healthcode_audit_appends_total", "action", "person.read"); got != before+3 {
		t.Fatalf("person.read appends went from %v to %v, want +3", before, got)
	}
}
