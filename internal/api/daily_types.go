package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/school"
)

// The request and response bodies of the gateway's employer and school
// scenarios (/gateway/v1/employer, /gateway/v1/school) and of the
// resident's side of them (/api/v1/me/employers, /api/v1/me/school).

// RosterImportRequest is POST /gateway/v1/employer/staff/import.
type RosterImportRequest struct {
	CSV string `json:"csv" doc:"lines of staff_no,name,department (a header line naming staff_no or 工号 is skipped)"`
}

// RosterLine is one line of an import: imported, or why not.
type RosterLine struct {
	Line    int    `json:"line"`
	StaffNo string `json:"staff_no"`
	OK      bool   `json:"ok"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// RosterImportResponse reports every line of an import.
type RosterImportResponse struct {
	Imported int          `json:"imported"`
	Refused  int          `json:"refused"`
	Lines    []RosterLine `json:"lines"`
}

// StaffResponse is a line of the roster; the name is masked.
type StaffResponse struct {
	ID         string     `json:"id"`
	StaffNo    string     `json:"staff_no"`
	MaskedName string     `json:"masked_name"`
	Department string     `json:"department"`
	JoinCode   string     `json:"join_code" doc:"the staff member links their own page to this line with it"`
	Linked     bool       `json:"linked"`
	LinkedAt   *time.Time `json:"linked_at"`
	LinkedHow  string     `json:"linked_how" doc:"scan or consent; empty while unlinked"`
}

func staffResponse(st *employer.Staff) StaffResponse {
	return StaffResponse{ID: st.ID, StaffNo: st.StaffNo, MaskedName: st.MaskedName, Department: st.Department, JoinCode: st.JoinCode,
		Linked: st.Linked, LinkedAt: optTime(st.LinkedAt), LinkedHow: st.LinkedHow}
}

// StaffListResponse is the roster by staff number.
type StaffListResponse struct {
	Staff []StaffResponse `json:"staff"`
}

// EmployerGateRequest is POST /gateway/v1/employer/gate.
type EmployerGateRequest struct {
	Code     string `json:"code,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	StaffNo  string `json:"staff_no,omitempty" doc:"links the unlinked roster line with this staff number to the person scanned"`
}

// EmployerGateResponse is the gate's answer: admitted (attendance
// recorded) or refused with the reason.
type EmployerGateResponse struct {
	Staff      StaffResponse `json:"staff"`
	MaskedName string        `json:"masked_name"`
	Color      string        `json:"color"`
	Admitted   bool          `json:"admitted"`
	Reason     string        `json:"reason" doc:"why not admitted: color_red, color_yellow or fever; empty when admitted"`
	At         time.Time     `json:"at"`
	LinkedNow  bool          `json:"linked_now"`
}

// StaffDayResponse is a staff member's day at the gate.
type StaffDayResponse struct {
	StaffNo    string    `json:"staff_no"`
	MaskedName string    `json:"masked_name"`
	Department string    `json:"department"`
	At         time.Time `json:"at" doc:"the first admission, or the last refusal"`
	Reason     string    `json:"reason"`
}

// StaffRef is a roster line in a list.
type StaffRef struct {
	StaffNo    string `json:"staff_no"`
	MaskedName string `json:"masked_name"`
	Department string `json:"department"`
}

// StaffAttendanceResponse is GET /gateway/v1/employer/attendance.
type StaffAttendanceResponse struct {
	Date     string             `json:"date"`
	Employer OrgRef             `json:"employer"`
	Staff    int                `json:"staff"`
	Present  []StaffDayResponse `json:"present"`
	Refused  []StaffDayResponse `json:"refused"`
	ByReason map[string]int     `json:"refused_by_reason"`
	Absent   []StaffRef         `json:"absent"`
}

func staffAttendanceResponse(d *employer.Day) StaffAttendanceResponse {
	out := StaffAttendanceResponse{Date: d.Day.Format(time.DateOnly), Employer: OrgRef{d.Org.ID, d.Org.Name}, Staff: d.Size,
		Present: make([]StaffDayResponse, len(d.Present)), Refused: make([]StaffDayResponse, len(d.Refused)), ByReason: d.ByReason,
		Absent: make([]StaffRef, len(d.Absent))}
	one := func(x *employer.StaffDay) StaffDayResponse {
		return StaffDayResponse{StaffNo: x.Staff.StaffNo, MaskedName: x.Staff.MaskedName, Department: x.Staff.Department, At: x.First, Reason: x.Reason}
	}
	for i, x := range d.Present {
		out.Present[i] = one(x)
	}
	for i, x := range d.Refused {
		out.Refused[i] = one(x)
	}
	for i, x := range d.Absent {
		out.Absent[i] = StaffRef{x.StaffNo, x.MaskedName, x.Department}
	}
	return out
}

// HealthRecord is a staff member's colour per day (empty where unknown).
type HealthRecord struct {
	StaffRef
	Colors []string `json:"colors"`
}

// HealthRecordsResponse is GET /gateway/v1/employer/records: colours per
// day only, never facts or reasons.
type HealthRecordsResponse struct {
	Days    []string       `json:"days"`
	Records []HealthRecord `json:"records"`
}

// JoinEmployerRequest is POST /me/employers.
type JoinEmployerRequest struct {
	JoinCode string `json:"join_code"`
	Consent  bool   `json:"consent" doc:"true: the employer sees my colour per day at its gate"`
}

// MembershipResponse is a roster line the resident is linked to.
type MembershipResponse struct {
	Employer   OrgRef    `json:"employer"`
	StaffNo    string    `json:"staff_no"`
	Department string    `json:"department"`
	LinkedAt   time.Time `json:"linked_at"`
	LinkedHow  string    `json:"linked_how"`
}

func membershipResponse(m *employer.Membership) MembershipResponse {
	return MembershipResponse{Employer: OrgRef{m.Org.ID, m.Org.Name}, StaffNo: m.StaffNo, Department: m.Department, LinkedAt: m.LinkedAt,
		LinkedHow: m.LinkedHow}
}

// MembershipsResponse is GET /me/employers.
type MembershipsResponse struct {
	Employers []MembershipResponse `json:"employers"`
}

// ClassRequest is POST /gateway/v1/school/classes.
type ClassRequest struct {
	Name string `json:"name"`
}

// ClassResponse is a class of a school.
type ClassResponse struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	JoinCode string `json:"join_code" doc:"parents enrol their children with it"`
	Pupils   int    `json:"pupils"`
}

func classResponse(c *school.Class) ClassResponse {
	return ClassResponse{ID: c.ID, Name: c.Name, JoinCode: c.JoinCode, Pupils: c.Pupils}
}

// ClassesResponse is GET /gateway/v1/school/classes.
type ClassesResponse struct {
	Classes []ClassResponse `json:"classes"`
}

// PupilResponse is a pupil; the name is masked.
type PupilResponse struct {
	ID         string `json:"id"`
	ClassID    string `json:"class_id"`
	MaskedName string `json:"masked_name"`
}

func pupilResponse(p *school.Pupil) PupilResponse {
	return PupilResponse{ID: p.ID, ClassID: p.ClassID, MaskedName: p.MaskedName}
}

// PupilsResponse is a class's pupils.
type PupilsResponse struct {
	Class  ClassResponse   `json:"class"`
	Pupils []PupilResponse `json:"pupils"`
}

// EnrolRequest is POST /gateway/v1/school/classes/{id}/pupils: the child's code, scanned.
type EnrolRequest struct {
	Code string `json:"code"`
}

// CheckSlot is morning or noon.
type CheckSlot string

// Enum lists the checks of a day.
func (CheckSlot) Enum() []string { return school.Slots }

// ClassCheckRequest is POST /gateway/v1/school/classes/{id}/checks.
type ClassCheckRequest struct {
	PupilID     string    `json:"pupil_id"`
	Slot        CheckSlot `json:"slot"`
	Temperature float64   `json:"temperature"`
	Symptoms    []string  `json:"symptoms,omitempty"`
}

// ParentCheckRequest is POST /me/school/checks.
type ParentCheckRequest struct {
	PersonID    string    `json:"person_id" doc:"the child, one of the resident's dependents"`
	Slot        CheckSlot `json:"slot"`
	Temperature float64   `json:"temperature"`
	Symptoms    []string  `json:"symptoms,omitempty"`
}

// CheckResponse is a recorded check.
type CheckResponse struct {
	PupilID     string    `json:"pupil_id"`
	Date        string    `json:"date"`
	Slot        CheckSlot `json:"slot"`
	Temperature float64   `json:"temperature"`
	Symptoms    []string  `json:"symptoms"`
	Source      string    `json:"source" doc:"parent, gate or class"`
	At          time.Time `json:"at"`
}

func checkResponse(c *school.Check) CheckResponse {
	out := CheckResponse{PupilID: c.PupilID, Date: c.Day.Format(time.DateOnly), Slot: CheckSlot(c.Slot), Temperature: c.Temperature,
		Symptoms: c.Symptoms, Source: c.Source, At: c.At}
	if out.Symptoms == nil {
		out.Symptoms = []string{}
	}
	return out
}

// SchoolGateRequest is POST /gateway/v1/school/gate.
type SchoolGateRequest struct {
	Code        string    `json:"code" doc:"a health code, a printed care code or a test certificate"`
	Slot        CheckSlot `json:"slot,omitempty"`
	Temperature float64   `json:"temperature,omitempty" doc:"measured at the gate, recorded as the check; 0 or absent: not measured"`
}

// SchoolEntryResponse is the gate's answer.
type SchoolEntryResponse struct {
	Pupil      PupilResponse `json:"pupil"`
	Class      string        `json:"class"`
	Kind       string        `json:"kind" doc:"dynamic, care or certificate"`
	Color      string        `json:"color"`
	Admitted   bool          `json:"admitted"`
	Reasons    []string      `json:"reasons"`
	Result     string        `json:"result" doc:"a certificate's result; empty for codes"`
	ResultAt   *time.Time    `json:"result_at"`
	MaskedName string        `json:"masked_name"`
	At         time.Time     `json:"at"`
}

// ClassDayResponse is a class's check of a day.
type ClassDayResponse struct {
	Class       ClassResponse   `json:"class"`
	Pupils      int             `json:"pupils"`
	Reported    int             `json:"reported"`
	ByParent    int             `json:"by_parent"`
	AtSchool    int             `json:"at_school"`
	Fever       int             `json:"fever"`
	Symptomatic int             `json:"symptomatic"`
	Absent      []PupilResponse `json:"absent" doc:"pupils with no report"`
}

// SchoolDayResponse is GET /gateway/v1/school/report.
type SchoolDayResponse struct {
	Date        string             `json:"date"`
	Slot        CheckSlot          `json:"slot"`
	School      OrgRef             `json:"school"`
	Pupils      int                `json:"pupils"`
	Reported    int                `json:"reported"`
	Fever       int                `json:"fever"`
	Symptomatic int                `json:"symptomatic"`
	Absent      int                `json:"absent"`
	Admitted    int                `json:"admitted" doc:"entries admitted at the gate that day"`
	Refused     int                `json:"refused" doc:"entries refused at the gate that day"`
	Classes     []ClassDayResponse `json:"classes"`
}

func schoolDay(d *school.Day) SchoolDayResponse {
	out := SchoolDayResponse{Date: d.Day.Format(time.DateOnly), Slot: CheckSlot(d.Slot), School: OrgRef{d.Org.ID, d.Org.Name},
		Pupils: d.Total.Pupils, Reported: d.Total.Reported, Fever: d.Total.Fever, Symptomatic: d.Total.Symptomatic,
		Absent: d.Total.Pupils - d.Total.Reported, Admitted: d.Admitted, Refused: d.Refused, Classes: make([]ClassDayResponse, len(d.Classes))}
	for i, c := range d.Classes {
		cd := ClassDayResponse{Class: classResponse(c.Class), Pupils: c.Pupils, Reported: c.Reported, ByParent: c.ByParent, AtSchool: c.AtSchool,
			Fever: c.Fever, Symptomatic: c.Symptomatic, Absent: make([]PupilResponse, len(c.Absent))}
		for j, p := range c.Absent {
			cd.Absent[j] = pupilResponse(p)
		}
		out.Classes[i] = cd
	}
	return out
}

// SchoolEnrolRequest is POST /me/school/enrol.
type SchoolEnrolRequest struct {
	ClassCode string `json:"class_code"`
	PersonID  string `json:"person_id" doc:"the child, one of the resident's dependents"`
}

// ChildResponse is a child's place at a school, with today's checks.
type ChildResponse struct {
	PersonID   string          `json:"person_id"`
	MaskedName string          `json:"masked_name"`
	School     OrgRef          `json:"school"`
	Class      string          `json:"class"`
	Today      []CheckResponse `json:"today"`
}

func childResponse(e *school.Enrolment) ChildResponse {
	out := ChildResponse{PersonID: e.PersonID, MaskedName: e.Pupil.MaskedName, School: OrgRef{e.School.ID, e.School.Name}, Class: e.Class,
		Today: []CheckResponse{}}
	for _, slot := range school.Slots {
		if c := e.Today[slot]; c != nil {
			out.Today = append(out.Today, checkResponse(c))
		}
	}
	return out
}

// ChildrenResponse is GET /me/school.
type ChildrenResponse struct {
	Children []ChildResponse `json:"children"`
}
