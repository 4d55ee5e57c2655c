package auth

import (
	"context"
	"fmt"
	"math"
	"time"
)

// The purges of sessions and one-time codes, each read through an index
// on what it selects by (sessions_created, otps_day; sessions_expiry for
// the expired sessions) rather than a scan of a table a registration surge
// fills: on SQLite a scan would hold the one writer for its length.
const (
	retainSessions = `DELETE FROM sessions WHERE created_at < $1`
	retainOTPs     = `DELETE FROM otps WHERE sent_at < $1 AND day < $2`
	purgeOTPs      = `DELETE FROM otps WHERE expires_at <= $1 AND day < $2`
)

// Purge deletes sessions opened before cutoff, live or not (their holders
// sign in again), and one-time code rows last sent before it. Today's code
// rows stay unless the cutoff is past now (the wind-down): they carry the
// day's send count.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	out := map[string]int64{}
	res, err := s.db.ExecContext(ctx, retainSessions, c)
	if err != nil {
		return out, fmt.Errorf("auth: purge sessions: %w", err)
	}
	out["sessions"], _ = res.RowsAffected()
	now := s.now()
	today := s.day(now)
	if cutoff.After(now) {
		today = math.MaxInt64
	}
	res, err = s.db.ExecContext(ctx, retainOTPs, c, today)
	if err != nil {
		return out, fmt.Errorf("auth: purge one-time codes: %w", err)
	}
	out["otps"], _ = res.RowsAffected()
	// A node that cached a purged session would otherwise accept it until
	// the cache entry expires (Config.CacheTTL).
	if out["sessions"] > 0 {
		s.cache.Clear()
	}
	return out, nil
}
