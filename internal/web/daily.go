package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/school"
)

// The pages of the employer and school scenarios: an employer's gate
// (凭码上岗), its day and its roster with the staff's colours per day; a
// school's gate (有码认码、有单认单) and its morning and noon report; and the
// resident's page where staff link themselves to a roster and parents enrol
// their children and report their checks.
func (s *Server) dailyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /unit/gate", s.unit(s.unitGatePage))
	mux.HandleFunc("POST /unit/gate", s.unit(s.unitGate))
	mux.HandleFunc("GET /unit/attendance", s.unit(s.unitAttendance))
	mux.HandleFunc("GET /unit/staff", s.unit(s.unitStaff))
	mux.HandleFunc("POST /unit/staff/import", s.unit(s.unitImportStaff))
	mux.HandleFunc("GET /unit/school", s.unit(s.unitSchool))
	mux.HandleFunc("POST /unit/school/classes", s.unit(s.unitCreateClass))
	mux.HandleFunc("GET /unit/school/gate", s.unit(s.unitSchoolGatePage))
	mux.HandleFunc("POST /unit/school/gate", s.unit(s.unitSchoolGate))

	mux.HandleFunc("GET /me/daily", s.resident(s.dailyPage))
	mux.HandleFunc("POST /me/daily/employer", s.resident(s.dailyJoin))
	mux.HandleFunc("POST /me/daily/enrol", s.resident(s.dailyEnrol))
	mux.HandleFunc("POST /me/daily/check", s.resident(s.dailyCheck))
}

// reasonWords are a refusal's reasons in the reader's words: the
// verifier's, then the school's own.
func reasonWords(p *page, reasons ...string) string {
	var out []string
	for _, x := range reasons {
		if x == "" {
			continue
		}
		if t, ok := codes.ReasonText(x); ok {
			out = append(out, label(p.Lang, t))
		} else if _, ok := catalog["err."+x]; ok {
			out = append(out, p.T("err."+x))
		} else {
			out = append(out, x)
		}
	}
	return strings.Join(out, "；")
}

// gateView is a gate's answer as the page shows it.
type gateView struct {
	State  string // green, yellow, red or invalid
	Word   string
	Name   string
	Detail string
}

type unitGateData struct {
	Code, StaffNo string
	Result        *gateView
	Day           *employer.Day
}

func (s *Server) unitGatePage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitGate(w, r, p, http.StatusOK, unitGateData{})
}

func (s *Server) showUnitGate(w http.ResponseWriter, r *http.Request, p *page, status int, d unitGateData) error {
	day, _ := s.Employer.ParseDay("")
	var err error
	if d.Day, err = s.Employer.Day(r.Context(), p.Unit.p, day); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("unit.nav_gate"), "/unit/gate", d
	s.render(w, r, status, "unit_gate", p)
	return nil
}

func (s *Server) unitGate(w http.ResponseWriter, r *http.Request, p *page) error {
	in := employer.GateInput{Code: codes.TrimScanned(r.PostFormValue("code")), StaffNo: strings.TrimSpace(r.PostFormValue("staff_no"))}
	g, err := s.Employer.Gate(r.Context(), p.Unit.p, in)
	if err != nil {
		for _, e := range invalidCode {
			if errors.Is(err, e) {
				p.SetError(err)
				v := &gateView{State: "invalid", Word: p.T("js.invalid"), Detail: p.Err}
				p.Err = ""
				return s.showUnitGate(w, r, p, errStatus(err), unitGateData{Result: v})
			}
		}
		return s.formErr(w, r, p, err, func(st int) error {
			return s.showUnitGate(w, r, p, st, unitGateData{StaffNo: in.StaffNo})
		})
	}
	v := &gateView{State: g.Color.String(), Name: g.MaskedName + " · " + g.Staff.StaffNo}
	if g.Admitted {
		v.Word = p.T("employer.admitted")
	} else {
		v.Word, v.Detail = p.T("employer.refused"), reasonWords(p, g.Reason)
	}
	if g.LinkedNow {
		v.Detail = strings.TrimPrefix(v.Detail+"；"+p.T("employer.linked_now", g.Staff.StaffNo), "；")
	}
	return s.showUnitGate(w, r, p, http.StatusOK, unitGateData{Result: v})
}

type attendanceData struct {
	Day              *employer.Day
	Date, Prev, Next string
	Reasons          []reasonCount
	Refused          []refusedRow
}

type refusedRow struct {
	*employer.StaffDay
	Words string
}

type reasonCount struct {
	Reason, Words string
	Count         int
}

func (s *Server) unitAttendance(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Employer.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Employer.Day(r.Context(), p.Unit.p, day)
	if err != nil {
		return err
	}
	v := attendanceData{Day: d, Date: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly)}
	if next := day.AddDate(0, 0, 1); !next.After(s.now()) {
		v.Next = next.Format(time.DateOnly)
	}
	for _, x := range employer.Reasons {
		v.Reasons = append(v.Reasons, reasonCount{x, reasonWords(p, x), d.ByReason[x]})
	}
	for _, x := range d.Refused {
		v.Refused = append(v.Refused, refusedRow{x, reasonWords(p, x.Reason)})
	}
	p.Title, p.NavOn, p.Data = p.T("employer.day_of", v.Date), "/unit/attendance", v
	s.render(w, r, http.StatusOK, "unit_attendance", p)
	return nil
}

type staffData struct {
	Roster  []*employer.Staff
	Report  *employer.ImportReport
	Summary string
	CSV     string
	Days    []string
	Records []*employer.Record
	N       int
}

// Color names a record's colour for the page ("" where unknown).
func (staffData) Color(c rules.Color) string {
	if !c.Valid() {
		return ""
	}
	return c.String()
}

func (s *Server) unitStaff(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitStaff(w, r, p, http.StatusOK, staffData{})
}

func (s *Server) showUnitStaff(w http.ResponseWriter, r *http.Request, p *page, status int, d staffData) error {
	var err error
	if d.Roster, err = s.Employer.Roster(r.Context(), p.Unit.p); err != nil {
		return err
	}
	d.N = 14
	days, recs, err := s.Employer.Records(r.Context(), p.Unit.p, d.N)
	if err != nil {
		return err
	}
	for _, x := range days {
		d.Days = append(d.Days, x.Format("01-02"))
	}
	d.Records = recs
	p.Title, p.NavOn, p.Data = p.T("unit.nav_staff"), "/unit/staff", d
	s.render(w, r, status, "unit_staff", p)
	return nil
}

func (s *Server) unitImportStaff(w http.ResponseWriter, r *http.Request, p *page) error {
	text := r.PostFormValue("csv")
	rep, err := s.Employer.Import(r.Context(), p.Unit.p, text)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitStaff(w, r, p, st, staffData{CSV: text}) })
	}
	return s.showUnitStaff(w, r, p, http.StatusOK, staffData{Report: rep,
		Summary: p.T("employer.import_result", rep.Imported, rep.Refused)})
}

type schoolData struct {
	Day              *school.Day
	Date, Prev, Next string
	Slot             string
	Slots            []string
	ClassName        string
	Absent           int
	Notes            map[string][]string // per class: the pupils with a fever or symptoms
}

func (s *Server) unitSchool(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitSchool(w, r, p, http.StatusOK, "")
}

func (s *Server) showUnitSchool(w http.ResponseWriter, r *http.Request, p *page, status int, className string) error {
	day, err := s.School.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.School.Day(r.Context(), p.Unit.p, day, r.URL.Query().Get("slot"))
	if err != nil {
		return err
	}
	v := schoolData{Day: d, Date: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly), Slot: d.Slot,
		Slots: school.Slots, ClassName: className, Absent: d.Total.Pupils - d.Total.Reported, Notes: map[string][]string{}}
	if next := day.AddDate(0, 0, 1); !next.After(s.now()) {
		v.Next = next.Format(time.DateOnly)
	}
	names := map[string]string{}
	for _, sym := range symptomOptions(p.Lang) {
		names[sym.Code] = sym.Name
	}
	for _, c := range d.Classes {
		for _, f := range c.Flagged {
			var syms []string
			for _, x := range f.Symptoms {
				syms = append(syms, names[x])
			}
			v.Notes[c.Class.ID] = append(v.Notes[c.Class.ID], p.T("school.flagged", f.Pupil.MaskedName,
				strconv.FormatFloat(f.Temperature, 'f', 1, 64), strings.Join(syms, "、")))
		}
	}
	p.Title, p.NavOn, p.Data = p.T("unit.nav_school"), "/unit/school", v
	s.render(w, r, status, "unit_school", p)
	return nil
}

func (s *Server) unitCreateClass(w http.ResponseWriter, r *http.Request, p *page) error {
	name := r.PostFormValue("name")
	c, err := s.School.CreateClass(r.Context(), p.Unit.p, name)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitSchool(w, r, p, st, name) })
	}
	s.flash(w, r, "flash.class_created", c.Name+" · "+c.JoinCode)
	redirect(w, r, "/unit/school")
	return nil
}

type schoolGateData struct {
	Result      *gateView
	Slot        string
	Slots       []string
	Temperature string
}

func (s *Server) unitSchoolGatePage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showSchoolGate(w, r, p, http.StatusOK, schoolGateData{})
}

func (s *Server) showSchoolGate(w http.ResponseWriter, r *http.Request, p *page, status int, d schoolGateData) error {
	d.Slots = school.Slots
	if d.Slot == "" {
		d.Slot = school.Morning
		if s.now().In(s.Config.Location).Hour() >= 11 {
			d.Slot = school.Noon
		}
	}
	p.Title, p.NavOn, p.Data = p.T("unit.nav_school_gt"), "/unit/school/gate", d
	s.render(w, r, status, "unit_school_gate", p)
	return nil
}

func (s *Server) unitSchoolGate(w http.ResponseWriter, r *http.Request, p *page) error {
	d := schoolGateData{Slot: r.PostFormValue("slot"), Temperature: strings.TrimSpace(r.PostFormValue("temperature"))}
	in := school.GateInput{Code: codes.TrimScanned(r.PostFormValue("code")), Slot: d.Slot}
	var err error
	if d.Temperature != "" {
		if in.Temperature, err = strconv.ParseFloat(d.Temperature, 64); err != nil {
			err = school.ErrTemperatureInvalid
		}
	}
	var e *school.Entry
	if err == nil {
		e, err = s.School.Gate(r.Context(), p.Unit.p, in)
	}
	if err != nil {
		for _, x := range invalidCode {
			if errors.Is(err, x) {
				p.SetError(err)
				d.Result = &gateView{State: "invalid", Word: p.T("js.invalid"), Detail: p.Err}
				p.Err = ""
				return s.showSchoolGate(w, r, p, errStatus(err), d)
			}
		}
		return s.formErr(w, r, p, err, func(st int) error { return s.showSchoolGate(w, r, p, st, d) })
	}
	v := &gateView{State: e.Color.String(), Name: e.MaskedName + " · " + e.Class + " · " + p.T("school.kind."+e.Kind)}
	if e.Admitted {
		v.Word = p.T("school.admitted")
	} else {
		v.Word, v.Detail = p.T("school.refused"), reasonWords(p, e.Reasons...)
		if v.State == "green" {
			v.State = "yellow" // refused for a fever or the slip: not a green light
		}
	}
	d.Temperature = ""
	d.Result = v
	return s.showSchoolGate(w, r, p, http.StatusOK, d)
}

// The resident's page.

type dailyData struct {
	Memberships []*employer.Membership
	Children    []*school.Enrolment
	Dependents  []person.Profile
	Symptoms    []classOption
	Slots       []string
	Slot        string
	JoinCode    string
	Today       map[string][]string // per pupil: today's checks in words
}

func (s *Server) dailyPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showDaily(w, r, p, http.StatusOK, dailyData{})
}

func (s *Server) showDaily(w http.ResponseWriter, r *http.Request, p *page, status int, d dailyData) error {
	var err error
	if d.Memberships, err = s.Employer.Memberships(r.Context(), p.Resident); err != nil {
		return err
	}
	deps, err := s.Persons.Dependents(r.Context(), p.Resident.ID)
	if err != nil {
		return err
	}
	for _, x := range deps {
		d.Dependents = append(d.Dependents, x.Profile())
	}
	if d.Children, err = s.School.Children(r.Context(), p.Resident, d.Dependents); err != nil {
		return err
	}
	d.Symptoms, d.Slots = symptomOptions(p.Lang), school.Slots
	names := map[string]string{}
	for _, sym := range d.Symptoms {
		names[sym.Code] = sym.Name
	}
	d.Today = map[string][]string{}
	for _, c := range d.Children {
		for _, slot := range school.Slots {
			ch := c.Today[slot]
			if ch == nil {
				continue
			}
			var syms []string
			for _, x := range ch.Symptoms {
				syms = append(syms, names[x])
			}
			line := p.T("school.slot."+slot) + " " + strconv.FormatFloat(ch.Temperature, 'f', 1, 64) + "℃"
			if len(syms) > 0 {
				line += " · " + strings.Join(syms, "、")
			}
			d.Today[c.Pupil.ID] = append(d.Today[c.Pupil.ID], line)
		}
	}
	d.Slot = school.Morning
	if s.now().In(s.Config.Location).Hour() >= 11 {
		d.Slot = school.Noon
	}
	p.Title, p.Data = p.T("daily.title"), d
	s.render(w, r, status, "daily", p)
	return nil
}

func (s *Server) dailyJoin(w http.ResponseWriter, r *http.Request, p *page) error {
	code := r.PostFormValue("join_code")
	m, err := s.Employer.Join(r.Context(), p.Resident, code, r.PostFormValue("consent") == "yes")
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showDaily(w, r, p, st, dailyData{JoinCode: code}) })
	}
	s.flash(w, r, "flash.staff_linked", m.Org.Name)
	redirect(w, r, "/me/daily")
	return nil
}

func (s *Server) dailyEnrol(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.School.Join(r.Context(), p.Resident, r.PostFormValue("class_code"), r.PostFormValue("person_id"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showDaily(w, r, p, st, dailyData{}) })
	}
	s.flash(w, r, "flash.child_enrolled", e.Pupil.MaskedName+" · "+e.School.Name+" "+e.Class)
	redirect(w, r, "/me/daily")
	return nil
}

func (s *Server) dailyCheck(w http.ResponseWriter, r *http.Request, p *page) error {
	r.ParseForm()
	in := school.CheckInput{Slot: r.PostFormValue("slot"), Symptoms: r.PostForm["symptoms"]}
	var err error
	if in.Temperature, err = strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("temperature")), 64); err != nil {
		err = school.ErrTemperatureInvalid
	}
	var c *school.Check
	if err == nil {
		c, err = s.School.Report(r.Context(), p.Resident, r.PostFormValue("person_id"), in)
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showDaily(w, r, p, st, dailyData{}) })
	}
	s.flash(w, r, "flash.check_reported", p.T("school.slot."+c.Slot)+" "+strconv.FormatFloat(c.Temperature, 'f', 1, 64)+"℃")
	redirect(w, r, "/me/daily")
	return nil
}
