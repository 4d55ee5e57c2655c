package geo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// square is a closed ring of five positions around (lng, lat).
func square(lng, lat float64) string {
	return fmt.Sprintf("[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]", lng, lat, lng+0.01, lat, lng+0.01, lat+0.01, lng, lat+0.01, lng, lat)
}

func TestParseGeometryTakesTheThreeKindsAndWritesThemBack(t *testing.T) {
	for _, tc := range []struct {
		in, want  string
		positions int
	}{
		{` {"type": "Point", "coordinates": [118.79, 32.06]} `, `{"type":"Point","coordinates":[118.79,32.06]}`, 1},
		{`{"coordinates": [` + square(118.79, 32.06) + `], "type": "Polygon"}`, `{"type":"Polygon","coordinates":[` + square(118.79, 32.06) + `]}`, 5},
		// A hole is a second ring.
		{`{"type":"Polygon","coordinates":[` + square(0, 0) + `,` + square(0.002, 0.002) + `]}`, `{"type":"Polygon","coordinates":[` + square(0, 0) + `,` + square(0.002, 0.002) + `]}`, 10},
		{`{"type":"MultiPolygon","coordinates":[[` + square(-180, -90) + `],[` + square(179.99, 89.99) + `]]}`,
			`{"type":"MultiPolygon","coordinates":[[` + square(-180, -90) + `],[` + square(179.99, 89.99) + `]]}`, 10},
	} {
		g, err := ParseGeometry([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := g.String(); got != tc.want {
			t.Errorf("%s written as %s, want %s", tc.in, got, tc.want)
		}
		if n := g.Positions(); n != tc.positions {
			t.Errorf("%s: %d positions, want %d", tc.in, n, tc.positions)
		}
		again, err := ParseGeometry([]byte(g.String()))
		if err != nil || again.String() != g.String() {
			t.Errorf("%s does not read back: %v", g, err)
		}
	}
	g, _ := ParseGeometry([]byte(`{"type":"MultiPolygon","coordinates":[[` + square(118, 32) + `],[` + square(119, 31) + `]]}`))
	if lo, hi := g.Bounds(); lo != (Position{118, 31}) || hi != (Position{119.01, 32.01}) {
		t.Errorf("bounds %v %v", lo, hi)
	}
}

func TestParseGeometryRefusesEachFaultWithItsOwnError(t *testing.T) {
	open := "[[0,0],[1,0],[1,1],[0,1],[0,0.5]]"
	var big strings.Builder
	big.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range MaxPositions {
		fmt.Fprintf(&big, "[%d.%04d,30],", 100+i/10000, i%10000)
	}
	big.WriteString(`[100,30]]]}`)
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", ``, ErrGeometryInvalid},
		{"not an object", `[118, 32]`, ErrGeometryInvalid},
		{"not JSON", `{"type": "Point", `, ErrGeometryInvalid},
		{"a Feature, not a geometry", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, ErrGeometryInvalid},
		{"a foreign member", `{"type":"Point","coordinates":[1,2],"bbox":[1,2,1,2]}`, ErrGeometryInvalid},
		{"two objects", `{"type":"Point","coordinates":[1,2]} {}`, ErrGeometryInvalid},
		{"no type", `{"coordinates":[1,2]}`, ErrGeometryInvalid},
		{"no coordinates", `{"type":"Point"}`, ErrGeometryInvalid},
		{"null coordinates", `{"type":"Point","coordinates":null}`, ErrGeometryInvalid},
		{"a number as type", `{"type":5,"coordinates":[1,2]}`, ErrGeometryInvalid},
		{"a line", `{"type":"LineString","coordinates":[[1,2],[3,4]]}`, ErrGeometryType},
		{"a collection", `{"type":"GeometryCollection","coordinates":[]}`, ErrGeometryType},
		{"lower case", `{"type":"point","coordinates":[1,2]}`, ErrGeometryType},
		{"a point of one number", `{"type":"Point","coordinates":[1]}`, ErrGeometryPosition},
		{"a point with altitude", `{"type":"Point","coordinates":[1,2,3]}`, ErrGeometryPosition},
		{"a point of strings", `{"type":"Point","coordinates":["1","2"]}`, ErrGeometryPosition},
		{"a polygon given a point", `{"type":"Polygon","coordinates":[1,2]}`, ErrGeometryPosition},
		{"a number beyond float64", `{"type":"Point","coordinates":[1e400,2]}`, ErrGeometryPosition},
		{"longitude over 180", `{"type":"Point","coordinates":[180.0001,30]}`, ErrGeometryRange},
		{"latitude under -90", `{"type":"Point","coordinates":[118,-90.5]}`, ErrGeometryRange},
		{"latitude first", `{"type":"Point","coordinates":[32.06,118.79]}`, ErrGeometryRange},
		{"a polygon vertex out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`, ErrGeometryRange},
		{"a polygon without rings", `{"type":"Polygon","coordinates":[]}`, ErrGeometryRing},
		{"a ring of three", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, ErrGeometryRing},
		{"an open ring", `{"type":"Polygon","coordinates":[` + open + `]}`, ErrGeometryRing},
		{"an open hole", `{"type":"Polygon","coordinates":[` + square(0, 0) + `,` + open + `]}`, ErrGeometryRing},
		{"no polygons", `{"type":"MultiPolygon","coordinates":[]}`, ErrGeometryRing},
		{"an empty polygon among others", `{"type":"MultiPolygon","coordinates":[[` + square(0, 0) + `],[]]}`, ErrGeometryRing},
		{"too many positions", big.String(), ErrGeometryTooLarge},
		{"too many bytes", `{"type":"Point","coordinates":[1,2]}` + strings.Repeat(" ", 1<<20), ErrGeometryTooLarge},
	} {
		g, err := ParseGeometry([]byte(tc.in))
		if !errors.Is(err, tc.want) || g != nil {
			t.Errorf("%s: %v, %v; want %v", tc.name, g, err, tc.want)
		}
	}
	// The limit itself is taken.
	var at strings.Builder
	at.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range MaxPositions - 1 {
		fmt.Fprintf(&at, "[%d.%04d,30],", 100+i/10000, i%10000)
	}
	at.WriteString(`[100,30]]]}`)
	if g, err := ParseGeometry([]byte(at.String())); err != nil || g.Positions() != MaxPositions {
		t.Errorf("a geometry of exactly %d positions: %v", MaxPositions, err)
	}
}

func FuzzParseGeometry(f *testing.F) {
	for _, s := range []string{`{"type":"Point","coordinates":[118.79,32.06]}`, `{"type":"Polygon","coordinates":[` + square(1, 1) + `]}`,
		`{"type":"MultiPolygon","coordinates":[[` + square(1, 1) + `]]}`, `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, `[]`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGeometry(b)
		if err != nil {
			if g != nil {
				t.Fatal("a geometry with an error")
			}
			return
		}
		// What is taken writes back as itself.
		again, err := ParseGeometry([]byte(g.String()))
		if err != nil || again.String() != g.String() {
			t.Fatalf("%s does not read back: %v", g, err)
		}
	})
}
