package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/nat"
)

// TestSitesGeoJSON checks the GeoJSON of the sites against RFC 7946 as far
// as points go, from the JSON alone: a FeatureCollection of features whose
// positions are [longitude, latitude].
func TestSitesGeoJSON(t *testing.T) {
	d := int64(556)
	sites := []*nat.Site{
		{ID: "s1", Name: "南山采样点", Lat: 30.61, Lng: 118.99, Region: "341881001", Open: true, UpdatedAt: time.Now(), DistanceM: &d},
		{ID: "s2", Name: "西津采样点", Lat: 30.633, Lng: 118.983, Region: "341881001"},
	}
	b, err := json.Marshal(sitesGeoJSON(sites))
	if err != nil {
		t.Fatal(err)
	}
	var fc map[string]any
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	if fc["type"] != "FeatureCollection" {
		t.Fatalf("type %v", fc["type"])
	}
	feats, ok := fc["features"].([]any)
	if !ok || len(feats) != len(sites) {
		t.Fatalf("features: %v", fc["features"])
	}
	for i, x := range feats {
		ft := x.(map[string]any)
		if ft["type"] != "Feature" {
			t.Fatalf("feature %d type %v", i, ft["type"])
		}
		props, ok := ft["properties"].(map[string]any)
		if !ok {
			t.Fatalf("feature %d: properties must be an object", i)
		}
		if id, ok := ft["id"].(string); !ok || id != sites[i].ID {
			t.Fatalf("feature %d id %v", i, ft["id"])
		}
		g := ft["geometry"].(map[string]any)
		c, ok := g["coordinates"].([]any)
		if g["type"] != "Point" || !ok || len(c) != 2 {
			t.Fatalf("feature %d geometry %v", i, g)
		}
		lng, lat := c[0].(float64), c[1].(float64)
		if lng != sites[i].Lng || lat != sites[i].Lat {
			t.Fatalf("feature %d position %v: want [lng %v, lat %v]", i, c, sites[i].Lng, sites[i].Lat)
		}
		if props["name"] != sites[i].Name {
			t.Fatalf("feature %d name %v", i, props["name"])
		}
		if _, has := props["distance_m"]; has != (sites[i].DistanceM != nil) {
			t.Fatalf("feature %d: distance_m %v, want it only in a nearest-site search", i, props["distance_m"])
		}
	}
}
