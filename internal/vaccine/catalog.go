package vaccine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/ids"
)

// Site is a vaccination site, as published.
type Site struct {
	ID         string
	Name       string
	Address    string
	Phone      string
	Hours      string
	Lat, Lng   float64
	Region     string
	RegionName string
	Open       bool
	// DistanceM is the distance in metres from the point of a nearest-site
	// search; nil otherwise.
	DistanceM *int64
}

// SiteInput creates a site.
type SiteInput struct {
	Name, Address, Phone, Hours string
	Lat, Lng                    float64
	Region                      string
}

func cleanText(v string, min, max int) (string, bool) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < min || n > max {
		return "", false
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return "", false
		}
	}
	return v, true
}

// CreateSite adds a vaccination site in the operator's scope.
func (s *Service) CreateSite(ctx context.Context, by *auth.Principal, in SiteInput) (*Site, error) {
	if err := by.Require(auth.SiteWrite); err != nil {
		return nil, err
	}
	var ok1, ok2, ok3, ok4 bool
	st := &Site{Lat: in.Lat, Lng: in.Lng, Region: in.Region, Open: true}
	st.Name, ok1 = cleanText(in.Name, 1, 128)
	st.Address, ok2 = cleanText(in.Address, 1, 256)
	st.Phone, ok3 = cleanText(in.Phone, 0, 32)
	st.Hours, ok4 = cleanText(in.Hours, 0, 128)
	switch {
	case !ok1:
		return nil, ErrSiteInvalid.Withf("name must be 1-128 characters")
	case !ok2:
		return nil, ErrSiteInvalid.Withf("address must be 1-256 characters")
	case !ok3 || !ok4:
		return nil, ErrSiteInvalid.Withf("phone (32) and hours (128) are short texts")
	case math.IsNaN(in.Lat) || in.Lat < -90 || in.Lat > 90 || math.IsNaN(in.Lng) || in.Lng < -180 || in.Lng > 180 || (in.Lat == 0 && in.Lng == 0):
		return nil, ErrSiteInvalid.Withf("lat and lng must be the site's coordinates in degrees (WGS 84)")
	}
	if st.Region == "" {
		st.Region = by.Region
	}
	if err := s.regions.Validate(st.Region); err != nil {
		return nil, err
	}
	if !by.InScope(st.Region) {
		return nil, auth.ErrOutOfScope
	}
	st.ID = ids.New()
	now := s.clock().UnixMilli()
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO vac_sites (id, name, address, phone, hours, lat, lng, region_code, open, created_at, created_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			st.ID, st.Name, st.Address, st.Phone, st.Hours, st.Lat, st.Lng, st.Region, true, now, by.Actor(), now)
		if db.IsUniqueViolation(err) {
			return ErrSiteExists.Withf("a vaccination site named %q already exists in this region", st.Name)
		}
		if err != nil {
			return fmt.Errorf("vaccine: create site: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "vaccine.site.create",
			Subject: "vaccination_site:" + st.ID, Region: st.Region})
		return err
	})
	if err != nil {
		return nil, err
	}
	st.RegionName = s.regions.FullName(st.Region)
	return st, nil
}

// SiteQuery filters the published list.
type SiteQuery struct {
	Region string
	Near   *geo.LatLng // nearest first
	Limit  int
}

// MaxSites bounds a list of sites.
const MaxSites = 2000

const siteCols = `id, name, address, phone, hours, lat, lng, region_code, open`

func (s *Service) scanSite(sc db.Scanner) (*Site, error) {
	var st Site
	if err := sc.Scan(&st.ID, &st.Name, &st.Address, &st.Phone, &st.Hours, &st.Lat, &st.Lng, &st.Region, &st.Open); err != nil {
		return nil, err
	}
	st.RegionName = s.regions.FullName(st.Region)
	return &st, nil
}

// ListSites is the published list of sites: by region code prefix, and
// nearest first when Near is set.
func (s *Service) ListSites(ctx context.Context, q SiteQuery) ([]*Site, error) {
	if q.Limit <= 0 || q.Limit > MaxSites {
		q.Limit = MaxSites
	}
	args := []any{q.Region + "%"}
	sites, err := db.Collect(ctx, s.db, `SELECT `+siteCols+` FROM vac_sites WHERE region_code LIKE $1 ORDER BY region_code, name`, args, s.scanSite)
	if err != nil {
		return nil, fmt.Errorf("vaccine: list sites: %w", err)
	}
	if q.Near != nil {
		for _, st := range sites {
			d := int64(math.Round(geo.Distance(*q.Near, geo.LatLng{Lat: st.Lat, Lng: st.Lng})))
			st.DistanceM = &d
		}
		sort.SliceStable(sites, func(i, j int) bool { return *sites[i].DistanceM < *sites[j].DistanceM })
	}
	if len(sites) > q.Limit {
		sites = sites[:q.Limit]
	}
	return sites, nil
}

// GetSite is one published site.
func (s *Service) GetSite(ctx context.Context, id string) (*Site, error) {
	st, err := s.scanSite(s.db.QueryRowContext(ctx, `SELECT `+siteCols+` FROM vac_sites WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSiteNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("vaccine: read site: %w", err)
	}
	return st, nil
}

// Product is a vaccine and its primary series.
type Product struct {
	ID           string
	Name         string
	Maker        string
	Doses        int
	IntervalDays int
}

// ProductInput creates a product.
type ProductInput struct {
	Name, Maker  string
	Doses        int
	IntervalDays int
}

// CreateProduct adds a vaccine to the catalogue; the catalogue is the
// deployment's, so the operator's scope must cover it.
func (s *Service) CreateProduct(ctx context.Context, by *auth.Principal, in ProductInput) (*Product, error) {
	if err := by.Require(auth.SiteWrite); err != nil {
		return nil, err
	}
	name, ok1 := cleanText(in.Name, 1, 128)
	maker, ok2 := cleanText(in.Maker, 1, 128)
	if !ok1 || !ok2 || in.Doses < 1 || in.Doses > 5 || in.IntervalDays < 0 || in.IntervalDays > 365 {
		return nil, ErrProductInvalid
	}
	p := &Product{ID: ids.New(), Name: name, Maker: maker, Doses: in.Doses, IntervalDays: in.IntervalDays}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO vac_products (id, name, maker, doses, interval_days, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, p.Name, p.Maker, p.Doses, p.IntervalDays, s.clock().UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrProductExists.Withf("a vaccine named %q already exists", p.Name)
		}
		if err != nil {
			return fmt.Errorf("vaccine: create product: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "vaccine.product.create",
			Subject: "vaccine:" + p.ID, Region: by.Region})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func scanProduct(sc db.Scanner) (*Product, error) {
	var p Product
	return &p, sc.Scan(&p.ID, &p.Name, &p.Maker, &p.Doses, &p.IntervalDays)
}

// Products is the catalogue, by name.
func (s *Service) Products(ctx context.Context) ([]*Product, error) {
	out, err := db.Collect(ctx, s.db, `SELECT id, name, maker, doses, interval_days FROM vac_products ORDER BY name`, nil, scanProduct)
	if err != nil {
		return nil, fmt.Errorf("vaccine: list products: %w", err)
	}
	return out, nil
}

func (s *Service) product(ctx context.Context, q db.Querier, id string) (*Product, error) {
	p, err := scanProduct(q.QueryRowContext(ctx, `SELECT id, name, maker, doses, interval_days FROM vac_products WHERE id = $1 OR name = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrProductNotFound.Withf("no vaccine %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("vaccine: read product: %w", err)
	}
	return p, nil
}

// Slot is a period of a day at a site, with its places.
type Slot struct {
	ID        string
	SiteID    string
	SiteName  string
	Product   Product
	StartsAt  time.Time
	EndsAt    time.Time
	Capacity  int
	Booked    int
	Remaining int
}

// SlotInput creates a slot.
type SlotInput struct {
	SiteID, ProductID string
	StartsAt, EndsAt  time.Time
	Capacity          int
}

// MaxCapacity bounds the places of one slot.
const MaxCapacity = 10000

// CreateSlot opens places at a site in the operator's scope.
func (s *Service) CreateSlot(ctx context.Context, by *auth.Principal, in SlotInput) (*Slot, error) {
	if err := by.Require(auth.SiteWrite); err != nil {
		return nil, err
	}
	st, err := s.GetSite(ctx, in.SiteID)
	if err != nil {
		return nil, err
	}
	if !by.InScope(st.Region) {
		return nil, ErrSiteNotFound
	}
	p, err := s.product(ctx, s.db, in.ProductID)
	if err != nil {
		return nil, err
	}
	a, b := in.StartsAt.In(s.cfg.Location), in.EndsAt.In(s.cfg.Location)
	if in.Capacity < 1 || in.Capacity > MaxCapacity || !a.Before(b) || a.YearDay() != b.YearDay() || a.Year() != b.Year() {
		return nil, ErrSlotInvalid
	}
	if !a.After(s.clock()) {
		return nil, ErrSlotPast.Withf("a slot starting at %s is in the past", a.Format("2006-01-02 15:04"))
	}
	sl := &Slot{ID: ids.New(), SiteID: st.ID, SiteName: st.Name, Product: *p, StartsAt: in.StartsAt.UTC().Truncate(time.Millisecond),
		EndsAt: in.EndsAt.UTC().Truncate(time.Millisecond), Capacity: in.Capacity, Remaining: in.Capacity}
	// A slot holds no personal data and names its creator (created_by):
	// it is not audited, so a week of slots does not bury the audit log.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO vac_slots (id, site_id, product_id, region_code, starts_at, ends_at, capacity, booked, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)`, sl.ID, st.ID, p.ID, st.Region, sl.StartsAt.UnixMilli(), sl.EndsAt.UnixMilli(),
		sl.Capacity, s.clock().UnixMilli(), by.Actor()); err != nil {
		return nil, fmt.Errorf("vaccine: create slot: %w", err)
	}
	return sl, nil
}

const slotCols = `sl.id, sl.site_id, st.name, p.id, p.name, p.maker, p.doses, p.interval_days, sl.starts_at, sl.ends_at, sl.capacity, sl.booked`
const slotFrom = ` FROM vac_slots sl JOIN vac_sites st ON st.id = sl.site_id JOIN vac_products p ON p.id = sl.product_id`

func scanSlot(sc db.Scanner) (*Slot, error) {
	var sl Slot
	var a, b int64
	if err := sc.Scan(&sl.ID, &sl.SiteID, &sl.SiteName, &sl.Product.ID, &sl.Product.Name, &sl.Product.Maker, &sl.Product.Doses,
		&sl.Product.IntervalDays, &a, &b, &sl.Capacity, &sl.Booked); err != nil {
		return nil, err
	}
	sl.StartsAt, sl.EndsAt, sl.Remaining = db.Time(a), db.Time(b), sl.Capacity-sl.Booked
	return &sl, nil
}

// SlotDays bounds how far ahead slots are listed.
const SlotDays = 14

// Slots lists a site's slots from the start of today for days days
// (at most SlotDays), earliest first.
func (s *Service) Slots(ctx context.Context, siteID string, days int) ([]*Slot, error) {
	if _, err := s.GetSite(ctx, siteID); err != nil {
		return nil, err
	}
	if days <= 0 || days > SlotDays {
		days = SlotDays
	}
	from := s.dayStart(s.clock())
	out, err := db.Collect(ctx, s.db, `SELECT `+slotCols+slotFrom+` WHERE sl.site_id = $1 AND sl.starts_at >= $2 AND sl.starts_at < $3
		ORDER BY sl.starts_at, p.name`, []any{siteID, from.UnixMilli(), from.AddDate(0, 0, days).UnixMilli()}, scanSlot)
	if err != nil {
		return nil, fmt.Errorf("vaccine: list slots: %w", err)
	}
	return out, nil
}

// SlotsFor is every slot of the sites in the operator's scope on a day.
func (s *Service) SlotsFor(ctx context.Context, by *auth.Principal, day time.Time) ([]*Slot, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	from := s.dayStart(day)
	scope, args := db.Scope("sl.region_code", lo(by), hi(by), []any{from.UnixMilli(), from.AddDate(0, 0, 1).UnixMilli()})
	out, err := db.Collect(ctx, s.db, `SELECT `+slotCols+slotFrom+` WHERE sl.starts_at >= $1 AND sl.starts_at < $2 AND `+scope+`
		ORDER BY st.name, sl.starts_at`, args, scanSlot)
	if err != nil {
		return nil, fmt.Errorf("vaccine: list slots: %w", err)
	}
	return out, nil
}

func (s *Service) slot(ctx context.Context, q db.Querier, id string) (*Slot, error) {
	sl, err := scanSlot(q.QueryRowContext(ctx, `SELECT `+slotCols+slotFrom+` WHERE sl.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSlotNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("vaccine: read slot: %w", err)
	}
	return sl, nil
}

// dayStart is midnight of t's day in the deployment's zone.
func (s *Service) dayStart(t time.Time) time.Time {
	l := t.In(s.cfg.Location)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.cfg.Location)
}

func lo(by *auth.Principal) string { l, _ := by.Bounds(); return l }
func hi(by *auth.Principal) string { _, h := by.Bounds(); return h }
