package codes

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// showCounter counts the dynamic codes issued (shown by a page, fetched
// through the API), per hour and region of the holder, in memory;
// FlushShows adds the counts to the store. Issuing must not wait for the
// database: it is the hottest path there is, and the code is what a
// checkpoint is looking at.
type showCounter struct {
	mu sync.Mutex
	m  map[showKey]int64
}

type showKey struct {
	hour   int64
	region string
}

func (c *showCounter) add(at time.Time, region string) { c.addN(at, region, 1) }

func (c *showCounter) addN(at time.Time, region string, n int64) {
	k := showKey{at.Truncate(time.Hour).UnixMilli(), region}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[showKey]int64{}
	}
	c.m[k] += n
	c.mu.Unlock()
}

func (c *showCounter) take() map[showKey]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	c.m = nil
	return m
}

// putBack returns counts that could not be written, for the next flush.
func (c *showCounter) putBack(m map[showKey]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[showKey]int64, len(m))
	}
	for k, n := range m {
		c.m[k] += n
	}
}

// FlushShows adds the counted code shows to the store; the server calls it
// periodically. Counts that fail to be written are kept for the next time.
func (s *Service) FlushShows(ctx context.Context) error {
	if s.DB == nil {
		return nil
	}
	m := s.shows.take()
	if len(m) == 0 {
		return nil
	}
	// Every node adds to the same hours' rows: in the order of the keys,
	// not a map's, or two nodes flushing at once each held rows the other
	// waited for.
	keys := slices.SortedFunc(maps.Keys(m), func(a, b showKey) int {
		return cmp.Or(cmp.Compare(a.hour, b.hour), cmp.Compare(a.region, b.region))
	})
	err := s.DB.InTx(ctx, func(tx db.Tx) error {
		for _, k := range keys {
			n := m[k]
			if _, err := tx.ExecContext(ctx, `INSERT INTO code_shows (hour, region_code, shows) VALUES ($1, $2, $3)
				ON CONFLICT (hour, region_code) DO UPDATE SET shows = code_shows.shows + excluded.shows`, k.hour, k.region, n); err != nil {
				return fmt.Errorf("codes: count code shows: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		s.shows.putBack(m)
	}
	return err
}

// ShowsPerHour is the number of codes shown in each hour from from (an
// hour start) on, keyed by the hour's start in unix ms, for holders in the
// operator's scope. This node's counts not yet flushed are flushed first.
func (s *Service) ShowsPerHour(ctx context.Context, by *auth.Principal, from time.Time) (map[int64]int64, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	out := map[int64]int64{}
	if s.DB == nil {
		return out, nil
	}
	if err := s.FlushShows(ctx); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, []any{from.UnixMilli()})
	err := db.Each(ctx, s.DB, `SELECT hour, SUM(shows) FROM code_shows WHERE hour >= $1 AND `+scope+` GROUP BY hour`, args,
		func(sc db.Scanner) error {
			var h, n int64
			if err := sc.Scan(&h, &n); err != nil {
				return err
			}
			out[h] = n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("codes: read code shows: %w", err)
	}
	return out, nil
}

// ImportShows adds counts of code shows that happened elsewhere (another
// system's history, the demo's simulated city) to the store, as a flush
// would: n shows in the hour of at by holders living in region.
func (s *Service) ImportShows(ctx context.Context, counts map[time.Time]map[string]int64) error {
	for at, byRegion := range counts {
		for region, n := range byRegion {
			s.shows.addN(at, region, n)
		}
	}
	return s.FlushShows(ctx)
}

// IssuedSoFar counts the codes issued so far, for the audit log's signed
// heads: the dynamic codes shown (as flushed by FlushShows) and the care
// codes. Neither table is ever purged, so the count only grows.
func (s *Service) IssuedSoFar(ctx context.Context) (int64, error) {
	var shows, care int64
	if err := s.DB.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(shows), 0) AS BIGINT) FROM code_shows`).Scan(&shows); err != nil {
		return 0, fmt.Errorf("codes: count codes issued: %w", err)
	}
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM care_codes`).Scan(&care); err != nil {
		return 0, fmt.Errorf("codes: count codes issued: %w", err)
	}
	return shows + care, nil
}
