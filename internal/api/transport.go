package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/transport"
)

// The gateway's transport scenario: vehicles with codes passengers scan
// to ride, and checks at stations.
func (s *Server) transportRoutes() []route {
	const transportAuth = "bus operator or taxi company API key with transport (and scan for stations), or its unit account"
	return []route{
		{Method: "POST", Path: "/gateway/v1/transport/vehicles", Auth: transportAuth,
			Summary: "Register a vehicle {plate, route?} → the vehicle with its own venue code (kind vehicle): passengers scan it to ride, a check-in that tracing reads with the vehicle window; 409 vehicle_exists for a plate already registered",
			In:      VehicleRequest{}, Out: replies(created(VehicleResponse{})),
			h: s.principal(s.addVehicle)},
		{Method: "GET", Path: "/gateway/v1/transport/vehicles", Auth: transportAuth,
			Summary: "The company's vehicles by plate with their codes (poster_url to print) and the rides of ?date (default today), never who rode",
			Out:     replies(ok(VehicleListResponse{})),
			h:       s.principal(s.vehicles)},
		{Method: "POST", Path: "/gateway/v1/transport/vehicles/{id}/driver", Auth: transportAuth,
			Summary: "A driver going on duty {code | id_type, id_number} → the scan's answer and bound: green binds the driver to the vehicle (replacing the one before), yellow or red is refused with the reasons and binds nobody; 404 vehicle_not_found; 422 for a code that is not valid",
			In:      DriverRequest{}, Out: replies(ok(DriverDutyResponse{})),
			h: s.principal(s.driverDuty)},
		{Method: "POST", Path: "/gateway/v1/transport/station", Auth: transportAuth,
			Summary: "A passenger at a station's gate {code | id_type, id_number; temperature} → the scan's answer: admitted, or refused with the reasons (color_red, color_yellow, fever at 37.3 °C or more, which is recorded); 400 temperature_required; 422 for a code that is not valid",
			In:      StationCheckRequest{}, Out: replies(ok(ScanResponse{})),
			h: s.principal(s.stationCheck)},
	}
}

func (s *Server) addVehicle(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in VehicleRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.Transport.AddVehicle(r.Context(), p, transport.VehicleInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.vehicleResponse(v))
	return nil
}

func (s *Server) vehicles(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	day, err := s.Transport.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Transport.Vehicles(r.Context(), p, day)
	if err != nil {
		return err
	}
	out := VehicleListResponse{Date: d.Date.Format("2006-01-02"), Rides: d.Rides, Vehicles: []VehicleResponse{}}
	for _, v := range d.Vehicles {
		out.Vehicles = append(out.Vehicles, s.vehicleResponse(v))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) stationCheck(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in StationCheckRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sc, err := s.Transport.Station(r.Context(), p, transport.StationInput{Code: in.Code, IDType: in.IDType, IDNumber: in.IDNumber, Celsius: in.Temperature})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scanResponse(sc))
	return nil
}

func (s *Server) driverDuty(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in DriverRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d, err := s.Transport.Driver(r.Context(), p, r.PathValue("id"), transport.DriverInput(in))
	if err != nil {
		return err
	}
	sc := scanResponse(d.Scan)
	writeJSON(w, http.StatusOK, DriverDutyResponse{Vehicle: s.vehicleResponse(d.Vehicle), MaskedName: sc.MaskedName, Color: sc.Color,
		Admitted: sc.Admitted, Reasons: sc.Reasons, Bound: d.Bound})
	return nil
}
