package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/nat"
)

// SiteResponse is a sampling site (采样点), open data.
type SiteResponse struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Address    string    `json:"address"`
	Phone      string    `json:"phone"`
	Hours      string    `json:"hours" doc:"opening hours, as published"`
	Lat        float64   `json:"lat" doc:"WGS 84 degrees"`
	Lng        float64   `json:"lng"`
	Region     string    `json:"region"`
	RegionName string    `json:"region_name"`
	Open       bool      `json:"open"`
	UpdatedAt  time.Time `json:"updated_at"`
	DistanceM  *int64    `json:"distance_m,omitempty" doc:"metres from ?near=, in a nearest-site search"`
}

func siteResponse(st *nat.Site) SiteResponse { return SiteResponse(*st) }

// SiteListResponse is GET /sites as JSON.
type SiteListResponse struct {
	Count int            `json:"count"`
	Sites []SiteResponse `json:"sites"`
}

// SiteFeatureCollection is GET /sites?format=geojson: the sites as GeoJSON
// points (RFC 7946).
type SiteFeatureCollection struct {
	Type     string        `json:"type" doc:"FeatureCollection"`
	Features []SiteFeature `json:"features"`
}

// SiteFeature is a site as a GeoJSON feature.
type SiteFeature struct {
	Type       string         `json:"type" doc:"Feature"`
	ID         string         `json:"id"`
	Geometry   GeoPoint       `json:"geometry"`
	Properties SiteProperties `json:"properties"`
}

// GeoPoint is a GeoJSON point. Positions are [longitude, latitude]
// (RFC 7946 §3.1.1), the reverse of the order people say them in.
type GeoPoint struct {
	Type        string     `json:"type" doc:"Point"`
	Coordinates [2]float64 `json:"coordinates" doc:"[longitude, latitude]"`
}

// SiteProperties are a site's properties in GeoJSON (in the order of
// their names).
type SiteProperties struct {
	Address    string    `json:"address"`
	DistanceM  *int64    `json:"distance_m,omitempty"`
	Hours      string    `json:"hours"`
	Name       string    `json:"name"`
	Open       bool      `json:"open"`
	Phone      string    `json:"phone"`
	Region     string    `json:"region"`
	RegionName string    `json:"region_name"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func sitesGeoJSON(sites []*nat.Site) SiteFeatureCollection {
	fc := SiteFeatureCollection{Type: "FeatureCollection", Features: make([]SiteFeature, 0, len(sites))}
	for _, st := range sites {
		fc.Features = append(fc.Features, SiteFeature{Type: "Feature", ID: st.ID,
			Geometry: GeoPoint{Type: "Point", Coordinates: [2]float64{st.Lng, st.Lat}},
			Properties: SiteProperties{Address: st.Address, DistanceM: st.DistanceM, Hours: st.Hours, Name: st.Name, Open: st.Open,
				Phone: st.Phone, Region: st.Region, RegionName: st.RegionName, UpdatedAt: st.UpdatedAt}})
	}
	return fc
}

// SiteRequest is POST /admin/sites and PATCH /admin/sites/{id}. A PATCH
// changes the fields it holds.
type SiteRequest struct {
	Name    *string  `json:"name,omitempty"`
	Address *string  `json:"address,omitempty"`
	Phone   *string  `json:"phone,omitempty"`
	Hours   *string  `json:"hours,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	Lng     *float64 `json:"lng,omitempty"`
	Region  *string  `json:"region,omitempty" doc:"derived from the nearest region if left out"`
	Open    *bool    `json:"open,omitempty" doc:"true if left out; false closes the site"`
}

// ImportReport is the per-line report of a site import.
type ImportReport struct {
	Lines   int          `json:"lines"`
	Created int          `json:"created"`
	Updated int          `json:"updated"`
	Refused int          `json:"refused"`
	Report  []ImportLine `json:"report"`
}

// ImportLine is one line of an import report.
type ImportLine struct {
	Line    int    `json:"line"`
	Name    string `json:"name,omitempty"`
	Status  string `json:"status" doc:"created, updated or refused"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code,omitempty" doc:"why it was refused: an error code"`
	Message string `json:"message,omitempty"`
}

func importReport(r *nat.ImportReport) ImportReport {
	out := ImportReport{Lines: r.Lines, Created: r.Created, Updated: r.Updated, Refused: r.Refused, Report: make([]ImportLine, len(r.Report))}
	for i, l := range r.Report {
		out.Report[i] = ImportLine(l)
	}
	return out
}

// TubeRequest is POST /nat/tubes: open a tube at a site.
type TubeRequest struct {
	Barcode  string `json:"barcode"`
	Capacity int    `json:"capacity" doc:"1 (single), 5, 10 or 20 (mixed sampling)"`
	SiteID   string `json:"site_id"`
}

// TubeResponse is a sampling tube.
type TubeResponse struct {
	Barcode    string     `json:"barcode"`
	Capacity   int        `json:"capacity"`
	SiteID     string     `json:"site_id"`
	Region     string     `json:"region"`
	Samples    int        `json:"samples"`
	OpenedAt   time.Time  `json:"opened_at"`
	SealedAt   *time.Time `json:"sealed_at,omitempty"`
	TransferID string     `json:"transfer_id,omitempty"`
	Lab        string     `json:"lab,omitempty"`
	Result     string     `json:"result,omitempty" doc:"negative, positive or invalid; absent while pending"`
	Version    int        `json:"result_version,omitempty" doc:"counts reports: 2 and up are corrections"`
	ReportedAt *time.Time `json:"reported_at,omitempty"`
	State      string     `json:"state" doc:"open, full, sealed, transferred or reported"`
}

func tubeResponse(t *nat.Tube) TubeResponse { return TubeResponse(*t) }

// SampleRequest is POST /nat/tubes/{barcode}/samples: a scanned health or
// care code, or an identity document.
type SampleRequest struct {
	Code     string `json:"code,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
}

// SampleResponse is a person bound to a tube.
type SampleResponse struct {
	ID         string    `json:"id"`
	Barcode    string    `json:"barcode"`
	Position   int       `json:"position"`
	Capacity   int       `json:"capacity"`
	SampledAt  time.Time `json:"sampled_at"`
	Method     string    `json:"method" doc:"dynamic, care or id_number"`
	PersonID   string    `json:"person_id"`
	MaskedName string    `json:"masked_name"`
	Full       bool      `json:"full" doc:"the tube is now full and should be sealed"`
}

// TransferRequest is POST /nat/transfers.
type TransferRequest struct {
	Barcodes []string `json:"barcodes"`
	Lab      string   `json:"lab"`
}

// TransferResponse is a batch of sealed tubes handed to a lab.
type TransferResponse struct {
	ID        string    `json:"id"`
	Lab       string    `json:"lab"`
	Region    string    `json:"region"`
	Barcodes  []string  `json:"barcodes"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

func transferResponse(t *nat.Transfer) TransferResponse {
	out := TransferResponse(*t)
	out.Barcodes = nonNil(out.Barcodes)
	return out
}

// ResultRequest is POST /nat/results.
type ResultRequest struct {
	Barcode string `json:"barcode"`
	Result  string `json:"result" doc:"negative, positive or invalid"`
	Lab     string `json:"lab,omitempty"`
}

// CorrectionRequest is POST /nat/results/{barcode}/correction.
type CorrectionRequest struct {
	Result string `json:"result"`
	Reason string `json:"reason"`
}

// ResultReport is a tube's result as recorded.
type ResultReport struct {
	Tube    TubeResponse `json:"tube"`
	Status  string       `json:"status" doc:"accepted, unchanged or corrected"`
	Persons int          `json:"persons"`
	Facts   int          `json:"facts" doc:"facts the status engine created now (0 for a repeat)"`
}

func resultReport(r *nat.Report) ResultReport {
	return ResultReport{Tube: tubeResponse(r.Tube), Status: r.Status, Persons: r.Persons, Facts: r.Facts}
}

// UploadReport is the per-line report of a lab's result file.
type UploadReport struct {
	ID           string       `json:"id"`
	Lines        int          `json:"lines"`
	Accepted     int          `json:"accepted"`
	Unchanged    int          `json:"unchanged"`
	Refused      int          `json:"refused"`
	Persons      int          `json:"persons" doc:"people in the accepted tubes"`
	Facts        int          `json:"facts" doc:"facts the status engine created"`
	FactsPending int          `json:"facts_pending" doc:"accepted tubes whose facts are retried in the background"`
	Report       []UploadLine `json:"report"`
}

// UploadLine is one line of an upload report.
type UploadLine struct {
	Line    int    `json:"line"`
	Barcode string `json:"barcode,omitempty"`
	Result  string `json:"result,omitempty"`
	Status  string `json:"status" doc:"accepted, unchanged or refused"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func uploadReport(r *nat.UploadReport) UploadReport {
	out := UploadReport{ID: r.ID, Lines: r.Lines, Accepted: r.Accepted, Unchanged: r.Unchanged, Refused: r.Refused, Persons: r.Persons,
		Facts: r.Facts, FactsPending: r.FactsPending, Report: make([]UploadLine, len(r.Report))}
	for i, l := range r.Report {
		out.Report[i] = UploadLine(l)
	}
	return out
}

// TestsResponse is a resident's test results, newest first, and their open
// retest and resample tasks.
type TestsResponse struct {
	Tests []TestResponse `json:"tests"`
	Tasks []TestTask     `json:"tasks"`
}

// TestResponse is a test as the person sees it.
type TestResponse struct {
	ID           string     `json:"id"`
	SampledAt    time.Time  `json:"sampled_at"`
	Site         SiteRef    `json:"site"`
	Tube         string     `json:"tube"`
	TubeCapacity int        `json:"tube_capacity"`
	Result       string     `json:"result" doc:"pending, negative, positive (single tube), mixed_positive or invalid (resample)"`
	ReportedAt   *time.Time `json:"reported_at,omitempty"`
	Lab          string     `json:"lab,omitempty"`
	Corrected    bool       `json:"corrected"`
	Certificate  bool       `json:"certificate" doc:"whether .../certificate gives one now"`
}

// SiteRef names a sampling site.
type SiteRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

// TestTask is a retest (after a single-tube positive) or a resample
// (after an invalid result).
type TestTask struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind" doc:"retest or resample"`
	Tube      string    `json:"tube"`
	CreatedAt time.Time `json:"created_at"`
}

func testsResponse(t *nat.Tests) TestsResponse {
	out := TestsResponse{Tests: make([]TestResponse, len(t.Tests)), Tasks: make([]TestTask, len(t.Tasks))}
	for i, x := range t.Tests {
		out.Tests[i] = TestResponse{ID: x.ID, SampledAt: x.SampledAt, Site: SiteRef(x.Site), Tube: x.Tube, TubeCapacity: x.TubeCapacity,
			Result: x.Result, ReportedAt: x.ReportedAt, Lab: x.Lab, Corrected: x.Corrected, Certificate: x.Certificate}
	}
	for i, x := range t.Tasks {
		out.Tasks[i] = TestTask(x)
	}
	return out
}

// CertificateResponse is a signed certificate of a negative test,
// verifiable offline with the trust list.
type CertificateResponse struct {
	Code       string    `json:"code" doc:"the text of the QR code"`
	Kind       CodeKind  `json:"kind"`
	Result     string    `json:"result" doc:"negative"`
	MaskedName string    `json:"masked_name"`
	SampledAt  time.Time `json:"sampled_at"`
	Site       string    `json:"site"`
	Issuer     string    `json:"issuer"`
	IssuedAt   time.Time `json:"issued_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	PNGURL     string    `json:"png_url" doc:"the same certificate as a QR image"`
}

func certificateResponse(c *nat.Certificate, pngURL string) CertificateResponse {
	return CertificateResponse{Code: c.Code, Kind: CodeKind(c.Kind.String()), Result: c.Result.String(), MaskedName: c.MaskedName,
		SampledAt: c.SampledAt, Site: c.Site, Issuer: c.Issuer, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, PNGURL: pngURL}
}

// NATPersonRef names a person in an operator's list.
type NATPersonRef struct {
	ID         string `json:"id"`
	Name       string `json:"name" doc:"masked unless the role may see names in full"`
	Phone      string `json:"phone,omitempty"`
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
}

// AlertResponse is a single-tube positive to follow up.
type AlertResponse struct {
	ID          string       `json:"id"`
	Person      NATPersonRef `json:"person"`
	Tube        string       `json:"tube"`
	Site        SiteRef      `json:"site"`
	SampledAt   time.Time    `json:"sampled_at"`
	CreatedAt   time.Time    `json:"created_at"`
	AckedAt     *time.Time   `json:"acked_at,omitempty"`
	AckedBy     string       `json:"acked_by,omitempty"`
	RetractedAt *time.Time   `json:"retracted_at,omitempty" doc:"the lab corrected the result"`
}

// AlertListResponse is a page of alerts.
type AlertListResponse struct {
	Alerts []AlertResponse `json:"alerts"`
	Next   string          `json:"next" doc:"pass as ?after= for the next page; empty on the last"`
}

func alertList(as []nat.Alert, next string) AlertListResponse {
	out := AlertListResponse{Alerts: make([]AlertResponse, len(as)), Next: next}
	for i, a := range as {
		out.Alerts[i] = AlertResponse{ID: a.ID, Person: NATPersonRef(a.Person), Tube: a.Tube, Site: SiteRef(a.Site), SampledAt: a.SampledAt,
			CreatedAt: a.CreatedAt, AckedAt: a.AckedAt, AckedBy: a.AckedBy, RetractedAt: a.RetractedAt}
	}
	return out
}

// GridTask is a retest or resample task with its person, for grid workers.
type GridTask struct {
	TestTask
	Person       NATPersonRef `json:"person"`
	ClosedAt     *time.Time   `json:"closed_at,omitempty"`
	ClosedReason string       `json:"closed_reason,omitempty" doc:"sampled or superseded"`
}

// GridTaskList is a page of tasks.
type GridTaskList struct {
	Next  string     `json:"next" doc:"pass as ?after= for the next page; empty on the last"`
	Tasks []GridTask `json:"tasks"`
}

func gridTaskList(ts []nat.GridTask, next string) GridTaskList {
	out := GridTaskList{Next: next, Tasks: make([]GridTask, len(ts))}
	for i, t := range ts {
		out.Tasks[i] = GridTask{TestTask: TestTask(t.Task), Person: NATPersonRef(t.Person), ClosedAt: t.ClosedAt, ClosedReason: t.ClosedReason}
	}
	return out
}

// TestCoverageResponse is GET /admin/nat/coverage (应检未检): residents
// without a negative result in the window.
type TestCoverageResponse struct {
	Region   string            `json:"region"`
	Name     string            `json:"name"`
	Hours    int               `json:"hours"`
	Since    time.Time         `json:"since"`
	At       time.Time         `json:"at"`
	Total    TestCoverageRow   `json:"total"`
	Rows     []TestCoverageRow `json:"rows" doc:"per region one level down"`
	Untested []UntestedPerson  `json:"untested" doc:"a page of them, masked"`
	Next     string            `json:"next" doc:"pass as ?after= for the next page; empty on the last"`
}

// TestCoverageRow counts a region's residents by their latest result.
type TestCoverageRow struct {
	Region    string  `json:"region"`
	Name      string  `json:"name"`
	Residents int64   `json:"residents"`
	Negative  int64   `json:"negative" doc:"with a negative result sampled in the window"`
	Untested  int64   `json:"untested" doc:"without one (应检未检)"`
	Pending   int64   `json:"pending" doc:"untested, but sampled in the window and awaiting the result"`
	Share     float64 `json:"share" doc:"negative / residents"`
}

// UntestedPerson is a resident without a negative result in the window.
type UntestedPerson struct {
	NATPersonRef
	LastNegative *time.Time `json:"last_negative,omitempty" doc:"when their latest negative was sampled, before the window"`
	Pending      bool       `json:"pending" doc:"sampled in the window, result not out"`
}

func testCoverage(c *nat.Coverage) TestCoverageResponse {
	out := TestCoverageResponse{Region: c.Region, Name: c.Name, Hours: c.Hours, Since: c.Since, At: c.At, Total: TestCoverageRow(c.Total),
		Rows: make([]TestCoverageRow, len(c.Rows)), Untested: make([]UntestedPerson, len(c.Untested)), Next: c.Next}
	for i, r := range c.Rows {
		out.Rows[i] = TestCoverageRow(r)
	}
	for i, u := range c.Untested {
		out.Untested[i] = UntestedPerson{NATPersonRef: NATPersonRef(u.PersonRef), LastNegative: u.LastNegative, Pending: u.Pending}
	}
	return out
}
