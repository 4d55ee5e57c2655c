package loadgen_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/loadgen"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// A registration surge registers every resident the whole way on both
// engines, with no error, and reports each slice of the population: the
// server answered exactly the registrations and first codes the report
// counts, and each slice was profiled while it ran.
func TestRegistrationSurge(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		var progress bytes.Buffer
		var phases []string
		rep, err := loadgen.RunRegistration(context.Background(), loadgen.Config{URL: s.URL, BareURL: s.URL,
			AdminPassword: servertest.AdminPassword, Concurrency: 4, Residents: 60, Progress: &progress,
			Phase: func(name string, start bool, _ time.Duration) {
				phases = append(phases, fmt.Sprintf("%s %v", name, start))
			},
		}, 20)
		if err != nil {
			t.Fatalf("%v\n%s", err, progress.String())
		}
		if rep.Registered != 60 || rep.Errors != 0 || len(rep.Slices) != 3 {
			t.Fatalf("registered %d, errors %d %v, %d slices", rep.Registered, rep.Errors, rep.Samples, len(rep.Slices))
		}
		for i, sl := range rep.Slices {
			if sl.Registered != 20 || sl.Population != int64(20*(i+1)) || sl.PerSecond <= 0 || sl.Seconds <= 0 {
				t.Errorf("slice %d: %+v", i+1, sl)
			}
			if !(0 < sl.P50 && sl.P50 <= sl.P99 && sl.P99 <= sl.Max) {
				t.Errorf("slice %d: percentiles out of order: %+v", i+1, sl)
			}
			for _, step := range []string{"otp", "outbox", "login", "register", "code"} {
				if f := sl.Steps[step]; !(0 < f.P50 && f.P50 <= f.P99 && f.P99 <= sl.Max) {
					t.Errorf("slice %d, step %s: %+v", i+1, step, f)
				}
			}
		}
		counted := serverCounts(t, s.URL)
		if got := counted["POST /api/v1/me/register 201"]; got != 60 {
			t.Errorf("the server registered %d residents, the report 60", got)
		}
		if got := counted["GET /api/v1/me/code 200"]; got != 60 {
			t.Errorf("the server issued %d first codes, the report counts 60", got)
		}
		if want := "register-1 true,register-1 false,register-2 true,register-2 false,register-3 true,register-3 false"; strings.Join(phases, ",") != want {
			t.Errorf("phases %v, want %s", phases, want)
		}
		var table bytes.Buffer
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"population", "registrations/s", "outbox p50/p99", "verdict: the rate"} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
	})
}
