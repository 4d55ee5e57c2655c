// Package geo is the little geometry that lists of sites need: a point, the
// ?near= parameter that names one, and the distance between two.
package geo

import (
	"math"
	"strconv"
	"strings"
)

// LatLng is a point in WGS 84 degrees.
type LatLng struct{ Lat, Lng float64 }

// ParseLatLng reads "lat,lng" as the ?near= parameter gives it.
func ParseLatLng(v string) (LatLng, error) {
	a, b, ok := strings.Cut(v, ",")
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return LatLng{}, ErrNearInvalid
	}
	return LatLng{lat, lng}, nil
}

// EarthRadius is the mean radius of the earth in metres (IUGG).
const EarthRadius = 6371008.8

// Distance is the great-circle distance between two points in metres, by
// the haversine formula, which stays accurate for the short distances a
// nearest-site search is about.
func Distance(a, b LatLng) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
