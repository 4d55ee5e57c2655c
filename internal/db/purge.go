package db

import (
	"context"
	"fmt"
	"time"
)

// A Deletion is one table's part of a retention purge: Query deletes the
// table's rows older than the cutoff, given as $1 in unix milliseconds.
type Deletion struct{ Table, Query string }

// DeleteBefore runs the deletions in order in one transaction, for the
// features' retention purges, and says how many rows of each table went. On
// a failure nothing is deleted and the map is empty.
func DeleteBefore(ctx context.Context, d *DB, cutoff time.Time, dels ...Deletion) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	out := make(map[string]int64, len(dels))
	err := d.InTx(ctx, func(tx Tx) error {
		for _, del := range dels {
			res, err := tx.ExecContext(ctx, del.Query, c)
			if err != nil {
				return fmt.Errorf("%s: %w", del.Table, err)
			}
			out[del.Table], _ = res.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return map[string]int64{}, err
	}
	return out, nil
}
