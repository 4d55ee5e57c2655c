package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// An operator may give an area its shape when publishing; a shape that is
// not a valid geometry is a precise 400 and stores nothing. The open data
// is also a GeoJSON FeatureCollection (RFC 7946), where an area without a
// shape is a feature with a null geometry; the JSON list is unchanged.
func TestRiskAreasAsGeoJSON(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		officer := e.NewOperator("cdc", "health_officer", "341881")
		now := time.Now().UTC()
		area := func(name string, geometry any) map[string]any {
			m := map[string]any{"region": "341881001", "level": "medium", "name": name,
				"from": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}
			if geometry != nil {
				m["geometry"] = geometry
			}
			return m
		}
		ring := [][]float64{{118.97, 30.62}, {118.99, 30.62}, {118.99, 30.64}, {118.97, 30.64}, {118.97, 30.62}}
		var huge [][]float64
		for i := range 10001 {
			huge = append(huge, []float64{118 + float64(i)/1e5, 30})
		}
		huge = append(huge, huge[0])
		for _, c := range []struct {
			name     string
			geometry any
			code     string
		}{
			{"a line", map[string]any{"type": "LineString", "coordinates": ring}, "geometry_type"},
			{"an open ring", map[string]any{"type": "Polygon", "coordinates": [][][]float64{ring[:4]}}, "geometry_ring"},
			{"a ring of three", map[string]any{"type": "Polygon", "coordinates": [][][]float64{{ring[0], ring[1], ring[0]}}}, "geometry_ring"},
			{"latitude first", map[string]any{"type": "Point", "coordinates": []float64{30.63, 118.98}}, "geometry_out_of_range"},
			{"longitude over 180", map[string]any{"type": "Point", "coordinates": []float64{181, 30}}, "geometry_out_of_range"},
			{"an altitude", map[string]any{"type": "Point", "coordinates": []float64{118.98, 30.63, 12}}, "geometry_position"},
			{"a polygon given a point", map[string]any{"type": "Polygon", "coordinates": []float64{118.98, 30.63}}, "geometry_position"},
			{"too many positions", map[string]any{"type": "Polygon", "coordinates": [][][]float64{huge}}, "geometry_too_large"},
		} {
			r := e.Do("POST", "/api/v1/admin/risk-areas", officer, area(c.name, c.geometry))
			if r.Status != 400 || r.ErrCode() != c.code {
				t.Errorf("%s: %d %s, want 400 %s", c.name, r.Status, r.Raw, c.code)
			}
			// The dry run reads the shape the same way.
			if r := e.Do("POST", "/api/v1/admin/risk-areas/dry-run", officer, area(c.name, c.geometry)); r.Status != 400 || r.ErrCode() != c.code {
				t.Errorf("dry run, %s: %d %s, want 400 %s", c.name, r.Status, r.Raw, c.code)
			}
		}
		if n := e.Count("risk_areas"); n != 0 {
			t.Fatalf("%d areas stored after refused shapes", n)
		}

		shaped := e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("西津小区", map[string]any{"type": "Polygon",
			"coordinates": [][][]float64{ring}})), 201, "")
		point := e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("宁国中学", map[string]any{"type": "Point",
			"coordinates": []float64{118.98, 30.63}})), 201, "")
		plain := e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("河沥溪某楼", nil)), 201, "")

		// The JSON list keeps its shape: no geometry there.
		list := e.Want(e.Do("GET", "/api/v1/risk-areas", "", nil), 200, "")
		if strings.Contains(string(list.Raw), "geometry") || len(list.Body["areas"].([]any)) != 3 {
			t.Fatalf("the JSON list: %s", list.Raw)
		}

		res, body := e.Get("/api/v1/risk-areas?format=geojson&region=341881")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/geo+json" {
			t.Fatalf("geojson: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Type       string          `json:"type"`
				ID         string          `json:"id"`
				Geometry   json.RawMessage `json:"geometry"`
				Properties map[string]any  `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(body, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 3 {
			t.Fatalf("geojson body: %s %v", body, err)
		}
		want := map[string]string{
			shaped.Str("id"): `{"type":"Polygon","coordinates":[[[118.97,30.62],[118.99,30.62],[118.99,30.64],[118.97,30.64],[118.97,30.62]]]}`,
			point.Str("id"):  `{"type":"Point","coordinates":[118.98,30.63]}`,
			plain.Str("id"):  `null`,
		}
		for _, f := range fc.Features {
			if f.Type != "Feature" || string(f.Geometry) != want[f.ID] {
				t.Errorf("feature %s: %s %s, want %s", f.ID, f.Type, f.Geometry, want[f.ID])
			}
			p := f.Properties
			if p["region"] != "341881001" || p["region_name"] != "安徽省宣城市宁国市西津街道" || p["level"] != "medium" || p["name"] == "" ||
				p["from"] == nil || p["until"] == nil {
				t.Errorf("feature %s properties: %v", f.ID, p)
			}
		}
		if _, body := e.Get("/api/v1/risk-areas?format=geojson&region=99"); !strings.Contains(string(body), "region_unknown") {
			t.Fatalf("an unknown region as GeoJSON: %s", body)
		}
		e.Want(e.Do("GET", "/api/v1/risk-areas?format=kml", "", nil), 400, "format_unknown")
		if _, body := e.Get("/api/v1/risk-areas?format=geojson&level=high"); string(body) != "{\"type\":\"FeatureCollection\",\"features\":[]}\n" {
			t.Fatalf("no high areas as GeoJSON: %s", body)
		}
	})
}
