// Package grid keeps the grids below the town (communities and their
// grids of about 50 households), the registered population by household,
// and the imports that load it and the lists of police, health, transport
// and telecom (cases, contacts, arrivals) as facts. It lists persons by
// colour, reason and grid, and counts 应检未检 against the population.
//
// A grid code is its town's 9 digits, the community's 3 and the grid's 3:
// a code prefix, so the region scope of operators (a town) covers its grids
// and a grid worker scoped to a grid sees that grid only.
package grid

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/status"
)

// CodeLen is the length of a grid code; a community's is 12.
const CodeLen = 15

// Facts records facts (the status engine).
type Facts interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
	ByColour(ctx context.Context, q status.ColourQuery) ([]status.ColourRow, error)
}

// Tests tells who tested negative (the testing service).
type Tests interface {
	NegativeAmong(ctx context.Context, nums []int64, lo, hi string, since, until int64) (map[int64]bool, error)
}

var _ Tests = (*nat.Service)(nil)

// Service is the grids, the population and the imports.
type Service struct {
	db      *db.DB
	persons *person.Service
	regions *region.Table
	facts   Facts
	tests   Tests
	now     func() time.Time
	loc     *time.Location
}

// New returns the service.
func New(d *db.DB, persons *person.Service, regions *region.Table, facts Facts, tests Tests, loc *time.Location) *Service {
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: d, persons: persons, regions: regions, facts: facts, tests: tests, now: time.Now, loc: loc}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Grid is one grid with what it holds.
type Grid struct {
	Code          string
	Name          string
	Community     string
	CommunityName string
	Town          string
	TownName      string
	Households    int64
	Persons       int64
}

// Grids lists the grids in by's scope, under region if not empty.
func (s *Service) Grids(ctx context.Context, by *auth.Principal, under string) ([]Grid, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	lo, hi, err := s.bounds(by, under)
	if err != nil {
		return nil, err
	}
	scope, args := db.Scope("g.code", lo, hi, nil)
	out, err := db.Collect(ctx, s.db, `SELECT g.code, g.name, g.community_code, g.community_name, g.town_code,
			(SELECT COUNT(*) FROM households h WHERE h.grid_code = g.code),
			(SELECT COUNT(*) FROM grid_members m WHERE m.grid_code = g.code)
		FROM grids g WHERE `+scope+` ORDER BY g.code`, args, func(sc db.Scanner) (Grid, error) {
		var g Grid
		err := sc.Scan(&g.Code, &g.Name, &g.Community, &g.CommunityName, &g.Town, &g.Households, &g.Persons)
		g.TownName = s.regions.FullName(g.Town)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("grid: list: %w", err)
	}
	return out, nil
}

// bounds is the scope of a list: by's, or region inside it.
func (s *Service) bounds(by *auth.Principal, under string) (string, string, error) {
	if under == "" {
		lo, hi := by.Bounds()
		return lo, hi, nil
	}
	if !by.InScope(under) {
		return "", "", auth.ErrOutOfScope.Withf("region %s is outside your scope %s", under, by.Region)
	}
	lo, hi := auth.Bounds(under)
	return lo, hi, nil
}

// GridOf tells the grid of each of nums that the population lists.
func (s *Service) GridOf(ctx context.Context, q db.Querier, nums []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(nums))
	err := db.QueryIn(ctx, q, s.db.Engine(), `SELECT person_num, grid_code FROM grid_members WHERE person_num IN `, nil, nums, ``,
		func(sc db.Scanner) error {
			var n int64
			var g string
			err := sc.Scan(&n, &g)
			out[n] = g
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("grid: grid of persons: %w", err)
	}
	return out, nil
}

// members are the persons a grid lists.
func (s *Service) members(ctx context.Context, grid string) ([]int64, error) {
	out, err := db.Collect(ctx, s.db, `SELECT person_num FROM grid_members WHERE grid_code = $1 ORDER BY person_num`, []any{grid},
		func(sc db.Scanner) (int64, error) {
			var n int64
			return n, sc.Scan(&n)
		})
	if err != nil {
		return nil, fmt.Errorf("grid: members: %w", err)
	}
	return out, nil
}

// Exists tells whether a grid code is known.
func (s *Service) Exists(ctx context.Context, code string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM grids WHERE code = $1`, code).Scan(&n); err != nil {
		return false, fmt.Errorf("grid: exists: %w", err)
	}
	return n > 0, nil
}

// Validator checks region codes for operators' scopes: the region table's,
// and the grids', so that a grid worker is scoped to their grid. Grids is
// set once the grid service exists (it is built after the services that
// take the validator).
type Validator struct {
	Table *region.Table
	Grids *Service
}

// Validate accepts a region of the table or a known grid.
func (v *Validator) Validate(code string) error {
	if len(code) == CodeLen && v.Grids != nil {
		ok, err := v.Grids.Exists(context.Background(), code)
		if err == nil && ok {
			return nil
		}
		return ErrGridNotFound.Withf("no grid has the code %s", code)
	}
	return v.Table.Validate(code)
}

// FullName names regions and grids (the town's full name, the
// community's and the grid's).
func (v *Validator) FullName(code string) string { return v.Table.FullName(code) }
