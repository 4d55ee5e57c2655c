package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/ride"
	"github.com/healthcode/healthcode/internal/rules"
)

// The request and response bodies of the gateway's fever-clinic, hospital
// and ride-hailing scenarios (/gateway/v1/clinic, /hospital, /ride), of the
// operators' views of them (/api/v1/admin/...) and of the resident's
// handles (/api/v1/me/platforms).

// ClinicVisitRequest is POST /gateway/v1/clinic/visits: a visit after a scan.
type ClinicVisitRequest struct {
	Subject     string   `json:"subject"`
	Temperature float64  `json:"temperature"`
	Symptoms    []string `json:"symptoms,omitempty"`
	Diagnosis   string   `json:"diagnosis,omitempty"`
	Doctor      string   `json:"doctor"`
}

// CloseVisitRequest is POST /gateway/v1/clinic/visits/{id}/close.
type CloseVisitRequest struct {
	Outcome   string     `json:"outcome"`
	SampledAt *time.Time `json:"sampled_at,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// ClinicVisitResponse is a fever-clinic visit; Color is the patient's colour
// after a registration or a close (in those answers only).
type ClinicVisitResponse struct {
	ID          string     `json:"id"`
	At          time.Time  `json:"at"`
	MaskedName  string     `json:"masked_name"`
	Temperature float64    `json:"temperature"`
	Symptoms    []string   `json:"symptoms"`
	Diagnosis   string     `json:"diagnosis"`
	Doctor      string     `json:"doctor"`
	State       string     `json:"state"` // open or closed
	Outcome     string     `json:"outcome,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	SampledAt   *time.Time `json:"sampled_at,omitempty"`
	Note        string     `json:"note,omitempty"`
	Color       string     `json:"color,omitempty"`
}

func visitResponse(v *clinic.Visit) ClinicVisitResponse {
	out := ClinicVisitResponse{ID: v.ID, At: v.At, MaskedName: v.MaskedName, Temperature: v.Temperature, Symptoms: v.Symptoms,
		Diagnosis: v.Diagnosis, Doctor: v.Doctor, State: "open", Outcome: v.Outcome, ClosedAt: optTime(v.ClosedAt),
		SampledAt: optTime(v.SampledAt), Note: v.Note}
	if out.Symptoms == nil {
		out.Symptoms = []string{}
	}
	if !v.Open() {
		out.State = "closed"
	}
	if v.Color.Valid() {
		out.Color = v.Color.String()
	}
	return out
}

// ClinicVisitsResponse is a clinic's follow-up: every open visit, oldest
// first, and the day's closed ones, newest first, with the day's counts.
type ClinicVisitsResponse struct {
	Date       string                `json:"date"`
	Clinic     OrgRef                `json:"clinic"`
	Registered int64                 `json:"registered"`
	Fever      int64                 `json:"fever"`
	Open       []ClinicVisitResponse `json:"open"`
	Closed     []ClinicVisitResponse `json:"closed"`
}

func clinicVisits(l *clinic.List) ClinicVisitsResponse {
	out := ClinicVisitsResponse{Date: l.Day.Format(time.DateOnly), Clinic: OrgRef{l.Org.ID, l.Org.Name}, Registered: l.Registered,
		Fever: l.Fever, Open: make([]ClinicVisitResponse, len(l.Open)), Closed: make([]ClinicVisitResponse, len(l.Closed))}
	for i, v := range l.Open {
		out.Open[i] = visitResponse(v)
	}
	for i, v := range l.Closed {
		out.Closed[i] = visitResponse(v)
	}
	return out
}

// TownVisits is one town's row of the authority's fever-clinic summary.
type TownVisits struct {
	Region     string `json:"region"`
	Name       string `json:"name"`
	Visits     int64  `json:"visits"`
	Fever      int64  `json:"fever"`
	Clinics    int64  `json:"clinics"`
	Negative   int64  `json:"closed_negative"`
	Positive   int64  `json:"closed_positive"`
	Discharged int64  `json:"closed_discharged"`
	Open       int64  `json:"open"`
}

func townVisits(regions *region.Table, t *clinic.TownRow) TownVisits {
	name := ""
	if rg, ok := regions.Lookup(t.Region); ok {
		name = rg.Name
	}
	return TownVisits{Region: t.Region, Name: name, Visits: t.Visits, Fever: t.Fever, Clinics: t.Clinics, Negative: t.Negative,
		Positive: t.Positive, Discharged: t.Discharged, Open: t.Open}
}

// ClinicSummaryResponse is GET /admin/clinic/summary.
type ClinicSummaryResponse struct {
	Date  string       `json:"date"`
	Towns []TownVisits `json:"towns"`
	Total TownVisits   `json:"total"`
}

// IdentityRequest is POST /gateway/v1/hospital/identity.
type IdentityRequest struct {
	Subject string `json:"subject"`
	Purpose string `json:"purpose"`
}

// IdentityResponse is a patient's identity, handed over once per scan.
type IdentityResponse struct {
	Name     string    `json:"name"`
	IDType   string    `json:"id_type"`
	IDNumber string    `json:"id_number"`
	Phone    string    `json:"phone"`
	Purpose  string    `json:"purpose"`
	At       time.Time `json:"at"`
}

// QueueRequest is POST /gateway/v1/hospital/queue.
type QueueRequest struct {
	Subject    string `json:"subject"`
	Department string `json:"department"`
}

// TicketResponse is a queue number. routed is true when a yellow code was
// sent to the fever clinic instead of the department asked for; reasons
// says why.
type TicketResponse struct {
	ID         string    `json:"id"`
	Department string    `json:"department"`
	Asked      string    `json:"asked_department"`
	Number     int64     `json:"number"`
	MaskedName string    `json:"masked_name"`
	Color      string    `json:"color"`
	Routed     bool      `json:"routed"`
	Reasons    []string  `json:"reasons"`
	At         time.Time `json:"at"`
}

func ticketResponse(t *hospital.Ticket) TicketResponse {
	return TicketResponse{ID: t.ID, Department: t.Department, Asked: t.Asked, Number: t.Number, MaskedName: t.MaskedName,
		Color: t.Color.String(), Routed: t.Routed, Reasons: t.Reasons, At: t.At}
}

// DepartmentCount is how many numbers a department gave.
type DepartmentCount struct {
	Department string `json:"department"`
	Count      int64  `json:"count"`
}

// HospitalQueueResponse is a hospital's queue of one day, in the order
// the numbers were given.
type HospitalQueueResponse struct {
	Date     string            `json:"date"`
	Hospital OrgRef            `json:"hospital"`
	Routed   int64             `json:"routed"`
	Counts   []DepartmentCount `json:"counts"`
	Tickets  []TicketResponse  `json:"tickets"`
}

func hospitalQueue(d *hospital.Day) HospitalQueueResponse {
	out := HospitalQueueResponse{Date: d.Day.Format(time.DateOnly), Hospital: OrgRef{d.Org.ID, d.Org.Name}, Routed: d.Routed,
		Counts: make([]DepartmentCount, len(d.Counts)), Tickets: make([]TicketResponse, len(d.Tickets))}
	for i, c := range d.Counts {
		out.Counts[i] = DepartmentCount(c)
	}
	for i, t := range d.Tickets {
		out.Tickets[i] = ticketResponse(t)
	}
	return out
}

// RideCheckRequest is POST /gateway/v1/ride/check: one driver or passenger.
type RideCheckRequest struct {
	Handle string `json:"handle"`
}

// RideCheckResponse is a handle's colour, and nothing else.
type RideCheckResponse struct {
	Handle string `json:"handle"`
	Color  string `json:"color"`
}

// RideBatchRequest is POST /gateway/v1/ride/check/batch: up to 10,000
// handles, drivers at shift start.
type RideBatchRequest struct {
	Handles []string `json:"handles"`
}

// RideBatchResult is one handle's answer: its colour, or the error
// handle_unknown for a handle not in use with this platform.
type RideBatchResult struct {
	Handle string `json:"handle"`
	Color  string `json:"color,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ColorCounts counts answers per colour.
type ColorCounts struct {
	Green  int64 `json:"green"`
	Yellow int64 `json:"yellow"`
	Red    int64 `json:"red"`
}

// RideBatchResponse answers a batch in its order.
type RideBatchResponse struct {
	Checked int64             `json:"checked"`
	Unknown int64             `json:"unknown"`
	Counts  ColorCounts       `json:"counts"`
	Results []RideBatchResult `json:"results"`
}

func rideBatch(rs []ride.Result) RideBatchResponse {
	out := RideBatchResponse{Checked: int64(len(rs)), Results: make([]RideBatchResult, len(rs))}
	for i, r := range rs {
		out.Results[i].Handle = r.Handle
		if !r.Known {
			out.Results[i].Error = ride.ErrHandleUnknown.Code
			out.Unknown++
			continue
		}
		out.Results[i].Color = r.Color.String()
		switch r.Color {
		case rules.Green:
			out.Counts.Green++
		case rules.Yellow:
			out.Counts.Yellow++
		case rules.Red:
			out.Counts.Red++
		}
	}
	return out
}

// PlatformResponse is a ride-hailing platform or taxi company as a
// resident sees it, with the handle they share with it ("" for none).
type PlatformResponse struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Handle    string     `json:"handle"`
	GrantedAt *time.Time `json:"granted_at"`
}

func platformResponse(p *ride.Platform) PlatformResponse {
	return PlatformResponse{ID: p.Org.ID, Name: p.Org.Name, Kind: string(p.Org.Kind), Handle: p.Handle, GrantedAt: optTime(p.GrantedAt)}
}

// PlatformListResponse is GET /me/platforms.
type PlatformListResponse struct {
	Platforms []PlatformResponse `json:"platforms"`
}
