package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
)

// Nucleic-acid testing: the resident's tests and certificates, and the
// console's sampling sites, tubes, results and follow-up.

func (s *Server) natRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me/tests", s.resident(s.testsPage))
	mux.HandleFunc("GET /me/tests/{test}/certificate", s.resident(s.certificatePage))

	mux.HandleFunc("GET /console/nat/sites", s.console("", s.sitesPage))
	mux.HandleFunc("POST /console/nat/sites", s.console(auth.SiteWrite, s.createSite))
	mux.HandleFunc("POST /console/nat/sites/import", s.console(auth.SiteWrite, s.importSites))
	mux.HandleFunc("POST /console/nat/sites/{id}/open", s.console(auth.SiteWrite, s.setSiteOpen))
	mux.HandleFunc("GET /console/nat/tubes", s.console(auth.TubeWrite, s.tubesPage))
	mux.HandleFunc("POST /console/nat/tubes", s.console(auth.TubeWrite, s.openTube))
	mux.HandleFunc("GET /console/nat/tubes/{barcode}", s.console(auth.TubeWrite, s.tubePage))
	mux.HandleFunc("POST /console/nat/tubes/{barcode}/samples", s.console(auth.TubeWrite, s.addSample))
	mux.HandleFunc("POST /console/nat/tubes/{barcode}/seal", s.console(auth.TubeWrite, s.sealTube))
	mux.HandleFunc("POST /console/nat/transfers", s.console(auth.TubeWrite, s.createTransfer))
	mux.HandleFunc("GET /console/nat/results", s.console(auth.ResultWrite, s.resultsPage))
	mux.HandleFunc("POST /console/nat/results", s.console(auth.ResultWrite, s.postResult))
	mux.HandleFunc("POST /console/nat/results/upload", s.console(auth.ResultWrite, s.uploadResults))
	mux.HandleFunc("POST /console/nat/results/correct", s.console(auth.ResultWrite, s.correctResult))
	mux.HandleFunc("GET /console/nat/followup", s.console(auth.PersonRead, s.followupPage))
	mux.HandleFunc("POST /console/nat/alerts/{id}/ack", s.console(auth.AlertRead, s.ackAlert))
}

var natNav = []navEntry{
	{"nav.sites", "/console/nat/sites", ""},
	{"nav.tubes", "/console/nat/tubes", auth.TubeWrite},
	{"nav.results", "/console/nat/results", auth.ResultWrite},
	{"nav.untested", "/console/nat/followup", auth.PersonRead},
}

// testPerson is the resident or, with ?for=, one of their dependents.
func (s *Server) testPerson(r *http.Request, p *page) (person.Profile, error) {
	return s.Persons.ActingFor(r.Context(), p.Resident, r.URL.Query().Get("for"))
}

type testsData struct {
	Name   string
	For    string
	People []personTab
	Tests  *nat.Tests
}

func (s *Server) testsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	pr, err := s.testPerson(r, p)
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/me/tests")
		return nil
	}
	if err != nil {
		return err
	}
	ts, err := s.NAT.TestsFor(r.Context(), p.Resident, pr.ID)
	if err != nil {
		return err
	}
	d := testsData{Name: pr.MaskedName, For: r.URL.Query().Get("for"), Tests: ts}
	if d.People, err = s.peopleTabs(r, p, "/me/tests", d.For); err != nil {
		return err
	}
	p.Title, p.Data = p.T("tests.title"), d
	s.render(w, r, http.StatusOK, "tests", p)
	return nil
}

// peopleTabs switches a resident page between oneself and dependents.
func (s *Server) peopleTabs(r *http.Request, p *page, base, current string) ([]personTab, error) {
	deps, err := s.Persons.Dependents(r.Context(), p.Resident.ID)
	if err != nil || len(deps) == 0 {
		return nil, err
	}
	self, err := s.Persons.Profile(r.Context(), p.Resident.ID)
	if err != nil {
		return nil, err
	}
	out := []personTab{{ID: self.ID, Name: self.MaskedName, Href: base, Current: current == ""}}
	for _, d := range deps {
		out = append(out, personTab{ID: d.ID, Name: d.Masked().Name, Href: base + "?for=" + d.ID, Current: d.ID == current})
	}
	return out, nil
}

type certData struct {
	Cert *nat.Certificate
	QR   string
	Back string
}

// certificatePage is a signed certificate of a negative test, to show or
// print: verifiable offline like a health code.
func (s *Server) certificatePage(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.NAT.CertificateFor(r.Context(), p.Resident, r.URL.Query().Get("for"), r.PathValue("test"))
	if err != nil {
		return err
	}
	d := certData{Cert: c, Back: withQuery("/me/tests", "for", r.URL.Query().Get("for"))}
	if d.QR, err = qrSVGSized(c.Code, codeQR, p.T("cert.title"), 4); err != nil {
		return err
	}
	p.Title, p.Body, p.Data = p.T("cert.title"), "print", d
	s.render(w, r, http.StatusOK, "certificate", p)
	return nil
}

// Sampling sites.

type sitesData struct {
	Sites   []*nat.Site
	Regions []regionOption
	Form    siteForm
	Import  *nat.ImportReport
}

type siteForm struct {
	Name, Address, Phone, Hours, Lat, Lng, Region string
}

func (s *Server) sitesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showSites(w, r, p, http.StatusOK, sitesData{Form: siteForm{Region: p.Op.Region}})
}

func (s *Server) showSites(w http.ResponseWriter, r *http.Request, p *page, status int, d sitesData) error {
	region := p.Op.Region
	sites, err := s.NAT.ListSites(r.Context(), nat.SiteQuery{Region: region})
	if err != nil {
		return err
	}
	d.Sites, d.Regions = sites, s.regionOptions(p)
	p.Title, p.NavOn, p.Data = p.T("nav.sites"), "/console/nat/sites", d
	s.render(w, r, status, "console_sites", p)
	return nil
}

func optFloat(bad *apierr.Error, field, v string) (*float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, bad.Withf("%s must be a number", field)
	}
	return &f, nil
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request, p *page) error {
	f := siteForm{Name: r.PostFormValue("name"), Address: r.PostFormValue("address"), Phone: r.PostFormValue("phone"),
		Hours: r.PostFormValue("hours"), Lat: r.PostFormValue("lat"), Lng: r.PostFormValue("lng"), Region: r.PostFormValue("region")}
	open := true
	in := nat.SiteInput{Name: &f.Name, Address: &f.Address, Phone: &f.Phone, Hours: &f.Hours, Region: &f.Region, Open: &open}
	var err error
	if in.Lat, err = optFloat(nat.ErrSiteLatInvalid, "lat", f.Lat); err == nil {
		in.Lng, err = optFloat(nat.ErrSiteLngInvalid, "lng", f.Lng)
	}
	if err == nil {
		_, err = s.NAT.CreateSite(r.Context(), p.Op, in)
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showSites(w, r, p, st, sitesData{Form: f}) })
	}
	s.flash(w, r, "flash.site_created", f.Name)
	redirect(w, r, "/console/nat/sites")
	return nil
}

func (s *Server) setSiteOpen(w http.ResponseWriter, r *http.Request, p *page) error {
	open := r.PostFormValue("open") == "true"
	if _, err := s.NAT.UpdateSite(r.Context(), p.Op, r.PathValue("id"), nat.SiteInput{Open: &open}); err != nil {
		return err
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/nat/sites")
	return nil
}

// uploaded is a form's file, or its text area when no file was chosen.
func uploaded(r *http.Request, field string) ([]byte, error) {
	if f, _, err := r.FormFile(field); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, nat.MaxUploadBytes+1))
		if err != nil {
			return nil, ErrBodyUnreadable.Withf("the file could not be read: %v", err)
		}
		if len(b) > nat.MaxUploadBytes {
			return nil, ErrBodyTooLarge
		}
		if len(b) > 0 {
			return b, nil
		}
	}
	if t := r.PostFormValue(field + "_text"); strings.TrimSpace(t) != "" {
		return []byte(t), nil
	}
	return nil, ErrFileMissing
}

func (s *Server) importSites(w http.ResponseWriter, r *http.Request, p *page) error {
	body, err := uploaded(r, "file")
	var rep *nat.ImportReport
	if err == nil {
		rep, err = s.NAT.ImportSites(r.Context(), p.Op, body)
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showSites(w, r, p, st, sitesData{Form: siteForm{Region: p.Op.Region}}) })
	}
	return s.showSites(w, r, p, http.StatusOK, sitesData{Form: siteForm{Region: p.Op.Region}, Import: rep})
}

// Tubes.

type tubesData struct {
	Sites      []*nat.Site
	Capacities []int
	Barcode    string
	Capacity   int
	Site       string
	Transfer   *nat.Transfer
}

func (s *Server) tubesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if b := strings.TrimSpace(r.URL.Query().Get("barcode")); b != "" {
		redirect(w, r, "/console/nat/tubes/"+b)
		return nil
	}
	return s.showTubes(w, r, p, http.StatusOK, tubesData{Capacity: 10})
}

func (s *Server) showTubes(w http.ResponseWriter, r *http.Request, p *page, status int, d tubesData) error {
	open := true
	sites, err := s.NAT.ListSites(r.Context(), nat.SiteQuery{Region: p.Op.Region, Open: &open})
	if err != nil {
		return err
	}
	d.Sites, d.Capacities = sites, nat.Capacities
	p.Title, p.NavOn, p.Data = p.T("nav.tubes"), "/console/nat/tubes", d
	s.render(w, r, status, "console_tubes", p)
	return nil
}

func (s *Server) openTube(w http.ResponseWriter, r *http.Request, p *page) error {
	d := tubesData{Barcode: strings.TrimSpace(r.PostFormValue("barcode")), Site: r.PostFormValue("site")}
	d.Capacity, _ = strconv.Atoi(r.PostFormValue("capacity"))
	t, err := s.NAT.OpenTube(r.Context(), p.Op, d.Barcode, d.Capacity, d.Site)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTubes(w, r, p, st, d) })
	}
	redirect(w, r, "/console/nat/tubes/"+t.Barcode)
	return nil
}

type tubeData struct {
	Tube    *nat.Tube
	Last    *nat.Sample
	Types   []idnum.Type
	Samples []nat.TubeSample // who is in it, for a reader with person.read
}

func (s *Server) tubePage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showTube(w, r, p, http.StatusOK, nil)
}

func (s *Server) showTube(w http.ResponseWriter, r *http.Request, p *page, status int, last *nat.Sample) error {
	t, err := s.NAT.Tube(r.Context(), p.Op, r.PathValue("barcode"))
	if err != nil {
		return err
	}
	d := tubeData{Tube: t, Last: last, Types: idnum.Types()}
	if p.Can(string(auth.PersonRead)) {
		if d.Samples, err = s.NAT.TubeSamples(r.Context(), p.Op, t.Barcode); err != nil {
			return err
		}
	}
	p.Title, p.NavOn = p.T("tube.title", t.Barcode), "/console/nat/tubes"
	p.Data = d
	s.render(w, r, status, "console_tube", p)
	return nil
}

// addSample binds the next person to the tube: a scanner gun types their
// code and Enter, or staff type an identity number.
func (s *Server) addSample(w http.ResponseWriter, r *http.Request, p *page) error {
	in := nat.SampleInput{Code: strings.Trim(r.PostFormValue("code"), "\r\n"), IDType: r.PostFormValue("id_type"),
		IDNumber: strings.TrimSpace(r.PostFormValue("id_number"))}
	if in.IDNumber == "" {
		in.IDType = ""
	}
	smp, err := s.NAT.AddSample(r.Context(), p.Op, r.PathValue("barcode"), in)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTube(w, r, p, st, nil) })
	}
	return s.showTube(w, r, p, http.StatusCreated, smp)
}

func (s *Server) sealTube(w http.ResponseWriter, r *http.Request, p *page) error {
	t, err := s.NAT.Seal(r.Context(), p.Op, r.PathValue("barcode"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTube(w, r, p, st, nil) })
	}
	s.flash(w, r, "flash.tube_sealed", t.Barcode)
	redirect(w, r, "/console/nat/tubes/"+t.Barcode)
	return nil
}

func (s *Server) createTransfer(w http.ResponseWriter, r *http.Request, p *page) error {
	barcodes := strings.Fields(strings.NewReplacer(",", " ", "，", " ").Replace(r.PostFormValue("barcodes")))
	tr, err := s.NAT.CreateTransfer(r.Context(), p.Op, barcodes, r.PostFormValue("lab"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTubes(w, r, p, st, tubesData{Capacity: 10}) })
	}
	return s.showTubes(w, r, p, http.StatusCreated, tubesData{Capacity: 10, Transfer: tr})
}

// Results.

type resultsData struct {
	Results []string
	Report  *nat.Report
	Upload  *nat.UploadReport
}

func (s *Server) resultsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showResults(w, r, p, http.StatusOK, resultsData{})
}

func (s *Server) showResults(w http.ResponseWriter, r *http.Request, p *page, status int, d resultsData) error {
	d.Results = []string{nat.Negative, nat.Positive, nat.Invalid}
	p.Title, p.NavOn, p.Data = p.T("nav.results"), "/console/nat/results", d
	s.render(w, r, status, "console_results", p)
	return nil
}

func (s *Server) postResult(w http.ResponseWriter, r *http.Request, p *page) error {
	rep, err := s.NAT.PostResult(r.Context(), p.Op, r.PostFormValue("barcode"), r.PostFormValue("result"), r.PostFormValue("lab"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showResults(w, r, p, st, resultsData{}) })
	}
	return s.showResults(w, r, p, http.StatusOK, resultsData{Report: rep})
}

func (s *Server) uploadResults(w http.ResponseWriter, r *http.Request, p *page) error {
	body, err := uploaded(r, "file")
	var rep *nat.UploadReport
	if err == nil {
		rep, err = s.NAT.Upload(r.Context(), p.Op, body, r.PostFormValue("lab"))
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showResults(w, r, p, st, resultsData{}) })
	}
	return s.showResults(w, r, p, http.StatusOK, resultsData{Upload: rep})
}

func (s *Server) correctResult(w http.ResponseWriter, r *http.Request, p *page) error {
	rep, err := s.NAT.Correct(r.Context(), p.Op, r.PostFormValue("barcode"), r.PostFormValue("result"), r.PostFormValue("reason"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showResults(w, r, p, st, resultsData{}) })
	}
	return s.showResults(w, r, p, http.StatusOK, resultsData{Report: rep})
}

// Follow-up: who has no negative test (应检未检), positive alerts, tasks.

type followupData struct {
	Hours    int
	Coverage *nat.Coverage
	Alerts   []nat.Alert
	Tasks    []nat.GridTask
	Chart    string
}

func (s *Server) followupPage(w http.ResponseWriter, r *http.Request, p *page) error {
	hours, err := intQuery(r, "hours", 48)
	if err != nil {
		return err
	}
	d := followupData{Hours: hours}
	if d.Coverage, err = s.NAT.Coverage(r.Context(), p.Op, nat.CoverageQuery{Region: r.URL.Query().Get("region"), Hours: hours,
		After: r.URL.Query().Get("after"), Limit: 50}); err != nil {
		return err
	}
	if p.Op.Can(auth.AlertRead) {
		if d.Alerts, _, err = s.NAT.Alerts(r.Context(), p.Op, nat.ListQuery{Open: true, Limit: 50}); err != nil {
			return err
		}
	}
	if d.Tasks, _, err = s.NAT.Tasks(r.Context(), p.Op, nat.ListQuery{Open: true, Limit: 50}); err != nil {
		return err
	}
	var rows []hbar
	for _, row := range d.Coverage.Rows {
		rows = append(rows, hbar{Label: row.Name, Values: []float64{float64(row.Negative), float64(row.Pending), float64(row.Untested - row.Pending)},
			Note: pctStr(row.Share)})
	}
	if len(rows) > 0 {
		d.Chart = hbarChart(p.T("nat.coverage_chart"), []series{{p.T("nat.negative"), chartGreen}, {p.T("nat.pending"), chartYellow},
			{p.T("nat.untested"), chartRed}}, rows)
	}
	p.Title, p.NavOn, p.Data = p.T("nav.untested"), "/console/nat/followup", d
	s.render(w, r, http.StatusOK, "console_followup", p)
	return nil
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.NAT.AckAlert(r.Context(), p.Op, r.PathValue("id")); err != nil {
		return err
	}
	s.flash(w, r, "flash.alert_acked", "")
	redirect(w, r, "/console/nat/followup")
	return nil
}
