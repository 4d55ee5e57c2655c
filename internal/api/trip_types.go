package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/riskarea"
)

// RiskLevel is a risk area's level.
type RiskLevel string

// Enum lists the levels, lowest first.
func (RiskLevel) Enum() []string { return riskarea.Levels }

// RiskAreaRequest publishes a risk area (or asks what it would change).
type RiskAreaRequest struct {
	Region string     `json:"region" doc:"GB/T 2260 code of a city, county or street"`
	Name   string     `json:"name,omitempty" doc:"a place inside the region (a compound, a building); empty: the whole region"`
	Level  RiskLevel  `json:"level"`
	From   *timeField `json:"from,omitempty" doc:"required: when the area starts"`
	Until  *timeField `json:"until,omitempty" doc:"required: when it ends (after from); an open-ended area is refused"`
	// Geometry is decoded loosely here and validated by the risk-area
	// service, which every door (the console, the CSV) goes through.
	Geometry *GeoGeometry `json:"geometry,omitempty" doc:"the area's shape, a GeoJSON geometry (RFC 7946; WGS 84 [longitude, latitude]): Point, Polygon (closed rings of at least 4 positions) or MultiPolygon, at most 10,000 positions; left out: none"`
}

// GeometryType is the type of a GeoJSON geometry a risk area may have.
type GeometryType string

// Enum lists the types a risk area's shape may take.
func (GeometryType) Enum() []string {
	return []string{geo.TypePoint, geo.TypePolygon, geo.TypeMultiPolygon}
}

// GeoGeometry is a GeoJSON geometry object (RFC 7946 §3.1).
type GeoGeometry struct {
	Type        GeometryType `json:"type"`
	Coordinates any          `json:"coordinates" doc:"a position [longitude, latitude] (Point), rings of positions (Polygon) or polygons (MultiPolygon)"`
}

// RiskAreaFeatureCollection is GET /risk-areas?format=geojson: the areas
// in force now or announced as GeoJSON (RFC 7946).
type RiskAreaFeatureCollection struct {
	Type     string            `json:"type" doc:"FeatureCollection"`
	Features []RiskAreaFeature `json:"features"`
}

// RiskAreaFeature is a risk area as a GeoJSON feature.
type RiskAreaFeature struct {
	Type       string             `json:"type" doc:"Feature"`
	ID         string             `json:"id"`
	Geometry   *GeoGeometry       `json:"geometry" doc:"null when the operator gave the area no shape (a region code carries no coordinates)"`
	Properties RiskAreaProperties `json:"properties"`
}

// RiskAreaProperties are a risk area's properties in GeoJSON.
type RiskAreaProperties struct {
	Region     string    `json:"region" doc:"GB/T 2260 code"`
	RegionName string    `json:"region_name"`
	Name       string    `json:"name" doc:"the place inside the region; empty: the whole region"`
	Level      RiskLevel `json:"level"`
	From       time.Time `json:"from"`
	Until      time.Time `json:"until"`
}

// RiskAreaResponse is a risk area.
type RiskAreaResponse struct {
	ID          string     `json:"id"`
	Region      string     `json:"region"`
	RegionName  string     `json:"region_name"`
	City        string     `json:"city" doc:"the city-level code that contains the area; the trip card stars it"`
	Name        string     `json:"name"`
	Level       RiskLevel  `json:"level"`
	From        time.Time  `json:"from"`
	Until       time.Time  `json:"until"`
	Active      bool       `json:"active" doc:"in force now"`
	CreatedAt   time.Time  `json:"created_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at"`
}

// RiskAreaList is a list of risk areas, newest first.
type RiskAreaList struct {
	Areas []RiskAreaResponse `json:"areas"`
}

// RiskAreaPublished is a published area and the visit.risk_area facts its
// publication appended.
type RiskAreaPublished struct {
	RiskAreaResponse
	Facts int `json:"facts" doc:"visit.risk_area facts appended for persons who stayed in the city within the window"`
}

// RiskAreaChange is a person whose colour an area would change.
type RiskAreaChange struct {
	PersonID string `json:"person_id"`
	Region   string `json:"region"`
	From     Color  `json:"from"`
	To       Color  `json:"to"`
	RuleID   string `json:"rule_id"`
}

// RiskAreaDryRun is what publishing an area would do, changing nothing.
type RiskAreaDryRun struct {
	Area     RiskAreaResponse `json:"area"`
	Visitors int              `json:"visitors" doc:"persons whose stays in the window touch the city"`
	Changed  int              `json:"changed" doc:"persons in your scope whose colour would change"`
	Changes  []RiskAreaChange `json:"changes" doc:"the first 50 of them"`
}

// ImportRefused is a refused line of an imported file.
type ImportRefused struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RiskAreaImportReport answers an import of risk areas.
type RiskAreaImportReport struct {
	Lines    int             `json:"lines"`
	Accepted int             `json:"accepted"`
	Facts    int             `json:"facts"`
	Refused  []ImportRefused `json:"refused"`
}

// TripStay is one stay as a carrier reports it.
type TripStay struct {
	Phone     string    `json:"phone"`
	City      string    `json:"city" doc:"city code: 4 digits, or 6 ending in 00"`
	FirstSeen timeField `json:"first_seen"`
	LastSeen  timeField `json:"last_seen"`
}

// TripStaysRequest is a carrier's batch of stays.
type TripStaysRequest struct {
	Stays []TripStay `json:"stays"`
}

// TripStaysReport answers a batch or a file of stays.
type TripStaysReport struct {
	Lines    int             `json:"lines"`
	Accepted int             `json:"accepted"`
	Facts    int             `json:"facts" doc:"visit.risk_area facts the new stays produced"`
	Refused  []ImportRefused `json:"refused"`
}

// TripCity is one city of a trip card.
type TripCity struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Starred   bool      `json:"starred" doc:"the city contains a medium- or high-risk area now"`
}

// TripCard is the trip card (行程卡).
type TripCard struct {
	PersonID   string     `json:"person_id" doc:"empty for the phone's own card"`
	MaskedName string     `json:"masked_name"`
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"`
	WindowDays int        `json:"window_days"`
	Starred    bool       `json:"starred"`
	Cities     []TripCity `json:"cities"`
}

// VenuePolicyRequest sets who a venue, or every venue of a kind, refuses.
type VenuePolicyRequest struct {
	VenueID       string   `json:"venue_id,omitempty" doc:"a venue in your scope; or kind"`
	Kind          string   `json:"kind,omitempty" doc:"every venue of the kind (a venue's own policy wins)"`
	Refuse        []string `json:"refuse" doc:"any of red, yellow, starred"`
	UntestedHours int      `json:"untested_hours,omitempty" doc:"refuse without a negative test sampled within so many hours (0: none required)"`
}

// VenuePolicyResponse is a venue's or a kind's policy.
type VenuePolicyResponse struct {
	Scope         string    `json:"scope" doc:"venue or kind"`
	Ref           string    `json:"ref"`
	Refuse        []string  `json:"refuse"`
	UntestedHours int       `json:"untested_hours"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// VenuePolicyList is the policies in scope.
type VenuePolicyList struct {
	Policies []VenuePolicyResponse `json:"policies"`
}
