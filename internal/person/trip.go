package person

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// AccountPhoneHash is the blind index of a login's phone and the number of
// the person registered behind it (0 when the phone is not registered):
// the trip card needs the phone alone.
func (s *Service) AccountPhoneHash(ctx context.Context, accountID string) ([]byte, int64, error) {
	var h []byte
	var num sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT phone_hash, person_num FROM accounts WHERE id = $1`, accountID).Scan(&h, &num)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, auth.ErrTokenInvalid.Withf("unknown account; log in again")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("person: read account: %w", err)
	}
	return h, num.Int64, nil
}

// NumsByPhoneHash maps phone blind indexes (as strings) to the persons
// registered with that phone, for the platform's own matching of the
// carrier's trip data: a family registered with one phone gives each of
// them; a phone nobody registered is absent.
func (s *Service) NumsByPhoneHash(ctx context.Context, hashes [][]byte) (map[string][]int64, error) {
	out := make(map[string][]int64, len(hashes))
	if len(hashes) == 0 {
		return out, nil
	}
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT phone_hash, num FROM persons WHERE phone_hash IN `, nil, hashes, ``,
		func(sc db.Scanner) error {
			var h []byte
			var n int64
			if err := sc.Scan(&h, &n); err != nil {
				return err
			}
			out[string(h)] = append(out[string(h)], n)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("person: persons by phone: %w", err)
	}
	return out, nil
}

// PhonesFrom calls fn with the number and phone blind index (nil for a
// person without a phone of their own) of the persons numbered from from
// on, in ascending number, at most limit of them, and returns how many it
// gave: matching the carrier's stays against everyone in number order,
// when most persons stayed in the city, costs less than looking their
// phones up one by one, and can begin before the last phone is known. It
// reads one index alone, in order (num, region_code, phone_hash).
func (s *Service) PhonesFrom(ctx context.Context, from int64, limit int, fn func(num int64, hash []byte) error) (int, error) {
	n := 0
	err := db.Each(ctx, s.db, `SELECT num, phone_hash FROM persons WHERE num >= $1 ORDER BY num LIMIT $2`,
		[]any{from, limit}, func(sc db.Scanner) error {
			var num int64
			var h []byte
			if err := sc.Scan(&num, &h); err != nil {
				return err
			}
			n++
			return fn(num, h)
		})
	if err != nil {
		return n, fmt.Errorf("person: phones by number: %w", err)
	}
	return n, nil
}

// MaxNum is the highest person number in use (0 without persons): numbers
// are dense, so it is about how many persons are registered.
func (s *Service) MaxNum(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM persons`).Scan(&n); err != nil {
		return 0, fmt.Errorf("person: highest number: %w", err)
	}
	return n, nil
}

// PhoneHashOf is the blind index of a person's own phone (nil when the
// record has none, as a dependent's), so that a scan which names a person
// but no phone can still consult the carrier's stays. For the platform's
// own checks about a person a guarded lookup found; the phone itself is
// never opened.
func (s *Service) PhoneHashOf(ctx context.Context, num int64) ([]byte, error) {
	var h []byte
	err := s.db.QueryRowContext(ctx, `SELECT phone_hash FROM persons WHERE num = $1`, num).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("person: read phone index: %w", err)
	}
	return h, nil
}
