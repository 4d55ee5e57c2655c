package api

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/school"
)

// The gateway's employer (凭码上岗) and school (晨午检, 有码认码、有单认单)
// scenarios, and the resident's side of them.
func (s *Server) dailyRoutes() []route {
	const employerAuth = "employer API key with employer.staff (and scan for the gate), or its unit account"
	const schoolAuth = "school API key with school.check (and scan for the gate and enrolment), or its unit account"
	return []route{
		{Method: "POST", Path: "/gateway/v1/employer/staff/import", Auth: employerAuth,
			Summary: "Import roster lines {csv: staff_no,name,department per line} → every line, imported or refused with its code and message; good lines are kept, refused ones write nothing; names are kept masked",
			In:      RosterImportRequest{}, Out: replies(ok(RosterImportResponse{})),
			h: s.principal(s.importRoster)},
		{Method: "GET", Path: "/gateway/v1/employer/staff", Auth: employerAuth,
			Summary: "The roster by staff number, with each line's join code and whether it is linked to a person",
			Out:     replies(ok(StaffListResponse{})),
			h:       s.principal(s.roster)},
		{Method: "POST", Path: "/gateway/v1/employer/gate", Auth: employerAuth,
			Summary: "A staff member at the gate (凭码上岗) {code | id_type, id_number; staff_no?} → admitted (attendance recorded) or refused with the reason (color_red, color_yellow, fever); 422 for a code that is not valid (nothing recorded); 404 staff_not_found for a person not on the roster unless staff_no names an unlinked line, which is linked first",
			In:      EmployerGateRequest{}, Out: replies(ok(EmployerGateResponse{})),
			h: s.principal(s.employerGate)},
		{Method: "GET", Path: "/gateway/v1/employer/attendance", Auth: employerAuth,
			Summary: "The day at the gate: ?date (default today) → present, refused by reason, absent",
			Out:     replies(ok(StaffAttendanceResponse{})),
			h:       s.principal(s.staffAttendance)},
		{Method: "GET", Path: "/gateway/v1/employer/records", Auth: employerAuth,
			Summary: "Staff health records: each line's colour per day over ?days (default 14, at most 31), never facts or reasons",
			Out:     replies(ok(HealthRecordsResponse{})),
			h:       s.principal(s.healthRecords)},
		{Method: "GET", Path: "/me/employers", Auth: "resident",
			Summary: "The employers' rosters the resident is linked to",
			Out:     replies(ok(MembershipsResponse{})),
			h:       s.resident(s.myEmployers)},
		{Method: "POST", Path: "/me/employers", Auth: "resident",
			Summary: "Link to an employer's roster line with its join code {join_code, consent: true}: the employer then sees the resident's colour per day at its gate; audited; ten wrong codes from one account, then one every 6 minutes (429 join_attempts_limited)",
			In:      JoinEmployerRequest{}, Out: replies(created(MembershipResponse{})),
			h: s.resident(s.joinEmployer)},

		{Method: "POST", Path: "/gateway/v1/school/classes", Auth: schoolAuth,
			Summary: "Add a class {name} → the class with its join code for parents",
			In:      ClassRequest{}, Out: replies(created(ClassResponse{})),
			h: s.principal(s.createClass)},
		{Method: "GET", Path: "/gateway/v1/school/classes", Auth: schoolAuth,
			Summary: "The school's classes with their sizes and join codes",
			Out:     replies(ok(ClassesResponse{})),
			h:       s.principal(s.schoolClasses)},
		{Method: "GET", Path: "/gateway/v1/school/classes/{id}/pupils", Auth: schoolAuth,
			Summary: "A class's pupils (masked names)",
			Out:     replies(ok(PupilsResponse{})),
			h:       s.principal(s.classPupils)},
		{Method: "POST", Path: "/gateway/v1/school/classes/{id}/pupils", Auth: schoolAuth,
			Summary: "Enrol the child whose code the school scanned {code}; 409 pupil_enrolled",
			In:      EnrolRequest{}, Out: replies(created(PupilResponse{})),
			h: s.principal(s.enrolPupil)},
		{Method: "POST", Path: "/gateway/v1/school/classes/{id}/checks", Auth: schoolAuth,
			Summary: "A check taken in class {pupil_id, slot: morning|noon, temperature, symptoms?}; 404 pupil_not_in_class for a pupil of another class; a later check of the same slot replaces it",
			In:      ClassCheckRequest{}, Out: replies(created(CheckResponse{})),
			h: s.principal(s.classCheck)},
		{Method: "POST", Path: "/gateway/v1/school/gate", Auth: schoolAuth,
			Summary: "A pupil at the gate (有码认码、有单认单) {code: health code, printed care code or test certificate; slot?; temperature?} → admitted or refused with the reasons (color_yellow, color_red, fever, certificate_positive, certificate_stale); 422 for a code that is not valid, 404 pupil_not_found for someone not a pupil here; nothing recorded on either",
			In:      SchoolGateRequest{}, Out: replies(ok(SchoolEntryResponse{})),
			h: s.principal(s.schoolGate)},
		{Method: "GET", Path: "/gateway/v1/school/report", Auth: schoolAuth,
			Summary: "The check of a day per class and for the school: ?date (default today) &slot (morning, default, or noon) → pupils, reported, fever, symptomatic and the absentees (no report)",
			Out:     replies(ok(SchoolDayResponse{})),
			h:       s.principal(s.schoolReport)},
		{Method: "GET", Path: "/me/school", Auth: "resident",
			Summary: "The resident's dependents enrolled at a school, with today's checks",
			Out:     replies(ok(ChildrenResponse{})),
			h:       s.resident(s.myChildren)},
		{Method: "POST", Path: "/me/school/enrol", Auth: "resident",
			Summary: "Enrol a dependent in a class with the class's join code {class_code, person_id}; audited; ten wrong codes from one account, then one every 6 minutes (429 join_attempts_limited)",
			In:      SchoolEnrolRequest{}, Out: replies(created(ChildResponse{})),
			h: s.resident(s.enrolChild)},
		{Method: "POST", Path: "/me/school/checks", Auth: "resident",
			Summary: "A parent's report of a child's check for today {person_id, slot, temperature, symptoms?}; a later report of the same slot replaces it",
			In:      ParentCheckRequest{}, Out: replies(created(CheckResponse{})),
			h: s.resident(s.parentCheck)},
	}
}

func (s *Server) importRoster(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in RosterImportRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rep, err := s.Employer.Import(r.Context(), p, in.CSV)
	if err != nil {
		return err
	}
	out := RosterImportResponse{Imported: rep.Imported, Refused: rep.Refused, Lines: make([]RosterLine, len(rep.Lines))}
	for i, l := range rep.Lines {
		out.Lines[i] = RosterLine(l)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) roster(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	l, err := s.Employer.Roster(r.Context(), p)
	if err != nil {
		return err
	}
	out := StaffListResponse{Staff: make([]StaffResponse, len(l))}
	for i, st := range l {
		out.Staff[i] = staffResponse(st)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) employerGate(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in EmployerGateRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.Employer.Gate(r.Context(), p, employer.GateInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EmployerGateResponse{Staff: staffResponse(g.Staff), MaskedName: g.MaskedName, Color: g.Color.String(),
		Admitted: g.Admitted, Reason: g.Reason, At: g.At, LinkedNow: g.LinkedNow})
	return nil
}

func (s *Server) staffAttendance(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	day, err := s.Employer.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Employer.Day(r.Context(), p, day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, staffAttendanceResponse(d))
	return nil
}

func (s *Server) healthRecords(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	n, err := employer.ParseDays(r.URL.Query().Get("days"))
	if err != nil {
		return err
	}
	days, recs, err := s.Employer.Records(r.Context(), p, n)
	if err != nil {
		return err
	}
	out := HealthRecordsResponse{Days: make([]string, len(days)), Records: make([]HealthRecord, len(recs))}
	for i, d := range days {
		out.Days[i] = d.Format(time.DateOnly)
	}
	for i, rec := range recs {
		hr := HealthRecord{StaffRef: StaffRef{rec.Staff.StaffNo, rec.Staff.MaskedName, rec.Staff.Department}, Colors: make([]string, len(rec.Colors))}
		for j, c := range rec.Colors {
			if c.Valid() {
				hr.Colors[j] = c.String()
			}
		}
		out.Records[i] = hr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) myEmployers(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ms, err := s.Employer.Memberships(r.Context(), p)
	if err != nil {
		return err
	}
	out := MembershipsResponse{Employers: make([]MembershipResponse, len(ms))}
	for i, m := range ms {
		out.Employers[i] = membershipResponse(m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) joinEmployer(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in JoinEmployerRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Employer.Join(r.Context(), p, in.JoinCode, in.Consent)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, membershipResponse(m))
	return nil
}

func (s *Server) createClass(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ClassRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.School.CreateClass(r.Context(), p, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, classResponse(c))
	return nil
}

func (s *Server) schoolClasses(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	cs, err := s.School.Classes(r.Context(), p)
	if err != nil {
		return err
	}
	out := ClassesResponse{Classes: make([]ClassResponse, len(cs))}
	for i, c := range cs {
		out.Classes[i] = classResponse(c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) classPupils(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, ps, err := s.School.Pupils(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	c.Pupils = len(ps)
	out := PupilsResponse{Class: classResponse(c), Pupils: make([]PupilResponse, len(ps))}
	for i, x := range ps {
		out.Pupils[i] = pupilResponse(x)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) enrolPupil(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in EnrolRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	x, err := s.School.Enrol(r.Context(), p, r.PathValue("id"), in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, pupilResponse(x))
	return nil
}

func (s *Server) classCheck(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ClassCheckRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.School.ClassCheck(r.Context(), p, r.PathValue("id"), in.PupilID,
		school.CheckInput{Slot: string(in.Slot), Temperature: in.Temperature, Symptoms: in.Symptoms})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, checkResponse(c))
	return nil
}

func (s *Server) schoolGate(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in SchoolGateRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.School.Gate(r.Context(), p, school.GateInput{Code: in.Code, Slot: string(in.Slot), Temperature: in.Temperature})
	if err != nil {
		return err
	}
	out := SchoolEntryResponse{Pupil: pupilResponse(e.Pupil), Class: e.Class, Kind: e.Kind, Color: e.Color.String(), Admitted: e.Admitted,
		Reasons: e.Reasons, Result: e.Result, ResultAt: optTime(e.ResultAt), MaskedName: e.MaskedName, At: e.At}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) schoolReport(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	day, err := s.School.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.School.Day(r.Context(), p, day, r.URL.Query().Get("slot"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, schoolDay(d))
	return nil
}

// dependents are the profiles of the resident's dependents.
func (s *Server) dependents(r *http.Request, p *auth.Principal) ([]person.Profile, error) {
	ds, err := s.Persons.Dependents(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]person.Profile, len(ds))
	for i, d := range ds {
		out[i] = d.Profile()
	}
	return out, nil
}

func (s *Server) myChildren(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	deps, err := s.dependents(r, p)
	if err != nil {
		return err
	}
	es, err := s.School.Children(r.Context(), p, deps)
	if err != nil {
		return err
	}
	out := ChildrenResponse{Children: make([]ChildResponse, len(es))}
	for i, e := range es {
		out.Children[i] = childResponse(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) enrolChild(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in SchoolEnrolRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.School.Join(r.Context(), p, in.ClassCode, in.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, childResponse(e))
	return nil
}

func (s *Server) parentCheck(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ParentCheckRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.School.Report(r.Context(), p, in.PersonID, school.CheckInput{Slot: string(in.Slot), Temperature: in.Temperature, Symptoms: in.Symptoms})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, checkResponse(c))
	return nil
}
