// Package riskarea is the registry of risk areas (中高风险地区): a region, or
// a named place inside one, with a level (low, medium, high) and a validity
// (from, until), published and withdrawn by operators and public as open
// data. The trip card stars a city while it contains a medium- or
// high-risk area; what that means for a person's colour is decided by the
// rules, over the visit.risk_area facts the trip feature appends.
package riskarea

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/region"
)

// Levels in increasing order of risk.
var Levels = []string{"low", "medium", "high"}

// Starring reports whether an area of the level stars the cities that
// contain it (medium and high do; low is published for completeness).
func Starring(level string) bool { return level == "medium" || level == "high" }

// Area is one published risk area.
type Area struct {
	ID          string
	Region      string // GB/T 2260 code of the region (city, county or street)
	RegionName  string
	City        string // the city-level code that contains it (4 digits)
	Name        string // a place inside the region; "" for the whole region
	Level       string
	From, Until time.Time
	CreatedAt   time.Time
	CreatedBy   string
	WithdrawnAt *time.Time
	// Geometry is the area's shape when the operator gave one (nil: none;
	// a region code carries no coordinates).
	Geometry *geo.Geometry
}

// ActiveAt reports whether the area is in force at t.
func (a *Area) ActiveAt(t time.Time) bool {
	return a.WithdrawnAt == nil && !t.Before(a.From) && t.Before(a.Until)
}

// Input is what an operator publishes. From and Until are pointers so that
// a missing one is told apart from the zero time.
type Input struct {
	Region string
	Name   string
	Level  string
	From   *time.Time
	Until  *time.Time
	// Geometry is the area's shape as GeoJSON geometry text (Point,
	// Polygon or MultiPolygon); empty for none.
	Geometry []byte
}

// Service is the registry. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	regions *region.Table
	now     func() time.Time
}

// New returns the service.
func New(d *db.DB, regions *region.Table) *Service {
	return &Service{db: d, regions: regions, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Now is the service's clock (an area is active or not by it).
func (s *Service) Now() time.Time { return s.now() }

// CityOf is the city-level code that contains a region code (the first
// four digits), "" for a province or a code of another shape.
func CityOf(code string) string {
	if region.LevelOf(code) < region.City {
		return ""
	}
	return code[:4]
}

// Check validates an input and returns the area it would publish, without
// storing it (a dry run asks first).
func (s *Service) Check(in Input) (*Area, error) { return s.check(in) }

// check validates an input and returns the area it describes.
func (s *Service) check(in Input) (*Area, error) {
	code := strings.TrimSpace(in.Region)
	if err := s.regions.Validate(code); err != nil {
		return nil, err
	}
	if region.LevelOf(code) < region.City {
		return nil, ErrRegionLevel
	}
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > 128 || !utf8.ValidString(name) {
		return nil, ErrNameInvalid
	}
	if !slices.Contains(Levels, in.Level) {
		return nil, ErrLevelInvalid.Withf("level must be low, medium or high, not %q", in.Level)
	}
	switch {
	case in.From == nil && in.Until == nil:
		return nil, ErrValidityMissing
	case in.From == nil:
		return nil, ErrValidityMissing.Withf("from is required: when does the area start?")
	case in.Until == nil:
		return nil, ErrValidityMissing.Withf("until is required: a risk area is never open-ended")
	case !in.From.Before(*in.Until):
		return nil, ErrValidityInverted.Withf("from (%s) must be before until (%s)", in.From.Format(time.RFC3339), in.Until.Format(time.RFC3339))
	}
	var shape *geo.Geometry
	if len(bytes.TrimSpace(in.Geometry)) > 0 {
		var err error
		if shape, err = geo.ParseGeometry(in.Geometry); err != nil {
			return nil, err
		}
	}
	return &Area{ID: ids.New(), Region: code, RegionName: s.regions.FullName(code), City: CityOf(code), Name: name, Level: in.Level,
		From: in.From.UTC().Truncate(time.Millisecond), Until: in.Until.UTC().Truncate(time.Millisecond), Geometry: shape}, nil
}

// Publish adds an area; by needs riskarea.write and the region in scope.
// The area is audited with the operator.
func (s *Service) Publish(ctx context.Context, by *auth.Principal, in Input) (*Area, error) {
	if err := by.Require(auth.RiskAreaWrite); err != nil {
		return nil, err
	}
	a, err := s.check(in)
	if err != nil {
		return nil, err
	}
	if !by.InScope(a.Region) {
		return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope", a.Region)
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		return s.insert(ctx, tx, by, a)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Service) insert(ctx context.Context, tx db.Tx, by *auth.Principal, a *Area) error {
	a.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	a.CreatedBy = by.Actor()
	shape := ""
	detail := map[string]any{"level": a.Level, "name": a.Name, "from": a.From.UnixMilli(), "until": a.Until.UnixMilli()}
	if a.Geometry != nil {
		shape = a.Geometry.String()
		detail["geometry"] = a.Geometry.Type
		detail["positions"] = a.Geometry.Positions()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_areas (id, region_code, city_code, name, level, from_at, until_at, created_at, created_by, geometry)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, a.ID, a.Region, a.City, a.Name, a.Level, a.From.UnixMilli(), a.Until.UnixMilli(),
		a.CreatedAt.UnixMilli(), a.CreatedBy, shape); err != nil {
		return fmt.Errorf("riskarea: insert: %w", err)
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: a.CreatedAt, Actor: by.Actor(), Action: "risk_area.publish", Subject: "risk_area:" + a.ID,
		Region: a.Region, Detail: detail})
	return err
}

// Withdraw lifts an area before its until; by needs riskarea.write and the
// area in scope (outside it the area is not found). The record stays.
func (s *Service) Withdraw(ctx context.Context, by *auth.Principal, id string) (*Area, error) {
	if err := by.Require(auth.RiskAreaWrite); err != nil {
		return nil, err
	}
	var a *Area
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if a, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		if !by.InScope(a.Region) {
			return ErrNotFound
		}
		if a.WithdrawnAt != nil {
			return ErrWithdrawn
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		res, err := tx.ExecContext(ctx, `UPDATE risk_areas SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3 AND withdrawn_at IS NULL`,
			now.UnixMilli(), by.Actor(), id)
		if err != nil {
			return fmt.Errorf("riskarea: withdraw: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrWithdrawn
		}
		a.WithdrawnAt = &now
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "risk_area.withdraw", Subject: "risk_area:" + a.ID,
			Region: a.Region})
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

const cols = `id, region_code, city_code, name, level, from_at, until_at, created_at, created_by, withdrawn_at, geometry`

func (s *Service) scan(sc db.Scanner) (*Area, error) {
	var a Area
	var from, until, created int64
	var withdrawn sql.NullInt64
	var shape string
	if err := sc.Scan(&a.ID, &a.Region, &a.City, &a.Name, &a.Level, &from, &until, &created, &a.CreatedBy, &withdrawn, &shape); err != nil {
		return nil, err
	}
	if shape != "" {
		g, err := geo.ParseGeometry([]byte(shape))
		if err != nil {
			return nil, fmt.Errorf("riskarea: stored geometry of %s: %w", a.ID, err)
		}
		a.Geometry = g
	}
	a.From, a.Until, a.CreatedAt = time.UnixMilli(from).UTC(), time.UnixMilli(until).UTC(), time.UnixMilli(created).UTC()
	if withdrawn.Valid {
		t := time.UnixMilli(withdrawn.Int64).UTC()
		a.WithdrawnAt = &t
	}
	a.RegionName = s.regions.FullName(a.Region)
	return &a, nil
}

func (s *Service) get(ctx context.Context, q db.Querier, id string) (*Area, error) {
	a, err := s.scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM risk_areas WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("riskarea: read %s: %w", id, err)
	}
	return a, nil
}

// Get is one area, withdrawn or not (public: areas are open data).
func (s *Service) Get(ctx context.Context, id string) (*Area, error) { return s.get(ctx, s.db, id) }

// Query filters the public list.
type Query struct {
	Region string // this region and below ("" = all)
	Level  string // "" = every level
	// All includes areas that have ended or were withdrawn (the console's
	// registry); the public list holds those in force now or announced.
	All bool
}

// MaxList bounds one answer.
const MaxList = 2000

// List is the areas that match, newest first.
func (s *Service) List(ctx context.Context, q Query) ([]*Area, error) {
	if q.Level != "" && !slices.Contains(Levels, q.Level) {
		return nil, ErrLevelInvalid.Withf("level must be low, medium or high, not %q", q.Level)
	}
	if q.Region != "" {
		if err := s.regions.Validate(q.Region); err != nil {
			return nil, err
		}
	}
	lo, hi := auth.Bounds(q.Region)
	where, args := db.Scope("region_code", lo, hi, nil)
	if q.Level != "" {
		args = append(args, q.Level)
		where += fmt.Sprintf(" AND level = $%d", len(args))
	}
	if !q.All {
		args = append(args, s.now().UnixMilli())
		where += fmt.Sprintf(" AND withdrawn_at IS NULL AND until_at > $%d", len(args))
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+cols+` FROM risk_areas WHERE `+where+fmt.Sprintf(` ORDER BY created_at DESC, id LIMIT %d`, MaxList),
		args, s.scan)
	if err != nil {
		return nil, fmt.Errorf("riskarea: list: %w", err)
	}
	return out, nil
}

// InScope is the registry an operator manages: every area in their scope,
// withdrawn and ended ones too. by needs riskarea.write.
func (s *Service) InScope(ctx context.Context, by *auth.Principal) ([]*Area, error) {
	if err := by.Require(auth.RiskAreaWrite); err != nil {
		return nil, err
	}
	return s.List(ctx, Query{Region: by.Region, All: true})
}

// StarredCities is the set of cities that contain a medium- or high-risk
// area in force at t.
func (s *Service) StarredCities(ctx context.Context, t time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	ms := t.UnixMilli()
	err := db.Each(ctx, s.db, `SELECT DISTINCT city_code FROM risk_areas
		WHERE level IN ('medium', 'high') AND withdrawn_at IS NULL AND from_at <= $1 AND until_at > $1`, []any{ms},
		func(sc db.Scanner) error {
			var c string
			if err := sc.Scan(&c); err != nil {
				return err
			}
			out[c] = true
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("riskarea: starred cities: %w", err)
	}
	return out, nil
}
