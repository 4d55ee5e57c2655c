package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/person"
)

func (s *Server) view(p *person.Person, reader *auth.Principal) PersonView {
	return personView(p.For(reader), s.Regions.FullName(p.Region))
}

func (s *Server) register_(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in RegisterRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Persons.Register(r.Context(), pr.ID, person.Input{Name: in.Name, IDType: in.IDType, IDNumber: in.IDNumber, Region: in.Region})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.view(p, pr))
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	p, err := s.Persons.ForAccount(r.Context(), pr.ID)
	if err != nil {
		return err
	}
	return s.writeMe(w, r, pr, p)
}

func (s *Server) addDependent(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in DependentRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Persons.AddDependent(r.Context(), pr.ID, person.Input{Name: in.Name, IDType: in.IDType,
		IDNumber: in.IDNumber, Region: in.Region, Relation: in.Relation})
	if err != nil {
		return err
	}
	v := s.view(p, pr)
	v.Relation = in.Relation
	if v.Relation == "" {
		v.Relation = "other"
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listDependents(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	ds, err := s.Persons.Dependents(r.Context(), pr.ID)
	if err != nil {
		return err
	}
	out := DependentListResponse{Dependents: make([]PersonView, 0, len(ds))}
	for _, d := range ds {
		v := s.view(d.Person, pr)
		v.Relation = d.Relation
		out.Dependents = append(out.Dependents, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) removeDependent(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	if err := s.Persons.RemoveDependent(r.Context(), pr.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
