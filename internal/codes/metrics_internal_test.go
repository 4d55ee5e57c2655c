package codes

import "testing"

// TestCountingAVerificationAllocatesNothing: verification is the hottest
// path; its counting resolves no labels per scan.
func TestCountingAVerificationAllocatesNothing(t *testing.T) {
	m := newMetrics(nil)
	res := &Result{Valid: true, Admitted: true}
	if n := testing.AllocsPerRun(100, func() {
		m.verification("dynamic", res)
		m.verification(KindID, &Result{})
		m.verification("", &Result{})
		m.issuedDynamic.Inc()
	}); n != 0 {
		t.Fatalf("%v allocations per count", n)
	}
}
