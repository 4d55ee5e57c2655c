package nat_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
)

// A mass-testing day in a city of 400k means tens of thousands of samples
// an hour: ~10 a second over the day, bursts of several times that. These
// benchmarks measure the platform's side: binding scanned people to tubes,
// and taking in a lab's file of 10,000 tubes (100,000 people).
//
//	go test ./internal/nat -run XXX -bench . -benchtime 3x
//
// docs/PERFORMANCE.md has the figures.

// mapResolver resolves codes from a table: resolving a scanned code is the
// codes service's cost (the region-MAC path, ~2 µs), not this feature's.
type mapResolver map[string]int64

func (m mapResolver) Resolve(ctx context.Context, s string) (int64, codeformat.Kind, error) {
	if n, ok := m[s]; ok {
		return n, codeformat.KindDynamic, nil
	}
	return 0, 0, apierr.BadRequest("code_invalid", "unknown code")
}

func benchFixture(b *testing.B, e db.Engine, persons int) (*fixture, []*person.Person, mapResolver) {
	b.Helper()
	f := newFixture(b, dbtest.New(b, e))
	ps := make([]*person.Person, persons)
	for i := range ps {
		ps[i] = f.resident("341881001")
	}
	res := mapResolver{}
	for _, p := range ps {
		res["code-"+p.ID] = p.Num
	}
	f.svc.Wire(nat.Deps{Codes: res})
	return f, ps, res
}

// BenchmarkAddSample binds people to 10-in-1 tubes one after another, as
// one sampling desk does: open a tube, ten scans, seal. ns/op is per sample.
func BenchmarkAddSample(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			f, ps, _ := benchFixture(b, e, 50)
			var tube string
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%10 == 0 {
					if tube != "" {
						if _, err := f.svc.Seal(f.ctx, f.sampler, tube); err != nil {
							b.Fatal(err)
						}
					}
					tube = fmt.Sprintf("B%s%08d", strings.ToUpper(string(e[:1])), i/10)
					if _, err := f.svc.OpenTube(f.ctx, f.sampler, tube, 10, f.site.ID); err != nil {
						b.Fatal(err)
					}
				}
				p := ps[(i/10*7+i%10)%len(ps)]
				if _, err := f.svc.AddSample(f.ctx, f.sampler, tube, nat.SampleInput{Code: "code-" + p.ID}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()*3600, "samples/h")
		})
	}
}

// BenchmarkAddSampleParallel is many sampling desks at once, each filling
// its own tubes.
func BenchmarkAddSampleParallel(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			f, ps, _ := benchFixture(b, e, 50)
			var desks atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				desk := desks.Add(1)
				i := 0
				var tube string
				for pb.Next() {
					if i%10 == 0 {
						tube = fmt.Sprintf("P%s%03d%07d", strings.ToUpper(string(e[:1])), desk, i/10)
						if _, err := f.svc.OpenTube(f.ctx, f.sampler, tube, 10, f.site.ID); err != nil {
							b.Error(err)
							return
						}
					}
					p := ps[(int(desk)*13+i)%len(ps)]
					if _, err := f.svc.AddSample(f.ctx, f.sampler, tube, nat.SampleInput{Code: "code-" + p.ID}); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()*3600, "samples/h")
		})
	}
}

// seedTubes stores n sealed 10-in-1 tubes straight into the tables (the
// sampling path is measured above) and returns their barcodes.
func seedTubes(b *testing.B, f *fixture, prefix string, n int, ps []*person.Person) []string {
	b.Helper()
	barcodes := make([]string, n)
	now := f.now.UnixMilli()
	err := f.d.InTx(f.ctx, func(tx db.Tx) error {
		var tubes, samples [][]any
		for i := range barcodes {
			barcodes[i] = fmt.Sprintf("%s%08d", prefix, i)
			tubes = append(tubes, []any{barcodes[i], 10, f.site.ID, f.site.Region, 10, now, "bench", now, "bench", 0})
			for j := 0; j < 10; j++ {
				p := ps[(i*10+j)%len(ps)]
				samples = append(samples, []any{fmt.Sprintf("%s-%d", barcodes[i], j), barcodes[i], p.Num, j + 1, now, "dynamic", "bench"})
			}
		}
		if err := benchInsert(f.ctx, tx, `INSERT INTO nat_tubes (barcode, capacity, site_id, region_code, samples, opened_at, opened_by, sealed_at, sealed_by, result_version) VALUES `, tubes, f.d.Engine()); err != nil {
			return err
		}
		return benchInsert(f.ctx, tx, `INSERT INTO nat_samples (id, barcode, person_num, position, sampled_at, method, bound_by) VALUES `, samples, f.d.Engine())
	})
	if err != nil {
		b.Fatal(err)
	}
	return barcodes
}

func benchInsert(ctx context.Context, tx db.Tx, prefix string, rows [][]any, engine db.Engine) error {
	var args []any
	for _, r := range rows {
		args = append(args, r...)
	}
	_, err := db.Insert{Head: prefix, Cols: len(rows[0])}.Exec(ctx, tx, engine, args)
	return err
}

// BenchmarkUpload10k takes in a lab's file of 10,000 tubes of 10 people:
// 98% negative, 1% positive (a retest task each for 10 people), 1%
// invalid (a resample task each), i.e. 100,000 facts in 10 Record calls.
// ns/op is per file. The recorder is the in-memory stand-in of the status
// engine (it validates every fact), so the figure is this feature's cost
// plus validation, not the status engine's storage.
func BenchmarkUpload10k(b *testing.B) {
	const tubes = 10000
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			f, ps, _ := benchFixture(b, e, 500)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				barcodes := seedTubes(b, f, fmt.Sprintf("U%s%02d", strings.ToUpper(string(e[:1])), i), tubes, ps)
				var body strings.Builder
				body.WriteString("barcode,result\n")
				for j, bc := range barcodes {
					word := "negative"
					switch j % 100 {
					case 17:
						word = "positive"
					case 53:
						word = "invalid"
					}
					body.WriteString(bc + "," + word + "\n")
				}
				calls := f.rec.Calls
				b.StartTimer()
				rep, err := f.svc.Upload(f.ctx, f.lab, []byte(body.String()), "bench lab")
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if rep.Accepted != tubes || rep.Facts != 10*tubes || f.rec.Calls-calls != tubes/1000 {
					b.Fatalf("upload: %d accepted, %d facts, %d Record calls", rep.Accepted, rep.Facts, f.rec.Calls-calls)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*tubes)/b.Elapsed().Seconds(), "tubes/s")
			b.ReportMetric(float64(b.N*tubes*10)/b.Elapsed().Seconds(), "facts/s")
		})
	}
}
