// Package rollout is the registration task table of a rollout (申领任务表):
// per town, the resident population, the target number of registrations
// (population x ratio, 90% by default, rounded up) and how many residents
// have registered so far.
package rollout

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// Population is the resident population of one region.
type Population struct {
	Region          string `json:"region"`
	Name            string `json:"name"`
	Population      int64  `json:"population"`
	PublishedTarget int64  `json:"published_target,omitempty"` // the figure in the source document, if any
	Source          string `json:"source"`
}

// Save stores or replaces populations (from an import or the demo).
func Save(ctx context.Context, tx db.Tx, ps []Population) error {
	for _, p := range ps {
		if p.Population < 0 {
			return ErrPopulationInvalid.Withf("population of %s is negative", p.Region)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO populations (region_code, name, population, published_target, source)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (region_code) DO UPDATE SET name = excluded.name, population = excluded.population,
			  published_target = excluded.published_target, source = excluded.source`,
			p.Region, p.Name, p.Population, nullable(p.PublishedTarget), p.Source)
		if err != nil {
			return fmt.Errorf("coverage: save population of %s: %w", p.Region, err)
		}
	}
	return nil
}

func nullable(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// Counter counts registered persons per region code within bounds.
type Counter interface {
	CountByRegion(ctx context.Context, lo, hi string) (map[string]int64, error)
}

// Row is one line of the task table.
type Row struct {
	Region          string
	Name            string
	Population      int64
	Target          int64
	PublishedTarget int64
	Registered      int64
	Share           float64 // registered / target
}

// Table is the task table with its totals.
type Table struct {
	Ratio float64
	Rows  []Row
	Total Row
}

// Target is ceil(population x ratio). The ratio is applied in integer
// per-mille arithmetic so that 59377 x 90% is 53440, not a float's 53439.3
// rounded the wrong way at an edge.
func Target(population int64, ratio float64) int64 {
	permille := int64(math.Round(ratio * 1000))
	return (population*permille + 999) / 1000
}

// Compute builds the task table for the regions in the operator's scope that
// have a population, counting registrations in each region's subtree, for
// an operator with stats.read.
func Compute(ctx context.Context, q db.Querier, counter Counter, by *auth.Principal, ratio float64) (*Table, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	if !(ratio > 0 && ratio <= 1) { // NaN fails every comparison
		return nil, ErrRatioInvalid
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, nil)
	pops, err := db.Collect(ctx, q, `SELECT region_code, name, population, COALESCE(published_target, 0), source FROM populations
		WHERE `+scope, args, func(sc db.Scanner) (Population, error) {
		var p Population
		err := sc.Scan(&p.Region, &p.Name, &p.Population, &p.PublishedTarget, &p.Source)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("coverage: read populations: %w", err)
	}
	counts, err := counter.CountByRegion(ctx, lo, hi)
	if err != nil {
		return nil, err
	}
	// A region's subtree is the codes it prefixes (auth.Bounds): summing
	// each count into every prefix of its code gives every row its
	// registrations in one pass, where matching each row against each code
	// cost rows x codes (2.8M comparisons for a province's 1,685 towns).
	subtree := make(map[string]int64, 4*len(counts))
	for code, n := range counts {
		for k := 1; k <= len(code); k++ {
			subtree[code[:k]] += n
		}
	}
	t := &Table{Ratio: ratio, Rows: []Row{}, Total: Row{Name: "合计"}}
	for _, p := range pops {
		r := Row{Region: p.Region, Name: p.Name, Population: p.Population, Target: Target(p.Population, ratio), PublishedTarget: p.PublishedTarget,
			Registered: subtree[p.Region]}
		if r.Target > 0 {
			r.Share = float64(r.Registered) / float64(r.Target)
		}
		t.Rows = append(t.Rows, r)
		t.Total.Population += r.Population
		t.Total.Target += r.Target
		t.Total.PublishedTarget += r.PublishedTarget
		t.Total.Registered += r.Registered
	}
	if t.Total.Target > 0 {
		t.Total.Share = float64(t.Total.Registered) / float64(t.Total.Target)
	}
	sort.Slice(t.Rows, func(i, j int) bool { return t.Rows[i].Region < t.Rows[j].Region })
	return t, nil
}
