package api

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clinic"
)

// The gateway's fever-clinic, hospital and ride-hailing scenarios, the
// operators' views of them and the resident's handles for platforms.
func (s *Server) scenarioRoutes() {
	s.handle("POST", "/gateway/v1/clinic/visits", s.principal(s.registerVisit))
	s.handle("GET", "/gateway/v1/clinic/visits", s.principal(s.clinicVisits))
	s.handle("POST", "/gateway/v1/clinic/visits/{id}/close", s.principal(s.closeVisit))
	s.handle("GET", "/admin/orgs/{id}/clinic/visits", s.principal(s.adminClinicVisits))
	s.handle("GET", "/admin/clinic/summary", s.principal(s.clinicSummary))

	s.handle("POST", "/gateway/v1/hospital/identity", s.principal(s.hospitalIdentity))
	s.handle("POST", "/gateway/v1/hospital/queue", s.principal(s.hospitalQueue))
	s.handle("GET", "/gateway/v1/hospital/queue", s.principal(s.hospitalDay))
	s.handle("GET", "/admin/orgs/{id}/hospital/queue", s.principal(s.adminHospitalDay))

	s.handle("POST", "/gateway/v1/ride/check", s.principal(s.rideCheck))
	s.handle("POST", "/gateway/v1/ride/check/batch", s.principal(s.rideBatch))
	s.handle("GET", "/me/platforms", s.resident(s.myPlatforms))
	s.handle("POST", "/me/platforms/{id}/handle", s.resident(s.grantHandle))
	s.handle("DELETE", "/me/platforms/{id}/handle", s.resident(s.withdrawHandle))
}

func (s *Server) registerVisit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in VisitRequest
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
