package sms

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes the messages queued before cutoff, whatever became of them:
// one still queued that long has expired unsent (Config.Expiry is minutes).
func (o *Outbox) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	res, err := o.db.ExecContext(ctx, `DELETE FROM sms_outbox WHERE created_at < $1`, cutoff.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sms: purge the outbox: %w", err)
	}
	n, _ := res.RowsAffected()
	return map[string]int64{"sms_outbox": n}, nil
}
