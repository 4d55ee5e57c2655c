package checkin

import (
	"context"
	"fmt"

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
