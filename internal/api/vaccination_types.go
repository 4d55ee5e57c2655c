package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/vaccine"
)

// VaccinationSiteResponse is a vaccination site (接种点), open data.
type VaccinationSiteResponse struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Address    string  `json:"address"`
	Phone      string  `json:"phone"`
	Hours      string  `json:"hours"`
	Lat        float64 `json:"lat" doc:"WGS 84 degrees"`
	Lng        float64 `json:"lng"`
	Region     string  `json:"region"`
	RegionName string  `json:"region_name"`
	Open       bool    `json:"open"`
	DistanceM  *int64  `json:"distance_m,omitempty" doc:"metres from ?near=, in a nearest-site search"`
}

func vaccinationSiteResponse(st *vaccine.Site) VaccinationSiteResponse {
	return VaccinationSiteResponse{ID: st.ID, Name: st.Name, Address: st.Address, Phone: st.Phone, Hours: st.Hours, Lat: st.Lat,
		Lng: st.Lng, Region: st.Region, RegionName: st.RegionName, Open: st.Open, DistanceM: st.DistanceM}
}

// VaccinationSiteList is GET /vaccination/sites as JSON.
type VaccinationSiteList struct {
	Count int                       `json:"count"`
	Sites []VaccinationSiteResponse `json:"sites"`
}

// VaccinationSiteRequest is POST /admin/vaccination/sites.
type VaccinationSiteRequest struct {
	Name    string  `json:"name"`
	Address string  `json:"address"`
	Phone   string  `json:"phone,omitempty"`
	Hours   string  `json:"hours,omitempty"`
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
	Region  string  `json:"region,omitempty" doc:"default: the operator's region"`
}

// VaccineResponse is a vaccine product and its primary series.
type VaccineResponse struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Maker        string `json:"maker"`
	Doses        int    `json:"doses" doc:"doses in the primary series"`
	IntervalDays int    `json:"interval_days" doc:"least days between two doses"`
}

func vaccineResponse(p *vaccine.Product) VaccineResponse {
	return VaccineResponse{ID: p.ID, Name: p.Name, Maker: p.Maker, Doses: p.Doses, IntervalDays: p.IntervalDays}
}

// VaccineList is GET /vaccination/vaccines.
type VaccineList struct {
	Vaccines []VaccineResponse `json:"vaccines"`
}

// VaccineRequest is POST /admin/vaccination/vaccines.
type VaccineRequest struct {
	Name         string `json:"name"`
	Maker        string `json:"maker"`
	Doses        int    `json:"doses"`
	IntervalDays int    `json:"interval_days"`
}

// SlotResponse is a period of a day at a site with its places.
type SlotResponse struct {
	ID        string          `json:"id"`
	SiteID    string          `json:"site_id"`
	SiteName  string          `json:"site_name"`
	Vaccine   VaccineResponse `json:"vaccine"`
	StartsAt  time.Time       `json:"starts_at"`
	EndsAt    time.Time       `json:"ends_at"`
	Capacity  int             `json:"capacity"`
	Remaining int             `json:"remaining" doc:"places not booked"`
}

func slotResponse(sl *vaccine.Slot) SlotResponse {
	return SlotResponse{ID: sl.ID, SiteID: sl.SiteID, SiteName: sl.SiteName, Vaccine: vaccineResponse(&sl.Product), StartsAt: sl.StartsAt,
		EndsAt: sl.EndsAt, Capacity: sl.Capacity, Remaining: sl.Remaining}
}

// SlotList is GET /vaccination/sites/{id}/slots.
type SlotList struct {
	Slots []SlotResponse `json:"slots"`
}

// SlotRequest is POST /admin/vaccination/slots.
type SlotRequest struct {
	SiteID    string    `json:"site_id"`
	VaccineID string    `json:"vaccine_id" doc:"the vaccine's id or name"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at" doc:"the same day as starts_at"`
	Capacity  int       `json:"capacity" doc:"1-10000 places"`
}

// AppointmentRequest is POST /me/appointments.
type AppointmentRequest struct {
	SlotID   string `json:"slot_id"`
	PersonID string `json:"person_id,omitempty" doc:"a dependent's id; default: oneself"`
}

// AppointmentResponse is an appointment.
type AppointmentResponse struct {
	ID         string       `json:"id"`
	PersonID   string       `json:"person_id"`
	MaskedName string       `json:"masked_name"`
	Dose       int          `json:"dose" doc:"the dose number in the series"`
	State      string       `json:"state" doc:"booked, cancelled or done"`
	Slot       SlotResponse `json:"slot"`
	CreatedAt  time.Time    `json:"created_at"`
}

func appointmentResponse(a *vaccine.Appointment) AppointmentResponse {
	return AppointmentResponse{ID: a.ID, PersonID: a.PersonID, MaskedName: a.MaskedName, Dose: a.Dose, State: a.State,
		Slot: slotResponse(&a.Slot), CreatedAt: a.CreatedAt}
}

// AppointmentList is GET /me/appointments.
type AppointmentList struct {
	Appointments []AppointmentResponse `json:"appointments"`
}

// DoseRequest is POST /vaccination/doses: a dose given at a site.
type DoseRequest struct {
	Code      string     `json:"code,omitempty" doc:"the scanned health code or care code"`
	IDType    string     `json:"id_type,omitempty"`
	IDNumber  string     `json:"id_number,omitempty" doc:"for a person without a code; audited"`
	VaccineID string     `json:"vaccine_id" doc:"the vaccine's id or name"`
	Lot       string     `json:"lot"`
	Dose      int        `json:"dose"`
	SiteID    string     `json:"site_id"`
	GivenAt   *time.Time `json:"given_at,omitempty" doc:"default: now"`
}

// DoseResponse is a dose given.
type DoseResponse struct {
	ID       string          `json:"id"`
	Dose     int             `json:"dose"`
	Vaccine  VaccineResponse `json:"vaccine"`
	Lot      string          `json:"lot"`
	SiteID   string          `json:"site_id"`
	SiteName string          `json:"site_name"`
	GivenAt  time.Time       `json:"given_at"`
	Source   string          `json:"source" doc:"scan or import"`
}

func doseResponse(d *vaccine.Dose) DoseResponse {
	return DoseResponse{ID: d.ID, Dose: d.Dose, Vaccine: vaccineResponse(&d.Product), Lot: d.Lot, SiteID: d.SiteID, SiteName: d.SiteName,
		GivenAt: d.GivenAt, Source: d.Source}
}

// DoseRegistered is the answer to a site registering a dose.
type DoseRegistered struct {
	DoseResponse
	PersonID   string `json:"person_id"`
	MaskedName string `json:"masked_name"`
}

// VaccinationRecord is GET /me/vaccinations.
type VaccinationRecord struct {
	PersonID   string         `json:"person_id"`
	MaskedName string         `json:"masked_name"`
	Doses      []DoseResponse `json:"doses"`
	Complete   bool           `json:"complete" doc:"every dose of the series was given"`
	NextDue    *time.Time     `json:"next_due" doc:"from when the next dose may be given; null when complete or none given"`
}

func vaccinationRecord(r *vaccine.Record) VaccinationRecord {
	out := VaccinationRecord{PersonID: r.PersonID, MaskedName: r.MaskedName, Doses: make([]DoseResponse, len(r.Doses)),
		Complete: r.Complete, NextDue: r.NextDue}
	for i := range r.Doses {
		out.Doses[i] = doseResponse(&r.Doses[i])
	}
	return out
}

// VaccinationCertificate is a signed vaccination certificate.
type VaccinationCertificate struct {
	Code       string    `json:"code" doc:"the text of the QR code: kind certificate, result vaccinated"`
	Kind       CodeKind  `json:"kind"`
	Result     string    `json:"result" doc:"vaccinated"`
	MaskedName string    `json:"masked_name"`
	Vaccine    string    `json:"vaccine"`
	Dose       int       `json:"dose" doc:"the latest dose"`
	Doses      int       `json:"doses" doc:"doses in the series"`
	LastDoseAt time.Time `json:"last_dose_at"`
	Issuer     string    `json:"issuer"`
	IssuedAt   time.Time `json:"issued_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	PNGURL     string    `json:"png_url"`
}

// DayCountResponse is the appointments of a day.
type DayCountResponse struct {
	Day       string `json:"day" doc:"YYYY-MM-DD"`
	Places    int64  `json:"places"`
	Booked    int64  `json:"booked" doc:"open appointments"`
	Cancelled int64  `json:"cancelled"`
	Done      int64  `json:"done"`
}

// AppointmentDays is GET /admin/vaccination/appointments.
type AppointmentDays struct {
	Days []DayCountResponse `json:"days"`
}

// TownDoses is the doses of one vaccine in one town.
type TownDoses struct {
	Town     string `json:"town"`
	TownName string `json:"town_name"`
	Vaccine  string `json:"vaccine"`
	Doses    int64  `json:"doses"`
}

// DosesByTown is GET /admin/vaccination/doses.
type DosesByTown struct {
	Towns []TownDoses `json:"towns"`
}

// AgeBandCoverage is the coverage of one age band.
type AgeBandCoverage struct {
	Band      string `json:"band" doc:"0-17, 18-59, 60-69, 70-79, 80+ or unknown"`
	Residents int64  `json:"residents"`
	AnyDose   int64  `json:"any_dose"`
	Complete  int64  `json:"complete"`
}

// VaccinationCoverage is GET /admin/vaccination/coverage.
type VaccinationCoverage struct {
	Bands []AgeBandCoverage `json:"bands"`
}

// DoseImportReport is the answer to an import of earlier doses.
type DoseImportReport struct {
	Lines    int             `json:"lines"`
	Accepted int             `json:"accepted"`
	Refused  []DoseImportBad `json:"refused"`
}

// DoseImportBad is a refused line.
type DoseImportBad struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}
