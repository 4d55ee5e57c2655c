package api

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
)

// checkIn is a resident scanning a venue code (场所码), alone or with
// dependents (同行人员). It answers only once the check-in is durable.
func (s *Server) checkIn(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in CheckinRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Checkins.CheckIn(r.Context(), pr.ID, checkin.Input(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, checkinResponse(res))
	return nil
}

// venueCounts is what a venue may see: check-ins per hour, never who.
func (s *Server) venueCounts(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	to, err := timeParam(ErrToInvalid, "to", q.Get("to"), time.Now())
	if err != nil {
		return err
	}
	from, err := timeParam(ErrFromInvalid, "from", q.Get("from"), to.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	c, err := s.Checkins.Counts(r.Context(), pr, r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, venueCounts(c))
	return nil
}

// timeParam reads an RFC 3339 query parameter, or def when it is absent.
func timeParam(bad *apierr.Error, name, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, bad.Withf("%s must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00", name)
	}
	return t, nil
}
