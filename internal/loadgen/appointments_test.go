package loadgen_test

import (
	"context"
	"testing"

	"github.com/healthcode/healthcode/internal/loadgen"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// An appointment opening books exactly the places, with no server error,
// on both engines: many residents at once for few places.
func TestAppointmentOpening(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		rep, err := loadgen.RunAppointments(context.Background(), loadgen.Config{URL: s.URL, BareURL: s.URL,
			AdminPassword: servertest.AdminPassword, Concurrency: 32, Residents: 120}, 30, 4)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Exact() || rep.Booked != 30 || rep.TurnedAway != 90 || rep.Other4xx != 0 {
			t.Fatalf("%+v", rep)
		}
	})
}
