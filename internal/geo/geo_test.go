package geo

import (
	"errors"
	"math"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b LatLng
		want float64 // metres
		tol  float64
	}{
		// One minute of arc along a meridian is a nautical mile by its
		// historical definition: 1852 m (on the mean sphere, 1853.2 m).
		{"one minute north", LatLng{Lat: 30, Lng: 118}, LatLng{Lat: 30 + 1.0/60, Lng: 118}, 1853.2, 0.5},
		{"same point", LatLng{Lat: 30.6, Lng: 118.9}, LatLng{Lat: 30.6, Lng: 118.9}, 0, 0},
		// Beijing Tiananmen to Shanghai People's Square, ~1067 km.
		{"Beijing to Shanghai", LatLng{Lat: 39.9055, Lng: 116.3976}, LatLng{Lat: 31.2304, Lng: 121.4737}, 1067e3, 3e3},
		{"antipodes", LatLng{Lat: 0, Lng: 0}, LatLng{Lat: 0, Lng: 180}, math.Pi * EarthRadius, 1},
		// A degree of longitude shrinks with the cosine of the latitude.
		{"one degree east at 60°N", LatLng{Lat: 60, Lng: 10}, LatLng{Lat: 60, Lng: 11}, 55.6e3, 0.2e3},
	} {
		if got := Distance(tc.a, tc.b); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: %.1f m, want %.1f ± %.1f", tc.name, got, tc.want, tc.tol)
		}
		if a, b := Distance(tc.a, tc.b), Distance(tc.b, tc.a); a != b {
			t.Errorf("%s: not symmetric: %v, %v", tc.name, a, b)
		}
	}
}

func TestParseLatLng(t *testing.T) {
	if got, err := ParseLatLng(" 30.63, 118.98 "); err != nil || got != (LatLng{30.63, 118.98}) {
		t.Fatalf("ParseLatLng = %v, %v", got, err)
	}
	for _, bad := range []string{"", "30.6", "a,b", "91,0", "0,181", "NaN,0", "30,118,1"} {
		if _, err := ParseLatLng(bad); !errors.Is(err, ErrNearInvalid) {
			t.Errorf("ParseLatLng(%q) = %v, want ErrNearInvalid", bad, err)
		}
	}
}
