package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/entry"
)

func (s *Server) entryRoutes() []route {
	return []route{
		{Method: "POST", Path: "/verify/foreign", Auth: "API key: verify, or operator: entry.write",
			Summary: "Verify a credential issued abroad {credential}: an EU DCC (HC1:) or a SMART Health Card (shc:/, JWS, card file) → {valid, format, issuer_country, kind, holder, details, reasons[]}; an invalid credential is a 200 with reasons; nothing is stored",
			In:      ForeignVerifyRequest{}, Out: replies(ok(ForeignVerifyResponse{})),
			h: s.principal(s.verifyForeign)},
		{Method: "POST", Path: "/admin/arrivals", Auth: "operator: entry.write",
			Summary: "Register an inbound traveller with a valid foreign credential: records arrival.inbound (from abroad, registered at the border), issues a local code; audited; 422 credential_invalid names the reasons",
			In:      ArrivalRequest{}, Out: replies(created(ArrivalResponse{})),
			h: s.operator(auth.EntryWrite, s.registerArrival)},
		{Method: "GET", Path: "/admin/arrivals", Auth: "operator: person.read",
			Summary: "Inbound travellers registered in scope, newest first (?limit=, at most 500)",
			Out:     replies(ok(ArrivalList{})),
			h:       s.operator(auth.PersonRead, s.listArrivals)},
	}
}

func (s *Server) verifyForeign(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ForeignVerifyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Entry.Verify(r.Context(), p, in.Credential)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ForeignResponse(&res))
	return nil
}

func (s *Server) registerArrival(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ArrivalRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var at time.Time
	if in.ArrivedAt != nil {
		at = *in.ArrivedAt
	}
	a, err := s.Entry.RegisterArrival(r.Context(), p, entry.ArrivalInput{Credential: in.Credential, Name: in.Name, IDType: string(in.IDType),
		IDNumber: in.IDNumber, Phone: in.Phone, OriginCountry: in.OriginCountry, Port: in.Port, Transport: in.Transport, ArrivedAt: at})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, arrivalResponse(a))
	return nil
}

func (s *Server) listArrivals(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return ErrLimitInvalid.Withf("limit must be 1 to 500")
		}
		limit = n
	}
	as, err := s.Entry.Arrivals(r.Context(), p, limit)
	if err != nil {
		return err
	}
	out := ArrivalList{Arrivals: make([]ArrivalResponse, len(as))}
	for i, a := range as {
		out.Arrivals[i] = arrivalResponse(a)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
