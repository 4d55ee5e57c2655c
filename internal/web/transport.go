package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/transport"
)

// The transport company's page: its vehicles with the codes to print in
// them and how many rode each today, a form to add one, and the station's
// check of the code and the temperature together.
func (s *Server) transportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /unit/transport", s.unit(s.unitTransport))
	mux.HandleFunc("POST /unit/transport/vehicles", s.unit(s.unitAddVehicle))
	mux.HandleFunc("POST /unit/transport/station", s.unit(s.unitStation))
}

type transportData struct {
	Day          *transport.Day
	Date         string
	Plate, Route string
	Temperature  string    // the station form's reading, kept when refused as input
	Station      *gateView // the last station check's answer
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

// unitStation is a station's check: the code and the temperature read with
// it, admitted, or refused with the reasons (a yellow or red code, a fever
// of 37.3 °C or more).
func (s *Server) unitStation(w http.ResponseWriter, r *http.Request, p *page) error {
	d := transportData{Temperature: strings.TrimSpace(r.PostFormValue("temperature"))}
	in := transport.StationInput{Code: codes.TrimScanned(r.PostFormValue("code"))}
	var err error
	if d.Temperature != "" {
		c, perr := strconv.ParseFloat(d.Temperature, 64)
		if perr != nil {
			err = transport.ErrTemperatureInvalid
		}
		in.Celsius = &c
	}
	var sc *gateway.Scan
	if err == nil {
		sc, err = s.Transport.Station(r.Context(), p.Unit.p, in)
	}
	if err != nil {
		for _, x := range invalidCode {
			if errors.Is(err, x) {
				p.SetError(err)
				d.Station = &gateView{State: "invalid", Word: p.T("js.invalid"), Detail: p.Err}
				p.Err = ""
				return s.showUnitTransport(w, r, p, errStatus(err), d)
			}
		}
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitTransport(w, r, p, st, d) })
	}
	v := &gateView{State: sc.Color.String(), Name: sc.MaskedName}
	if sc.Admitted {
		v.Word = p.T("transport.station_admitted")
	} else {
		v.Word, v.Detail = p.T("transport.station_refused"), reasonWords(p, sc.Reasons...)
		if v.State == "green" {
			v.State = "yellow" // refused for a fever: not a green light
		}
	}
	d.Temperature, d.Station = "", v
	return s.showUnitTransport(w, r, p, http.StatusOK, d)
}
