package riskarea

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// MaxImportLines bounds one file.
const MaxImportLines = 5000

// ImportLine is a refused line and why.
type ImportLine struct {
	Line    int
	Code    string
	Message string
}

// ImportReport says what an import took and what it refused, line by line.
type ImportReport struct {
	Lines, Accepted int
	Areas           []*Area
	Refused         []ImportLine
}

var importCols = []string{"region", "name", "level", "from", "until"}

// geometryCol is the optional sixth column: the area's shape as a GeoJSON
// geometry object (quoted, as CSV quotes a cell holding commas and quotes).
const geometryCol = "geometry"

// beijing is the zone of times written without one.
var beijing = time.FixedZone("CST", 8*3600)

// ParseTime reads RFC 3339, or "YYYY-MM-DD HH:MM[:SS]" and "YYYY-MM-DD" in
// Beijing time, as health commissions write them.
func ParseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, beijing); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, ErrTimeFormat.Withf("%q is not a time (RFC 3339 or YYYY-MM-DD HH:MM)", truncate(v))
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 32 {
		return string(r[:32]) + "…"
	}
	return s
}

// Import publishes the areas of a CSV file (region, name, level, from,
// until; empty from or until is refused like in Publish). Each line is
// checked on its own: a refused line is reported with its reason and the
// good lines are kept, all in one transaction. by needs riskarea.write, and
// each line's region in scope.
func (s *Service) Import(ctx context.Context, by *auth.Principal, data []byte) (*ImportReport, error) {
	if err := by.Require(auth.RiskAreaWrite); err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrCSVEmpty
	}
	if err != nil || len(head) < len(importCols) {
		return nil, ErrCSVHeader
	}
	for i, c := range importCols {
		if strings.TrimSpace(strings.ToLower(head[i])) != c {
			return nil, ErrCSVHeader
		}
	}
	withShape := len(head) > len(importCols) && strings.TrimSpace(strings.ToLower(head[len(importCols)])) == geometryCol
	rep := &ImportReport{Refused: []ImportLine{}, Areas: []*Area{}}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rep.Lines++
		if rep.Lines > MaxImportLines {
			return nil, ErrCSVTooLong.Withf("a file holds at most %d lines", MaxImportLines)
		}
		var a *Area
		if err == nil {
			a, err = s.importLine(by, rec, withShape)
		} else {
			err = ErrCSVMalformed
		}
		if err != nil {
			ae, ok := apierr.As(err)
			if !ok {
				return nil, err
			}
			rep.Refused = append(rep.Refused, ImportLine{Line: line, Code: ae.Code, Message: ae.Message})
			continue
		}
		rep.Areas = append(rep.Areas, a)
	}
	if rep.Lines == 0 {
		return nil, ErrCSVEmpty
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		for _, a := range rep.Areas {
			if err := s.insert(ctx, tx, by, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Accepted = len(rep.Areas)
	return rep, nil
}

func (s *Service) importLine(by *auth.Principal, rec []string, withShape bool) (*Area, error) {
	if len(rec) < len(importCols) {
		return nil, ErrCSVMalformed.Withf("the line has %d columns, not %d", len(rec), len(importCols))
	}
	in := Input{Region: strings.TrimSpace(rec[0]), Name: strings.TrimSpace(rec[1]), Level: strings.TrimSpace(strings.ToLower(rec[2]))}
	if withShape && len(rec) > len(importCols) {
		in.Geometry = []byte(rec[len(importCols)])
	}
	for i, p := range []**time.Time{&in.From, &in.Until} {
		v := strings.TrimSpace(rec[3+i])
		if v == "" {
			continue
		}
		t, err := ParseTime(v)
		if err != nil {
			return nil, err
		}
		*p = &t
	}
	a, err := s.check(in)
	if err != nil {
		return nil, err
	}
	if !by.InScope(a.Region) {
		return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope", a.Region)
	}
	return a, nil
}
