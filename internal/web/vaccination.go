package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/vaccine"
)

// Vaccination: the code page's panels, the resident's vaccination page
// (record, certificate, appointments), the site's registration page and
// the console's tables.

func (s *Server) vaccinationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me/panels/{name}", s.resident(s.codePanel))
	mux.HandleFunc("GET /me/vaccination", s.resident(s.vaccinationPage))
	mux.HandleFunc("POST /me/vaccination/appointments", s.resident(s.bookPage))
	mux.HandleFunc("POST /me/vaccination/appointments/{id}/cancel", s.resident(s.cancelPage))
	mux.HandleFunc("GET /me/vaccination/certificate", s.resident(s.vaccinationCertificatePage))

	mux.HandleFunc("GET /console/vaccination", s.console(auth.StatsRead, s.vaccinationConsole))
	mux.HandleFunc("POST /console/vaccination/sites", s.console(auth.SiteWrite, s.createVaccinationSite))
	mux.HandleFunc("POST /console/vaccination/vaccines", s.console(auth.SiteWrite, s.createVaccine))
	mux.HandleFunc("POST /console/vaccination/slots", s.console(auth.SiteWrite, s.createSlot))
	mux.HandleFunc("POST /console/vaccination/import", s.console(auth.DoseWrite, s.importDoses))
	mux.HandleFunc("GET /console/vaccination/register", s.console(auth.DoseWrite, s.vaccinatePage))
	mux.HandleFunc("POST /console/vaccination/register", s.console(auth.DoseWrite, s.registerDose))
}

var vaccinationNav = []navEntry{
	{"nav.vaccination", "/console/vaccination", auth.StatsRead},
	{"nav.vaccinate", "/console/vaccination/register", auth.DoseWrite},
}

// panelGate bounds the panels rendered at once on this node. The panels
// are extras around the code: when the gate is full a panel is refused at
// once (503, shown as "not available now") rather than queued, so under
// load the panels go first and the code page itself is never held up.
var panelGate = make(chan struct{}, 16)

type panelData struct {
	Name    string
	For     string
	Test    *nat.Test
	Tasks   int
	Record  *vaccine.Record
	Last    *vaccine.Dose
	Overall string
	Card    *trip.Card
	Days    int
}

// codePanel is one panel of the code page, loaded by the page's script
// after the code is shown.
func (s *Server) codePanel(w http.ResponseWriter, r *http.Request, p *page) error {
	name := r.PathValue("name")
	switch name {
	case "trip", "test", "vaccination":
	default:
		return ErrPageNotFound
	}
	select {
	case panelGate <- struct{}{}:
		defer func() { <-panelGate }()
	default:
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		return nil
	}
	forID := r.URL.Query().Get("for")
	pr, err := s.Persons.ActingFor(r.Context(), p.Resident, forID)
	if err != nil {
		return err
	}
	d := panelData{Name: name, For: forID}
	switch name {
	case "trip":
		if d.Card, err = s.Trip.CardFor(r.Context(), p.Resident, forID); err != nil {
			return err
		}
		d.Days = int(d.Card.Window.Hours() / 24)
	case "test":
		ts, err := s.NAT.ListTests(r.Context(), pr.Num)
		if err != nil {
			return err
		}
		if len(ts.Tests) > 0 {
			d.Test = &ts.Tests[0]
		}
		d.Tasks = len(ts.Tasks)
	case "vaccination":
		if d.Record, err = s.Vaccine.RecordOf(r.Context(), pr.Num, pr.ID, pr.MaskedName); err != nil {
			return err
		}
		if n := len(d.Record.Doses); n > 0 {
			d.Last = &d.Record.Doses[n-1]
		}
	}
	p.Data = d
	s.renderNamed(w, r, http.StatusOK, "me", "panel", p)
	return nil
}

type vaccinationData struct {
	Name         string
	For          string
	People       []personTab
	Record       *vaccine.Record
	Appointments []*vaccine.Appointment
	Sites        []*vaccine.Site
	Site         *vaccine.Site
	Slots        []*vaccine.Slot
}

func (s *Server) vaccinationPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVaccination(w, r, p, http.StatusOK)
}

func (s *Server) showVaccination(w http.ResponseWriter, r *http.Request, p *page, status int) error {
	forID := r.FormValue("for")
	pr, err := s.Persons.ActingFor(r.Context(), p.Resident, forID)
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/me/vaccination")
		return nil
	}
	if err != nil {
		return err
	}
	d := vaccinationData{Name: pr.MaskedName, For: forID}
	if d.Record, err = s.Vaccine.RecordFor(r.Context(), p.Resident, forID); err != nil {
		return err
	}
	if d.Appointments, err = s.Vaccine.Appointments(r.Context(), p.Resident, forID); err != nil {
		return err
	}
	if d.Sites, err = s.Vaccine.ListSites(r.Context(), vaccine.SiteQuery{}); err != nil {
		return err
	}
	if id := r.FormValue("site"); id != "" {
		for _, st := range d.Sites {
			if st.ID == id {
				d.Site = st
			}
		}
		if d.Site != nil {
			if d.Slots, err = s.Vaccine.Slots(r.Context(), id, 7); err != nil {
				return err
			}
		}
	}
	if d.People, err = s.peopleTabs(r, p, "/me/vaccination", forID); err != nil {
		return err
	}
	p.Title, p.Data = p.T("vac.title"), d
	s.render(w, r, status, "vaccination", p)
	return nil
}

func (s *Server) bookPage(w http.ResponseWriter, r *http.Request, p *page) error {
	forID := r.PostFormValue("for")
	if _, err := s.Vaccine.Book(r.Context(), p.Resident, forID, r.PostFormValue("slot")); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVaccination(w, r, p, st) })
	}
	s.flash(w, r, "flash.booked", "")
	redirect(w, r, withQuery("/me/vaccination", "for", forID))
	return nil
}

func (s *Server) cancelPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Vaccine.Cancel(r.Context(), p.Resident, r.PathValue("id")); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVaccination(w, r, p, st) })
	}
	s.flash(w, r, "flash.appointment_cancelled", "")
	redirect(w, r, withQuery("/me/vaccination", "for", r.PostFormValue("for")))
	return nil
}

type vacCertData struct {
	Cert *vaccine.Certificate
	QR   string
	Back string
}

func (s *Server) vaccinationCertificatePage(w http.ResponseWriter, r *http.Request, p *page) error {
	forID := r.URL.Query().Get("for")
	c, err := s.Vaccine.CertificateFor(r.Context(), p.Resident, forID)
	if err != nil {
		return err
	}
	d := vacCertData{Cert: c, Back: withQuery("/me/vaccination", "for", forID)}
	if d.QR, err = qrSVGSized(c.Code, codeQR, p.T("vac.cert_title"), 4); err != nil {
		return err
	}
	p.Title, p.Body, p.Data = p.T("vac.cert_title"), "print", d
	s.render(w, r, http.StatusOK, "vaccination_certificate", p)
	return nil
}

// The console.

type vacConsoleData struct {
	Sites    []*vaccine.Site
	Vaccines []*vaccine.Product
	Day      string
	Slots    []*vaccine.Slot
	Days     []vaccine.DayCount
	Towns    []vaccine.TownProduct
	Bands    []vaccine.AgeBand
	Regions  []regionOption
	Import   *vaccine.ImportReport
}

func (s *Server) vaccinationConsole(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVaccinationConsole(w, r, p, http.StatusOK, nil)
}

func (s *Server) showVaccinationConsole(w http.ResponseWriter, r *http.Request, p *page, status int, rep *vaccine.ImportReport) error {
	ctx := r.Context()
	loc := s.Vaccine.Location()
	day := s.now().In(loc)
	if v := r.URL.Query().Get("day"); v != "" {
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			return vaccine.ErrDayInvalid
		}
		day = t
	}
	d := vacConsoleData{Day: day.Format("2006-01-02"), Regions: s.regionOptions(p), Import: rep}
	var err error
	if d.Sites, err = s.Vaccine.ListSites(ctx, vaccine.SiteQuery{Region: p.Op.Region}); err != nil {
		return err
	}
	if d.Vaccines, err = s.Vaccine.Products(ctx); err != nil {
		return err
	}
	if d.Slots, err = s.Vaccine.SlotsFor(ctx, p.Op, day); err != nil {
		return err
	}
	if d.Days, err = s.Vaccine.AppointmentsPerDay(ctx, p.Op, day, 7); err != nil {
		return err
	}
	if d.Towns, err = s.Vaccine.DosesByTown(ctx, p.Op); err != nil {
		return err
	}
	if d.Bands, err = s.Vaccine.Coverage(ctx, p.Op); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.vaccination"), "/console/vaccination", d
	s.render(w, r, status, "console_vaccination", p)
	return nil
}

func (s *Server) consoleFormErr(w http.ResponseWriter, r *http.Request, p *page, err error) error {
	return s.formErr(w, r, p, err, func(st int) error { return s.showVaccinationConsole(w, r, p, st, nil) })
}

func (s *Server) createVaccinationSite(w http.ResponseWriter, r *http.Request, p *page) error {
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("lat")), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("lng")), 64)
	if err1 != nil || err2 != nil {
		return s.consoleFormErr(w, r, p, vaccine.ErrSiteInvalid.Withf("lat and lng must be numbers"))
	}
	st, err := s.Vaccine.CreateSite(r.Context(), p.Op, vaccine.SiteInput{Name: r.PostFormValue("name"), Address: r.PostFormValue("address"),
		Phone: r.PostFormValue("phone"), Hours: r.PostFormValue("hours"), Lat: lat, Lng: lng, Region: r.PostFormValue("region")})
	if err != nil {
		return s.consoleFormErr(w, r, p, err)
	}
	s.flash(w, r, "flash.site_created", st.Name)
	redirect(w, r, "/console/vaccination")
	return nil
}

func (s *Server) createVaccine(w http.ResponseWriter, r *http.Request, p *page) error {
	doses, _ := strconv.Atoi(r.PostFormValue("doses"))
	interval, err := strconv.Atoi(r.PostFormValue("interval_days"))
	if err != nil {
		interval = -1
	}
	if _, err := s.Vaccine.CreateProduct(r.Context(), p.Op, vaccine.ProductInput{Name: r.PostFormValue("name"), Maker: r.PostFormValue("maker"),
		Doses: doses, IntervalDays: interval}); err != nil {
		return s.consoleFormErr(w, r, p, err)
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/vaccination")
	return nil
}

func (s *Server) createSlot(w http.ResponseWriter, r *http.Request, p *page) error {
	loc := s.Vaccine.Location()
	day := r.PostFormValue("day")
	start, err1 := time.ParseInLocation("2006-01-02 15:04", day+" "+r.PostFormValue("from"), loc)
	end, err2 := time.ParseInLocation("2006-01-02 15:04", day+" "+r.PostFormValue("to"), loc)
	if err1 != nil || err2 != nil {
		return s.consoleFormErr(w, r, p, ErrTimeInvalid)
	}
	capacity, _ := strconv.Atoi(r.PostFormValue("capacity"))
	if _, err := s.Vaccine.CreateSlot(r.Context(), p.Op, vaccine.SlotInput{SiteID: r.PostFormValue("site"), ProductID: r.PostFormValue("vaccine"),
		StartsAt: start, EndsAt: end, Capacity: capacity}); err != nil {
		return s.consoleFormErr(w, r, p, err)
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/vaccination?day="+day)
	return nil
}

func (s *Server) importDoses(w http.ResponseWriter, r *http.Request, p *page) error {
	body, err := uploaded(r, "file")
	var rep *vaccine.ImportReport
	if err == nil {
		rep, err = s.Vaccine.ImportDoses(r.Context(), p.Op, body)
	}
	if err != nil {
		return s.consoleFormErr(w, r, p, err)
	}
	return s.showVaccinationConsole(w, r, p, http.StatusOK, rep)
}

// The site's registration page: the nurse keeps site, vaccine and lot and
// scans one code after another.

type vaccinateData struct {
	Sites    []*vaccine.Site
	Vaccines []*vaccine.Product
	Site     string
	Vaccine  string
	Lot      string
	Dose     string
	Done     *vaccine.Registered
}

func (s *Server) vaccinatePage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVaccinate(w, r, p, http.StatusOK, vaccinateData{Site: r.URL.Query().Get("site"), Vaccine: r.URL.Query().Get("vaccine"),
		Lot: r.URL.Query().Get("lot"), Dose: "1"})
}

func (s *Server) showVaccinate(w http.ResponseWriter, r *http.Request, p *page, status int, d vaccinateData) error {
	var err error
	if d.Sites, err = s.Vaccine.ListSites(r.Context(), vaccine.SiteQuery{Region: p.Op.Region}); err != nil {
		return err
	}
	if d.Vaccines, err = s.Vaccine.Products(r.Context()); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.vaccinate"), "/console/vaccination/register", d
	s.render(w, r, status, "console_vaccinate", p)
	return nil
}

func (s *Server) registerDose(w http.ResponseWriter, r *http.Request, p *page) error {
	d := vaccinateData{Site: r.PostFormValue("site"), Vaccine: r.PostFormValue("vaccine"), Lot: strings.TrimSpace(r.PostFormValue("lot")),
		Dose: r.PostFormValue("dose")}
	dose, err := strconv.Atoi(d.Dose)
	if err != nil {
		dose = 0
	}
	in := vaccine.DoseInput{Code: r.PostFormValue("code"), IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), ProductID: d.Vaccine,
		Lot: d.Lot, Dose: dose, SiteID: d.Site}
	reg, err := s.Vaccine.Register(r.Context(), p.Op, in)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVaccinate(w, r, p, st, d) })
	}
	d.Done = reg
	return s.showVaccinate(w, r, p, http.StatusCreated, d)
}
