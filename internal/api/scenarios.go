package api

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clinic"
)

// The gateway's fever-clinic, hospital and ride-hailing scenarios, the
// operators' views of them and the resident's handles for platforms.
func (s *Server) scenarioRoutes() []route {
	const clinicAuth = "fever clinic or hospital API key with clinic.fever, or its unit account"
	return []route{
		{Method: "POST", Path: "/gateway/v1/clinic/visits", Auth: clinicAuth,
			Summary: "Register a fever-clinic visit after a scan {subject, temperature, symptoms?: [codes of the declaration vocabulary], diagnosis?, doctor} → the visit, open, with the patient's colour after it; records clinic.fever (the default rules: yellow until a negative test at or after the visit)",
			In:      ClinicVisitRequest{}, Out: replies(created(ClinicVisitResponse{})),
			h: s.principal(s.registerVisit)},
		{Method: "GET", Path: "/gateway/v1/clinic/visits", Auth: clinicAuth,
			Summary: "The clinic's follow-up: every open visit, oldest first, and the visits closed on ?date (default today), newest first, with that day's registered and fever counts",
			Out:     replies(ok(ClinicVisitsResponse{})),
			h:       s.principal(s.clinicVisits)},
		{Method: "POST", Path: "/gateway/v1/clinic/visits/{id}/close", Auth: clinicAuth,
			Summary: "Close a visit's follow-up {outcome: negative|positive|discharged, sampled_at?, note?}: a test result is recorded as the patient's nat.result at sampled_at (default the visit's time), so a negative one turns the patient green; 409 visit_closed",
			In:      CloseVisitRequest{}, Out: replies(ok(ClinicVisitResponse{})),
			h: s.principal(s.closeVisit)},
		{Method: "GET", Path: "/admin/orgs/{id}/clinic/visits", Auth: "operator: org.write or stats.read",
			Summary: "A clinic's follow-up as the clinic sees it: ?date",
			Out:     replies(ok(ClinicVisitsResponse{})),
			h:       s.principal(s.adminClinicVisits)},
		{Method: "GET", Path: "/admin/clinic/summary", Auth: "operator: stats.read",
			Summary: "Fever-clinic visits of a day per town of the clinic in scope: visits, fever, clinics, follow-ups closed negative, positive or discharged that day, and open at its end: ?date (default today)",
			Out:     replies(ok(ClinicSummaryResponse{})),
			h:       s.principal(s.clinicSummary)},

		{Method: "POST", Path: "/gateway/v1/hospital/identity", Auth: "hospital or fever clinic API key with hospital.identity, or its unit account",
			Summary: "Receive a scanned patient's identity {subject, purpose: card|registration} → {name, id_type, id_number, phone, purpose, at}, once per scan; audited as a person read by the key or account; 409 subject_used for a second request with the same subject",
			In:      IdentityRequest{}, Out: replies(ok(IdentityResponse{})),
			h: s.principal(s.hospitalIdentity)},
		{Method: "POST", Path: "/gateway/v1/hospital/queue", Auth: "hospital API key with hospital.queue, or its unit account",
			Summary: "Give a scanned patient a queue number {subject, department} → {department, number, color, routed, reasons, ...}, once per scan: green in the department asked for, yellow at the fever clinic (routed, color_yellow), red refused (409 queue_refused)",
			In:      QueueRequest{}, Out: replies(created(TicketResponse{})),
			h: s.principal(s.hospitalQueue)},
		{Method: "GET", Path: "/gateway/v1/hospital/queue", Auth: "hospital API key with hospital.queue, or its unit account",
			Summary: "The hospital's queue of ?date (default today) in the order given, with counts per department",
			Out:     replies(ok(HospitalQueueResponse{})),
			h:       s.principal(s.hospitalDay)},
		{Method: "GET", Path: "/admin/orgs/{id}/hospital/queue", Auth: "operator: org.write or stats.read",
			Summary: "A hospital's queue of a day: ?date",
			Out:     replies(ok(HospitalQueueResponse{})),
			h:       s.principal(s.adminHospitalDay)},

		{Method: "POST", Path: "/gateway/v1/ride/check", Auth: "ride-hailing or taxi API key with ride.check",
			Summary: "A driver's or passenger's colour by the handle they shared with this platform {handle} → {handle, color}; 404 handle_unknown (never shared with this platform, or withdrawn)",
			In:      RideCheckRequest{}, Out: replies(ok(RideCheckResponse{})),
			h: s.principal(s.rideCheck)},
		{Method: "POST", Path: "/gateway/v1/ride/check/batch", Auth: "ride-hailing or taxi API key with ride.check",
			Summary: "Colours of up to 10,000 handles at once {handles: [...]} → {checked, unknown, counts, results: [{handle, color} | {handle, error: handle_unknown}]} in order; counts as len(handles) requests against the key's daily quota and one against its rate",
			In:      RideBatchRequest{}, Out: replies(ok(RideBatchResponse{})),
			h: s.principal(s.rideBatch)},
		{Method: "GET", Path: "/me/platforms", Auth: "resident",
			Summary: "The ride-hailing platforms and taxi companies, with the handle the resident shares with each",
			Out:     replies(ok(PlatformListResponse{})),
			h:       s.resident(s.myPlatforms)},
		{Method: "POST", Path: "/me/platforms/{id}/handle", Auth: "resident",
			Summary: "Share a handle with a platform (a new random one, or the one in use); audited",
			Out:     replies(ok(PlatformResponse{})),
			h:       s.resident(s.grantHandle)},
		{Method: "DELETE", Path: "/me/platforms/{id}/handle", Auth: "resident",
			Summary: "Withdraw the handle shared with a platform: it never answers again; audited",
			Out:     replies(noContent),
			h:       s.resident(s.withdrawHandle)},
	}
}

func (s *Server) registerVisit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ClinicVisitRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.Clinic.Register(r.Context(), p, clinic.VisitInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, visitResponse(v))
	return nil
}

func (s *Server) closeVisit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in CloseVisitRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c := clinic.CloseInput{Outcome: in.Outcome, Note: in.Note}
	if in.SampledAt != nil {
		c.SampledAt = *in.SampledAt
	}
	v, err := s.Clinic.Close(r.Context(), p, r.PathValue("id"), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, visitResponse(v))
	return nil
}

func (s *Server) clinicVisits(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeClinicVisits(w, r, p, "")
}

func (s *Server) adminClinicVisits(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeClinicVisits(w, r, p, r.PathValue("id"))
}

func (s *Server) writeClinicVisits(w http.ResponseWriter, r *http.Request, p *auth.Principal, orgID string) error {
	day, err := s.Clinic.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	l, err := s.Clinic.Visits(r.Context(), p, orgID, day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, clinicVisits(l))
	return nil
}

func (s *Server) clinicSummary(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	day, err := s.Clinic.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	sum, err := s.Clinic.Summary(r.Context(), p, day)
	if err != nil {
		return err
	}
	out := ClinicSummaryResponse{Date: day.Format(time.DateOnly), Towns: make([]TownVisits, len(sum.Towns)),
		Total: townVisits(s.Regions, &sum.Total)}
	out.Total.Region, out.Total.Name = p.Region, s.Regions.FullName(p.Region)
	for i, t := range sum.Towns {
		out.Towns[i] = townVisits(s.Regions, t)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) hospitalIdentity(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in IdentityRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	id, err := s.Hospital.Identity(r.Context(), p, in.Subject, in.Purpose)
	if err != nil {
		return err
	}
	// Personal data: no cache anywhere may keep it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, IdentityResponse{Name: id.Name, IDType: string(id.IDType), IDNumber: id.IDNumber, Phone: id.Phone,
		Purpose: id.Purpose, At: id.At})
	return nil
}

func (s *Server) hospitalQueue(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in QueueRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hospital.Queue(r.Context(), p, in.Subject, in.Department)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ticketResponse(t))
	return nil
}

func (s *Server) hospitalDay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeHospitalDay(w, r, p, "")
}

func (s *Server) adminHospitalDay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeHospitalDay(w, r, p, r.PathValue("id"))
}

func (s *Server) writeHospitalDay(w http.ResponseWriter, r *http.Request, p *auth.Principal, orgID string) error {
	day, err := s.Hospital.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Hospital.Tickets(r.Context(), p, orgID, day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hospitalQueue(d))
	return nil
}

func (s *Server) rideCheck(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in RideCheckRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Ride.Check(r.Context(), p, in.Handle)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RideCheckResponse{Handle: res.Handle, Color: res.Color.String()})
	return nil
}

func (s *Server) rideBatch(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in RideBatchRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rs, err := s.Ride.CheckBatch(r.Context(), p, in.Handles)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rideBatch(rs))
	return nil
}

func (s *Server) myPlatforms(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ps, err := s.Ride.Platforms(r.Context(), p)
	if err != nil {
		return err
	}
	out := PlatformListResponse{Platforms: make([]PlatformResponse, len(ps))}
	for i, x := range ps {
		out.Platforms[i] = platformResponse(x)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) grantHandle(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	x, err := s.Ride.Grant(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, platformResponse(x))
	return nil
}

func (s *Server) withdrawHandle(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := s.Ride.Withdraw(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
