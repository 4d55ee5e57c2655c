package audit

import (
	"context"

	"github.com/healthcode/healthcode/internal/db"
)

// Rechain is the forger's tool: it recomputes every entry's link and hash
// from the stored fields and moves the head row to the last entry, as
// someone who can write the database (but holds no key) can after editing
// or deleting entries.
func Rechain(ctx context.Context, d *db.DB) error {
	type row struct {
		e      Entry
		detail string
	}
	var rows []row
	err := db.Each(ctx, d, `SELECT seq, at, actor, action, subject, region_code, detail FROM audit_log ORDER BY seq`, nil,
		func(sc db.Scanner) error {
			var r row
			var at int64
			if err := sc.Scan(&r.e.Seq, &at, &r.e.Actor, &r.e.Action, &r.e.Subject, &r.e.Region, &r.detail); err != nil {
				return err
			}
			r.e.At = db.Time(at)
			rows = append(rows, r)
			return nil
		})
	if err != nil {
		return err
	}
	return d.InTx(ctx, func(tx db.Tx) error {
		var prev Entry
		for _, r := range rows {
			r.e.PrevHash = prev.Hash
			r.e.Hash = hashEntry(r.e, r.detail)
			if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, r.e.PrevHash, r.e.Hash, r.e.Seq); err != nil {
				return err
			}
			prev = r.e
		}
		_, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, prev.Seq, prev.Hash)
		return err
	})
}
