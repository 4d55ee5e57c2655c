package checkin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
)

// ImportRow is one historical check-in: place number, unix ms, person number.
type ImportRow struct {
	Place, At, Person int64
}

// PlaceOf returns the number of a venue's or checkpoint's place (kind is
// PlaceVenue or PlaceCheckpoint), numbering it on first use.
func (s *Service) PlaceOf(ctx context.Context, kind, ref string) (int64, error) {
	return s.placeNum(ctx, kind, ref, true)
}

// importTx is the rows one import transaction writes.
const importTx = 50000

// Import writes check-ins that already happened (a migration from another
// system, a synthetic city for a load test) in large transactions with a
// prepared multi-row statement, outside the group commit. Rows are sorted
// by place and time first, which is the order of the table's clustered key.
// On PostgreSQL the days they fall on must exist (EnsureDays) or they land
// in the default partition.
func (s *Service) Import(ctx context.Context, rows []ImportRow) error {
	slices.SortFunc(rows, func(a, b ImportRow) int {
		if a.Place != b.Place {
			return cmp.Compare(a.Place, b.Place)
		}
		if a.At != b.At {
			return cmp.Compare(a.At, b.At)
		}
		return cmp.Compare(a.Person, b.Person)
	})
	const per = 256
	for len(rows) > 0 {
		part := rows[:min(importTx, len(rows))]
		rows = rows[len(part):]
		err := s.db.InTx(ctx, func(tx db.Tx) error {
			stmt, err := tx.PrepareContext(ctx, checkinSQL(s.db.Engine(), per))
			if err != nil {
				return err
			}
			defer stmt.Close()
			args := make([]any, 0, 3*per)
			for len(part) >= per {
				args = args[:0]
				for _, r := range part[:per] {
					args = append(args, r.Place, r.At, r.Person)
				}
				if _, err := stmt.ExecContext(ctx, args...); err != nil {
					return err
				}
				part = part[per:]
			}
			for _, r := range part {
				if _, err := tx.ExecContext(ctx, checkinSQL(s.db.Engine(), 1), r.Place, r.At, r.Person); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("checkin: import: %w", err)
		}
	}
	return nil
}

// sqliteSecondary are the SQLite check-in indexes besides the primary key,
// exactly as migration 0300 creates them.
var sqliteSecondary = []struct{ name, def string }{
	{"checkins_person", `CREATE INDEX IF NOT EXISTS checkins_person ON checkins (person, at)`},
	{"checkins_at", `CREATE INDEX IF NOT EXISTS checkins_at ON checkins (at)`},
}

// BulkImport is Import for loads of millions of rows into a store that is
// not serving: fill calls add as often as it likes. On SQLite the secondary
// indexes are dropped for the load and built again at the end, which
// sorting does about three times faster than inserting row by row into
// three trees. They are rebuilt even if the load fails.
func (s *Service) BulkImport(ctx context.Context, fill func(add func([]ImportRow) error) error) (err error) {
	add := func(rows []ImportRow) error { return s.Import(ctx, rows) }
	if s.db.Engine() != db.SQLite {
		return fill(add)
	}
	for _, ix := range sqliteSecondary {
		if _, err := s.db.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return fmt.Errorf("checkin: bulk import: %w", err)
		}
	}
	defer func() {
		for _, ix := range sqliteSecondary {
			if _, ierr := s.db.ExecContext(context.WithoutCancel(ctx), ix.def); ierr != nil {
				err = errors.Join(err, fmt.Errorf("checkin: rebuild %s: %w", ix.name, ierr))
			}
		}
	}()
	return fill(add)
}

// ImportVerifications writes verification events that already happened
// (the demo's simulated history) in one transaction of multi-row inserts,
// outside the group commit. On PostgreSQL the days they fall on must exist
// (EnsureDays).
func (s *Service) ImportVerifications(ctx context.Context, vs []Verification) error {
	places := map[string]int64{}
	args := make([]any, 0, 8*len(vs))
	for _, v := range vs {
		var place int64
		if v.Checkpoint != "" {
			var ok bool
			if place, ok = places[v.Checkpoint]; !ok {
				var err error
				if place, err = s.placeNum(ctx, PlaceCheckpoint, v.Checkpoint, true); err != nil {
					return err
				}
				places[v.Checkpoint] = place
			}
		}
		color := int64(0)
		if v.Valid {
			color = int64(v.Color)
		}
		args = append(args, v.At.UnixMilli(), place, v.Person, v.KeyID, v.Valid, v.Reason, color, v.Kind)
	}
	ins := verificationsPostgres
	if s.db.Engine() == db.SQLite {
		ins = verificationsSQLite
	}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := ins.Exec(ctx, tx, s.db.Engine(), args); err != nil {
			return err
		}
		return s.addImported(ctx, tx, args)
	})
	if err != nil {
		return fmt.Errorf("checkin: import verifications: %w", err)
	}
	return nil
}
