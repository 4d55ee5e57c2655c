package checkin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// BenchmarkCommit is the writer's cost per row of one group-commit
// transaction of verification events on SQLite, by batch size: what a
// scan at a checkpoint costs the store. Each iteration commits one batch
// through the writer (prepared statements) and one through unprepared
// statements, alternately, and reports both per row. Scans come from 1,000
// checkpoints and 1M persons, so the index inserts land where they would.
func BenchmarkCommit(b *testing.B) {
	for _, size := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("rows=%d", size), func(b *testing.B) {
			d := dbtest.New(b, db.SQLite)
			w := newWriter(d, 0, 2000, 0) // no loops: commits are called directly
			defer w.close()
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, 2))
			at := time.Now().UnixMilli()
			batch := func() []*pending {
				out := make([]*pending, size)
				for i := range out {
					at++
					out[i] = &pending{verif: &verRow{at: at, place: 1 + rng.Int64N(1000), person: 1 + rng.Int64N(1_000_000),
						keyID: "k" + fmt.Sprint(rng.IntN(1000)), valid: true, color: 1, kind: "dynamic"}}
				}
				return out
			}
			var tPrep, tRaw time.Duration
			i := 0
			for b.Loop() {
				prep, raw := batch(), batch()
				t0 := time.Now()
				if err := w.write(ctx, prep); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := d.InTx(ctx, func(tx db.Tx) error { return insert(ctx, d.Engine(), tx, raw) }); err != nil {
					b.Fatal(err)
				}
				tPrep += t1.Sub(t0)
				tRaw += time.Since(t1)
				i++
			}
			rows := float64(i * size)
			b.ReportMetric(float64(tPrep.Nanoseconds())/rows, "ns/row")
			b.ReportMetric(float64(tRaw.Nanoseconds())/rows, "unprepared-ns/row")
		})
	}
}
