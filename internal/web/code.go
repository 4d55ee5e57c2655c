package web

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/apierr"
)

func (s *Server) codeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me", s.resident(s.mePage))
}

type meData struct {
	Name       string
	RegionName string
}

func (s *Server) mePage(w http.ResponseWriter, r *http.Request, p *page) error {
	x, err := s.Persons.ForAccount(r.Context(), p.Resident.ID)
	if apierr.Is(err, "not_registered") {
		redirect(w, r, "/register")
		return nil
	}
	if err != nil {
		return err
	}
	p.Title = p.T("me.title")
	p.Data = meData{Name: x.Masked().Name, RegionName: s.Regions.FullName(x.Region)}
	s.render(w, r, http.StatusOK, "me", p)
	return nil
}
