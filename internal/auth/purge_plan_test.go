package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// The purges of one-time codes and sessions read only what they delete,
// through an index, after a registration surge has filled both tables with
// today's rows: never a scan of the whole table, which on SQLite would hold
// the one writer meanwhile. PostgreSQL plans them with the values, as it
// does every run (a generic plan could not bound a scan by today's date).
func TestPurgesReadThroughTheirIndexes(t *testing.T) {
	const today, yesterday, now = 20261206, 20261205, int64(1_796_500_000_000)
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fill := map[db.Engine][]string{
			db.SQLite: {
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
				INSERT INTO otps (phone_hash, code_hash, expires_at, attempts, sent_at, day, day_count)
				SELECT randomblob(16), x'00', $1 + i, 0, $1 - i, CASE WHEN i <= 20 THEN $2 ELSE $3 END, 1 FROM n`,
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
				INSERT INTO sessions (token_hash, kind, subject, created_at, expires_at)
				SELECT randomblob(32), 'resident', 'a' || i, $1 - i, $1 + 86400000 FROM n`,
			},
			db.Postgres: {
				`INSERT INTO otps (phone_hash, code_hash, expires_at, attempts, sent_at, day, day_count)
				SELECT decode(md5(i::text), 'hex'), '\x00', $1::bigint + i, 0, $1::bigint - i, CASE WHEN i <= 20 THEN $2::bigint ELSE $3::bigint END, 1
				FROM generate_series(1, 20000) AS i`,
				`INSERT INTO sessions (token_hash, kind, subject, created_at, expires_at)
				SELECT sha256(i::text::bytea), 'resident', 'a' || i, $1::bigint - i, $1::bigint + 86400000 FROM generate_series(1, 20000) AS i`,
			},
		}
		for i, q := range fill[d.Engine()] {
			args := []any{now, yesterday, today}
			if i == 1 {
				args = args[:1]
			}
			if _, err := d.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			query, index, table string
			args                []any
		}{
			{purgeOTPs, "otps_day", "otps", []any{now, int64(today)}},
			{retainOTPs, "otps_day", "otps", []any{now - 30*86_400_000, int64(today)}},
			{retainSessions, "sessions_created", "sessions", []any{now - 30*86_400_000}},
		} {
			p := dbtest.Plan(t, d, c.query, c.args...)
			if !strings.Contains(p, c.index) || strings.Contains(p, "Seq Scan") || strings.Contains(p, "SCAN "+c.table) {
				t.Errorf("%s is not read through %s:\n%s", c.query, c.index, p)
			}
		}
	})
}
