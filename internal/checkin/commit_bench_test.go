package checkin

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// BenchmarkCommit is the writer's cost per row of one group-commit
// transaction on SQLite, by batch size, for verification events (what a
// scan at a checkpoint costs the store) and for check-ins. Each iteration
// commits one batch through the writer (prepared statements) and one
// through unprepared statements, alternately, and reports both per row.
// Rows come from 1,000 places and 1M persons, so the index inserts land
// where they would in a city.
func BenchmarkCommit(b *testing.B) {
	for _, bc := range []struct {
		kind string
		size int
	}{{"verification", 1}, {"verification", 8}, {"verification", 64}, {"checkin", 1}, {"checkin", 8}, {"checkin", 64}} {
		kind, size := bc.kind, bc.size
		b.Run(fmt.Sprintf("%s/rows=%d", kind, size), func(b *testing.B) {
			d := dbtest.New(b, db.SQLite)
			w := newWriter(d, 0, 2000, 0, false, newMetrics(nil)) // no loops: commits are called directly
			defer w.close()
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, 2))
			at := time.Now().UnixMilli()
			batch := func() []*pending {
				out := make([]*pending, size)
				for i := range out {
					at++
					if kind == "checkin" {
						out[i] = &pending{checkins: []row{{place: 1 + rng.Int64N(1000), at: at, person: 1 + rng.Int64N(1_000_000)}}}
						continue
					}
					out[i] = &pending{verif: &verRow{at: at, place: 1 + rng.Int64N(1000), person: 1 + rng.Int64N(1_000_000),
						keyID: "k" + fmt.Sprint(rng.IntN(1000)), valid: true, color: 1, kind: "dynamic"}}
				}
				return out
			}
			var tPrep, tRaw time.Duration
			i := 0
			for b.Loop() {
				prep, raw := batch(), batch()
				timed := func(f func() error) time.Duration {
					t0 := time.Now()
					if err := f(); err != nil {
						b.Fatal(err)
					}
					return time.Since(t0)
				}
				prepared := func() error { return w.write(ctx, prep) }
				unprepared := func() error {
					return d.InTx(ctx, func(tx db.Tx) error { return insert(ctx, d.Engine(), tx, raw) })
				}
				// Which goes first alternates, so neither always follows
				// the other's work.
				if i%2 == 0 {
					tPrep += timed(prepared)
					tRaw += timed(unprepared)
				} else {
					tRaw += timed(unprepared)
					tPrep += timed(prepared)
				}
				i++
			}
			rows := float64(i * size)
			b.ReportMetric(float64(tPrep.Nanoseconds())/rows, "ns/row")
			b.ReportMetric(float64(tRaw.Nanoseconds())/rows, "unprepared-ns/row")
		})
	}
}

// BenchmarkJournal is BenchmarkCommit's verification events in batches of 8
// through the journal (SQLite): each batch appended as the group commit
// does, the indexer moving them into the tables on its own schedule, and
// the time taken until the last is in the tables, per row. Rows come from
// 1,000 places and 1M persons, so a 200 ms window shares few index pages,
// as in a city.
func BenchmarkJournal(b *testing.B) {
	d := dbtest.New(b, db.SQLite)
	w := newWriter(d, 0, 2000, 0, false, newMetrics(nil))
	defer w.close()
	ctx := context.Background()
	j, err := openJournal(ctx, d, b.TempDir(), w, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	w.journal.Store(j)
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Now().UnixMilli()
	const size = 8
	rows := 0
	began := time.Now()
	for b.Loop() {
		batch := make([]*pending, size)
		for i := range batch {
			at++
			batch[i] = &pending{verif: &verRow{at: at, place: 1 + rng.Int64N(1000), person: 1 + rng.Int64N(1_000_000),
				keyID: "k" + fmt.Sprint(rng.IntN(1000)), valid: true, color: 1, kind: "dynamic"}}
		}
		if err := j.append(batch); err != nil {
			b.Fatal(err)
		}
		rows += size
	}
	if err := j.flush(ctx, false); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(began).Nanoseconds())/float64(rows), "ns/row")
}
