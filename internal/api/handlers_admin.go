package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rollout"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/venue"
)

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in PersonRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Persons.Create(r.Context(), pr, person.Input{Name: in.Name, IDType: in.IDType, IDNumber: in.IDNumber,
		Phone: in.Phone, Region: in.Region})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.view(p, pr))
	return nil
}

func (s *Server) searchPersons(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 50, 200)
	if err != nil {
		return err
	}
	ps, err := s.Persons.Search(r.Context(), pr, person.Query{IDType: q.Get("id_type"), IDNumber: q.Get("id_number"),
		Phone: q.Get("phone"), Name: q.Get("name"), Region: q.Get("region"), After: q.Get("after"), Limit: limit})
	if err != nil {
		return err
	}
	out := PersonListResponse{Persons: make([]PersonView, 0, len(ps))}
	for _, p := range ps {
		out.Persons = append(out.Persons, s.view(p, pr))
	}
	if len(ps) == limit {
		out.Next = ps[len(ps)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	p, err := s.Persons.Lookup(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeAdminPerson(w, r, pr, p)
}

// intParam reads a whole-number query parameter, 0 or more, or def when it
// is absent.
func intParam(q url.Values, bad *apierr.Error, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, bad.Withf("%s must be a whole number, 0 or more, not %q", name, v)
	}
	return n, nil
}

// limitParam reads ?limit, the size of a page: absent or 0 is def, more
// than max is max. A handler that says whether there is a next page
// compares with what this returns, never with what was asked for.
func limitParam(q url.Values, def, max int) (int, error) {
	n, err := intParam(q, ErrLimitInvalid, "limit", def)
	if n == 0 || err != nil {
		return def, err
	}
	return min(n, max), nil
}

// CheckinURL is what a venue's QR code holds: the check-in page for its token.
func (s *Server) CheckinURL(token string) string { return s.Config.PublicURL + "/c/" + token }

func (s *Server) createVenue(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in VenueRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.Venues.Create(r.Context(), pr, venue.Input(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.venueResponse(v))
	return nil
}

func (s *Server) listVenues(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	limit, err := limitParam(r.URL.Query(), 200, 1000)
	if err != nil {
		return err
	}
	vs, err := s.Venues.List(r.Context(), pr, limit)
	if err != nil {
		return err
	}
	out := VenueListResponse{Venues: make([]VenueResponse, 0, len(vs))}
	for _, v := range vs {
		out.Venues = append(out.Venues, s.venueResponse(v))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getVenue(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	v, err := s.Venues.Get(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.venueResponse(v))
	return nil
}

func (s *Server) rotateVenueToken(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	v, err := s.Venues.RotateToken(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.venueResponse(v))
	return nil
}

// venuePoster is the venue's QR as a PNG. The token is printed on the poster
// anyway, so the image is public; a revoked token gets no poster.
func (s *Server) venuePoster(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	_, revoked, err := s.Venues.ByToken(r.Context(), token)
	if err != nil {
		return err
	}
	if revoked {
		return venue.ErrPosterRevoked
	}
	png, err := qrcode.Encode(s.CheckinURL(token), qrcode.Medium, 512)
	if err != nil {
		return fmt.Errorf("api: venue QR: %w", err)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "poster.png", timeZero, bytes.NewReader(png))
	return nil
}

func (s *Server) createCheckpoint(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in CheckpointRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, key, err := s.Checkpoints.Create(r.Context(), pr, checkpoint.Input(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CheckpointCreated{APIKey: key, Checkpoint: checkpointResponse(c), ID: c.ID})
	return nil
}

func (s *Server) listCheckpoints(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	t, err := s.Checkpoints.List(r.Context(), pr)
	if err != nil {
		return err
	}
	out := CheckpointTable{Checkpoints: make([]CheckpointResponse, len(t.Checkpoints)), Total: t.Total, Built: t.Built, Enabled: t.Enabled}
	for i, c := range t.Checkpoints {
		out.Checkpoints[i] = checkpointResponse(c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateCheckpoint(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in CheckpointPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, key, err := s.Checkpoints.Update(r.Context(), pr, r.PathValue("id"), in.Built, in.Enabled, in.VenueKind)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, CheckpointUpdated{APIKey: key, Checkpoint: checkpointResponse(c)})
	return nil
}

func (s *Server) newCheckpointKey(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	c, key, err := s.Checkpoints.IssueKey(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, CheckpointUpdated{APIKey: key, Checkpoint: checkpointResponse(c)})
	return nil
}

func (s *Server) scannerCheckpoint(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	c, err := s.Checkpoints.Of(r.Context(), pr)
	if err != nil {
		return err
	}
	name := c.Region
	if rg, ok := s.Regions.Lookup(c.Region); ok {
		name = rg.Name
	}
	writeJSON(w, http.StatusOK, ScannerCheckpoint{ID: c.ID, Name: c.Name, Region: c.Region, RegionName: name})
	return nil
}

func (s *Server) outbox(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	f := sms.Filter{State: q.Get("state")}
	if to := q.Get("to"); to != "" {
		phone, err := idnum.NormalizePhone(to)
		if err != nil {
			return err
		}
		f.To = phone
	}
	var err error
	if f.Limit, err = limitParam(q, 100, 500); err != nil {
		return err
	}
	before, err := intParam(q, ErrBeforeInvalid, "before", 0)
	if err != nil {
		return err
	}
	f.Before = int64(before)
	items, err := s.Outbox.ListFor(r.Context(), pr, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, outboxResponse(items))
	return nil
}

// smsReport is a delivery report from the SMS gateway: Kannel calls the
// dlr-url the message was handed with. The token in it is the credential.
func (s *Server) smsReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	state, err := s.Outbox.Record(r.Context(), sms.Report{ID: q.Get("id"), Token: q.Get("t"), Type: q.Get("type"), Answer: q.Get("answer")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SMSReportResponse{ID: q.Get("id"), State: state})
	return nil
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 100, 500)
	if err != nil {
		return err
	}
	before, err := intParam(q, ErrBeforeInvalid, "before", 0)
	if err != nil {
		return err
	}
	entries, err := audit.ListFor(r.Context(), s.DB, pr, audit.Filter{Subject: q.Get("subject"), Before: int64(before), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, auditResponse(entries))
	return nil
}

func (s *Server) coverage(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	ratio := s.Config.CoverageRatio
	if v := r.URL.Query().Get("ratio"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return rollout.ErrRatioInvalid.Withf("ratio must be a number such as 0.9")
		}
		ratio = f
	}
	t, err := rollout.Compute(r.Context(), s.DB, s.Persons, pr, ratio)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, coverageResponse(t))
	return nil
}

func (s *Server) regionChildren(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	if code == "root" {
		code = ""
	} else if err := s.Regions.Validate(code); err != nil {
		return ErrRegionUnknown.Withf("no region %q", code)
	}
	out := RegionResponse{Children: []RegionRef{}, Code: code, Name: s.Regions.FullName(code)}
	for _, c := range s.Regions.Children(code) {
		out.Children = append(out.Children, RegionRef{c.Code, c.Name})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

var timeZero time.Time
