package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/healthcode/healthcode/internal/db"
)

// Kinds of place.
const (
	PlaceVenue      = "venue"
	PlaceCheckpoint = "checkpoint"
)

// Place is a venue or a checkpoint under its dense number. Check-ins and
// verifications store the number, never a token, so a rotated or revoked
// venue code leaves old check-ins attached to the venue.
type Place struct {
	Num  int64
	Kind string // PlaceVenue or PlaceCheckpoint
	Ref  string // the venue's or checkpoint's id
}

type placeKey struct{ kind, ref string }

// placeNum returns the number of a place, creating it on first use when
// create is set (0 and no error when it does not exist and create is not).
// Numbers never change, so they are cached for the life of the process.
func (s *Service) placeNum(ctx context.Context, kind, ref string, create bool) (int64, error) {
	k := placeKey{kind, ref}
	if n, ok := s.places.Load(k); ok {
		return n.(int64), nil
	}
	var num int64
	err := s.db.QueryRowContext(ctx, `SELECT num FROM places WHERE kind = $1 AND ref = $2`, kind, ref).Scan(&num)
	if errors.Is(err, sql.ErrNoRows) {
		if !create {
			return 0, nil
		}
		num, err = s.createPlace(ctx, kind, ref)
	}
	if err != nil {
		return 0, fmt.Errorf("checkin: place %s %s: %w", kind, ref, err)
	}
	s.places.Store(k, num)
	s.placeByNum.Store(num, Place{Num: num, Kind: kind, Ref: ref})
	return num, nil
}

func (s *Service) createPlace(ctx context.Context, kind, ref string) (int64, error) {
	var num int64
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		n, err := db.NextVal(ctx, tx, "places", 1)
		if err != nil {
			return err
		}
		// Another node may have numbered the place meanwhile: its number wins.
		if _, err := tx.ExecContext(ctx, `INSERT INTO places (num, kind, ref, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kind, ref) DO NOTHING`, n, kind, ref, s.now().UnixMilli()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT num FROM places WHERE kind = $1 AND ref = $2`, kind, ref).Scan(&num)
	})
	return num, err
}

// VenuePlace returns the place number of a venue (0 if nobody ever checked
// in there).
func (s *Service) VenuePlace(ctx context.Context, venueID string) (int64, error) {
	return s.placeNum(ctx, PlaceVenue, venueID, false)
}

// Place returns the place with the number.
func (s *Service) Place(ctx context.Context, num int64) (Place, error) {
	if p, ok := s.placeByNum.Load(num); ok {
		return p.(Place), nil
	}
	p := Place{Num: num}
	err := s.db.QueryRowContext(ctx, `SELECT kind, ref FROM places WHERE num = $1`, num).Scan(&p.Kind, &p.Ref)
	if err != nil {
		return Place{}, fmt.Errorf("checkin: place %d: %w", num, err)
	}
	s.placeByNum.Store(num, p)
	s.places.Store(placeKey{p.Kind, p.Ref}, num)
	return p, nil
}
