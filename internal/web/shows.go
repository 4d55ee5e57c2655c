package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// showCounter counts the codes the pages show, per hour and region of the
// holder, in memory; FlushShows adds the counts to the store. A show must
// not wait for the database (it is the page a checkpoint is looking at).
type showCounter struct {
	mu sync.Mutex
	m  map[showKey]int64
}

type showKey struct {
	hour   int64
	region string
}

func (c *showCounter) add(at time.Time, region string) {
	k := showKey{at.Truncate(time.Hour).UnixMilli(), region}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[showKey]int64{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *showCounter) take() map[showKey]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	c.m = nil
	return m
}

// FlushShows adds the counted code shows to the store; the server calls it
// periodically. Counts that fail to be written are kept for the next time.
func (s *Server) FlushShows(ctx context.Context) error {
	m := s.shows.take()
	if len(m) == 0 {
		return nil
	}
	err := s.DB.InTx(ctx, func(tx db.Tx) error {
		for k, n := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO code_shows (hour, region_code, shows) VALUES ($1, $2, $3)
				ON CONFLICT (hour, region_code) DO UPDATE SET shows = code_shows.shows + excluded.shows`, k.hour, k.region, n); err != nil {
				return fmt.Errorf("web: count code shows: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		s.shows.mu.Lock()
		if s.shows.m == nil {
			s.shows.m = map[showKey]int64{}
		}
		for k, n := range m {
			s.shows.m[k] += n
		}
		s.shows.mu.Unlock()
	}
	return err
}

// showsPerHour is the number of codes shown in each hour from from (an
// hour start) on, for holders in the region bounds.
func (s *Server) showsPerHour(ctx context.Context, lo, hi string, from time.Time) (map[int64]int64, error) {
	if err := s.FlushShows(ctx); err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT hour, SUM(shows) FROM code_shows
		WHERE hour >= $1 AND region_code >= $2 AND ($3 = '' OR region_code < $3) GROUP BY hour`, from.UnixMilli(), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("web: read code shows: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var h, n int64
		if err := rows.Scan(&h, &n); err != nil {
			return nil, err
		}
		out[h] = n
	}
	return out, rows.Err()
}
