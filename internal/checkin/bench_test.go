package checkin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// BenchmarkGroupCommit compares durable check-ins through the group commit
// with the engine's raw rate of single-row inserts, each its own
// transaction, under the same load: benchClients clients each sending
// benchEach requests per round. The two alternate within every iteration
// (and which goes first alternates too), so load from neighbours on a
// shared machine hits both alike. It reports both rates and their ratio.
func BenchmarkGroupCommit(b *testing.B) {
	const benchClients, benchEach = 64, 4
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.New(b, e)
			s := newService(b, d, Config{})
			ctx := context.Background()
			var seq atomic.Int64
			group := func() {
				var wg sync.WaitGroup
				for c := range benchClients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range benchEach {
							if _, err := s.CheckIn(ctx, fmt.Sprintf("a%d", c+1+benchClients*int(seq.Add(1)%1000)), Input{VenueToken: "tok1"}); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			}
			raw := func() {
				var wg sync.WaitGroup
				for range benchClients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range benchEach {
							n := seq.Add(1)
							if _, err := d.ExecContext(ctx, `INSERT INTO checkins (place, at, person) VALUES ($1, $2, $3)`,
								2, time.Now().UnixMilli(), n); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			}
			var tGroup, tRaw time.Duration
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if i&1 == 0 {
					group()
					t1 := time.Now()
					raw()
					tGroup += t1.Sub(t0)
					tRaw += time.Since(t1)
				} else {
					raw()
					t1 := time.Now()
					group()
					tRaw += t1.Sub(t0)
					tGroup += time.Since(t1)
				}
				i++
			}
			per := float64(benchClients * benchEach * i)
			txs, reqs := s.Batches()
			b.ReportMetric(per/tGroup.Seconds(), "group-rows/s")
			b.ReportMetric(per/tRaw.Seconds(), "single-rows/s")
			b.ReportMetric(tRaw.Seconds()/tGroup.Seconds(), "x-single-rate")
			b.ReportMetric(float64(reqs)/float64(max(txs, 1)), "rows/tx")
		})
	}
}
