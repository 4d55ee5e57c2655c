package nat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
)

// Site is a sampling site, as published.
type Site struct {
	ID         string
	Name       string
	Address    string
	Phone      string
	Hours      string
	Lat        float64
	Lng        float64
	Region     string
	RegionName string
	Open       bool
	UpdatedAt  time.Time
	// DistanceM is the great-circle distance in metres from the point of
	// a nearest-site search; absent otherwise.
	DistanceM *int64
}

// SiteInput creates a site, or changes one where a field is set.
type SiteInput struct {
	Name    *string
	Address *string
	Phone   *string
	Hours   *string
	Lat     *float64
	Lng     *float64
	Region  *string
	Open    *bool
}

// Site phones are published and end up in spreadsheets: digits with
// dashes, spaces or parentheses (0563-4012345, 400 123 4567), and no
// leading plus, which a spreadsheet would take for a formula.
var phoneRe = regexp.MustCompile(`^[0-9(][0-9 ()\-]{2,31}$`)

func textField(bad *apierr.Error, field, v string, min, max int) (string, error) {
	v, err := idnum.CleanText(field, v)
	if err != nil {
		return "", bad.Withf("%s contains control or invisible formatting characters", field)
	}
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < min || n > max {
		if min == 0 {
			return "", bad.Withf("%s must be at most %d characters", field, max)
		}
		return "", bad.Withf("%s must be %d-%d characters", field, min, max)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return "", bad.Withf("%s contains control characters", field)
		}
	}
	return v, nil
}

// check validates a complete site (after a change has been applied).
func (s *Service) checkSite(st *Site) error {
	var err error
	if st.Name, err = textField(ErrSiteNameInvalid, "name", st.Name, 1, 128); err != nil {
		return err
	}
	if st.Address, err = textField(ErrSiteAddressInvalid, "address", st.Address, 1, 256); err != nil {
		return err
	}
	if st.Hours, err = textField(ErrSiteHoursInvalid, "hours", st.Hours, 0, 128); err != nil {
		return err
	}
	st.Phone = strings.TrimSpace(st.Phone)
	if st.Phone != "" && !phoneRe.MatchString(st.Phone) {
		return ErrSitePhoneInvalid
	}
	if err := checkCoords(st.Lat, st.Lng); err != nil {
		return err
	}
	return s.regions.Validate(st.Region)
}

func checkCoords(lat, lng float64) error {
	switch {
	case math.IsNaN(lat) || lat < -90 || lat > 90:
		return ErrSiteLatInvalid
	case math.IsNaN(lng) || lng < -180 || lng > 180:
		return ErrSiteLngInvalid
	case lat == 0 && lng == 0:
		// 0,0 is in the Gulf of Guinea: a missing value, not a site.
		return ErrSiteCoordinatesMissing
	}
	return nil
}

func (in SiteInput) apply(st *Site) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&st.Name, in.Name)
	set(&st.Address, in.Address)
	set(&st.Phone, in.Phone)
	set(&st.Hours, in.Hours)
	set(&st.Region, in.Region)
	if in.Lat != nil {
		st.Lat = *in.Lat
	}
	if in.Lng != nil {
		st.Lng = *in.Lng
	}
	if in.Open != nil {
		st.Open = *in.Open
	}
}

func errSiteExists(name string) error {
	return ErrSiteExists.Withf("a sampling site named %q already exists in this region", name)
}

// CreateSite adds a sampling site in the operator's scope. Missing fields
// are refused; open defaults to true.
func (s *Service) CreateSite(ctx context.Context, by *auth.Principal, in SiteInput) (*Site, error) {
	if err := by.Require(auth.SiteWrite); err != nil {
		return nil, err
	}
	for err, missing := range map[*apierr.Error]bool{ErrSiteNameMissing: in.Name == nil, ErrSiteAddressMissing: in.Address == nil,
		ErrSiteLatMissing: in.Lat == nil, ErrSiteLngMissing: in.Lng == nil} {
		if missing {
			return nil, err
		}
	}
	st := &Site{Open: true, Region: by.Region}
	if st.Region == "" {
		st.Region = s.cfg.Region
	}
	in.apply(st)
	if err := s.checkSite(st); err != nil {
		return nil, err
	}
	if !by.InScope(st.Region) {
		return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", st.Region, by.Region)
	}
	st.ID, st.UpdatedAt = ids.New(), s.clock()
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if err := insertSite(ctx, tx, st, by.Actor()); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: st.UpdatedAt, Actor: by.Actor(), Action: "site.create",
			Subject: "site:" + st.ID, Region: st.Region, Detail: map[string]any{"name": st.Name}})
		return err
	})
	if err != nil {
		return nil, err
	}
	st.RegionName = s.regions.FullName(st.Region)
	return st, nil
}

func insertSite(ctx context.Context, tx db.Tx, st *Site, by string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO nat_sites (id, name, address, phone, hours, lat, lng, region_code, open,
		created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)`,
		st.ID, st.Name, st.Address, st.Phone, st.Hours, st.Lat, st.Lng, st.Region, st.Open, st.UpdatedAt.UnixMilli(), by)
	if db.IsUniqueViolation(err) {
		return errSiteExists(st.Name)
	}
	if err != nil {
		return fmt.Errorf("nat: insert site: %w", err)
	}
	return nil
}

func updateSite(ctx context.Context, tx db.Tx, st *Site) error {
	_, err := tx.ExecContext(ctx, `UPDATE nat_sites SET name = $2, address = $3, phone = $4, hours = $5, lat = $6, lng = $7,
		region_code = $8, open = $9, updated_at = $10 WHERE id = $1`,
		st.ID, st.Name, st.Address, st.Phone, st.Hours, st.Lat, st.Lng, st.Region, st.Open, st.UpdatedAt.UnixMilli())
	if db.IsUniqueViolation(err) {
		return errSiteExists(st.Name)
	}
	if err != nil {
		return fmt.Errorf("nat: update site: %w", err)
	}
	return nil
}

// UpdateSite changes the fields set in in (e.g. {"open": false} closes the
// site). A site outside the operator's scope is not found.
func (s *Service) UpdateSite(ctx context.Context, by *auth.Principal, id string, in SiteInput) (*Site, error) {
	if err := by.Require(auth.SiteWrite); err != nil {
		return nil, err
	}
	var st *Site
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if st, err = s.site(ctx, tx, id); err != nil {
			return err
		}
		if !by.InScope(st.Region) {
			return ErrSiteNotFound
		}
		before := *st
		in.apply(st)
		if err := s.checkSite(st); err != nil {
			return err
		}
		if !by.InScope(st.Region) {
			return auth.ErrOutOfScope.Withf("region %s is outside your scope %s", st.Region, by.Region)
		}
		st.UpdatedAt = s.clock()
		if err := updateSite(ctx, tx, st); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: st.UpdatedAt, Actor: by.Actor(), Action: "site.update",
			Subject: "site:" + st.ID, Region: st.Region, Detail: siteChanges(&before, st)})
		return err
	})
	if err != nil {
		return nil, err
	}
	st.RegionName = s.regions.FullName(st.Region)
	return st, nil
}

func siteChanges(a, b *Site) map[string]any {
	d := map[string]any{}
	if a.Name != b.Name {
		d["name"] = b.Name
	}
	if a.Address != b.Address {
		d["address"] = b.Address
	}
	if a.Phone != b.Phone {
		d["phone"] = b.Phone
	}
	if a.Hours != b.Hours {
		d["hours"] = b.Hours
	}
	if a.Lat != b.Lat || a.Lng != b.Lng {
		d["lat"], d["lng"] = b.Lat, b.Lng
	}
	if a.Region != b.Region {
		d["region"] = b.Region
	}
	if a.Open != b.Open {
		d["open"] = b.Open
	}
	return d
}

const siteCols = `id, name, address, phone, hours, lat, lng, region_code, open, updated_at`

func scanSite(row interface{ Scan(...any) error }) (*Site, error) {
	var st Site
	var at int64
	if err := row.Scan(&st.ID, &st.Name, &st.Address, &st.Phone, &st.Hours, &st.Lat, &st.Lng, &st.Region, &st.Open, &at); err != nil {
		return nil, err
	}
	st.UpdatedAt = db.Time(at)
	return &st, nil
}

func (s *Service) site(ctx context.Context, q db.Querier, id string) (*Site, error) {
	st, err := scanSite(q.QueryRowContext(ctx, `SELECT `+siteCols+` FROM nat_sites WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSiteNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("nat: read site: %w", err)
	}
	st.RegionName = s.regions.FullName(st.Region)
	return st, nil
}

// GetSite returns one site (public data).
func (s *Service) GetSite(ctx context.Context, id string) (*Site, error) {
	return s.site(ctx, s.db, id)
}

// SiteQuery selects published sites.
type SiteQuery struct {
	Region string      // subtree; "" for all
	Near   *geo.LatLng // sort by distance from here
	Open   *bool       // only open (true) or closed (false) sites
	Limit  int         // 0: all (up to MaxSites) without Near, 20 with Near
}

// MaxSites bounds one answer of ListSites.
const MaxSites = 10000

// ListSites returns published sites, by region and name, or nearest first.
func (s *Service) ListSites(ctx context.Context, q SiteQuery) ([]*Site, error) {
	if q.Region != "" {
		if err := s.regions.Validate(q.Region); err != nil {
			return nil, err
		}
	}
	if q.Limit < 0 || q.Limit > MaxSites {
		return nil, ErrLimitInvalid.Withf("limit must be 1-%d", MaxSites)
	}
	if q.Limit == 0 {
		q.Limit = MaxSites
		if q.Near != nil {
			q.Limit = 20
		}
	}
	lo, hi := auth.Bounds(q.Region)
	scope, args := db.Scope("region_code", lo, hi, nil)
	where := `WHERE ` + scope
	if q.Open != nil {
		where += ` AND open = $3`
		args = append(args, *q.Open)
	}
	order := ` ORDER BY region_code, name`
	if q.Near == nil {
		args = append(args, q.Limit)
		order += ` LIMIT $` + strconv.Itoa(len(args))
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+siteCols+` FROM nat_sites `+where+order, args, func(sc db.Scanner) (*Site, error) {
		st, err := scanSite(sc)
		if err != nil {
			return nil, err
		}
		st.RegionName = s.regions.FullName(st.Region)
		return st, nil
	})
	if err != nil {
		return nil, fmt.Errorf("nat: list sites: %w", err)
	}
	if out == nil {
		out = []*Site{}
	}
	if q.Near != nil {
		// A city has hundreds of sites and a province thousands: computing
		// every distance is cheaper than any spatial index would be to keep.
		for _, st := range out {
			d := int64(math.Round(geo.Distance(*q.Near, geo.LatLng{Lat: st.Lat, Lng: st.Lng})))
			st.DistanceM = &d
		}
		sort.SliceStable(out, func(i, j int) bool { return *out[i].DistanceM < *out[j].DistanceM })
		if len(out) > q.Limit {
			out = out[:q.Limit]
		}
	}
	return out, nil
}
