package checkin

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
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

// BenchmarkCommitPostgres is the group commit's cost per row on PostgreSQL
// by batch size: each iteration commits one batch as multi-row INSERTs of
// the chunk sizes (planRows, how it was done before) and one as an INSERT of
// unnested arrays (planArrays, how it is done), alternately, both the way
// the writer sends them (db.ExecUnflushed: one round trip, no wait for the
// flush). The time is the round trip, so it holds PostgreSQL's work on the
// batch as well as the client's. Rows come from 1,000 places and 1M
// persons, into today's daily partition, as in a city.
func BenchmarkCommitPostgres(b *testing.B) {
	for _, bc := range []struct {
		kind string
		size int
	}{{"verification", 1}, {"verification", 3}, {"verification", 7}, {"verification", 32}, {"checkin", 3}, {"checkin", 32}} {
		kind, size := bc.kind, bc.size
		b.Run(fmt.Sprintf("%s/rows=%d", kind, size), func(b *testing.B) {
			d := dbtest.New(b, db.Postgres)
			s := newService(b, d, Config{})
			ctx := context.Background()
			if err := s.Prepare(ctx); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			at := time.Now().UnixMilli()
			batch := func() ([]row, []verRow) {
				var rows []row
				var vers []verRow
				for range size {
					at++
					if kind == "checkin" {
						rows = append(rows, row{place: 1 + rng.Int64N(1000), at: at, person: 1 + rng.Int64N(1_000_000)})
						continue
					}
					vers = append(vers, verRow{at: at, place: 1 + rng.Int64N(1000), person: 1 + rng.Int64N(1_000_000),
						keyID: "k" + fmt.Sprint(rng.IntN(1000)), valid: true, color: 1, kind: "dynamic"})
				}
				return rows, vers
			}
			// One connection, so that its backend is the one whose CPU
			// time is read.
			d.Writer().SetMaxOpenConns(1)
			var backend int
			if err := d.Writer().QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
				b.Fatal(err)
			}
			send := func(stmts []statement) (time.Duration, time.Duration) {
				q := make([]db.Stmt, len(stmts))
				for i, st := range stmts {
					q[i] = db.Stmt{Query: st.query, Args: st.args}
				}
				cpu0 := cpuOf(b, backend)
				t0 := time.Now()
				if err := d.ExecUnflushed(ctx, q); err != nil {
					b.Fatal(err)
				}
				wall := time.Since(t0)
				return wall, cpuOf(b, backend) - cpu0
			}
			var tArrays, tRows, cArrays, cRows time.Duration
			i := 0
			for b.Loop() {
				r1, v1 := batch()
				r2, v2 := batch()
				if i%2 == 0 {
					w, c := send(planArrays(r1, v1))
					tArrays, cArrays = tArrays+w, cArrays+c
					w, c = send(planRows(db.Postgres, r2, v2))
					tRows, cRows = tRows+w, cRows+c
				} else {
					w, c := send(planRows(db.Postgres, r2, v2))
					tRows, cRows = tRows+w, cRows+c
					w, c = send(planArrays(r1, v1))
					tArrays, cArrays = tArrays+w, cArrays+c
				}
				i++
			}
			rows := float64(i * size)
			b.ReportMetric(float64(tArrays.Nanoseconds())/rows, "ns/row")
			b.ReportMetric(float64(tRows.Nanoseconds())/rows, "multirow-ns/row")
			b.ReportMetric(float64(cArrays.Nanoseconds())/rows, "pg-cpu-ns/row")
			b.ReportMetric(float64(cRows.Nanoseconds())/rows, "multirow-pg-cpu-ns/row")
		})
	}
}

// cpuOf is the CPU time process pid has run so far, from the scheduler's
// nanosecond account.
func cpuOf(b *testing.B, pid int) time.Duration {
	sched, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	ns, err := strconv.ParseInt(strings.Fields(string(sched))[0], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns)
}
