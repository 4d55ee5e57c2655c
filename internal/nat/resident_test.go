package nat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/nat"
)

func TestResidentTestsAndCertificate(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p, q := f.resident("341881001"), f.resident("341881001")
		b := f.tube(10, p, q)
		tests := must[*nat.Tests](t)(f.svc.ListTests(f.ctx, p.Num))
		if len(tests.Tests) != 1 || tests.Tests[0].Result != "pending" || tests.Tests[0].Certificate || tests.Tests[0].ReportedAt != nil ||
			tests.Tests[0].Site.Name != f.site.Name || tests.Tests[0].Tube != b || !tests.Tests[0].SampledAt.Equal(t0) {
			t.Fatalf("pending test: %+v", tests)
		}
		id := tests.Tests[0].ID
		_, err := f.svc.IssueCertificate(f.ctx, p.Num, p.Profile().MaskedName, id)
		wantErr(t, err, 409, "result_pending")

		f.advance(6 * time.Hour)
		f.result(b, "negative")
		tests = must[*nat.Tests](t)(f.svc.ListTests(f.ctx, p.Num))
		tt := tests.Tests[0]
		if tt.Result != "negative" || !tt.Certificate || tt.ReportedAt == nil || !tt.ReportedAt.Equal(f.now) || tt.Lab != "宁国市人民医院检验科" || tt.TubeCapacity != 10 {
			t.Fatalf("negative test: %+v", tt)
		}
		// Another person's test is not found.
		_, err = f.svc.IssueCertificate(f.ctx, q.Num, q.Profile().MaskedName, id)
		wantErr(t, err, 404, "test_not_found")

		cert := must[*nat.Certificate](t)(f.svc.IssueCertificate(f.ctx, p.Num, p.Profile().MaskedName, id))
		// An offline verifier with the trust list, configured for
		// certificates, accepts it and reads its claims.
		v := codeformat.NewVerifier(f.codes.TrustList(), codeformat.Options{Kinds: []codeformat.Kind{codeformat.KindCertificate}})
		r := v.Verify(cert.Code, f.now.Add(24*time.Hour))
		if !r.Valid {
			t.Fatalf("certificate does not verify: %v", r.Reasons)
		}
		c := r.Claims
		if c.Kind != codeformat.KindCertificate || c.Result != codeformat.TestNegative || c.Handle != f.persons.Handles().Handle(p.Num) ||
			c.MaskedName != "张*"+p.Name[len("张三"):] || !c.SampledAt.Equal(t0) || c.Site != f.site.Name || c.Issuer != "341881" ||
			!c.Expires.Equal(t0.Add(7*24*time.Hour)) || c.Color != codeformat.ColorNone {
			t.Fatalf("claims: %+v", c)
		}
		if cert.MaskedName != c.MaskedName || !cert.ExpiresAt.Equal(c.Expires) || cert.Site != c.Site {
			t.Fatalf("certificate answer: %+v", cert)
		}
		// A health-code verifier refuses it; it expires 7 days after sampling.
		if r := codeformat.NewVerifier(f.codes.TrustList(), codeformat.Options{}).Verify(cert.Code, f.now); r.Valid {
			t.Fatal("a health-code verifier accepted a certificate")
		}
		if r := v.Verify(cert.Code, t0.Add(7*24*time.Hour+time.Minute)); r.Valid {
			t.Fatal("certificate valid after its expiry")
		}
		// Not after the validity.
		f.now = t0.Add(7 * 24 * time.Hour)
		_, err = f.svc.IssueCertificate(f.ctx, p.Num, p.Profile().MaskedName, id)
		wantErr(t, err, 422, "certificate_expired")
		if tt := must[*nat.Tests](t)(f.svc.ListTests(f.ctx, p.Num)).Tests[0]; tt.Certificate {
			t.Fatal("list offers a certificate that would be refused")
		}

		// Positive results get none.
		f.advance(time.Hour)
		pos := f.tube(1, p)
		f.result(pos, "positive")
		tests = must[*nat.Tests](t)(f.svc.ListTests(f.ctx, p.Num))
		if len(tests.Tests) != 2 || tests.Tests[0].Result != "positive" || tests.Tests[1].Result != "negative" {
			t.Fatalf("newest first: %+v", tests.Tests)
		}
		_, err = f.svc.IssueCertificate(f.ctx, p.Num, p.Profile().MaskedName, tests.Tests[0].ID)
		wantErr(t, err, 409, "result_not_negative")
		_, err = f.svc.IssueCertificate(f.ctx, p.Num, p.Profile().MaskedName, "nosuch")
		wantErr(t, err, 404, "test_not_found")
	})
}

func TestCoverage(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		xijin := f.residents(6, "341881001")
		nanshan := f.residents(4, "341881002")
		county := f.resident("341881") // registered at county level only
		outside := f.resident("341802")
		hefei := f.resident("340102")  // another city of the province
		f.resident("34")               // registered at the province only
		fuzhou := f.resident("350102") // in the province after it

		// Three days ago: a negative for xijin[0] (too old for 48 h).
		f.now = t0.Add(-72 * time.Hour)
		f.result(f.tube(10, xijin[0]), "negative")
		// Within the window: negatives for xijin[1], xijin[2], nanshan[0],
		// the outsider; a positive for xijin[3]; xijin[4] sampled, pending;
		// nanshan[1] negative then corrected to positive.
		f.now = t0.Add(-20 * time.Hour)
		f.result(f.tube(10, xijin[1], xijin[2], nanshan[0], outside), "negative")
		f.result(f.tube(1, xijin[3]), "positive")
		f.result(f.tube(1, hefei), "negative")
		f.result(f.tube(1, fuzhou), "negative")
		f.tube(10, xijin[4])
		corrected := f.tube(10, nanshan[1])
		f.result(corrected, "negative")
		must[*nat.Report](t)(f.svc.Correct(f.ctx, f.lab, corrected, "positive", "复核为阳性"))
		// Counted once each: xijin[1] tested negative twice, xijin[2]
		// negative and sampled again, result not out (not pending).
		f.now = t0.Add(-10 * time.Hour)
		f.result(f.tube(10, xijin[1]), "negative")
		f.tube(10, xijin[2])
		f.now = t0

		cov := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: "341881", Hours: 48}))
		if cov.Total.Residents != 11 || cov.Total.Negative != 3 || cov.Total.Untested != 8 || cov.Total.Pending != 1 {
			t.Fatalf("total: %+v", cov.Total)
		}
		rows := map[string]nat.CoverageRow{}
		for _, r := range cov.Rows {
			rows[r.Region] = r
		}
		if r := rows["341881001"]; r.Name != "西津街道" || r.Residents != 6 || r.Negative != 2 || r.Untested != 4 || r.Pending != 1 {
			t.Fatalf("西津: %+v", r)
		}
		if r := rows["341881002"]; r.Residents != 4 || r.Negative != 1 || r.Untested != 3 || r.Share != 0.25 {
			t.Fatalf("南山: %+v", r)
		}
		if r := rows["341881"]; r.Residents != 1 || r.Untested != 1 || cov.Rows[0].Region != "341881" {
			t.Fatalf("county-level residents: %+v", cov.Rows[0])
		}
		if len(cov.Rows) != 1+19 {
			t.Fatalf("%d rows, want the county itself and its 19 towns", len(cov.Rows))
		}
		// The province's count sums its whole hours per city (t0 is half
		// past, so the window's edges cut hours): the county's city, another
		// city and the resident registered at the province alone; not the
		// resident of the next province.
		prov := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: "34", Hours: 48, Limit: 1}))
		if prov.Total.Residents != 14 || prov.Total.Negative != 5 || prov.Total.Untested != 9 || prov.Total.Pending != 1 {
			t.Fatalf("the province's total: %+v", prov.Total)
		}
		cities := map[string]nat.CoverageRow{}
		for _, r := range prov.Rows {
			cities[r.Region] = r
		}
		if r := cities["3418"]; r.Residents != 12 || r.Negative != 4 || r.Untested != 8 || r.Pending != 1 {
			t.Fatalf("宣城市: %+v", r)
		}
		if r := cities["3401"]; r.Residents != 1 || r.Negative != 1 || r.Untested != 0 || r.Pending != 0 {
			t.Fatalf("合肥市: %+v", r)
		}
		if r := prov.Rows[0]; r.Region != "34" || r.Residents != 1 || r.Negative != 0 || r.Untested != 1 {
			t.Fatalf("the province's own residents: %+v", r)
		}
		// Exactly the untested, in a stable order, masked.
		wantIDs := []string{xijin[0].ID, xijin[3].ID, xijin[4].ID, xijin[5].ID, nanshan[1].ID, nanshan[2].ID, nanshan[3].ID, county.ID}
		gotIDs := map[string]nat.Untested{}
		for _, u := range cov.Untested {
			gotIDs[u.ID] = u
		}
		if len(cov.Untested) != len(wantIDs) {
			t.Fatalf("%d untested listed, want %d", len(cov.Untested), len(wantIDs))
		}
		for _, id := range wantIDs {
			if _, ok := gotIDs[id]; !ok {
				t.Fatalf("%s missing from the untested list", id)
			}
		}
		if u := gotIDs[xijin[0].ID]; u.LastNegative == nil || !u.LastNegative.Equal(t0.Add(-72*time.Hour)) || u.Pending {
			t.Fatalf("xijin[0]: %+v", u)
		}
		if u := gotIDs[xijin[4].ID]; !u.Pending || u.LastNegative != nil || u.Name != "张*"+xijin[4].Name[len("张三"):] || u.RegionName != "安徽省宣城市宁国市西津街道" {
			t.Fatalf("xijin[4]: %+v", u)
		}
		if cov.Next != "" {
			t.Fatalf("next %q on the last page", cov.Next)
		}
		// Paging: 3 at a time gives the same people.
		seen := map[string]bool{}
		after := ""
		for page := 0; page < 5; page++ {
			c := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: "341881", Hours: 48, After: after, Limit: 3}))
			for _, u := range c.Untested {
				if seen[u.ID] {
					t.Fatalf("%s on two pages", u.ID)
				}
				seen[u.ID] = true
			}
			if after = c.Next; after == "" {
				break
			}
		}
		if len(seen) != len(wantIDs) {
			t.Fatalf("paging gave %d persons", len(seen))
		}
		// A longer window counts the old negative.
		if c := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: "341881001", Hours: 96})); c.Total.Negative != 3 || c.Total.Residents != 6 {
			t.Fatalf("96 h: %+v", c.Total)
		}
		// Scope: the officer of 西津 sees 西津 by default, nothing else.
		mine := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.officer, nat.CoverageQuery{}))
		if mine.Region != "341881001" || mine.Total.Residents != 6 || len(mine.Rows) != 1 {
			t.Fatalf("officer's default: %+v", mine)
		}
		_, err := f.svc.Coverage(f.ctx, f.officer, nat.CoverageQuery{Region: "341881002"})
		wantErr(t, err, 404, "region_not_found")
		_, err = f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: "341881", Hours: 721})
		wantErr(t, err, 400, "hours_invalid")
		_, err = f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: "341881", After: "zzz"})
		wantErr(t, err, 400, "after_invalid")
	})
}

// TestCoverageAtTheWindowsEdges puts negatives a millisecond either side of
// each edge of windows whose edges cut hours (t0 is half past), and of the
// whole hours within: a province's count, which adds the whole hours'
// counts to the rows of the partial ones, and a county's, which counts the
// rows, both find exactly those sampled in [since, until].
func TestCoverageAtTheWindowsEdges(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ms := time.Millisecond
		at := []time.Duration{
			// The 72 h window's start.
			-72*time.Hour - ms, -72 * time.Hour,
			// The hour before the 48 h window's first; its start, in the
			// hour it cuts; the end of that hour and the first whole one.
			-48*time.Hour - 31*time.Minute,
			-48*time.Hour - ms, -48 * time.Hour, -48*time.Hour + ms,
			-47*time.Hour - 30*time.Minute - ms, -47*time.Hour - 30*time.Minute,
			-24 * time.Hour,
			// The 3 h and 2 h windows' starts, the 2 h window's only whole
			// hour, the 1 h window's start.
			-3*time.Hour - ms, -3 * time.Hour,
			-2*time.Hour - ms, -2*time.Hour + ms,
			-90*time.Minute - ms, -90 * time.Minute,
			-time.Hour - ms, -time.Hour, -time.Hour + ms,
			// The last whole hour's end, the start of the hour until cuts,
			// until, and after it in its hour and the next.
			-30*time.Minute - ms, -30 * time.Minute,
			-ms, 0, ms,
			29 * time.Minute, 31 * time.Minute,
		}
		for i, off := range at {
			reg := "341881001"
			if i%2 == 1 {
				reg = "341881002"
			}
			p := f.resident(reg)
			f.now = t0.Add(off)
			f.result(f.tube(10, p), "negative")
		}
		f.now = t0
		for _, hours := range []int{1, 2, 3, 24, 48, 72} {
			want := int64(0)
			for _, off := range at {
				if off >= -time.Duration(hours)*time.Hour && off <= 0 {
					want++
				}
			}
			for _, region := range []string{"34", "341881"} {
				c := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: region, Hours: hours}))
				if c.Total.Negative != want || c.Total.Residents != int64(len(at)) || c.Total.Untested != int64(len(at))-want {
					t.Errorf("%d h in %s: %+v, want %d negative", hours, region, c.Total, want)
				}
				var rows int64
				for _, r := range c.Rows {
					rows += r.Negative
				}
				if rows != want {
					t.Errorf("%d h in %s: the rows count %d negative, want %d", hours, region, rows, want)
				}
			}
		}
	})
}

// TestCoveragePendingInEveryScope puts samples awaiting their result a
// millisecond either side of the windows' edges, for residents of four
// towns in three counties, some with a negative in a window (not pending
// there: negative) and some with one outside it (pending). A province's, a
// county's and a town's counts find exactly the residents sampled in
// [since, until] without a negative there, in the rows of their towns.
func TestCoveragePendingInEveryScope(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ms := time.Millisecond
		at := []time.Duration{
			-72*time.Hour - ms, -72 * time.Hour, -48*time.Hour - ms, -48 * time.Hour, -48*time.Hour + ms,
			-24 * time.Hour, -3*time.Hour - ms, -3 * time.Hour, -time.Hour - ms, -time.Hour,
			-30 * time.Minute, -ms, 0, ms, time.Hour,
		}
		towns := []string{"341881001", "341881002", "341802001", "341882201"}
		type sampled struct {
			town     string
			at       time.Duration
			negative *time.Duration
		}
		// Negatives in the windows, outside them, and at their edges: a
		// millisecond either side of the 3 and 48 h windows' starts, one
		// sampled a millisecond after until (in no window) and one at it.
		negatives := []*time.Duration{nil, new(-10 * time.Hour), new(-100 * time.Hour), new(-3 * time.Hour),
			new(-3*time.Hour - ms), new(-48 * time.Hour), new(-48*time.Hour - ms), new(ms), new(time.Duration(0))}
		var all []sampled
		for i, off := range at {
			s := sampled{town: towns[i%len(towns)], at: off, negative: negatives[i%len(negatives)]}
			p := f.resident(s.town)
			if s.negative != nil {
				f.now = t0.Add(*s.negative)
				f.result(f.tube(10, p), "negative")
			}
			f.now = t0.Add(off)
			f.tube(10, p)
			all = append(all, s)
		}
		f.now = t0
		in := func(off time.Duration, hours int) bool { return off >= -time.Duration(hours)*time.Hour && off <= 0 }
		for _, hours := range []int{1, 3, 48, 72} {
			for _, scope := range []string{"34", "341881", "341881001"} {
				pending := func(prefix string) (n int64) {
					for _, s := range all {
						if strings.HasPrefix(s.town, prefix) && in(s.at, hours) && (s.negative == nil || !in(*s.negative, hours)) {
							n++
						}
					}
					return n
				}
				c := must[*nat.Coverage](t)(f.svc.Coverage(f.ctx, f.admin, nat.CoverageQuery{Region: scope, Hours: hours}))
				if want := pending(scope); c.Total.Pending != want || want == 0 && len(scope) < 9 {
					t.Errorf("%d h in %s: %d pending, want %d (a county's and the province's not 0)", hours, scope, c.Total.Pending, want)
				}
				for _, r := range c.Rows {
					if want := pending(r.Region); r.Pending != want {
						t.Errorf("%d h in %s: %d pending in %s, want %d", hours, scope, r.Pending, r.Region, want)
					}
				}
			}
		}
	})
}
