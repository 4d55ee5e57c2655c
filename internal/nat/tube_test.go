package nat_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
)

func TestParseBarcode(t *testing.T) {
	for in, want := range map[string]string{"NG00000001": "NG00000001", " ng-2022-0001 ": "NG-2022-0001", "ABCD": "ABCD"} {
		if got, err := nat.ParseBarcode(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", "ABC", "-ABCD", "AB CD", "条码1234", strings.Repeat("A", 33), "AB_CD"} {
		_, err := nat.ParseBarcode(in)
		wantErr(t, err, 400, "barcode_invalid")
	}
}

func TestTubesAndSamples(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		b := f.barcode()
		_, err := f.svc.OpenTube(f.ctx, f.sampler, b, 3, f.site.ID)
		wantErr(t, err, 400, "capacity_invalid")
		_, err = f.svc.OpenTube(f.ctx, f.sampler, b, 5, "nosuchsite")
		wantErr(t, err, 404, "site_not_found")
		_, err = f.svc.OpenTube(f.ctx, f.outside, b, 5, f.site.ID)
		wantErr(t, err, 404, "site_not_found")
		_, err = f.svc.OpenTube(f.ctx, f.lab, b, 5, f.site.ID)
		wantErr(t, err, 403, "forbidden")
		tube := must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, strings.ToLower(b), 5, f.site.ID))
		if tube.Barcode != b || tube.Capacity != 5 || tube.State != "open" || tube.Region != "341881001" {
			t.Fatalf("tube: %+v", tube)
		}
		_, err = f.svc.OpenTube(f.ctx, f.sampler, b, 5, f.site.ID)
		wantErr(t, err, 409, "tube_exists")

		ps := f.residents(6, "341881002")
		// A dynamic code, a care code and an identity number all bind.
		s1 := must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[0])}))
		if s1.Position != 1 || s1.Method != "dynamic" || s1.PersonID != ps[0].ID || s1.MaskedName != "张*1" || s1.Full {
			t.Fatalf("sample: %+v", s1)
		}
		care := f.codes.Issue(ps[1].Num, codeformat.KindCare, f.now.Add(-24*time.Hour), 14*24*time.Hour)
		if s := must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: care})); s.Method != "care" || s.Position != 2 {
			t.Fatalf("care code sample: %+v", s)
		}
		if s := must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{IDNumber: ps[2].IDNumber})); s.Method != "id_number" || s.PersonID != ps[2].ID {
			t.Fatalf("id number sample: %+v", s)
		}
		entries, err := audit.List(f.ctx, d, audit.Filter{Subject: "person:" + ps[2].ID, Limit: 5})
		if err != nil || len(entries) == 0 || entries[0].Action != "nat.sample.id_number" || entries[0].Actor != "operator:sampler" {
			t.Fatalf("id-number binding not audited: %+v %v", entries, err)
		}

		// Refusals.
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[0])})
		wantErr(t, err, 409, "sample_duplicate")
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: "JKM1:NOT A CODE"})
		wantErr(t, err, 422, "code_invalid")
		expired := f.codes.Issue(ps[3].Num, codeformat.KindDynamic, f.now.Add(-10*time.Minute), 3*time.Minute)
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: expired})
		wantErr(t, err, 422, "code_invalid")
		revoked := f.codes.Issue(ps[3].Num, codeformat.KindCare, f.now, 24*time.Hour)
		f.codes.Revoke(revoked)
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: revoked})
		wantErr(t, err, 422, "code_invalid")
		first17 := "34188119750505999"
		c, _ := idnum.ResidentCheckChar(first17)
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{IDNumber: first17 + string(c)})
		wantErr(t, err, 404, "person_not_found")
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{})
		wantErr(t, err, 400, "sample_identity")
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[3]), IDNumber: ps[3].IDNumber})
		wantErr(t, err, 400, "sample_identity")
		_, err = f.svc.AddSample(f.ctx, f.outside, b, nat.SampleInput{Code: f.scan(ps[3])})
		wantErr(t, err, 404, "tube_not_found")
		_, err = f.svc.AddSample(f.ctx, f.sampler, f.barcode(), nat.SampleInput{Code: f.scan(ps[3])})
		wantErr(t, err, 404, "tube_not_found")

		// Fill to capacity: the fifth says full, the sixth is refused.
		must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[3])}))
		if s := must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[4])})); !s.Full || s.Position != 5 {
			t.Fatalf("fifth of five: %+v", s)
		}
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[5])})
		wantErr(t, err, 409, "tube_full")

		// Sealing.
		_, err = f.svc.Seal(f.ctx, f.outside, b)
		wantErr(t, err, 404, "tube_not_found")
		sealed := must[*nat.Tube](t)(f.svc.Seal(f.ctx, f.sampler, b))
		if sealed.State != "sealed" || sealed.Samples != 5 || sealed.SealedAt == nil {
			t.Fatalf("sealed: %+v", sealed)
		}
		_, err = f.svc.Seal(f.ctx, f.sampler, b)
		wantErr(t, err, 409, "tube_sealed")
		_, err = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(ps[5])})
		wantErr(t, err, 409, "tube_sealed")
		empty := f.barcode()
		must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, empty, 10, f.site.ID))
		_, err = f.svc.Seal(f.ctx, f.sampler, empty)
		wantErr(t, err, 422, "tube_empty")
	})
}

// However many samplers scan into one tube at once, it never holds more
// than its capacity.
func TestConcurrentSamplesRespectCapacity(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(16, "341881001")
		b := f.barcode()
		must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, b, 10, f.site.ID))
		codes := make([]string, len(ps))
		for i, p := range ps {
			codes[i] = f.scan(p)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ps))
		for i := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: codes[i]})
			}()
		}
		wg.Wait()
		ok, full := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, nat.ErrTubeFull):
				full++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		tube := must[*nat.Tube](t)(f.svc.Tube(f.ctx, f.sampler, b))
		if ok != 10 || full != 6 || tube.Samples != 10 {
			t.Fatalf("%d bound, %d refused as full, tube holds %d", ok, full, tube.Samples)
		}
	})
}

func TestTransfer(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ps := f.residents(3, "341881001")
		a, b := f.tube(10, ps[0]), f.tube(10, ps[1])
		open := f.barcode()
		must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, open, 10, f.site.ID))
		must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, open, nat.SampleInput{Code: f.scan(ps[2])}))

		// All or nothing: an unsealed and an unknown tube refuse the batch.
		_, err := f.svc.CreateTransfer(f.ctx, f.sampler, []string{a, open, "NOSUCH0001", b}, "宁国市人民医院检验科")
		wantErr(t, err, 422, "transfer_refused")
		if !strings.Contains(err.Error(), open+": not sealed") || !strings.Contains(err.Error(), "NOSUCH0001: unknown tube") {
			t.Fatalf("problems not named: %v", err)
		}
		if tb := must[*nat.Tube](t)(f.svc.Tube(f.ctx, f.sampler, a)); tb.TransferID != "" {
			t.Fatal("a refused batch handed a tube over")
		}
		_, err = f.svc.CreateTransfer(f.ctx, f.sampler, []string{a, a}, "lab")
		wantErr(t, err, 400, "barcode_duplicate")
		_, err = f.svc.CreateTransfer(f.ctx, f.sampler, []string{a}, " ")
		wantErr(t, err, 400, "lab_invalid")
		_, err = f.svc.CreateTransfer(f.ctx, f.sampler, nil, "lab")
		wantErr(t, err, 400, "barcodes_invalid")
		_, err = f.svc.CreateTransfer(f.ctx, f.outside, []string{a}, "lab")
		wantErr(t, err, 422, "transfer_refused")

		tr := must[*nat.Transfer](t)(f.svc.CreateTransfer(f.ctx, f.sampler, []string{b, a}, "宁国市人民医院检验科"))
		got := must[*nat.Transfer](t)(f.svc.GetTransfer(f.ctx, f.lab, tr.ID))
		if got.Lab != "宁国市人民医院检验科" || len(got.Barcodes) != 2 || got.Barcodes[0] != min(a, b) {
			t.Fatalf("transfer: %+v", got)
		}
		if tb := must[*nat.Tube](t)(f.svc.Tube(f.ctx, f.lab, a)); tb.State != "transferred" || tb.Lab != "宁国市人民医院检验科" {
			t.Fatalf("tube after transfer: %+v", tb)
		}
		_, err = f.svc.CreateTransfer(f.ctx, f.sampler, []string{a}, "another lab")
		wantErr(t, err, 422, "transfer_refused")
		_, err = f.svc.GetTransfer(f.ctx, f.outside, tr.ID)
		wantErr(t, err, 404, "transfer_not_found")
		// The lab's name from the transfer goes on the facts.
		must[*nat.Report](t)(f.svc.PostResult(f.ctx, f.lab, a, "negative", ""))
		if fs := f.rec.Facts(ps[0].Num); len(fs) != 1 || fs[0].Attrs["lab"] != "宁国市人民医院检验科" {
			t.Fatalf("facts: %+v", fs)
		}
	})
}
