package db

import (
	"context"
	"fmt"
)

// Places is a table of slots with a capacity: each row has an id, a
// capacity and the places booked in it, and the table holds
// CHECK (booked <= capacity). A place is taken by one conditional UPDATE
// (booked < capacity) inside the transaction that stores the booking, so
// no number of concurrent bookings on any number of nodes, on either
// engine, takes more places than the slot has: PostgreSQL re-reads the row
// a concurrent writer changed before deciding, SQLite has one writer.
type Places struct {
	Table string // with columns id, capacity, booked
}

// Take takes one place in the slot id when one is left and the extra
// condition holds (cond is "" or SQL such as "starts_at > $2", its
// arguments after the id); it reports false when none was taken: the slot
// is full, does not exist or fails cond.
func (p Places) Take(ctx context.Context, tx Tx, id string, cond string, args ...any) (bool, error) {
	q := `UPDATE ` + p.Table + ` SET booked = booked + 1 WHERE id = $1 AND booked < capacity`
	if cond != "" {
		q += ` AND ` + cond
	}
	res, err := tx.ExecContext(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return false, fmt.Errorf("take a place in %s: %w", p.Table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take a place in %s: %w", p.Table, err)
	}
	return n == 1, nil
}

// Give gives a place of the slot back (a booking cancelled).
func (p Places) Give(ctx context.Context, tx Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE `+p.Table+` SET booked = booked - 1 WHERE id = $1 AND booked > 0`, id); err != nil {
		return fmt.Errorf("give a place of %s back: %w", p.Table, err)
	}
	return nil
}
