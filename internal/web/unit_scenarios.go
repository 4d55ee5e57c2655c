package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/ride"
	"github.com/healthcode/healthcode/internal/rules"
)

// The unit pages of the gateway's scenarios: a fever clinic registers a
// visit after the scan and follows it up until closed; a hospital hands
// the patient's identity to its HIS (once per scan) and gives a queue
// number; a ride-hailing platform checks drivers and passengers by their
// handles. The console shows the authority's fever-clinic day and each
// organisation's lists; residents share and withdraw handles on their own
// page.
func (s *Server) unitScenarioRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /unit/visits", s.unit(s.unitRegisterVisit))
	mux.HandleFunc("GET /unit/visits", s.unit(s.unitVisits))
	mux.HandleFunc("POST /unit/visits/{id}/close", s.unit(s.unitCloseVisit))
	mux.HandleFunc("POST /unit/identity", s.unit(s.unitIdentity))
	mux.HandleFunc("POST /unit/queue", s.unit(s.unitQueue))
	mux.HandleFunc("GET /unit/queue", s.unit(s.unitQueueDay))
	mux.HandleFunc("GET /unit/ride", s.unit(s.unitRidePage))
	mux.HandleFunc("POST /unit/ride/check", s.unit(s.unitRideCheck))
	mux.HandleFunc("POST /unit/ride/batch", s.unit(s.unitRideBatch))

	mux.HandleFunc("GET /console/clinics", s.console("", s.clinicSummaryPage))
	mux.HandleFunc("GET /console/orgs/{id}/visits", s.console("", s.orgVisitsPage))
	mux.HandleFunc("GET /console/orgs/{id}/queue", s.console("", s.orgQueuePage))

	mux.HandleFunc("GET /me/platforms", s.resident(s.platformsPage))
	mux.HandleFunc("POST /me/platforms/{id}/grant", s.resident(s.grantPlatform))
	mux.HandleFunc("POST /me/platforms/{id}/withdraw", s.resident(s.withdrawPlatform))
}

func symptomOptions(l Lang) []classOption {
	out := make([]classOption, len(fact.Symptoms))
	for i, sym := range fact.Symptoms {
		out[i] = classOption{sym.Code, label(l, sym.Label)}
	}
	return out
}

// departments are offered to type faster; any name is accepted.
var departments = []string{"内科", "外科", "儿科", "妇产科", "急诊科", "眼科", "耳鼻喉科", "口腔科", "皮肤科", hospital.FeverDepartment}

// visitForm is what a clinic typed, kept when the form is refused.
type visitForm struct {
	Temperature, Diagnosis, Doctor string
	Symptoms                       []string
}

// Has reports whether a symptom was ticked.
func (f visitForm) Has(code string) bool {
	for _, c := range f.Symptoms {
		if c == code {
			return true
		}
	}
	return false
}

// resultFromForm rebuilds the scan's result from the fields a form after
// a scan carries, to show the form again when it is refused. They are for
// display; only the subject reference counts.
func resultFromForm(r *http.Request, p *page) *scanView {
	v := &scanView{State: r.PostFormValue("state"), Name: r.PostFormValue("name"), Subject: r.PostFormValue("subject")}
	if c, err := rules.ParseColor(v.State); err == nil {
		v.Word = p.T("color." + c.String())
	} else {
		v.State = ""
	}
	v.Expires, _ = time.Parse(time.RFC3339, r.PostFormValue("expires"))
	for _, u := range r.PostForm["done"] {
		if u == "identity" || u == "queue" {
			v.Used = append(v.Used, u)
		}
	}
	return v
}

// spent is the scan's result with one more use spent.
func spent(v *scanView, use string) *scanView {
	if !v.Done(use) {
		v.Used = append(v.Used, use)
	}
	return v
}

func (s *Server) unitRegisterVisit(w http.ResponseWriter, r *http.Request, p *page) error {
	r.ParseForm()
	f := visitForm{Temperature: strings.TrimSpace(r.PostFormValue("temperature")), Diagnosis: r.PostFormValue("diagnosis"),
		Doctor: r.PostFormValue("doctor"), Symptoms: r.PostForm["symptoms"]}
	in := clinic.VisitInput{Subject: r.PostFormValue("subject"), Symptoms: f.Symptoms, Diagnosis: f.Diagnosis, Doctor: f.Doctor}
	var err error
	if in.Temperature, err = strconv.ParseFloat(f.Temperature, 64); err != nil {
		err = clinic.ErrTemperatureInvalid
	}
	var v *clinic.Visit
	if err == nil {
		v, err = s.Clinic.Register(r.Context(), p.Unit.p, in)
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error {
			return s.showUnitScan(w, r, p, st, unitScanData{Result: resultFromForm(r, p), Visit: f})
		})
	}
	s.flash(w, r, "flash.visit_registered", v.MaskedName+" · "+strconv.FormatFloat(v.Temperature, 'f', 1, 64)+"℃ · "+p.T("color."+v.Color.String()))
	redirect(w, r, "/unit/visits")
	return nil
}

// visitsData is a clinic's follow-up as the pages show it.
type visitsData struct {
	List     *clinic.List
	Date     string
	Prev     string
	Next     string
	Outcomes []string
	Symptoms map[string]string
	Manage   bool   // the clinic's own page: close forms
	Base     string // the page's path, for the day links
}

func (s *Server) visitsView(r *http.Request, p *page, l *clinic.List, manage bool, base string) *visitsData {
	d := &visitsData{List: l, Date: l.Day.Format(time.DateOnly), Prev: l.Day.AddDate(0, 0, -1).Format(time.DateOnly),
		Outcomes: clinic.Outcomes, Symptoms: map[string]string{}, Manage: manage, Base: base}
	if next := l.Day.AddDate(0, 0, 1); !next.After(s.now()) {
		d.Next = next.Format(time.DateOnly)
	}
	for _, sym := range symptomOptions(p.Lang) {
		d.Symptoms[sym.Code] = sym.Name
	}
	return d
}

func (s *Server) unitVisits(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitVisits(w, r, p, http.StatusOK)
}

func (s *Server) showUnitVisits(w http.ResponseWriter, r *http.Request, p *page, status int) error {
	day, err := s.Clinic.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	l, err := s.Clinic.Visits(r.Context(), p.Unit.p, "", day)
	if err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("unit.nav_visits"), "/unit/visits", s.visitsView(r, p, l, true, "/unit/visits")
	s.render(w, r, status, "unit_visits", p)
	return nil
}

func (s *Server) unitCloseVisit(w http.ResponseWriter, r *http.Request, p *page) error {
	in := clinic.CloseInput{Outcome: r.PostFormValue("outcome"), Note: r.PostFormValue("note")}
	var err error
	if v := strings.TrimSpace(r.PostFormValue("sampled_at")); v != "" {
		if in.SampledAt, err = time.ParseInLocation("2006-01-02T15:04", v, s.Config.Location); err != nil {
			err = clinic.ErrSampledAtInvalid
		}
	}
	var v *clinic.Visit
	if err == nil {
		v, err = s.Clinic.Close(r.Context(), p.Unit.p, r.PathValue("id"), in)
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitVisits(w, r, p, st) })
	}
	s.flash(w, r, "flash.visit_closed", v.MaskedName+" · "+p.T("outcome."+v.Outcome)+" · "+p.T("color."+v.Color.String()))
	redirect(w, r, "/unit/visits")
	return nil
}

// identityView is a patient's identity, shown once.
type identityView struct {
	*hospital.Identity
	Type string
}

func (s *Server) unitIdentity(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := s.Hospital.Identity(r.Context(), p.Unit.p, r.PostFormValue("subject"), r.PostFormValue("purpose"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error {
			return s.showUnitScan(w, r, p, st, unitScanData{})
		})
	}
	// Personal data: no cache may keep the page.
	w.Header().Set("Cache-Control", "no-store")
	v := &identityView{Identity: id, Type: p.T("idtype." + string(id.IDType))}
	// The same scan may still take a queue number.
	return s.showUnitScan(w, r, p, http.StatusOK, unitScanData{Result: spent(resultFromForm(r, p), "identity"), Identity: v})
}

// ticketView is a queue number as the page prints it.
type ticketView struct {
	*hospital.Ticket
	Word string
}

func (s *Server) unitQueue(w http.ResponseWriter, r *http.Request, p *page) error {
	t, err := s.Hospital.Queue(r.Context(), p.Unit.p, r.PostFormValue("subject"), r.PostFormValue("department"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error {
			return s.showUnitScan(w, r, p, st, unitScanData{})
		})
	}
	// The same scan may still hand the identity over.
	return s.showUnitScan(w, r, p, http.StatusCreated, unitScanData{Result: spent(resultFromForm(r, p), "queue"),
		Ticket: &ticketView{t, p.T("color." + t.Color.String())}})
}

type hospitalDayData struct {
	Day              *hospital.Day
	Date, Prev, Next string
	Base             string
}

func (s *Server) queueView(d *hospital.Day, base string) *hospitalDayData {
	q := &hospitalDayData{Day: d, Date: d.Day.Format(time.DateOnly), Prev: d.Day.AddDate(0, 0, -1).Format(time.DateOnly), Base: base}
	if next := d.Day.AddDate(0, 0, 1); !next.After(s.now()) {
		q.Next = next.Format(time.DateOnly)
	}
	return q
}

func (s *Server) unitQueueDay(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Hospital.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Hospital.Tickets(r.Context(), p.Unit.p, "", day)
	if err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("unit.nav_queue"), "/unit/queue", s.queueView(d, "/unit/queue")
	s.render(w, r, http.StatusOK, "unit_queue", p)
	return nil
}

// rideData is the platform's check page and what it answered.
type rideData struct {
	Handle  string
	Handles string
	One     *ride.Result
	Batch   []ride.Result
	Known   int
	Unknown int
	Counts  map[string]int
}

func (s *Server) unitRidePage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitRide(w, r, p, http.StatusOK, &rideData{})
}

func (s *Server) showUnitRide(w http.ResponseWriter, r *http.Request, p *page, status int, d *rideData) error {
	if !p.Unit.Ride {
		// The service refuses the checks; the page says so at once.
		_, err := s.Ride.Check(r.Context(), p.Unit.p, "")
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("unit.nav_ride"), "/unit/ride", d
	s.render(w, r, status, "unit_ride", p)
	return nil
}

func (s *Server) unitRideCheck(w http.ResponseWriter, r *http.Request, p *page) error {
	d := &rideData{Handle: strings.TrimSpace(r.PostFormValue("handle"))}
	res, err := s.Ride.Check(r.Context(), p.Unit.p, d.Handle)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitRide(w, r, p, st, d) })
	}
	d.One = &res
	return s.showUnitRide(w, r, p, http.StatusOK, d)
}

func (s *Server) unitRideBatch(w http.ResponseWriter, r *http.Request, p *page) error {
	d := &rideData{Handles: r.PostFormValue("handles"), Counts: map[string]int{}}
	handles := strings.FieldsFunc(d.Handles, func(c rune) bool { return c == '\n' || c == '\r' || c == ',' || c == ' ' || c == '\t' })
	rs, err := s.Ride.CheckBatch(r.Context(), p.Unit.p, handles)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitRide(w, r, p, st, d) })
	}
	d.Batch = rs
	for _, x := range rs {
		if x.Known {
			d.Known++
			d.Counts[x.Color.String()]++
		} else {
			d.Unknown++
		}
	}
	return s.showUnitRide(w, r, p, http.StatusOK, d)
}

// The console's views.

type clinicSummaryData struct {
	Date, Prev, Next string
	Towns            []clinicTownRow
	Total            clinicTownRow
}

type clinicTownRow struct {
	Name string
	*clinic.TownRow
}

func (s *Server) clinicSummaryPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Clinic.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	sum, err := s.Clinic.Summary(r.Context(), p.Op, day)
	if err != nil {
		return err
	}
	d := clinicSummaryData{Date: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly),
		Total: clinicTownRow{p.T("pharmacy.sum"), &sum.Total}}
	if next := day.AddDate(0, 0, 1); !next.After(s.now()) {
		d.Next = next.Format(time.DateOnly)
	}
	for _, t := range sum.Towns {
		d.Towns = append(d.Towns, clinicTownRow{s.regionName(t.Region), t})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.clinics"), "/console/clinics", d
	s.render(w, r, http.StatusOK, "console_clinics", p)
	return nil
}

type orgVisitsData struct {
	Org    orgRow
	Visits *visitsData
	Queue  *hospitalDayData
}

func (s *Server) orgVisitsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Clinic.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	l, err := s.Clinic.Visits(r.Context(), p.Op, r.PathValue("id"), day)
	if err != nil {
		return err
	}
	p.Title, p.NavOn = l.Org.Name+" · "+p.T("unit.nav_visits"), "/console/orgs"
	p.Data = orgVisitsData{Org: orgRow{l.Org, kindLabel(p.Lang, l.Org.Kind), s.Regions.FullName(l.Org.Region)},
		Visits: s.visitsView(r, p, l, false, "/console/orgs/"+l.Org.ID+"/visits")}
	s.render(w, r, http.StatusOK, "console_org_visits", p)
	return nil
}

func (s *Server) orgQueuePage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Hospital.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Hospital.Tickets(r.Context(), p.Op, r.PathValue("id"), day)
	if err != nil {
		return err
	}
	p.Title, p.NavOn = d.Org.Name+" · "+p.T("unit.nav_queue"), "/console/orgs"
	p.Data = orgVisitsData{Org: orgRow{d.Org, kindLabel(p.Lang, d.Org.Kind), s.Regions.FullName(d.Org.Region)},
		Queue: s.queueView(d, "/console/orgs/"+d.Org.ID+"/queue")}
	s.render(w, r, http.StatusOK, "console_org_queue", p)
	return nil
}

// The resident's handles.

func (s *Server) platformsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	ps, err := s.Ride.Platforms(r.Context(), p.Resident)
	if err != nil {
		return err
	}
	p.Title, p.Data = p.T("platforms.title"), ps
	s.render(w, r, http.StatusOK, "platforms", p)
	return nil
}

func (s *Server) grantPlatform(w http.ResponseWriter, r *http.Request, p *page) error {
	x, err := s.Ride.Grant(r.Context(), p.Resident, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.flash(w, r, "flash.handle_granted", x.Org.Name)
	redirect(w, r, "/me/platforms")
	return nil
}

func (s *Server) withdrawPlatform(w http.ResponseWriter, r *http.Request, p *page) error {
	id := r.PathValue("id")
	if err := s.Ride.Withdraw(r.Context(), p.Resident, id); err != nil {
		return err
	}
	name := id
	if ps, err := s.Ride.Platforms(r.Context(), p.Resident); err == nil {
		for _, x := range ps {
			if x.Org.ID == id {
				name = x.Org.Name
			}
		}
	}
	s.flash(w, r, "flash.handle_withdrawn", name)
	redirect(w, r, "/me/platforms")
	return nil
}
