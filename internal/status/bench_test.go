package status

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
)

// benchPersons is the population of the recompute benchmark:
// HEALTHCODE_BENCH_PERSONS, default 100,000 (1,000,000 takes about a minute
// to set up; docs/STATUS.md has the figures).
func benchPersons(b *testing.B) int {
	if v := os.Getenv("HEALTHCODE_BENCH_PERSONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("HEALTHCODE_BENCH_PERSONS=%q", v)
		}
		return n
	}
	return 100_000
}

// populate gives n persons the history of a city under routine testing:
// everyone a mixed-tube negative and a normal declaration yesterday; one in
// 20 bought a watched drug since (yellow); one in 100 is a close contact
// (red); one in 1,000 a confirmed case. Every person has a status row, as
// Record leaves them. Rows go straight into the tables, in big transactions.
func populate(b *testing.B, f *fixture, n int) {
	b.Helper()
	ctx := context.Background()
	people := f.bulk(n, "341881001")
	day0 := t0.Add(-day).UnixMilli()
	err := f.d.InTx(ctx, func(tx db.Tx) error {
		last, err := db.NextVal(ctx, tx, "facts", int64(n*3))
		if err != nil {
			return err
		}
		id := last - int64(n*3)
		var args []any
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, f.d.Engine().Positional(`INSERT INTO facts (person_num, id, kind, at, until_at, attrs, source,
				idem_key, recorded_at, recorded_by) VALUES `+db.Rows(0, len(args)/10, 10)), args...)
			args = args[:0]
			return err
		}
		var packs []any
		var cur []byte
		add := func(num int64, kind string, at int64, attrs string) error {
			id++
			args = append(args, num, id, kind, at, nil, attrs, "bench", nil, at, "system")
			cur = appendPacked(cur, &storedFact{num: num, id: id, kind: kind, at: at, attrs: attrs, source: "bench", recorded: at})
			if len(args) >= 10*2000 {
				return flush()
			}
			return nil
		}
		endPerson := func(num int64) error {
			packs = append(packs, num, id, cur)
			cur = nil
			if len(packs) >= 3*2000 {
				_, err := tx.ExecContext(ctx, f.d.Engine().Positional(`INSERT INTO fact_packs (person_num, last_id, data) VALUES `+db.Rows(0, len(packs)/3, 3)), packs...)
				packs = packs[:0]
				return err
			}
			return nil
		}
		for i, p := range people {
			if err := add(p, fact.NATResult, day0, `{"result":"negative","tube_capacity":10}`); err != nil {
				return err
			}
			if err := add(p, fact.Declaration, day0+3600_000, `{"temperature":36.4}`); err != nil {
				return err
			}
			switch {
			case i%1000 == 999:
				err = add(p, fact.CaseConfirmed, day0+7200_000, `{}`)
			case i%100 == 50:
				err = add(p, fact.ContactClose, day0-day.Milliseconds(), `{}`)
			case i%20 == 7:
				err = add(p, fact.PharmacyPurchase, day0+7200_000, `{"drug_class":"fever"}`)
			}
			if err != nil {
				return err
			}
			if err := endPerson(p); err != nil {
				return err
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if len(packs) > 0 {
			if _, err := tx.ExecContext(ctx, f.d.Engine().Positional(`INSERT INTO fact_packs (person_num, last_id, data) VALUES `+db.Rows(0, len(packs)/3, 3)), packs...); err != nil {
				return err
			}
		}
		for i := 0; i < len(people); i += 2000 {
			part := people[i:min(i+2000, len(people))]
			sargs := make([]any, 0, 2*len(part))
			vals := make([]string, len(part))
			for k, p := range part {
				sargs = append(sargs, p, "341881001")
				vals[k] = fmt.Sprintf("($%d, $%d, 1, '', '', '', '', '', NULL, 0, 0, 0, 0)", 2*k+1, 2*k+2)
			}
			if _, err := tx.ExecContext(ctx, f.d.Engine().Positional(`INSERT INTO status (person_num, region_code, color, rule_id, reason_zh, reason_en,
				advice_zh, advice_en, next_eval_at, version, rules_version, evaluated_at, updated_at) VALUES `+strings.Join(vals, ",")), sargs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecompute measures the recompute after an activation, on each
// engine: each iteration activates the other of two versions (the default
// set, and the default without the watched-drug rule, which turns the 5 %
// who bought drugs green or back to yellow) and runs the job to the end.
// persons/s is the figure; s/1M projects it to a million residents. After
// the runs another node starts on the same store, as a node joins a
// running deployment: cache-B/resident is what its status cache took on
// the heap when it loaded every resident's colour, node-load-s how long
// that start took, and rss-MB the process's resident memory then (both
// nodes and the test's own data).
//
//	HEALTHCODE_BENCH_PERSONS=1000000 go test ./internal/status -run XXX -bench Recompute -benchtime 1x -timeout 0
func BenchmarkRecompute(b *testing.B) {
	n := benchPersons(b)
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) { benchRecompute(b, dbtest.New(b, e), n) })
	}
}

func benchRecompute(b *testing.B, d *db.DB, n int) {
	ctx := context.Background()
	f := newFixture(b, d)
	if v, _ := strconv.Atoi(os.Getenv("HEALTHCODE_BENCH_BATCH")); v > 0 {
		f.svc = f.node(Config{Batch: v}, nil)
	}
	start := time.Now()
	populate(b, f, n)
	populated := time.Since(start)
	if d.Engine() == db.Postgres {
		// As autovacuum would after the load.
		if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	def, err := f.svc.CreateRuleSet(ctx, admin, rules.DefaultJSON())
	if err != nil {
		b.Fatal(err)
	}
	off, err := f.svc.CreateRuleSet(ctx, admin, watchedDrugOff(b))
	if err != nil {
		b.Fatal(err)
	}
	// The first recompute gives everyone their colour under the default set.
	if _, err := f.svc.Activate(ctx, admin, def.Version); err != nil {
		b.Fatal(err)
	}
	if err := f.svc.RunRecompute(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d persons set up in %v (their rows written in %v)", d.Engine(), n, time.Since(start).Round(time.Second), populated.Round(time.Second))
	versions := []int64{off.Version, def.Version}
	b.ResetTimer()
	var changed int64
	for i := 0; i < b.N; i++ {
		if _, err := f.svc.Activate(ctx, admin, versions[i%2]); err != nil {
			b.Fatal(err)
		}
		if err := f.svc.RunRecompute(ctx); err != nil {
			b.Fatal(err)
		}
		j, err := f.svc.LatestJob(ctx)
		if err != nil || j.State != "done" || j.Done != int64(n) {
			b.Fatalf("job %+v, %v", j, err)
		}
		changed += j.Changed
	}
	b.StopTimer()
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(n)/perOp, "persons/s")
	b.ReportMetric(perOp*1e6/float64(n), "s/1M")
	b.ReportMetric(float64(changed)/float64(b.N), "changed/op")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	began := time.Now()
	other := f.node(Config{}, nil)
	took := time.Since(began)
	runtime.GC()
	runtime.ReadMemStats(&after)
	// The new node must hold what the first holds, or it measured nothing.
	var worse int
	for num := int64(1); num <= int64(n); num++ {
		c, v := other.Color(num)
		if c0, v0 := f.svc.Color(num); c != c0 || v != v0 {
			b.Fatalf("person %d: the new node has %v (version %d), the first %v (%d)", num, c, v, c0, v0)
		}
		if c != rules.Green {
			worse++
		}
	}
	if worse == 0 {
		b.Fatal("the new node loaded no colour other than green")
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "cache-B/resident")
	b.ReportMetric(took.Seconds(), "node-load-s")
	b.ReportMetric(float64(rss())/(1<<20), "rss-MB")
	runtime.KeepAlive(other)
}

// rss is the process's resident memory in bytes, from /proc (0 elsewhere).
func rss() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkRecordLabFile records a lab upload: 1,000 mixed tubes of 10
// persons, one transaction, recomputed before Record returns.
func BenchmarkRecordLabFile(b *testing.B) {
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	f := newFixture(b, d)
	const tubes, per = 1000, 10
	people := f.bulk(tubes*per, "341881001")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		facts := make([]NewFact, 0, len(people))
		for k, p := range people {
			facts = append(facts, NewFact{Person: p, Key: fmt.Sprintf("lab/%d/T%d", i, k/per), RecordedBy: "apikey:lab",
				Fact: fact.Fact{Kind: fact.NATResult, At: t0.Add(time.Duration(i) * time.Hour), Source: "lab-upload",
					Attrs: map[string]any{"result": "negative", "tube_capacity": per, "tube": fmt.Sprintf("T%d", k/per)}}})
		}
		if n, err := f.svc.Record(ctx, facts...); err != nil || n != len(facts) {
			b.Fatalf("Record = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*tubes*per)/b.Elapsed().Seconds(), "facts/s")
}

// BenchmarkColour reads colours from a node's cache filled for 1M and 10M
// residents; bytes/resident is the cache's memory divided by residents.
func BenchmarkColor(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("residents=%d", n), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c := newCache()
			for num := int64(1); num <= int64(n); num++ {
				c.set(num, rules.Color(num%3+1), uint64(num))
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			bytes := float64(after.HeapAlloc - before.HeapAlloc)
			// A pseudo-random walk over the population, as scans arrive.
			x := uint64(88172645463325252)
			var sink rules.Color
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				col, _ := c.get(int64(x%uint64(n)) + 1)
				sink ^= col
			}
			b.StopTimer()
			b.ReportMetric(bytes/float64(n), "bytes/resident")
			runtime.KeepAlive(c)
			_ = sink
		})
	}
}
