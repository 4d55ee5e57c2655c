package nat

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/csvsafe"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
)

// SiteColumns are the columns of the published CSV, in order.
var SiteColumns = []string{"id", "name", "address", "phone", "hours", "lat", "lng", "region", "region_name", "open", "updated_at"}

func formatCoord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// WriteSitesCSV writes sites as RFC 4180 CSV with a header line (and a
// distance_m column after a nearest-site search).
func WriteSitesCSV(w io.Writer, sites []*Site, withDistance bool) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	head := SiteColumns
	if withDistance {
		head = append(append([]string(nil), head...), "distance_m")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, st := range sites {
		rec := []string{st.ID, csvsafe.Text(st.Name), csvsafe.Text(st.Address), st.Phone, csvsafe.Text(st.Hours),
			formatCoord(st.Lat), formatCoord(st.Lng), st.Region, st.RegionName, strconv.FormatBool(st.Open),
			st.UpdatedAt.Format("2006-01-02T15:04:05.000Z07:00")}
		if withDistance {
			d := ""
			if st.DistanceM != nil {
				d = strconv.FormatInt(*st.DistanceM, 10)
			}
			rec = append(rec, d)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// siteAliases are the column names an import understands, English and
// Chinese, as published lists name them.
var siteAliases = map[string]string{
	"name": "name", "名称": "name", "采样点名称": "name", "采样点": "name",
	"address": "address", "地址": "address",
	"phone": "phone", "电话": "phone", "联系电话": "phone",
	"hours": "hours", "开放时间": "hours", "服务时间": "hours",
	"lat": "lat", "latitude": "lat", "纬度": "lat",
	"lng": "lng", "lon": "lng", "longitude": "lng", "经度": "lng",
	"region": "region", "区划代码": "region", "行政区划代码": "region",
	"open": "open", "是否开放": "open",
}

// ImportLine is one line of an import report.
type ImportLine struct {
	Line    int
	Name    string
	Status  string // created, updated, refused
	ID      string
	Code    string
	Message string
}

// ImportReport is the outcome of an import.
type ImportReport struct {
	Lines   int
	Created int
	Updated int
	Refused int
	Report  []ImportLine
}

func refuse(l *ImportLine, err error) {
	l.Status = "refused"
	if e, ok := apierr.As(err); ok {
		l.Code, l.Message = e.Code, e.Message
	} else {
		l.Code, l.Message = "line_invalid", err.Error()
	}
}

func parseOpen(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "1", "yes", "open", "是", "开放":
		return true, nil
	case "false", "0", "no", "closed", "否", "关闭", "暂停":
		return false, nil
	}
	return false, ErrSiteOpenInvalid.Withf("open must be true or false, not %q", v)
}

// ImportSites adds or updates sites from CSV: a header line naming the
// columns (name, address, phone, hours, lat, lng, region, open; Chinese
// names work too), then one site per line. A line naming a site that exists
// in the same region updates it. Good lines are kept and bad ones reported,
// each with the reason.
func (s *Service) ImportSites(ctx context.Context, by *auth.Principal, body []byte) (*ImportReport, error) {
	if err := by.Require(auth.SiteWrite); err != nil {
		return nil, err
	}
	lines := readCSV(body)
	if len(lines) == 0 {
		return nil, ErrCSVEmpty.Withf("the file has no lines; send a header line and one site per line")
	}
	if len(lines) > MaxUploadLines {
		return nil, ErrCSVTooLong.Withf("at most %d lines per import", MaxUploadLines)
	}
	cols := header(lines[0].fields, siteAliases)
	for _, need := range []string{"name", "address", "lat", "lng"} {
		if _, ok := cols[need]; !ok || lines[0].err != nil {
			return nil, ErrCSVHeader.Withf("the first line must name the columns, at least name, address, lat, lng (also phone, hours, region, open)")
		}
	}
	rep := &ImportReport{Lines: len(lines) - 1, Report: make([]ImportLine, 0, len(lines)-1)}
	type todo struct {
		i  int // index into rep.Report
		st *Site
	}
	var good []todo
	seen := map[[2]string]int{}
	defRegion := by.Region
	if defRegion == "" {
		defRegion = s.cfg.Region
	}
	for _, ln := range lines[1:] {
		l := ImportLine{Line: ln.num}
		st, err := s.siteFromLine(ln, cols, len(lines[0].fields), defRegion)
		if st != nil {
			l.Name = st.Name
		}
		switch {
		case err != nil:
			refuse(&l, err)
		case !by.InScope(st.Region):
			refuse(&l, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", st.Region, by.Region))
		case seen[[2]string{st.Region, st.Name}] != 0:
			refuse(&l, ErrDuplicateLine.Withf("the same site (region and name) is also on line %d", seen[[2]string{st.Region, st.Name}]))
		default:
			seen[[2]string{st.Region, st.Name}] = ln.num
			good = append(good, todo{len(rep.Report), st})
		}
		rep.Report = append(rep.Report, l)
	}
	now := s.clock()
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		for _, g := range good {
			l := &rep.Report[g.i]
			st := g.st
			st.UpdatedAt = now
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM nat_sites WHERE region_code = $1 AND name = $2`, st.Region, st.Name).Scan(&id)
			switch {
			case err == nil:
				st.ID, l.Status = id, "updated"
				err = updateSite(ctx, tx, st)
			case errors.Is(err, sql.ErrNoRows):
				st.ID, l.Status = ids.New(), "created"
				err = insertSite(ctx, tx, st, by.Actor())
			default:
				err = fmt.Errorf("nat: import: find site: %w", err)
			}
			if err != nil {
				return err
			}
			l.ID = st.ID
		}
		for _, l := range rep.Report {
			switch l.Status {
			case "created":
				rep.Created++
			case "updated":
				rep.Updated++
			default:
				rep.Refused++
			}
		}
		lo, _ := by.Bounds()
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "site.import", Subject: "sites",
			Region: lo, Detail: map[string]any{"created": rep.Created, "updated": rep.Updated, "refused": rep.Refused}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func (s *Service) siteFromLine(ln csvLine, cols map[string]int, width int, defRegion string) (*Site, error) {
	if ln.err != nil {
		return nil, ErrCSVMalformed.Withf("%v", ln.err)
	}
	if len(ln.fields) > width {
		return nil, ErrCSVMalformed.Withf("the line has %d fields, the header %d", len(ln.fields), width)
	}
	get := func(name string) (string, bool) {
		i, ok := cols[name]
		if !ok || i >= len(ln.fields) {
			return "", false
		}
		return ln.fields[i], true
	}
	st := &Site{Region: defRegion, Open: true}
	st.Name, _ = get("name")
	st.Address, _ = get("address")
	st.Phone, _ = get("phone")
	st.Hours, _ = get("hours")
	if v, ok := get("region"); ok && strings.TrimSpace(v) != "" {
		st.Region = strings.TrimSpace(v)
	}
	for _, c := range []struct {
		name string
		dst  *float64
		bad  *apierr.Error
	}{{"lat", &st.Lat, ErrSiteLatInvalid}, {"lng", &st.Lng, ErrSiteLngInvalid}} {
		v, _ := get(c.name)
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return st, c.bad.Withf("%s must be a number in degrees, not %q", c.name, v)
		}
		*c.dst = f
	}
	if v, ok := get("open"); ok {
		var err error
		if st.Open, err = parseOpen(v); err != nil {
			return st, err
		}
	}
	if err := s.checkSite(st); err != nil {
		return st, err
	}
	return st, nil
}
