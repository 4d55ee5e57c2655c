// Package emergency holds whether the emergency has ended: the one flag,
// stored, that `healthcode wind-down` sets first and that every service
// issuing codes consults. Nodes read it at start and poll it (Refresh), and
// answer from memory: the code paths are hot.
package emergency

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// State is the flag as this node knows it. A nil *State never ends.
type State struct {
	db    *db.DB
	ended atomic.Pointer[End]
}

// End is when and by whom the emergency was ended.
type End struct {
	At     time.Time
	By     string // the audit actor
	Region string
}

// Open reads the flag.
func Open(ctx context.Context, d *db.DB) (*State, error) {
	s := &State{db: d}
	return s, s.Refresh(ctx)
}

// Refresh rereads the flag; the server runs it every few seconds, so a
// wind-down run from another process stops every node's codes.
func (s *State) Refresh(ctx context.Context) error {
	var e End
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT ended_at, ended_by, region_code FROM emergency_end WHERE id = 1`).Scan(&at, &e.By, &e.Region)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("emergency: read: %w", err)
	}
	e.At = time.UnixMilli(at).UTC()
	s.ended.Store(&e)
	return nil
}

// Ended reports whether the emergency has ended, from memory.
func (s *State) Ended() bool { return s != nil && s.ended.Load() != nil }

// Ending reports when it ended, if it has.
func (s *State) Ending() (End, bool) {
	if s == nil {
		return End{}, false
	}
	e := s.ended.Load()
	if e == nil {
		return End{}, false
	}
	return *e, true
}

// MarkEnded stores the end in tx (the caller audits it in the same
// transaction); a second end keeps the first. This node knows at once
// after the commit, when the caller calls Refresh.
func MarkEnded(ctx context.Context, tx db.Tx, e End) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO emergency_end (id, ended_at, ended_by, region_code) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, e.At.UnixMilli(), e.By, e.Region)
	if err != nil {
		return fmt.Errorf("emergency: mark ended: %w", err)
	}
	return nil
}
