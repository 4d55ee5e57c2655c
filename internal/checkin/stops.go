package checkin

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
)

// Stop is a person's presence at a place (unix ms): a check-in at a venue
// or a verification at a checkpoint.
type Stop struct {
	Place int64
	At    int64
}

// Stops returns a person's check-ins and verifications in [from, to] (unix
// ms), oldest first: the trip card reads where the person was from them.
// Both tables are read through their person index.
func (s *Service) Stops(ctx context.Context, person, from, to int64) ([]Stop, error) {
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	out, err := db.Collect(ctx, s.db, `
		SELECT place, at FROM checkins WHERE person = $1 AND at >= $2 AND at <= $3
		UNION ALL
		SELECT place, at FROM verifications WHERE person = $1 AND at >= $2 AND at <= $3 AND place <> 0
		ORDER BY 2`, []any{person, from, to}, func(sc db.Scanner) (Stop, error) {
		var st Stop
		err := sc.Scan(&st.Place, &st.At)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("checkin: stops of %d: %w", person, err)
	}
	return out, nil
}

// CheckpointPlace returns the place number of a checkpoint (0 if nobody was
// ever verified there).
func (s *Service) CheckpointPlace(ctx context.Context, checkpointID string) (int64, error) {
	return s.placeNum(ctx, PlaceCheckpoint, checkpointID, false)
}

// stopsChunk is how many persons StopsOfMany holds in memory at a time.
const stopsChunk = 20000

// StopsOfMany is Stops for many persons at once: fn gets each person's
// check-ins and verifications in [from, to] (unix ms), oldest first, in the
// order of persons, and is not called for a person with none. Publishing a
// risk area reads a whole city's visitors this way, with a statement per
// thousand persons rather than one per person.
//
// Persons in ascending order that fill at least a quarter of the numbers
// from the first to the last (a city's visitors, a slice at a time) are
// read by one range of the person index, their neighbours dropped here:
// PostgreSQL planned a list of a thousand persons as a scan of every day's
// partition (0.6 s a list with a million check-ins), where a range of the
// index reads only the persons' entries.
func (s *Service) StopsOfMany(ctx context.Context, persons []int64, from, to int64, fn func(person int64, stops []Stop) error) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	for len(persons) > 0 {
		part := persons[:min(stopsChunk, len(persons))]
		persons = persons[len(part):]
		by := make(map[int64][]Stop, len(part))
		keep := func(sc db.Scanner) error {
			var p int64
			var st Stop
			if err := sc.Scan(&p, &st.Place, &st.At); err != nil {
				return err
			}
			by[p] = append(by[p], st)
			return nil
		}
		dense := len(part) > 1 && slices.IsSorted(part) && part[len(part)-1]-part[0] < 4*int64(len(part))
		for _, q := range []string{
			`SELECT person, place, at FROM checkins WHERE at >= $1 AND at <= $2 AND `,
			`SELECT person, place, at FROM verifications WHERE at >= $1 AND at <= $2 AND place <> 0 AND `,
		} {
			var err error
			if dense {
				// Neighbours' stops are kept in by too, and never handed to fn.
				err = db.Each(ctx, s.db, q+`person >= $3 AND person <= $4`, []any{from, to, part[0], part[len(part)-1]}, keep)
			} else {
				err = db.QueryIn(ctx, s.db, s.db.Engine(), q+`person IN `, []any{from, to}, part, ``, keep)
			}
			if err != nil {
				return fmt.Errorf("checkin: stops of %d persons: %w", len(part), err)
			}
		}
		for _, p := range part {
			stops := by[p]
			if len(stops) == 0 {
				continue
			}
			// Stops orders by time alone; ties keep the check-ins first.
			slices.SortStableFunc(stops, func(a, b Stop) int { return cmp.Compare(a.At, b.At) })
			if err := fn(p, stops); err != nil {
				return err
			}
		}
	}
	return nil
}
