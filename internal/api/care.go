package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
)

// Care codes (爱心码).

func (s *Server) issueDependentCare(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, err := s.Codes.IssueCare(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, careCode(c))
	return nil
}

func (s *Server) listDependentCare(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	dep, err := s.Persons.Dependent(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	cs, err := s.Codes.CareCodes(r.Context(), dep.Num)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, careCodeList(cs))
	return nil
}

func (s *Server) dependentCarePNG(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	size, err := pngSize(r)
	if err != nil {
		return err
	}
	c, err := s.Codes.CareCode(r.Context(), p, r.PathValue("id"), r.PathValue("cid"))
	if err != nil {
		return err
	}
	if err := c.Printable(); err != nil {
		return err
	}
	return writePNG(w, c.Code, c.ExpiresAt, size)
}

func (s *Server) revokeDependentCare(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, err := s.Codes.RevokeCare(r.Context(), p, r.PathValue("id"), r.PathValue("cid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, careCode(c))
	return nil
}

func (s *Server) issueAdminCare(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, err := s.Codes.IssueCare(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, careCode(c))
	return nil
}

func (s *Server) listAdminCare(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	person, err := s.Persons.Lookup(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	cs, err := s.Codes.CareCodes(r.Context(), person.Num)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, careCodeList(cs))
	return nil
}

func (s *Server) adminCarePNG(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	size, err := pngSize(r)
	if err != nil {
		return err
	}
	c, err := s.Codes.CareCode(r.Context(), p, "", r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.Printable(); err != nil {
		return err
	}
	// A reprint hands out a credential valid for days: audited.
	if err := audit.Record(r.Context(), s.DB, audit.Entry{Actor: p.Actor(), Action: "care_code.print",
		Subject: "person:" + c.PersonID, Region: c.Region, Detail: map[string]any{"care_code": c.ID}}); err != nil {
		return err
	}
	return writePNG(w, c.Code, c.ExpiresAt, size)
}

func (s *Server) revokeAdminCare(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, err := s.Codes.RevokeCare(r.Context(), p, "", r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, careCode(c))
	return nil
}
