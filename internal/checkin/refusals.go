package checkin

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// VenueRefusals counts the scans each venue (by id) turned away under its
// policy in [from, to), whole hours, any reason: a transport company's
// refused rides of the day. The caller names the venues, from the feature
// that decides whose they are.
func (s *Service) VenueRefusals(ctx context.Context, venueIDs []string, from, to time.Time) (map[string]int64, error) {
	out := make(map[string]int64, len(venueIDs))
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT pl.ref, SUM(r.count) FROM venue_refusals r JOIN places pl ON pl.num = r.place
		WHERE r.hour >= $1 AND r.hour < $2 AND pl.kind = $3 AND pl.ref IN `,
		[]any{from.UnixMilli() / 3600000, to.UnixMilli() / 3600000, PlaceVenue}, venueIDs, ` GROUP BY pl.ref`, func(sc db.Scanner) error {
			var id string
			var n int64
			if err := sc.Scan(&id, &n); err != nil {
				return err
			}
			out[id] = n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("checkin: venue refusals: %w", err)
	}
	return out, nil
}
