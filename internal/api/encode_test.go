package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/prometheus/client_golang/prometheus"
)

// An answer that cannot be encoded is the server's failure: a logged 500
// with the error body, never a 200 with nothing after it.
func TestUnencodableAnswerIsALogged500(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{Log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics(nil)}
	beijing := time.FixedZone("CST", 8*3600)
	for name, v := range map[string]any{
		"NaN":        struct{ Ratio float64 }{math.NaN()},
		"year 10000": struct{ At time.Time }{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).In(beijing)},
	} {
		logs.Reset()
		h := s.instrument("GET /x", s.call(func(w http.ResponseWriter, r *http.Request) error {
			writeJSON(w, http.StatusOK, v)
			return nil
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
			t.Errorf("%s: %d %q, want 500 with the internal error", name, rec.Code, rec.Body)
		}
		if !strings.Contains(logs.String(), "answer not encoded") {
			t.Errorf("%s: not logged: %s", name, logs.String())
		}
	}
}

func TestTimeParamRange(t *testing.T) {
	for _, v := range []string{"9999-12-31T23:59:59Z", "9000-01-01T00:00:00+08:00", "0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z"} {
		if _, err := timeParam(ErrToInvalid, "to", v, time.Now()); err == nil {
			t.Errorf("timeParam(%s) accepted", v)
		}
		var f timeField
		if err := f.UnmarshalJSON([]byte(`"` + v + `"`)); err == nil && v != "0001-01-01T00:00:00Z" {
			t.Errorf("timeField(%s) accepted", v)
		}
	}
	if _, err := timeParam(ErrToInvalid, "to", "2022-04-01T10:00:00+08:00", time.Now()); err != nil {
		t.Errorf("a plain time refused: %v", err)
	}
}

// A request the client abandons is its own outcome: counted as 499, not as
// a 500, and not logged as a failure of the server.
func TestAbandonedRequestIsNotAFailure(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	s := &Server{Log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics(reg)}
	h := s.instrument("POST /x", s.call(func(w http.ResponseWriter, r *http.Request) error {
		<-r.Context().Done()
		return fmt.Errorf("db: begin: %w", r.Context().Err())
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", nil).WithContext(ctx))
	if n := metricstest.Value(t, reg, "healthcode_http_requests_total", "route", "POST /x", "code", "500"); n != 0 {
		t.Errorf("counted as %v 500s", n)
	}
	if n := metricstest.Value(t, reg, "healthcode_http_requests_total", "route", "POST /x", "code", "499"); n != 1 {
		t.Errorf("499 counted %v times, want 1", n)
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("logged as a failure: %s", logs.String())
	}
}
