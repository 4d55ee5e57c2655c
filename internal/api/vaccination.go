package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/csvsafe"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/vaccine"
)

// Vaccination: sites (open data), vaccines, slots, residents'
// appointments, records and certificates, doses registered at the site,
// and the console's counts.

func (s *Server) vaccinationRoutes() []route {
	return []route{
		{Method: "GET", Path: "/vaccination/sites",
			Summary: "Vaccination sites as open data; ?format=json|csv|geojson (RFC 7946, [lng, lat]), ?region=, ?near=lat,lng (nearest first, with distance_m), ?limit=",
			Out:     replies(ok(VaccinationSiteList{}), csvFile, ok(SiteFeatureCollection{}).in("application/geo+json")),
			h:       s.call(s.vaccinationSites)},
		{Method: "GET", Path: "/vaccination/sites/{id}",
			Summary: "One vaccination site",
			Out:     replies(ok(VaccinationSiteResponse{})),
			h:       s.call(s.vaccinationSite)},
		{Method: "GET", Path: "/vaccination/sites/{id}/slots",
			Summary: "A site's slots from today for ?days= (at most 14), with the places left",
			Out:     replies(ok(SlotList{})),
			h:       s.call(s.vaccinationSlots)},
		{Method: "GET", Path: "/vaccination/vaccines",
			Summary: "The vaccines: product, maker, doses in the series, interval in days",
			Out:     replies(ok(VaccineList{})),
			h:       s.call(s.vaccines)},
		{Method: "POST", Path: "/admin/vaccination/sites", Auth: "operator: site.write",
			Summary: "Add a vaccination site: {name, address, phone?, hours?, lat, lng, region?}",
			In:      VaccinationSiteRequest{}, Out: replies(created(VaccinationSiteResponse{})),
			h: s.operator(auth.SiteWrite, s.createVaccinationSite)},
		{Method: "POST", Path: "/admin/vaccination/vaccines", Auth: "operator: site.write",
			Summary: "Add a vaccine: {name, maker, doses, interval_days}",
			In:      VaccineRequest{}, Out: replies(created(VaccineResponse{})),
			h: s.operator(auth.SiteWrite, s.createVaccine)},
		{Method: "POST", Path: "/admin/vaccination/slots", Auth: "operator: site.write",
			Summary: "Open places at a site: {site_id, vaccine_id, starts_at, ends_at, capacity}; 422 slot_past",
			In:      SlotRequest{}, Out: replies(created(SlotResponse{})),
			h: s.operator(auth.SiteWrite, s.createSlot)},
		{Method: "GET", Path: "/admin/vaccination/appointments", Auth: "operator: stats.read",
			Summary: "Places and appointments per day at the sites in scope, from ?day= (YYYY-MM-DD, default today) for ?days= (default 7)",
			Out:     replies(ok(AppointmentDays{})),
			h:       s.operator(auth.StatsRead, s.appointmentDays)},
		{Method: "GET", Path: "/admin/vaccination/doses", Auth: "operator: stats.read",
			Summary: "Doses given at the sites in scope, by town and vaccine",
			Out:     replies(ok(DosesByTown{})),
			h:       s.operator(auth.StatsRead, s.dosesByTown)},
		{Method: "GET", Path: "/admin/vaccination/coverage", Auth: "operator: stats.read",
			Summary: "Residents in scope by age band, with any dose and with the whole series",
			Out:     replies(ok(VaccinationCoverage{})),
			h:       s.operator(auth.StatsRead, s.vaccinationCoverage)},
		{Method: "POST", Path: "/admin/vaccination/doses/import", Auth: "operator: dose.write",
			Summary: "Import earlier doses from text/csv (id_type, id_number, vaccine, dose, lot, site, given_at); per-line report, good lines kept",
			In:      csvUpload, Out: replies(ok(DoseImportReport{})),
			h: s.operator(auth.DoseWrite, s.importDoses)},
		{Method: "POST", Path: "/vaccination/doses", Auth: "operator: dose.write",
			Summary: "Register a dose at the site: {code | id_type+id_number, vaccine_id, lot, dose, site_id, given_at?}; a dose that breaks the schedule is refused with the reason",
			In:      DoseRequest{}, Out: replies(created(DoseRegistered{})),
			h: s.operator(auth.DoseWrite, s.registerDose)},
		{Method: "POST", Path: "/me/appointments", Auth: "resident",
			Summary: "Book a place: {slot_id, person_id?} (a dependent); 409 slot_full, 409 appointment_exists, 422 slot_past",
			In:      AppointmentRequest{}, Out: replies(created(AppointmentResponse{})),
			h: s.resident(s.bookAppointment)},
		{Method: "GET", Path: "/me/appointments", Auth: "resident",
			Summary: "The resident's (or a dependent's, ?person_id=) appointments, newest first",
			Out:     replies(ok(AppointmentList{})),
			h:       s.resident(s.myAppointments)},
		{Method: "DELETE", Path: "/me/appointments/{id}", Auth: "resident",
			Summary: "Cancel an open appointment; the place is free again",
			Out:     replies(ok(AppointmentResponse{})),
			h:       s.resident(s.cancelAppointment)},
		{Method: "GET", Path: "/me/vaccinations", Auth: "resident",
			Summary: "The resident's (or a dependent's, ?person_id=) vaccination record",
			Out:     replies(ok(VaccinationRecord{})),
			h:       s.resident(s.myVaccinations)},
		{Method: "GET", Path: "/me/vaccinations/certificate", Auth: "resident",
			Summary: "A signed vaccination certificate (?person_id=): kind certificate, result vaccinated; verifiable offline with the trust list",
			Out:     replies(ok(VaccinationCertificate{})),
			h:       s.resident(s.vaccinationCertificate)},
		{Method: "GET", Path: "/me/vaccinations/certificate.png", Auth: "resident",
			Summary: "The vaccination certificate as a QR PNG (?person_id=)",
			Out:     replies(pngImage),
			h:       s.resident(s.vaccinationCertificatePNG)},
	}
}

func (s *Server) vaccinationSites(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "", "json", "csv", "geojson":
	default:
		return ErrFormatUnknown
	}
	sq := vaccine.SiteQuery{Region: q.Get("region")}
	if v := q.Get("near"); v != "" {
		ll, err := geo.ParseLatLng(v)
		if err != nil {
			return err
		}
		sq.Near = &ll
	}
	var err error
	if sq.Limit, err = limitParam(q, 0, vaccine.MaxSites); err != nil {
		return err
	}
	sites, err := s.Vaccine.ListSites(r.Context(), sq)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	switch format {
	case "csv":
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		cw.Write([]string{"id", "name", "address", "phone", "hours", "lat", "lng", "region", "region_name", "open", "distance_m"})
		for _, st := range sites {
			d := ""
			if st.DistanceM != nil {
				d = strconv.FormatInt(*st.DistanceM, 10)
			}
			cw.Write([]string{st.ID, csvsafe.Text(st.Name), csvsafe.Text(st.Address), csvsafe.Text(st.Phone), csvsafe.Text(st.Hours),
				strconv.FormatFloat(st.Lat, 'f', -1, 64), strconv.FormatFloat(st.Lng, 'f', -1, 64), st.Region, csvsafe.Text(st.RegionName),
				strconv.FormatBool(st.Open), d})
		}
		cw.Flush()
		w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
		w.Header().Set("Content-Disposition", `attachment; filename="vaccination-sites.csv"`)
		w.Write(buf.Bytes())
	case "geojson":
		fc := SiteFeatureCollection{Type: "FeatureCollection", Features: make([]SiteFeature, 0, len(sites))}
		for _, st := range sites {
			fc.Features = append(fc.Features, SiteFeature{Type: "Feature", ID: st.ID,
				Geometry: GeoPoint{Type: "Point", Coordinates: [2]float64{st.Lng, st.Lat}},
				Properties: SiteProperties{Address: st.Address, DistanceM: st.DistanceM, Hours: st.Hours, Name: st.Name, Open: st.Open,
					Phone: st.Phone, Region: st.Region, RegionName: st.RegionName}})
		}
		return writeGeoJSON(w, fc)
	default:
		out := VaccinationSiteList{Count: len(sites), Sites: make([]VaccinationSiteResponse, len(sites))}
		for i, st := range sites {
			out.Sites[i] = vaccinationSiteResponse(st)
		}
		writeJSON(w, http.StatusOK, out)
	}
	return nil
}

func (s *Server) vaccinationSite(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Vaccine.GetSite(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vaccinationSiteResponse(st))
	return nil
}

func (s *Server) vaccinationSlots(w http.ResponseWriter, r *http.Request) error {
	days := vaccine.SlotDays
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > vaccine.SlotDays {
			return ErrLimitInvalid.Withf("days must be 1-%d", vaccine.SlotDays)
		}
		days = n
	}
	slots, err := s.Vaccine.Slots(r.Context(), r.PathValue("id"), days)
	if err != nil {
		return err
	}
	out := SlotList{Slots: make([]SlotResponse, len(slots))}
	for i, sl := range slots {
		out.Slots[i] = slotResponse(sl)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) vaccines(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Vaccine.Products(r.Context())
	if err != nil {
		return err
	}
	out := VaccineList{Vaccines: make([]VaccineResponse, len(ps))}
	for i, p := range ps {
		out.Vaccines[i] = vaccineResponse(p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createVaccinationSite(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in VaccinationSiteRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	st, err := s.Vaccine.CreateSite(r.Context(), pr, vaccine.SiteInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, vaccinationSiteResponse(st))
	return nil
}

func (s *Server) createVaccine(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in VaccineRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Vaccine.CreateProduct(r.Context(), pr, vaccine.ProductInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, vaccineResponse(p))
	return nil
}

func (s *Server) createSlot(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in SlotRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sl, err := s.Vaccine.CreateSlot(r.Context(), pr, vaccine.SlotInput{SiteID: in.SiteID, ProductID: in.VaccineID, StartsAt: in.StartsAt,
		EndsAt: in.EndsAt, Capacity: in.Capacity})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, slotResponse(sl))
	return nil
}

func (s *Server) appointmentDays(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	from := time.Now()
	if v := q.Get("day"); v != "" {
		d, err := time.ParseInLocation("2006-01-02", v, s.Vaccine.Location())
		if err != nil {
			return vaccine.ErrDayInvalid
		}
		from = d
	}
	days := 7
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 31 {
			return ErrLimitInvalid.Withf("days must be 1-31")
		}
		days = n
	}
	ds, err := s.Vaccine.AppointmentsPerDay(r.Context(), pr, from, days)
	if err != nil {
		return err
	}
	out := AppointmentDays{Days: make([]DayCountResponse, len(ds))}
	for i, d := range ds {
		out.Days[i] = DayCountResponse(d)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) dosesByTown(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	ts, err := s.Vaccine.DosesByTown(r.Context(), pr)
	if err != nil {
		return err
	}
	out := DosesByTown{Towns: make([]TownDoses, len(ts))}
	for i, t := range ts {
		out.Towns[i] = TownDoses{Town: t.Town, TownName: t.TownName, Vaccine: t.Product, Doses: t.Doses}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) vaccinationCoverage(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	bs, err := s.Vaccine.Coverage(r.Context(), pr)
	if err != nil {
		return err
	}
	out := VaccinationCoverage{Bands: make([]AgeBandCoverage, len(bs))}
	for i, b := range bs {
		out.Bands[i] = AgeBandCoverage(b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) importDoses(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	body, err := readCSV(w, r)
	if err != nil {
		return err
	}
	rep, err := s.Vaccine.ImportDoses(r.Context(), pr, body)
	if err != nil {
		return err
	}
	out := DoseImportReport{Lines: rep.Lines, Accepted: rep.Accepted, Refused: make([]DoseImportBad, len(rep.Refused))}
	for i, l := range rep.Refused {
		out.Refused[i] = DoseImportBad(l)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) registerDose(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in DoseRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	din := vaccine.DoseInput{Code: in.Code, IDType: in.IDType, IDNumber: in.IDNumber, ProductID: in.VaccineID, Lot: in.Lot,
		Dose: in.Dose, SiteID: in.SiteID}
	if in.GivenAt != nil {
		din.GivenAt = *in.GivenAt
	}
	reg, err := s.Vaccine.Register(r.Context(), pr, din)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, DoseRegistered{DoseResponse: doseResponse(&reg.Dose), PersonID: reg.PersonID, MaskedName: reg.MaskedName})
	return nil
}

func (s *Server) bookAppointment(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in AppointmentRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.Vaccine.Book(r.Context(), pr, in.PersonID, in.SlotID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, appointmentResponse(a))
	return nil
}

func (s *Server) myAppointments(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	as, err := s.Vaccine.Appointments(r.Context(), pr, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	out := AppointmentList{Appointments: make([]AppointmentResponse, len(as))}
	for i, a := range as {
		out.Appointments[i] = appointmentResponse(a)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) cancelAppointment(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	a, err := s.Vaccine.Cancel(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appointmentResponse(a))
	return nil
}

func (s *Server) myVaccinations(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	rec, err := s.Vaccine.RecordFor(r.Context(), pr, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vaccinationRecord(rec))
	return nil
}

func (s *Server) vaccinationCertificate(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	c, err := s.Vaccine.CertificateFor(r.Context(), pr, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	png := "certificate.png"
	if id := r.URL.Query().Get("person_id"); id != "" {
		png += "?person_id=" + id
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, VaccinationCertificate{Code: c.Code, Kind: CodeKind(codeformat.KindCertificate.String()),
		Result: codeformat.Vaccinated.String(), MaskedName: c.MaskedName, Vaccine: c.Product, Dose: c.Dose, Doses: c.Doses,
		LastDoseAt: c.LastDoseAt, Issuer: c.Issuer, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, PNGURL: png})
	return nil
}

func (s *Server) vaccinationCertificatePNG(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	c, err := s.Vaccine.CertificateFor(r.Context(), pr, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	png, err := codeformat.PNG(c.Code, 512)
	if err != nil {
		return fmt.Errorf("api: certificate QR: %w", err)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
	return nil
}
