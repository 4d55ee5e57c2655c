package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxPositions bounds the positions of one geometry: a risk area is a
// compound or a district, drawn by hand or exported from a map, not a
// coastline.
const MaxPositions = 10000

// maxGeometryBytes bounds the text of one geometry before it is decoded
// (MaxPositions positions written out at full precision fit well within).
const maxGeometryBytes = 1 << 20

// Position is a GeoJSON position, [longitude, latitude] in WGS 84 degrees
// (RFC 7946 §3.1.1), the reverse of the order people say them in.
type Position [2]float64

// Geometry is a GeoJSON geometry of the kinds a place's shape takes: a
// Point, a Polygon or a MultiPolygon. It is built only by ParseGeometry,
// so every value is valid.
type Geometry struct {
	Type string
	// Point is the position of a Point.
	Point Position
	// Polygons are a Polygon's rings (one polygon) or a MultiPolygon's
	// polygons; each polygon's first ring is its outline, the others holes.
	Polygons [][][]Position
}

// Geometry types that ParseGeometry takes.
const (
	TypePoint        = "Point"
	TypePolygon      = "Polygon"
	TypeMultiPolygon = "MultiPolygon"
)

// MarshalJSON writes the geometry as a GeoJSON geometry object, compact.
func (g *Geometry) MarshalJSON() ([]byte, error) {
	var coords any
	switch g.Type {
	case TypePoint:
		coords = g.Point
	case TypePolygon:
		coords = g.Polygons[0]
	case TypeMultiPolygon:
		coords = g.Polygons
	default:
		return nil, fmt.Errorf("geo: marshal a geometry of type %q", g.Type)
	}
	return json.Marshal(struct {
		Type        string `json:"type"`
		Coordinates any    `json:"coordinates"`
	}{g.Type, coords})
}

// String is the geometry's GeoJSON text.
func (g *Geometry) String() string {
	b, err := g.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

// Positions counts the geometry's positions.
func (g *Geometry) Positions() int {
	if g.Type == TypePoint {
		return 1
	}
	n := 0
	for _, p := range g.Polygons {
		for _, r := range p {
			n += len(r)
		}
	}
	return n
}

// Bounds is the smallest box [west, south], [east, north] that holds the
// geometry.
func (g *Geometry) Bounds() (lo, hi Position) {
	if g.Type == TypePoint {
		return g.Point, g.Point
	}
	lo, hi = Position{math.Inf(1), math.Inf(1)}, Position{math.Inf(-1), math.Inf(-1)}
	for _, p := range g.Polygons {
		for _, r := range p {
			for _, q := range r {
				lo[0], lo[1] = math.Min(lo[0], q[0]), math.Min(lo[1], q[1])
				hi[0], hi[1] = math.Max(hi[0], q[0]), math.Max(hi[1], q[1])
			}
		}
	}
	return lo, hi
}

// ParseGeometry reads a GeoJSON geometry object strictly: type Point,
// Polygon or MultiPolygon and coordinates, nothing else; every position two
// finite numbers, longitude within -180..180 and latitude within -90..90;
// every ring closed with at least four positions; at most MaxPositions
// positions in all. Each refusal is its own error, with where it is.
func ParseGeometry(b []byte) (*Geometry, error) {
	if len(b) > maxGeometryBytes {
		return nil, ErrGeometryTooLarge.Withf("the geometry is over %d bytes", maxGeometryBytes)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, ErrGeometryInvalid
	}
	var raw struct {
		Type        *string         `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, ErrGeometryInvalid.Withf("the geometry is not a GeoJSON geometry object {\"type\", \"coordinates\"} and nothing else: %s", short(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ErrGeometryInvalid.Withf("the geometry must be exactly one JSON object")
	}
	if raw.Type == nil {
		return nil, ErrGeometryInvalid.Withf("the geometry has no type")
	}
	if len(raw.Coordinates) == 0 || string(raw.Coordinates) == "null" {
		return nil, ErrGeometryInvalid.Withf("the geometry has no coordinates")
	}
	g := &Geometry{Type: *raw.Type}
	switch g.Type {
	case TypePoint:
		var p []float64
		if err := json.Unmarshal(raw.Coordinates, &p); err != nil {
			return nil, ErrGeometryPosition.Withf("a Point's coordinates are one position [longitude, latitude]")
		}
		pos, err := position(p, "the point")
		if err != nil {
			return nil, err
		}
		g.Point = pos
		return g, nil
	case TypePolygon:
		var rings [][][]float64
		if err := json.Unmarshal(raw.Coordinates, &rings); err != nil {
			return nil, ErrGeometryPosition.Withf("a Polygon's coordinates are rings, each a list of positions [longitude, latitude]")
		}
		if err := countPositions([][][][]float64{rings}); err != nil {
			return nil, err
		}
		p, err := polygon(rings, "")
		if err != nil {
			return nil, err
		}
		g.Polygons = [][][]Position{p}
		return g, nil
	case TypeMultiPolygon:
		var polys [][][][]float64
		if err := json.Unmarshal(raw.Coordinates, &polys); err != nil {
			return nil, ErrGeometryPosition.Withf("a MultiPolygon's coordinates are polygons, each a list of rings of positions [longitude, latitude]")
		}
		if len(polys) == 0 {
			return nil, ErrGeometryRing.Withf("a MultiPolygon has at least one polygon")
		}
		if err := countPositions(polys); err != nil {
			return nil, err
		}
		for i, rings := range polys {
			p, err := polygon(rings, fmt.Sprintf(" of polygon %d", i+1))
			if err != nil {
				return nil, err
			}
			g.Polygons = append(g.Polygons, p)
		}
		return g, nil
	}
	return nil, ErrGeometryType.Withf("the geometry's type must be Point, Polygon or MultiPolygon, not %q", truncate(*raw.Type))
}

func countPositions(polys [][][][]float64) error {
	n := 0
	for _, p := range polys {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > MaxPositions {
		return ErrGeometryTooLarge.Withf("the geometry has %d positions; at most %d", n, MaxPositions)
	}
	return nil
}

func polygon(rings [][][]float64, of string) ([][]Position, error) {
	if len(rings) == 0 {
		return nil, ErrGeometryRing.Withf("a polygon%s has at least one ring (its outline)", of)
	}
	out := make([][]Position, len(rings))
	for i, r := range rings {
		where := fmt.Sprintf("ring %d%s", i+1, of)
		if len(r) < 4 {
			return nil, ErrGeometryRing.Withf("%s has %d positions; a ring has at least 4, the last the same as the first", where, len(r))
		}
		ring := make([]Position, len(r))
		for j, p := range r {
			pos, err := position(p, fmt.Sprintf("position %d of %s", j+1, where))
			if err != nil {
				return nil, err
			}
			ring[j] = pos
		}
		if ring[0] != ring[len(ring)-1] {
			return nil, ErrGeometryRing.Withf("%s is not closed: its last position must be its first", where)
		}
		out[i] = ring
	}
	return out, nil
}

func position(p []float64, where string) (Position, error) {
	if len(p) != 2 {
		return Position{}, ErrGeometryPosition.Withf("%s has %d numbers; a position is [longitude, latitude]", where, len(p))
	}
	lng, lat := p[0], p[1]
	if math.IsNaN(lng) || math.IsNaN(lat) || math.IsInf(lng, 0) || math.IsInf(lat, 0) {
		return Position{}, ErrGeometryPosition.Withf("%s is not two finite numbers", where)
	}
	if lng < -180 || lng > 180 || lat < -90 || lat > 90 {
		return Position{}, ErrGeometryRange.Withf("%s [%g, %g] is outside longitude -180..180, latitude -90..90 (positions are [longitude, latitude])", where, lng, lat)
	}
	return Position{lng, lat}, nil
}

// short is a decoding error without the noise of its Go types.
func short(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be a %s", typ.Field, map[string]string{"type": "string", "coordinates": "array"}[typ.Field])
	}
	return truncate(err.Error())
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
