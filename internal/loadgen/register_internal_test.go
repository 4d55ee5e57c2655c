package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A registration that fails is an error of its slice, and the surge goes
// on: the others register, each slice counts its own.
func TestRegistrationCountsFailuresAndGoesOn(t *testing.T) {
	var registrations atomic.Int64
	answer := map[string]string{
		"POST /api/v1/auth/operator": `{"token":"op"}`,
		"POST /api/v1/auth/otp":      `{"sent":true}`,
		"GET /api/v1/admin/outbox":   `{"messages":[{"body":"【健康码】验证码 123456"}]}`,
		"POST /api/v1/auth/login":    `{"token":"t","registered":false}`,
		"GET /api/v1/me/code":        `{"code":"JKM1:X"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		key := r.Method + " " + r.URL.Path
		if key == "POST /api/v1/me/register" {
			if registrations.Add(1)%3 == 0 {
				w.WriteHeader(500)
				io.WriteString(w, `{"error":{"code":"internal"}}`)
				return
			}
			w.WriteHeader(201)
			io.WriteString(w, `{}`)
			return
		}
		b, ok := answer[key]
		if !ok {
			w.WriteHeader(404)
			return
		}
		io.WriteString(w, b)
	}))
	defer srv.Close()
	rep, err := RunRegistration(context.Background(), Config{URL: srv.URL, BareURL: srv.URL, Concurrency: 3, Residents: 30}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Registered != 20 || rep.Errors != 10 || len(rep.Slices) != 10 || rep.Slice != 3 {
		t.Fatalf("registered %d, errors %d, %d slices of %d", rep.Registered, rep.Errors, len(rep.Slices), rep.Slice)
	}
	var reg, errs int64
	for _, s := range rep.Slices {
		if s.Registered+s.Errors != 3 {
			t.Errorf("a slice of 3 registrations holds %d and %d errors", s.Registered, s.Errors)
		}
		reg, errs = reg+s.Registered, errs+s.Errors
	}
	if reg != 20 || errs != 10 || rep.Slices[9].Population != 20 {
		t.Errorf("slices add up to %d and %d errors, population %d", reg, errs, rep.Slices[9].Population)
	}
	if len(rep.Samples) == 0 || !strings.Contains(rep.Samples[0], "500") || !strings.Contains(rep.Verdict(), "10 ERRORS") {
		t.Errorf("samples %q, verdict %q", rep.Samples, rep.Verdict())
	}
}

func TestRegistrationVerdict(t *testing.T) {
	s := func(rate, cpu float64) RegistrationSlice {
		return RegistrationSlice{PerSecond: rate, ServerCPUMicros: cpu}
	}
	for _, c := range []struct {
		slices    []RegistrationSlice
		rate, cpu float64
		fell      bool
	}{
		{[]RegistrationSlice{s(800, 1000), s(500, 2000), s(760, 1100)}, 0.95, 1.1, false},
		{[]RegistrationSlice{s(800, 1000), s(900, 900), s(700, 1500)}, 0.875, 1.5, true},
		{[]RegistrationSlice{s(800, 0), s(900, 0)}, 1.125, 0, false},
		{[]RegistrationSlice{s(800, 1000)}, 1, 0, false},
	} {
		rate, cpu, fell := verdict(c.slices)
		if rate != c.rate || cpu != c.cpu || fell != c.fell {
			t.Errorf("%+v: rate %v, cpu %v, fell %v; want %v, %v, %v", c.slices, rate, cpu, fell, c.rate, c.cpu, c.fell)
		}
	}
}

// The verdict tells a rate that fell because the server costs more per
// registration from one that fell because it got less of the machine.
func TestRegistrationVerdictSaysWhy(t *testing.T) {
	sl := func(pop int64, rate, cpu, share float64) RegistrationSlice {
		return RegistrationSlice{Population: pop, PerSecond: rate, ServerCPUMicros: cpu, ServerCPUShare: share}
	}
	for _, c := range []struct {
		slices []RegistrationSlice
		want   []string
	}{
		{[]RegistrationSlice{sl(10, 200, 3000, 0.34), sl(20, 160, 3100, 0.28)}, []string{"rate FELL", "held (3100 µs against 3000 µs", "28% of the machine against 34%"}},
		{[]RegistrationSlice{sl(10, 200, 3000, 0.34), sl(20, 150, 4000, 0.34)}, []string{"rate FELL", "GREW: 4000 µs against 3000 µs"}},
		{[]RegistrationSlice{sl(10, 200, 3000, 0.34), sl(20, 195, 3000, 0.34)}, []string{"rate held", "97.5% of the first's"}},
	} {
		r := &RegistrationReport{Slices: c.slices}
		r.judge()
		for _, w := range c.want {
			if !strings.Contains(r.Verdict(), w) {
				t.Errorf("verdict %q lacks %q", r.Verdict(), w)
			}
		}
	}
}
