package nat_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
)

// recountTested is nat_tested as the samples and the tubes' current results
// say it must be (the statement migration 3800 filled it with).
const recountTested = `SELECT s.person_num, p.region_code,
		MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END), MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END)
	FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode JOIN persons p ON p.num = s.person_num
	GROUP BY s.person_num, p.region_code
	HAVING MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END) IS NOT NULL
		OR MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END) IS NOT NULL
	ORDER BY s.person_num`

func testedRows(t *testing.T, f *fixture, query string) []string {
	t.Helper()
	rows, err := db.Collect(f.ctx, f.d, query, nil, func(sc db.Scanner) (string, error) {
		var num int64
		var region string
		var neg, pend *int64
		err := sc.Scan(&num, &region, &neg, &pend)
		show := func(v *int64) string {
			if v == nil {
				return "-"
			}
			return time.UnixMilli(*v).UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("%d %s negative %s pending %s", num, region, show(neg), show(pend)), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// recountSwabs is nat_swabs as the samples and the tubes' current results
// say it must be, by the days of Asia/Shanghai (UTC+8), rows of no swabs
// left out.
const recountSwabs = `SELECT t.region_code, ((s.sampled_at + 28800000) / 86400000) * 86400000 - 28800000 AS day, COALESCE(t.result, '') AS result, COUNT(*)
	FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
	GROUP BY t.region_code, ((s.sampled_at + 28800000) / 86400000) * 86400000 - 28800000, COALESCE(t.result, '')
	ORDER BY t.region_code, day, result`

func swabRows(t *testing.T, f *fixture, query string) []string {
	t.Helper()
	rows, err := db.Collect(f.ctx, f.d, query, nil, func(sc db.Scanner) (string, error) {
		var region, result string
		var day, n int64
		err := sc.Scan(&region, &day, &result, &n)
		return fmt.Sprintf("%s %s %q %d", region, time.UnixMilli(day).UTC().Format(time.RFC3339), result, n), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// recountNegativeHours is nat_negative_hours as nat_tested says it must be
// (as migration 4756 filled it): a row per city and hour, none of no
// negatives.
const recountNegativeHours = `SELECT substr(region_code, 1, 4), last_negative / 3600000 * 3600000, COUNT(*) FROM nat_tested
	WHERE last_negative IS NOT NULL
	GROUP BY substr(region_code, 1, 4), last_negative / 3600000 * 3600000
	ORDER BY 1, 2`

func hourRows(t *testing.T, f *fixture, query string) []string {
	t.Helper()
	rows, err := db.Collect(f.ctx, f.d, query, nil, func(sc db.Scanner) (string, error) {
		var region string
		var hour, n int64
		err := sc.Scan(&region, &hour, &n)
		return fmt.Sprintf("%s %s %d", region, time.UnixMilli(hour).UTC().Format(time.RFC3339), n), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// wantKeptIsRecount fails unless the kept times, negatives per hour and
// swab counts are the recount's.
func wantKeptIsRecount(t *testing.T, f *fixture, step string) {
	t.Helper()
	kept := testedRows(t, f, `SELECT person_num, region_code, last_negative, last_pending FROM nat_tested ORDER BY person_num`)
	want := testedRows(t, f, recountTested)
	if fmt.Sprint(kept) != fmt.Sprint(want) {
		t.Fatalf("%s: kept\n%v\nrecount\n%v", step, kept, want)
	}
	keptHours := hourRows(t, f, `SELECT city_code, hour, n FROM nat_negative_hours ORDER BY city_code, hour`)
	wantHours := hourRows(t, f, recountNegativeHours)
	if fmt.Sprint(keptHours) != fmt.Sprint(wantHours) {
		t.Fatalf("%s: negatives per hour kept\n%v\nrecount\n%v", step, keptHours, wantHours)
	}
	keptSwabs := swabRows(t, f, `SELECT region_code, day, result, swabs FROM nat_swabs WHERE swabs <> 0 ORDER BY region_code, day, result`)
	wantSwabs := swabRows(t, f, recountSwabs)
	if fmt.Sprint(keptSwabs) != fmt.Sprint(wantSwabs) {
		t.Fatalf("%s: swabs kept\n%v\nrecount\n%v", step, keptSwabs, wantSwabs)
	}
}

// TestKeptTestTimesMatchARecount walks each change of samples and results
// (a swab, a result of each kind, a second swab, a correction, an upload,
// imported history, the retention purge) and compares the sampling times
// testing keeps per resident, and the swabs it counts per region, day and
// result, with a recount from the samples, and the negatives it counts per
// city and hour with a recount from the kept times.
func TestKeptTestTimesMatchARecount(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(6, "341881001")
		far := f.resident("341881002")
		wantKeptIsRecount(t, f, "empty")

		f.now = t0.Add(-100 * time.Hour)
		old := f.tube(10, ps[0], ps[1])
		wantKeptIsRecount(t, f, "swabbed, awaiting the result")
		f.result(old, "negative")
		wantKeptIsRecount(t, f, "negative")

		f.now = t0.Add(-30 * time.Hour)
		mixed := f.tube(10, ps[0], ps[2], far)
		single := f.tube(1, ps[3])
		invalid := f.tube(10, ps[4])
		wantKeptIsRecount(t, f, "swabbed again")
		f.result(single, "positive")
		f.result(invalid, "invalid")
		wantKeptIsRecount(t, f, "positive and invalid")
		f.result(mixed, "negative")
		wantKeptIsRecount(t, f, "a later negative")

		f.now = t0.Add(-20 * time.Hour)
		must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, mixed, "positive", "复核为阳性"))
		wantKeptIsRecount(t, f, "corrected to positive")
		f.advance(time.Minute)
		must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, mixed, "negative", "复核为阴性"))
		wantKeptIsRecount(t, f, "corrected back")

		f.now = t0.Add(-10 * time.Hour)
		a, b := f.tube(10, ps[1], ps[5]), f.tube(10, ps[2])
		f.tube(10, ps[5]) // never reported
		res := must[*nat.UploadReport](t)(f.svc.Upload(f.ctx, f.lab, []byte("barcode,result\n"+a+",negative\n"+b+",invalid\n"), ""))
		if res.Accepted != 2 {
			t.Fatalf("upload: %+v", res)
		}
		wantKeptIsRecount(t, f, "an upload")

		if err := f.svc.ImportHistory(f.ctx, f.admin, []nat.HistoryTube{
			{Barcode: f.barcode(), SiteID: f.site.ID, Capacity: 10, Persons: []int64{ps[3].Num, ps[4].Num},
				SampledAt: t0.Add(-50 * time.Hour), Negative: true, ReportedAt: t0.Add(-45 * time.Hour), Lab: "宁国市人民医院检验科"},
			{Barcode: f.barcode(), SiteID: f.site.ID, Capacity: 10, Persons: []int64{far.Num}, SampledAt: t0.Add(-5 * time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		wantKeptIsRecount(t, f, "imported history")

		// Negatives either side of the second purge's cutoff, in the hour
		// it cuts: the hour is counted again from what the purge leaves.
		cut := f.residents(2, "341881001")
		f.now = t0.Add(-15*time.Hour - 10*time.Minute)
		f.result(f.tube(10, cut[0]), "negative")
		f.now = t0.Add(-15*time.Hour + 10*time.Minute)
		f.result(f.tube(10, cut[1]), "negative")
		wantKeptIsRecount(t, f, "negatives in the hour a purge cuts")

		// The purge keeps what is younger than the cutoff; a resident
		// left with no sample has no row.
		f.now = t0
		if _, err := f.svc.Purge(f.ctx, t0.Add(-60*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantKeptIsRecount(t, f, "purged before 60 h")
		// 15 h before t0 is 17:30 in Shanghai: the samples of 02:30 go,
		// those of 22:30 the same day stay.
		if _, err := f.svc.Purge(f.ctx, t0.Add(-15*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantKeptIsRecount(t, f, "purged before 15 h")
		if _, err := f.svc.Purge(f.ctx, t0.Add(-8*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantKeptIsRecount(t, f, "purged before 8 h")
	})
}

// TestKeptTestTimesUnderConcurrentResults reports the two tubes of each of
// several residents at once, and swabs them again meanwhile: whichever
// transaction commits last, the kept times are the recount's.
func TestKeptTestTimesUnderConcurrentResults(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(8, "341881001")
		var first, second []string
		for _, p := range ps {
			first = append(first, f.tube(10, p))
			f.advance(time.Minute)
			second = append(second, f.tube(10, p))
		}
		f.advance(time.Minute)
		open := f.barcode()
		if _, err := f.svc.OpenTube(f.ctx, f.sampler, open, 20, f.site.ID); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3*len(ps))
		for i, p := range ps {
			for _, b := range []string{first[i], second[i]} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := f.svc.PostResult(f.ctx, f.lab, b, "negative", "宁国市人民医院检验科")
					errs <- err
				}()
			}
			wg.Add(1)
			go func(p *person.Person, code string) {
				defer wg.Done()
				_, err := f.svc.AddSample(f.ctx, f.sampler, open, nat.SampleInput{Code: code})
				errs <- err
			}(p, f.scan(p))
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantKeptIsRecount(t, f, "concurrent results and swabs")
	})
}

// TestHistoryBesideResults imports the history of residents while results
// of their tubes of the same day arrive: both count the same swabs and keep
// the same residents' times, and each must take those rows' locks in the
// order the other does, or PostgreSQL ends one of them as a deadlock.
func TestHistoryBesideResults(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(6, "341881001")
		nums := make([]int64, len(ps))
		for i, p := range ps {
			nums[i] = p.Num
		}
		for round := range 8 {
			tubes := make([]string, len(ps))
			for i, p := range ps {
				tubes[i] = f.tube(10, p)
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(ps)+2)
			for _, b := range tubes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := f.svc.PostResult(f.ctx, f.lab, b, "negative", "宁国市人民医院检验科")
					errs <- err
				}()
			}
			for range 2 {
				h := nat.HistoryTube{Barcode: f.barcode(), SiteID: f.site.ID, Capacity: 10, Persons: nums,
					SampledAt: f.now.Add(-time.Hour), Negative: true, ReportedAt: f.now.Add(-30 * time.Minute), Lab: "宁国市人民医院检验科"}
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- f.svc.ImportHistory(f.ctx, f.admin, []nat.HistoryTube{h})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			wantKeptIsRecount(t, f, fmt.Sprintf("round %d", round))
			f.advance(time.Minute)
		}
	})
}

// TestPurgeBesideResults purges old negatives while results of the same
// residents' new tubes arrive, both over the same rows of nat_tested. The
// old negatives run the other way from the residents' numbers, so a purge
// that took the rows in the order of the times, as its statements find them,
// would hold the high numbers while a report held the low ones, each waiting
// for the other. On PostgreSQL the test makes that meeting certain: it holds
// the middle resident's row until both wait for it.
func TestPurgeBesideResults(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(40, "341881001")
		for i := len(ps) - 1; i >= 0; i-- {
			f.result(f.tube(10, ps[i]), "negative")
			f.advance(time.Minute)
		}
		f.advance(10 * time.Hour)
		cutoff := f.now.Add(-time.Hour)
		body := "barcode,result\n"
		for i := 0; i < len(ps); i += 20 {
			body += f.tube(20, ps[i:i+20]...) + ",negative\n"
		}

		errs := dbtest.Contend(t, d, `SELECT person_num FROM nat_tested WHERE person_num = $1 FOR UPDATE`, []any{ps[len(ps)/2].Num},
			func() error {
				_, err := f.svc.Purge(f.ctx, cutoff)
				return err
			},
			func() error {
				_, err := f.svc.Upload(f.ctx, f.lab, []byte(body), "")
				return err
			})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantKeptIsRecount(t, f, "a purge beside results")
	})
}
