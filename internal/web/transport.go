package web

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/transport"
)

// The transport company's page: its vehicles with the codes to print in
// them and how many rode each today, and a form to add one.
func (s *Server) transportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /unit/transport", s.unit(s.unitTransport))
	mux.HandleFunc("POST /unit/transport/vehicles", s.unit(s.unitAddVehicle))
}

type transportData struct {
	Day          *transport.Day
	Date         string
	Plate, Route string
}

func (s *Server) unitTransport(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitTransport(w, r, p, http.StatusOK, transportData{})
}

func (s *Server) showUnitTransport(w http.ResponseWriter, r *http.Request, p *page, status int, d transportData) error {
	day, err := s.Transport.ParseDay("")
	if err != nil {
		return err
	}
	if d.Day, err = s.Transport.Vehicles(r.Context(), p.Unit.p, day); err != nil {
		return err
	}
	d.Date = day.Format(time.DateOnly)
	p.Title, p.NavOn, p.Data = p.T("unit.nav_transport"), "/unit/transport", d
	s.render(w, r, status, "unit_transport", p)
	return nil
}

func (s *Server) unitAddVehicle(w http.ResponseWriter, r *http.Request, p *page) error {
	in := transport.VehicleInput{Plate: r.PostFormValue("plate"), Route: r.PostFormValue("route")}
	v, err := s.Transport.AddVehicle(r.Context(), p.Unit.p, in)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error {
			return s.showUnitTransport(w, r, p, st, transportData{Plate: in.Plate, Route: in.Route})
		})
	}
	s.flash(w, r, "flash.vehicle_added", v.Plate)
	redirect(w, r, "/unit/transport")
	return nil
}
