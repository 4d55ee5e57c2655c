package nat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Ten residents in a 10-in-1 tube go red on a positive result; each turns
// green again only after their own negative single-tube retest. The
// colours come from the real default rules over the facts recorded.
func TestMixedTubePositive(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(10, "341881001")
		for _, p := range ps {
			if f.color(p) != rules.Green {
				t.Fatal("not green before the test")
			}
		}
		b := f.tube(10, ps...)
		f.advance(6 * time.Hour)
		calls := f.rec.Calls
		rep := f.result(b, "positive")
		if rep.Status != "accepted" || rep.Persons != 10 || rep.Facts != 10 || rep.Tube.Result != "positive" {
			t.Fatalf("report: %+v", rep)
		}
		if f.rec.Calls != calls+1 {
			t.Fatalf("%d Record calls for one tube, want 1", f.rec.Calls-calls)
		}
		for _, p := range ps {
			fs := f.rec.Facts(p.Num)
			if len(fs) != 1 || fs[0].Kind != fact.NATResult || fs[0].Attrs["result"] != "mixed_positive" ||
				fs[0].Attrs["tube"] != b || fs[0].Attrs["tube_capacity"] != int64(10) || !fs[0].At.Equal(t0) {
				t.Fatalf("facts of %s: %+v", p.ID, fs)
			}
			if d := f.rec.Decide(p.Num, f.now); d.Color != rules.Red || d.RuleID != "mixed_tube_positive" {
				t.Fatalf("%s after a positive mixed tube: %s by %s", p.ID, d.Color, d.RuleID)
			}
		}
		// Everyone has a single-tube retest task; no alert (not a single positive).
		tasks := f.tasks(t, f.admin, nat.ListQuery{Open: true, Kind: "retest"})
		if len(tasks) != 10 {
			t.Fatalf("%d retest tasks", len(tasks))
		}
		if al := f.alerts(t, f.admin, nat.ListQuery{}); len(al) != 0 {
			t.Fatalf("alerts for a mixed tube: %+v", al)
		}

		// Pages of 4: the tasks of a tube share their created_at, and no
		// task is lost or repeated at a page boundary.
		seen := map[string]bool{}
		after := ""
		for pages := 0; ; pages++ {
			page, next, err := f.svc.Tasks(f.ctx, f.admin, nat.ListQuery{After: after, Limit: 4})
			if err != nil || pages > 3 {
				t.Fatalf("page %d: %v", pages, err)
			}
			for _, x := range page {
				if seen[x.ID] {
					t.Fatalf("task %s on two pages", x.ID)
				}
				seen[x.ID] = true
			}
			if after = next; after == "" {
				break
			}
		}
		if len(seen) != 10 {
			t.Fatalf("pages of 4 gave %d of the 10 tasks", len(seen))
		}
		_, _, err := f.svc.Tasks(f.ctx, f.admin, nat.ListQuery{After: "yesterday"})
		wantErr(t, err, 400, "after_invalid")
		// A negative retest in another mixed tube does not clear anyone, nor
		// does it close their retest task.
		f.advance(2 * time.Hour)
		mixed := f.tube(5, ps[0], ps[1])
		f.result(mixed, "negative")
		for _, p := range ps[:2] {
			if f.color(p) != rules.Red {
				t.Fatal("a mixed negative cleared a mixed positive")
			}
		}
		if n := len(f.tasks(t, f.admin, nat.ListQuery{Open: true})); n != 10 {
			t.Fatalf("%d open tasks after a mixed retest, want 10", n)
		}

		// Single-tube retests, one by one: each turns only its own person green.
		for i, p := range ps {
			f.advance(10 * time.Minute)
			single := f.tube(1, p)
			f.result(single, "negative")
			for j, q := range ps {
				want := rules.Red
				if j <= i {
					want = rules.Green
				}
				if got := f.color(q); got != want {
					t.Fatalf("after %d retests, person %d is %s, want %s", i+1, j, got, want)
				}
			}
		}
		if n := len(f.tasks(t, f.admin, nat.ListQuery{Open: true})); n != 0 {
			t.Fatalf("%d tasks still open after everyone's single-tube retest", n)
		}
		closed := f.tasks(t, f.admin, nat.ListQuery{Kind: "retest"})
		if len(closed) != 10 || closed[0].ClosedReason != "sampled" || closed[0].ClosedAt == nil || closed[0].Person.Name[:3] != "张" {
			t.Fatalf("closed tasks: %+v", closed[0])
		}
	})
}

// A single-tube positive is positive for the person, red, and alerts the
// health officers of the person's region (not of the site's).
func TestSinglePositiveAlertsOfficers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		local := f.resident("341881001")   // the officer's 西津街道
		visitor := f.resident("341881002") // 南山街道
		a, b := f.tube(1, local), f.tube(1, visitor)
		f.advance(5 * time.Hour)
		f.result(a, "positive")
		f.result(b, "positive")
		for _, p := range []*person.Person{local, visitor} {
			if d := f.rec.Decide(p.Num, f.now); d.Color != rules.Red || d.RuleID != "nat_positive" {
				t.Fatalf("single positive: %s by %s", d.Color, d.RuleID)
			}
		}
		al := f.alerts(t, f.officer, nat.ListQuery{Open: true})
		if len(al) != 1 || al[0].Person.ID != local.ID || al[0].Tube != a || al[0].Person.Name != "张*"+local.Name[len("张三"):] ||
			al[0].Site.ID != f.site.ID || !al[0].SampledAt.Equal(t0) {
			t.Fatalf("officer's alerts: %+v", al)
		}
		if all := f.alerts(t, f.admin, nat.ListQuery{}); len(all) != 2 {
			t.Fatalf("admin sees %d alerts", len(all))
		}
		_, _, err := f.svc.Alerts(f.ctx, f.lab, nat.ListQuery{})
		wantErr(t, err, 403, "forbidden")
		_, _, err = f.svc.Alerts(f.ctx, f.officer, nat.ListQuery{Region: "341881002"})
		wantErr(t, err, 404, "region_not_found")
		// Reading the list is a read of the persons on it.
		entries, _ := audit.List(f.ctx, d, audit.Filter{Subject: "nat_alerts", Limit: 1})
		if len(entries) != 1 || entries[0].Actor != "operator:admin" {
			t.Fatalf("alert read not audited: %+v", entries)
		}
		// Taking it in hand.
		wantErr(t, f.svc.AckAlert(f.ctx, f.officer, "nosuch"), 404, "alert_not_found")
		if err := f.svc.AckAlert(f.ctx, f.officer, al[0].ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, f.svc.AckAlert(f.ctx, f.officer, al[0].ID), 409, "alert_acked")
		if open := f.alerts(t, f.officer, nat.ListQuery{Open: true}); len(open) != 0 {
			t.Fatalf("acked alert still open: %+v", open)
		}
		// A negative single-tube retest clears the person.
		f.advance(time.Hour)
		f.result(f.tube(1, local), "negative")
		if f.color(local) != rules.Green {
			t.Fatal("a negative single retest did not clear a single positive")
		}
	})
}

// A negative tube turns a companion (时空伴随者) green per the default rule:
// two negatives at least 24 h apart within 3 days.
func TestNegativeTubesClearACompanion(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(3, "341881001")
		for _, p := range ps {
			f.rec.Add(p.Num, fact.Fact{Kind: fact.ContactCompanion, At: t0.Add(-12 * time.Hour), Attrs: map[string]any{
				"case_person": "x", "venue": "v1", "case_at": t0.Add(-12 * time.Hour).Format(time.RFC3339), "person_at": t0.Add(-12 * time.Hour).Format(time.RFC3339)}})
			if d := f.rec.Decide(p.Num, f.now); d.Color != rules.Yellow || d.RuleID != "companion" {
				t.Fatalf("companion: %s by %s", d.Color, d.RuleID)
			}
		}
		f.result(f.tube(10, ps...), "negative")
		f.advance(6 * time.Hour)
		for _, p := range ps {
			if f.color(p) != rules.Yellow {
				t.Fatal("one negative cleared a companion")
			}
		}
		// Second test: person 0 a day later to the minute, person 1 a minute
		// short of 24 h, person 2 four days later (outside the 3 days).
		f.now = t0.Add(24 * time.Hour)
		f.result(f.tube(10, ps[0]), "negative")
		f.now = t0.Add(24*time.Hour - time.Minute)
		f.result(f.tube(10, ps[1]), "negative")
		f.now = t0.Add(4 * 24 * time.Hour)
		f.result(f.tube(10, ps[2]), "negative")
		f.advance(time.Hour)
		for i, want := range []rules.Color{rules.Green, rules.Yellow, rules.Yellow} {
			if got := f.color(ps[i]); got != want {
				t.Errorf("person %d: %s, want %s", i, got, want)
			}
		}
	})
}

func TestPostResultRefusalsAndRepeats(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(3, "341881001")
		b := f.tube(10, ps...)
		unsealed := f.barcode()
		must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, unsealed, 10, f.site.ID))

		_, err := f.svc.PostResult(f.ctx, f.lab, b, "mixed_positive", "")
		wantErr(t, err, 400, "result_invalid")
		_, err = f.svc.PostResult(f.ctx, f.lab, "x", "negative", "")
		wantErr(t, err, 400, "barcode_invalid")
		_, err = f.svc.PostResult(f.ctx, f.lab, "NOSUCH0001", "negative", "")
		wantErr(t, err, 404, "tube_unknown")
		_, err = f.svc.PostResult(f.ctx, f.lab, unsealed, "negative", "")
		wantErr(t, err, 409, "tube_unsealed")
		_, err = f.svc.PostResult(f.ctx, f.sampler, b, "negative", "")
		wantErr(t, err, 403, "forbidden")
		outsideLab := *f.lab
		outsideLab.Region = "341802"
		_, err = f.svc.PostResult(f.ctx, &outsideLab, b, "negative", "")
		wantErr(t, err, 404, "tube_unknown")

		rep := f.result(b, "阴性")
		if rep.Status != "accepted" || rep.Facts != 3 {
			t.Fatalf("first report: %+v", rep)
		}
		// The same result again: nothing new.
		again := f.result(b, "negative")
		if again.Status != "unchanged" || again.Facts != 0 || f.rec.Total() != 3 {
			t.Fatalf("repeat: %+v, %d facts", again, f.rec.Total())
		}
		_, err = f.svc.PostResult(f.ctx, f.lab, b, "positive", "")
		wantErr(t, err, 409, "result_exists")
		for _, p := range ps {
			fs := f.rec.Facts(p.Num)
			if len(fs) != 1 || fs[0].Attrs["result"] != "negative" || fs[0].Attrs["lab"] != "宁国市人民医院检验科" || fs[0].Attrs["site"] != f.site.ID ||
				!strings.HasPrefix(fs[0].Source, "nat-result/") {
				t.Fatalf("facts: %+v", fs)
			}
		}
		// Results that name a tube are counted by outcome; requests refused
		// before (a bad word or barcode, the wrong role) are not results.
		for _, m := range []struct {
			labels []string
			want   float64
		}{
			{[]string{"result", "negative", "outcome", "accepted"}, 1},
			{[]string{"result", "negative", "outcome", "unchanged"}, 1},
			{[]string{"result", "negative", "outcome", "refused"}, 3},
			{[]string{"result", "positive", "outcome", "refused"}, 1},
			{nil, 6},
		} {
			if got := metricstest.Value(t, f.reg, "healthcode_nat_results_total", m.labels...); got != m.want {
				t.Errorf("results%q = %v, want %v", m.labels, got, m.want)
			}
		}
		if got := metricstest.Value(t, f.reg, "healthcode_nat_samples_total"); got != 3 {
			t.Errorf("%v samples counted, want 3", got)
		}
	})
}

// An invalid tube asks everyone in it to be swabbed again; the next swab,
// in any tube, closes the task.
func TestInvalidOpensResampleTasks(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(2, "341881001")
		f.result(f.tube(5, ps...), "invalid")
		for _, p := range ps {
			if fs := f.rec.Facts(p.Num); len(fs) != 1 || fs[0].Attrs["result"] != "invalid" || f.color(p) != rules.Green {
				t.Fatalf("invalid: %+v %s", fs, f.color(p))
			}
		}
		tests := must[*nat.Tests](t)(f.svc.ListTests(f.ctx, ps[0].Num))
		if len(tests.Tasks) != 1 || tests.Tasks[0].Kind != "resample" || tests.Tests[0].Result != "invalid" {
			t.Fatalf("resident's view: %+v", tests)
		}
		f.advance(time.Hour)
		f.tube(10, ps[0])
		tasks := f.tasks(t, f.admin, nat.ListQuery{Open: true, Kind: "resample"})
		if len(tasks) != 1 || tasks[0].Person.ID != ps[1].ID {
			t.Fatalf("open resample tasks: %+v", tasks)
		}
		_, _, err := f.svc.Tasks(f.ctx, f.admin, nat.ListQuery{Kind: "recall"})
		wantErr(t, err, 400, "kind_invalid")
	})
}

func TestCorrection(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(10, "341881001")
		b := f.tube(10, ps...)
		f.advance(6 * time.Hour)
		f.result(b, "positive")
		for _, p := range ps {
			if f.color(p) != rules.Red {
				t.Fatal("not red")
			}
		}
		_, err := f.svc.Correct(f.ctx, f.lab, b, "negative", "")
		wantErr(t, err, 400, "reason_invalid")
		_, err = f.svc.Correct(f.ctx, f.lab, b, "positive", "复核")
		wantErr(t, err, 409, "result_unchanged")
		_, err = f.svc.Correct(f.ctx, f.sampler, b, "negative", "复核")
		wantErr(t, err, 403, "forbidden")
		other := f.tube(1, f.resident("341881001"))
		_, err = f.svc.Correct(f.ctx, f.lab, other, "negative", "复核")
		wantErr(t, err, 409, "result_missing")

		f.advance(time.Hour)
		rep := must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, b, "negative", "样本编号录入错误，复核为阴性"))
		if rep.Status != "corrected" || rep.Tube.Version != 2 || rep.Tube.Result != "negative" || rep.Facts != 10 {
			t.Fatalf("correction: %+v", rep)
		}
		for _, p := range ps {
			fs := f.rec.Facts(p.Num)
			if len(fs) != 2 || fs[1].Attrs["correction"] != true || fs[1].Attrs["result"] != "negative" || !fs[1].At.Equal(fs[0].At) {
				t.Fatalf("facts after correction: %+v", fs)
			}
			if d := f.rec.Decide(p.Num, f.now); d.Color != rules.Green {
				t.Fatalf("after the correction to negative: %s by %s", d.Color, d.RuleID)
			}
		}
		// The retest tasks of the withdrawn result are closed as superseded.
		if open := f.tasks(t, f.admin, nat.ListQuery{Open: true}); len(open) != 0 {
			t.Fatalf("tasks of a corrected result still open: %d", len(open))
		}
		all := f.tasks(t, f.admin, nat.ListQuery{})
		if len(all) != 10 || all[0].ClosedReason != "superseded" {
			t.Fatalf("tasks: %+v", all[0])
		}
		entries, _ := audit.List(f.ctx, d, audit.Filter{Subject: "tube:" + b, Limit: 1})
		if len(entries) != 1 || entries[0].Action != "nat.result.correct" || entries[0].Detail["reason"] != "样本编号录入错误，复核为阴性" ||
			entries[0].Detail["from"] != "positive" || entries[0].Detail["to"] != "negative" {
			t.Fatalf("correction not audited: %+v", entries)
		}
		// Correcting back: red again, with new retest tasks.
		f.advance(time.Hour)
		must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, b, "positive", "二次复核为阳性"))
		if f.color(ps[0]) != rules.Red || len(f.tasks(t, f.admin, nat.ListQuery{Open: true})) != 10 {
			t.Fatal("a correction back to positive did not turn red and reopen retests")
		}
		// A single positive corrected away retracts its alert.
		single := f.resident("341881001")
		sb := f.tube(1, single)
		f.result(sb, "positive")
		must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, sb, "negative", "仪器故障，复检阴性"))
		al := f.alerts(t, f.officer, nat.ListQuery{})
		if len(al) != 1 || al[0].RetractedAt == nil || f.color(single) != rules.Green {
			t.Fatalf("alert after correction: %+v, colour %s", al, f.color(single))
		}
		if open := f.alerts(t, f.officer, nat.ListQuery{Open: true}); len(open) != 0 {
			t.Fatal("a retracted alert is still open")
		}
		tests := must[*nat.Tests](t)(f.svc.ListTests(f.ctx, single.Num))
		if !tests.Tests[0].Corrected || tests.Tests[0].Result != "negative" {
			t.Fatalf("resident's view of a corrected test: %+v", tests.Tests[0])
		}
	})
}

// If the status engine cannot be reached, results are kept, reported as
// pending, refused for correction until passed on, and passed on by the
// retry worker with the same idempotency keys.
func TestFactsLeftPendingAreRetried(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(4, "341881001")
		a, b := f.tube(10, ps[0], ps[1]), f.tube(10, ps[2], ps[3])
		f.rec.Fail = errors.New("status engine unreachable")
		_, err := f.svc.PostResult(f.ctx, f.lab, a, "positive", "")
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("PostResult: %v", err)
		}
		rep := must[*nat.UploadReport](t)(f.svc.Upload(f.ctx, f.lab, []byte("barcode,result\n"+b+",negative\n"), ""))
		if rep.Accepted != 1 || rep.FactsPending != 1 || rep.Facts != 0 {
			t.Fatalf("upload while failing: %+v", rep)
		}
		_, err = f.svc.Correct(f.ctx, f.lab, a, "negative", "复核")
		wantErr(t, err, 409, "result_pending")
		f.rec.Fail = nil
		// Too recent for the worker: it leaves them to the requests.
		if err := f.svc.RecordPending(f.ctx); err != nil || f.rec.Total() != 0 {
			t.Fatalf("worker took fresh results: %v, %d facts", err, f.rec.Total())
		}
		f.advance(2 * time.Minute)
		if err := f.svc.RecordPending(f.ctx); err != nil {
			t.Fatal(err)
		}
		if f.rec.Total() != 4 || f.color(ps[0]) != rules.Red || f.color(ps[2]) != rules.Green {
			t.Fatalf("after the retry: %d facts", f.rec.Total())
		}
		// Nothing left, nothing twice.
		if err := f.svc.RecordPending(f.ctx); err != nil || f.rec.Total() != 4 {
			t.Fatalf("second retry: %v, %d facts", err, f.rec.Total())
		}
		must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, a, "negative", "复核"))
		if f.color(ps[0]) != rules.Green {
			t.Fatal("correction after the retry did not apply")
		}
	})
}

func TestUpload(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(12, "341881001")
		var tubes []string
		for i := 0; i < 6; i++ {
			tubes = append(tubes, f.tube(5, ps[2*i], ps[2*i+1]))
		}
		unsealed := f.barcode()
		must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, unsealed, 10, f.site.ID))
		f.result(tubes[4], "negative") // reported before: same word → unchanged
		f.result(tubes[5], "negative") // reported before: other word → refused
		f.advance(5 * time.Hour)
		// Small chunks, to see one Record call per chunk.
		f.svc = nat.New(d, f.persons, f.regions(), nat.Deps{Facts: f.rec, Codes: f.codes, Keys: f.codes}, nat.Config{Region: "341881", ChunkTubes: 2}, quiet)
		f.svc.SetClock(func() time.Time { return f.now })
		body := "\ufeff试管条码,检测时间,检测结果\r\n" +
			tubes[0] + ",2022-04-10 06:00,阴性\r\n" + // 2 accepted
			strings.ToLower(tubes[1]) + ",2022-04-10 06:00,positive\r\n" + // 3 accepted (case folded)
			"NG-??,2022-04-10 06:00,negative\r\n" + // 4 bad barcode
			"NOSUCH0001,2022-04-10 06:00,negative\r\n" + // 5 unknown tube
			unsealed + ",2022-04-10 06:00,negative\r\n" + // 6 unsealed
			tubes[2] + ",2022-04-10 06:00,阳性?\r\n" + // 7 bad word
			tubes[0] + ",2022-04-10 06:00,阴性\r\n" + // 8 duplicate line
			"\r\n" + // 9 blank
			"\"" + tubes[3] + ",2022-04-10 06:00,negative\r\n" + // 10 malformed
			tubes[4] + ",2022-04-10 06:00,negative\r\n" + // 11 unchanged
			tubes[5] + ",2022-04-10 06:00,positive\r\n" + // 12 result exists
			tubes[3] + "\r\n" + // 13 too few fields
			tubes[2] + ",2022-04-10 06:00,invalid\r\n" // 14 accepted
		calls := f.rec.Calls
		rep := must[*nat.UploadReport](t)(f.svc.Upload(f.ctx, f.lab, []byte(body), "宁国市疾控中心实验室"))
		want := map[int]string{2: "accepted", 3: "accepted", 4: "refused:barcode_invalid", 5: "refused:tube_unknown",
			6: "refused:tube_unsealed", 7: "refused:result_invalid", 8: "refused:duplicate_line", 10: "refused:csv_malformed",
			11: "unchanged", 12: "refused:result_exists", 13: "refused:csv_malformed", 14: "accepted"}
		if len(rep.Report) != len(want) {
			t.Fatalf("%d report lines, want %d: %+v", len(rep.Report), len(want), rep.Report)
		}
		for _, l := range rep.Report {
			got := l.Status
			if l.Code != "" {
				got += ":" + l.Code
			}
			if got != want[l.Line] {
				t.Errorf("line %d: %s (%s), want %s", l.Line, got, l.Message, want[l.Line])
			}
			if l.Status == "refused" && l.Message == "" {
				t.Errorf("line %d refused without a reason", l.Line)
			}
		}
		if rep.Accepted != 3 || rep.Unchanged != 1 || rep.Refused != 8 || rep.Persons != 6 || rep.Facts != 6 || rep.FactsPending != 0 {
			t.Fatalf("summary: %+v", rep)
		}
		// The 7 lines that parsed go to the database in chunks of 2:
		// [0 1] [unknown unsealed] [4 5] [2]. A chunk with facts to record
		// makes ONE Record call for all its persons, the others none.
		if got := f.rec.Batches[calls:]; len(got) != 2 || got[0] != 4 || got[1] != 2 {
			t.Fatalf("Record batches %v, want [4 2]", got)
		}
		// The good lines are kept.
		for i, want := range map[int]string{0: "negative", 1: "mixed_positive", 2: "invalid"} {
			fs := f.rec.Facts(ps[2*i].Num)
			if len(fs) != 1 || fs[0].Attrs["result"] != want || fs[0].Attrs["lab"] != "宁国市疾控中心实验室" || !strings.HasPrefix(fs[0].Source, "nat-upload/"+rep.ID) {
				t.Fatalf("tube %d facts: %+v", i, fs)
			}
		}
		if tb := must[*nat.Tube](t)(f.svc.Tube(f.ctx, f.lab, tubes[3])); tb.Result != "" {
			t.Fatal("a malformed line was taken")
		}
		// Sending the same file again changes nothing.
		total := f.rec.Total()
		again := must[*nat.UploadReport](t)(f.svc.Upload(f.ctx, f.lab, []byte(body), "宁国市疾控中心实验室"))
		if again.Accepted != 0 || again.Unchanged != 4 || f.rec.Total() != total {
			t.Fatalf("second upload: %+v", again)
		}
		// Without a header: barcode and result are the first two columns.
		p := f.resident("341881001")
		nb := f.tube(1, p)
		plain := must[*nat.UploadReport](t)(f.svc.Upload(f.ctx, f.lab, []byte(nb+",negative\n"), ""))
		if plain.Accepted != 1 || plain.Lines != 1 {
			t.Fatalf("headerless: %+v", plain)
		}
		_, err := f.svc.Upload(f.ctx, f.lab, []byte("tube,outcome\nX,Y\n"), "")
		wantErr(t, err, 400, "csv_header")
		_, err = f.svc.Upload(f.ctx, f.lab, []byte(""), "")
		wantErr(t, err, 400, "csv_empty")
		_, err = f.svc.Upload(f.ctx, f.sampler, []byte(nb+",negative\n"), "")
		wantErr(t, err, 403, "forbidden")
		entries, _ := audit.List(f.ctx, d, audit.Filter{Subject: "upload:" + rep.ID, Limit: 1})
		if len(entries) != 1 || entries[0].Detail["accepted"] != float64(3) {
			t.Fatalf("upload not audited: %+v", entries)
		}
	})
}

func TestPersonResult(t *testing.T) {
	for _, tc := range []struct {
		word     string
		capacity int
		want     string
	}{{"negative", 10, "negative"}, {"positive", 1, "positive"}, {"positive", 5, "mixed_positive"},
		{"positive", 20, "mixed_positive"}, {"invalid", 10, "invalid"}} {
		if got := nat.PersonResult(tc.word, tc.capacity); got != tc.want {
			t.Errorf("%s in %d: %s, want %s", tc.word, tc.capacity, got, tc.want)
		}
		// Every fact the feature makes passes the registry's validation.
		f := fact.Fact{Kind: fact.NATResult, At: t0, Attrs: map[string]any{"result": nat.PersonResult(tc.word, tc.capacity),
			"tube": "NG1", "tube_capacity": int64(tc.capacity)}}
		if err := f.Validate(); err != nil {
			t.Errorf("%s in %d: %v", tc.word, tc.capacity, err)
		}
	}
}
