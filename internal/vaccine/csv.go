package vaccine

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
)

// MaxImportLines bounds one file of earlier doses.
const MaxImportLines = 10000

// ImportLine is the outcome of one refused line.
type ImportLine struct {
	Line    int
	Code    string
	Message string
}

// ImportReport says what an import took and what it refused, line by line.
type ImportReport struct {
	Lines, Accepted int
	Refused         []ImportLine
}

var importCols = []string{"id_type", "id_number", "vaccine", "dose", "lot", "site", "given_at"}

// ImportDoses takes earlier doses from a CSV file (id_type, id_number,
// vaccine (name or id), dose, lot, site (id or name, in scope), given_at);
// each line is checked like a dose given at a site, and a refused line is
// reported with its reason while the others are kept. Lines are taken in
// order, so a file may hold a person's doses one after another.
func (s *Service) ImportDoses(ctx context.Context, by *auth.Principal, data []byte) (*ImportReport, error) {
	if err := by.Require(auth.DoseWrite); err != nil {
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
	sites, err := s.ListSites(ctx, SiteQuery{})
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{Refused: []ImportLine{}}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rep.Lines++
		if rep.Lines > MaxImportLines {
			return nil, ErrCSVTooLong.Withf("a file holds at most %d lines", MaxImportLines)
		}
		if err == nil {
			err = s.importLine(ctx, by, rec, sites)
		} else {
			err = ErrCSVMalformed
		}
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				return nil, err
			}
			rep.Refused = append(rep.Refused, ImportLine{Line: line, Code: ae.Code, Message: ae.Message})
			continue
		}
		rep.Accepted++
	}
	if rep.Lines == 0 {
		return nil, ErrCSVEmpty
	}
	return rep, nil
}

func (s *Service) importLine(ctx context.Context, by *auth.Principal, rec []string, sites []*Site) error {
	if len(rec) < len(importCols) {
		return ErrCSVMalformed.Withf("the line has %d columns, not %d", len(rec), len(importCols))
	}
	f := func(i int) string { return strings.TrimSpace(rec[i]) }
	var st *Site
	for _, x := range sites {
		if x.ID == f(5) || x.Name == f(5) {
			st = x
			break
		}
	}
	if st == nil || !by.InScope(st.Region) {
		return ErrSiteNotFound.Withf("no vaccination site %q in your scope", f(5))
	}
	dose, err := strconv.Atoi(f(3))
	if err != nil {
		return ErrDoseInvalid.Withf("dose must be a number, not %q", f(3))
	}
	if !lotRe.MatchString(f(4)) {
		return ErrLotInvalid
	}
	at, err := s.parseTime(f(6))
	if err != nil {
		return err
	}
	if at.After(s.clock()) {
		return ErrDoseFuture
	}
	p, err := s.product(ctx, s.db, f(2))
	if err != nil {
		return err
	}
	who, method, err := s.identify(ctx, DoseInput{IDType: f(0), IDNumber: f(1)})
	if err != nil {
		return err
	}
	_, err = s.store(ctx, by, who, p, st, f(4), dose, at, SourceImport, method)
	return err
}

func (s *Service) parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, s.cfg.Location); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, ErrGivenAtFormat
}
