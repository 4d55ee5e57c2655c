package checkin

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/db"
)

// Encounter is a case's presence at a place and another person's presence
// at the same place within the window of it. Times are unix milliseconds:
// a tracing run handles millions of these.
type Encounter struct {
	Place    int64
	CaseAt   int64
	Person   int64
	PersonAt int64
}

// encountersSQL walks the case's own presence in [from, to) through the
// person index and, for each, range-scans the place index around that
// time: one nested-loop join per table, so a case costs one seek per place
// visited plus the rows found, however large the tables are.
const encountersSQL = `
SELECT c.place, c.at, o.person, o.at FROM checkins c
JOIN checkins o ON o.place = c.place AND o.at >= c.at - $4 AND o.at <= c.at + $4
WHERE c.person = $1 AND c.at >= $2 AND c.at < $3 AND o.person <> $1
UNION ALL
SELECT c.place, c.at, o.person, o.at FROM verifications c
JOIN verifications o ON o.place = c.place AND o.at >= c.at - $4 AND o.at <= c.at + $4
WHERE c.person = $1 AND c.at >= $2 AND c.at < $3 AND c.place <> 0 AND o.person <> $1 AND o.person <> 0`

// Encounters returns everyone who was at a place the person visited in
// [from, to) (unix ms), within window ms of the visit. Verifications at a
// checkpoint count as presence there, like check-ins at a venue. fn is
// called for each encounter as it is read, so a run need not hold them all.
func (s *Service) Encounters(ctx context.Context, person, from, to, window int64, fn func(Encounter)) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	var e Encounter
	err := db.Each(ctx, s.db, encountersSQL, []any{person, from, to, window}, func(sc db.Scanner) error {
		if err := sc.Scan(&e.Place, &e.CaseAt, &e.Person, &e.PersonAt); err != nil {
			return err
		}
		fn(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("checkin: encounters of %d: %w", person, err)
	}
	return nil
}

// PlacesOf returns the places the person was at in [from, to) (unix ms),
// each once: a tracing run reads them first to size the window of the
// case's encounters by the kinds of places the case actually went to.
func (s *Service) PlacesOf(ctx context.Context, person, from, to int64) ([]int64, error) {
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	out, err := db.Collect(ctx, s.db, `
		SELECT place FROM checkins WHERE person = $1 AND at >= $2 AND at < $3
		UNION
		SELECT place FROM verifications WHERE person = $1 AND at >= $2 AND at < $3 AND place <> 0`, []any{person, from, to},
		func(sc db.Scanner) (int64, error) {
			var p int64
			return p, sc.Scan(&p)
		})
	if err != nil {
		return nil, fmt.Errorf("checkin: places of %d: %w", person, err)
	}
	return out, nil
}

// Presence is one person at one place at one time (unix ms).
type Presence struct {
	Person int64
	At     int64
}

// Visitors calls fn for everyone present at the place in [from, to] (unix ms).
func (s *Service) Visitors(ctx context.Context, place, from, to int64, fn func(Presence)) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	var p Presence
	err := db.Each(ctx, s.db, `
		SELECT person, at FROM checkins WHERE place = $1 AND at >= $2 AND at <= $3
		UNION ALL
		SELECT person, at FROM verifications WHERE place = $1 AND at >= $2 AND at <= $3 AND person <> 0`, []any{place, from, to},
		func(sc db.Scanner) error {
			if err := sc.Scan(&p.Person, &p.At); err != nil {
				return err
			}
			fn(p)
			return nil
		})
	if err != nil {
		return fmt.Errorf("checkin: visitors of %d: %w", place, err)
	}
	return nil
}
