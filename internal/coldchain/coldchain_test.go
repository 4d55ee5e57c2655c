package coldchain_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/coldchain"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	admin  = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}
	other  = &auth.Principal{Kind: auth.Operator, ID: "other", Role: auth.Admin, Region: "340100"}
	viewer = &auth.Principal{Kind: auth.Operator, ID: "viewer", Role: auth.Viewer, Region: "341881"}
)

// orgs stands in for the organisation service.
type orgs = orgtest.Orgs

// subjects opens "ref:N:ORG" as person N for that organisation.
type subjects struct{}

func (subjects) Resolve(o *org.Org, ref string) (gateway.Subject, error) {
	var n int64
	var id string
	if _, err := fmt.Sscanf(strings.ReplaceAll(ref, ":", " "), "ref %d %s", &n, &id); err != nil {
		return gateway.Subject{}, gateway.ErrSubjectInvalid
	}
	if id != o.ID {
		return gateway.Subject{Person: n}, gateway.ErrSubjectForeign
	}
	return gateway.Subject{Person: n}, nil
}

// facts records what it is given, once per person and key, or fails while broken.
type facts struct {
	got    []status.NewFact
	keys   map[string]bool
	broken bool
}

func (f *facts) Record(_ context.Context, nf ...status.NewFact) (int, error) {
	if f.broken {
		return 0, errors.New("status engine unreachable")
	}
	n := 0
	for _, x := range nf {
		k := fmt.Sprint(x.Person, x.Key)
		if !f.keys[k] {
			f.keys[k] = true
			f.got = append(f.got, x)
			n++
		}
	}
	return n, nil
}

type fixture struct {
	svc   *coldchain.Service
	facts *facts
	nums  []int64
	now   time.Time
	reg   *prometheus.Registry
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{facts: &facts{keys: map[string]bool{}}, now: time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)}
	for i, name := range []string{"王小明", "李秀英", "张建国"} {
		first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := persons.Create(ctx, admin, person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881002"})
		if err != nil {
			t.Fatal(err)
		}
		f.nums = append(f.nums, p.Num)
	}
	os := orgs{}
	for i, o := range []*org.Org{
		{ID: "imp", Num: 1, Kind: org.Importer, Name: "宁国进出口", Region: "341881001"},
		{ID: "store", Num: 2, Kind: org.ColdStore, Name: "宁国冷库", Region: "341881001"},
		{ID: "market", Num: 3, Kind: org.Market, Name: "西津农贸市场", Region: "341881002"},
		{ID: "pharmacy", Num: 4, Kind: org.Pharmacy, Name: "国胜大药房", Region: "341881001"},
	} {
		if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		os[o.ID] = o
	}
	f.reg = prometheus.NewRegistry()
	f.svc = coldchain.New(coldchain.Deps{DB: d, Orgs: os, Subjects: subjects{}, Persons: persons, Facts: f.facts, Metrics: f.reg})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

func staff(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.Unit, ID: "u-" + orgID, Org: orgID, Role: auth.UnitStaff}
}

func ref(num int64, orgID string) string { return fmt.Sprintf("ref:%d:%s", num, orgID) }

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// rows counts what is stored, to assert refusals write nothing.
func rows(t *testing.T, d *db.DB) string {
	t.Helper()
	var out []string
	for _, tbl := range []string{"cc_batches", "cc_stock", "cc_moves", "cc_handlings", "cc_inspections", "cc_exposures", "cc_tasks"} {
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", tbl, n))
	}
	var held int64
	if err := d.QueryRowContext(context.Background(), `SELECT COALESCE(SUM(held), 0) FROM cc_stock`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ") + fmt.Sprintf(" held=%d", held)
}

var batch = coldchain.BatchInput{Product: "冻带鱼", OriginCountry: "br", Port: "上海洋山港", Declaration: "220120221000123456", Quantity: 100}

// A batch moves importer -> cold store -> market with handlers scanning; a
// positive sample at the cold store finds the cold store's and the market's
// stock and the handlers at both, records their exposure and opens their
// tasks; the importer, upstream, is listed for information only: no task,
// and its worker is not exposed.
func TestChainAndPositiveTrace(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		b, err := f.svc.Register(ctx, staff("imp"), batch)
		if err != nil {
			t.Fatal(err)
		}
		if b.OriginCountry != "BR" || b.Quantity != 100 || len(b.Code) != 16 {
			t.Fatalf("batch %+v", b)
		}
		step := func() { f.now = f.now.Add(time.Hour) }
		step()
		if _, err := f.svc.Handle(ctx, staff("imp"), ref(f.nums[0], "imp"), b.Code); err != nil {
			t.Fatal(err)
		}
		step()
		// A scanner gun reads the label's QR: the public page's address.
		if _, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: "https://hc.example/cc/" + strings.ToLower(b.Code), To: "store", Quantity: 60}); err != nil {
			t.Fatal(err)
		}
		step()
		if _, err := f.svc.Handle(ctx, staff("store"), ref(f.nums[1], "store"), b.Code); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Transfer(ctx, staff("store"), coldchain.MoveInput{Code: b.Code, To: "market", Quantity: 25}); err != nil {
			t.Fatal(err)
		}
		step()
		if _, err := f.svc.Handle(ctx, staff("market"), ref(f.nums[2], "market"), b.Code); err != nil {
			t.Fatal(err)
		}
		// The same worker again later: one exposure, at the latest handling.
		step()
		if _, err := f.svc.Handle(ctx, staff("market"), ref(f.nums[2], "market"), b.Code); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Sell(ctx, staff("market"), coldchain.MoveInput{Code: b.Code, Quantity: 5}); err != nil {
			t.Fatal(err)
		}
		neg, err := f.svc.Inspect(ctx, staff("store"), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Packaging, Result: "negative"})
		if err != nil || len(neg.Tasks) != 0 || len(f.facts.got) != 0 {
			t.Fatalf("negative inspection: %v %+v, facts %d", err, neg, len(f.facts.got))
		}
		step()
		found := f.now
		tr, err := f.svc.Inspect(ctx, staff("store"), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Goods, Result: "positive",
			Certificate: "CDC-2022-031", SampledAt: f.now.Add(-30 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if got := stocks(tr.Holders); got != "store:60/35/0 market:25/20/5" {
			t.Fatalf("downstream holders %s", got)
		}
		if got := stocks(tr.Upstream); got != "imp:100/40/0" {
			t.Fatalf("upstream holders %s", got)
		}
		if len(tr.Handlers) != 2 || tr.Handlers[0].Org != "store" || tr.Handlers[1].Org != "market" ||
			!tr.Handlers[1].HandledAt.Equal(found.Add(-time.Hour)) || tr.Handlers[1].MaskedName != "张*国" {
			t.Fatalf("handlers %+v", tr.Handlers)
		}
		if got := tasks(tr.Tasks); got != "store:seal:35 store:disinfect:0 market:seal:20 market:disinfect:0" {
			t.Fatalf("tasks %s", got)
		}
		if len(f.facts.got) != 2 {
			t.Fatalf("%d facts", len(f.facts.got))
		}
		for _, nf := range f.facts.got {
			if nf.Person == f.nums[0] {
				t.Fatal("the importer's worker, upstream, was exposed")
			}
		}
		for _, nf := range f.facts.got {
			if nf.Fact.Kind != fact.ColdChainExposure || !nf.Fact.At.Equal(found) || nf.Fact.Attrs["batch"] != b.ID {
				t.Fatalf("fact %+v", nf)
			}
			if err := fact.Validate(nf.Fact.Kind, nf.Fact.At, nf.Fact.Until, nf.Fact.Attrs); err != nil {
				t.Fatalf("fact does not validate: %v", err)
			}
		}

		// The market closes its seal task, once; another holder cannot.
		var seal string
		for _, tk := range tr.Tasks {
			if tk.Org == "market" && tk.Kind == coldchain.TaskSeal {
				seal = tk.ID
			}
		}
		_, err = f.svc.CloseTask(ctx, staff("store"), seal)
		wantErr(t, err, coldchain.ErrTaskNotFound)
		if _, err := f.svc.CloseTask(ctx, staff("market"), seal); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CloseTask(ctx, staff("market"), seal)
		wantErr(t, err, coldchain.ErrTaskDone)

		// The consumer's view: origin, inspections, chain; nothing personal.
		pub, err := f.svc.Public(ctx, b.Code)
		if err != nil || len(pub.Moves) != 4 || len(pub.Inspections) != 2 || pub.Handlings != nil || !pub.Batch.Positive() {
			t.Fatalf("public %v %+v", err, pub)
		}
		// The report: operators in the region of a holder; elsewhere none.
		rep, err := f.svc.Report(ctx, admin, tr.Inspection.ID)
		if err != nil || len(rep.Handlers) != 2 || len(rep.Tasks) != 4 || stocks(rep.Holders) != "store:60/35/0 market:25/20/5" ||
			stocks(rep.Upstream) != "imp:100/40/0" {
			t.Fatalf("report %v %+v", err, rep)
		}
		_, err = f.svc.Report(ctx, other, tr.Inspection.ID)
		wantErr(t, err, coldchain.ErrInspectionNotFound)
		_, err = f.svc.Report(ctx, staff("market"), tr.Inspection.ID)
		wantErr(t, err, auth.ErrForbidden)
		var csv bytes.Buffer
		if err := f.svc.WriteReport(&csv, rep, false); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csv.String(), "张*国") || strings.Contains(csv.String(), "张建国") || !strings.Contains(csv.String(), "经营单位,西津农贸市场,market,25,20,5,0") ||
			!strings.Contains(csv.String(), "上游单位（仅供参考）,宁国进出口,importer,100,40,0,60") || strings.Contains(csv.String(), "王*明") {
			t.Fatalf("csv:\n%s", csv.String())
		}
		list, err := f.svc.Batches(ctx, other, false)
		if err != nil || len(list) != 0 {
			t.Fatalf("another region's list: %v %d", err, len(list))
		}
		if list, err := f.svc.Batches(ctx, admin, true); err != nil || len(list) != 1 {
			t.Fatalf("positive batches: %v %d", err, len(list))
		}
	})
}

func stocks(hs []*coldchain.Stock) string {
	var out []string
	for _, h := range hs {
		out = append(out, fmt.Sprintf("%s:%d/%d/%d", h.Org, h.Received, h.Held, h.Sold))
	}
	return strings.Join(out, " ")
}

func tasks(ts []*coldchain.Task) string {
	var out []string
	for _, tk := range ts {
		out = append(out, fmt.Sprintf("%s:%s:%d", tk.Org, tk.Kind, tk.Quantity))
	}
	return strings.Join(out, " ")
}

// A second positive of the same batch, at the importer, reopens and
// duplicates nothing: the cold store's and the market's tasks (one of them
// closed) stay as they are, their handlers are not exposed again; only the
// importer, now the sampling holder, gets its tasks, and its worker and a
// worker who handled the batch at the market since are exposed.
func TestRepeatPositive(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		step := func() { f.now = f.now.Add(time.Hour) }
		b, err := f.svc.Register(ctx, staff("imp"), batch)
		if err != nil {
			t.Fatal(err)
		}
		step()
		for _, s := range []func() error{
			func() error { _, err := f.svc.Handle(ctx, staff("imp"), ref(f.nums[0], "imp"), b.Code); return err },
			func() error {
				_, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: b.Code, To: "store", Quantity: 60})
				return err
			},
			func() error { _, err := f.svc.Handle(ctx, staff("store"), ref(f.nums[1], "store"), b.Code); return err },
			func() error {
				step()
				_, err := f.svc.Transfer(ctx, staff("store"), coldchain.MoveInput{Code: b.Code, To: "market", Quantity: 25})
				return err
			},
			func() error {
				_, err := f.svc.Handle(ctx, staff("market"), ref(f.nums[2], "market"), b.Code)
				return err
			},
		} {
			if err := s(); err != nil {
				t.Fatal(err)
			}
		}
		step()
		positive := func(at string) *coldchain.Trace {
			t.Helper()
			tr, err := f.svc.Inspect(ctx, staff(at), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Goods, Result: "positive"})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		first := positive("store")
		if got := tasks(first.Tasks); got != "store:seal:35 store:disinfect:0 market:seal:25 market:disinfect:0" {
			t.Fatalf("first tasks %s", got)
		}
		for _, tk := range first.Tasks {
			if tk.Org == "market" && tk.Kind == coldchain.TaskSeal {
				if _, err := f.svc.CloseTask(ctx, staff("market"), tk.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		step()
		again := positive("store")
		if len(again.Tasks) != 0 || len(again.Handlers) != 0 || len(f.facts.got) != 2 || stocks(again.Holders) != "store:60/35/0 market:25/25/0" {
			t.Fatalf("the same positive again: tasks %s, %d handlers, %d facts", tasks(again.Tasks), len(again.Handlers), len(f.facts.got))
		}
		step()
		if _, err := f.svc.Handle(ctx, staff("market"), ref(f.nums[1], "market"), b.Code); err != nil {
			t.Fatal(err)
		}
		step()
		third := positive("imp")
		if got := tasks(third.Tasks); got != "imp:seal:40 imp:disinfect:0" {
			t.Fatalf("a positive at the importer opened %s", got)
		}
		var names []string
		for _, e := range third.Handlers {
			names = append(names, e.Org+":"+e.MaskedName)
		}
		if got := strings.Join(names, " "); got != "imp:王*明 market:李*英" {
			t.Fatalf("a positive at the importer exposed %s", got)
		}
		var open, done int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE done_at IS NULL), COUNT(*) FILTER (WHERE done_at IS NOT NULL)
			FROM cc_tasks`).Scan(&open, &done); err != nil {
			t.Fatal(err)
		}
		if open != 5 || done != 1 {
			t.Fatalf("%d tasks open, %d done; want 5 and 1", open, done)
		}
		for name, want := range map[string]float64{"healthcode_coldchain_traces_total": 3, "healthcode_coldchain_tasks_opened_total": 6,
			"healthcode_coldchain_exposures_total": 4, "healthcode_coldchain_handlings_total": 4} {
			if got := metricstest.Value(t, f.reg, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		if got := metricstest.Value(t, f.reg, "healthcode_coldchain_moves_total", "kind", "transfer"); got != 2 {
			t.Errorf("transfers counted %v", got)
		}
	})
}

// Bad input is refused precisely and writes nothing.
func TestRefusals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		b, err := f.svc.Register(ctx, staff("imp"), batch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: b.Code, To: "store", Quantity: 10}); err != nil {
			t.Fatal(err)
		}
		before := rows(t, d)
		bad := batch
		for _, c := range []struct {
			name string
			do   func() error
			want error
		}{
			{"no product", func() error {
				bad.Product = " "
				_, err := f.svc.Register(ctx, staff("imp"), bad)
				bad = batch
				return err
			}, coldchain.ErrProductInvalid},
			{"a bad country", func() error {
				bad.OriginCountry = "BRA"
				_, err := f.svc.Register(ctx, staff("imp"), bad)
				bad = batch
				return err
			}, coldchain.ErrCountryInvalid},
			{"a short declaration", func() error {
				bad.Declaration = "1234"
				_, err := f.svc.Register(ctx, staff("imp"), bad)
				bad = batch
				return err
			}, coldchain.ErrDeclarationInvalid},
			{"no quantity", func() error {
				bad.Quantity = 0
				_, err := f.svc.Register(ctx, staff("imp"), bad)
				bad = batch
				return err
			}, coldchain.ErrQuantityInvalid},
			{"a cold store registering", func() error { _, err := f.svc.Register(ctx, staff("store"), batch); return err }, org.ErrScopeMissing},
			{"an operator registering", func() error { _, err := f.svc.Register(ctx, admin, batch); return err }, org.ErrOrgOnly},
			{"more than held", func() error {
				_, err := f.svc.Transfer(ctx, staff("store"), coldchain.MoveInput{Code: b.Code, To: "market", Quantity: 11})
				return err
			}, coldchain.ErrQuantityExceeds},
			{"selling more than held", func() error {
				_, err := f.svc.Sell(ctx, staff("imp"), coldchain.MoveInput{Code: b.Code, Quantity: 91})
				return err
			}, coldchain.ErrQuantityExceeds},
			{"a batch not held", func() error {
				_, err := f.svc.Transfer(ctx, staff("market"), coldchain.MoveInput{Code: b.Code, To: "store", Quantity: 1})
				return err
			}, coldchain.ErrNotHeld},
			{"a handler at a holder without the batch", func() error {
				_, err := f.svc.Handle(ctx, staff("market"), ref(f.nums[0], "market"), b.Code)
				return err
			}, coldchain.ErrNotHeld},
			{"another holder's subject", func() error {
				_, err := f.svc.Handle(ctx, staff("store"), ref(f.nums[0], "imp"), b.Code)
				return err
			}, gateway.ErrSubjectForeign},
			{"to a pharmacy", func() error {
				_, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: b.Code, To: "pharmacy", Quantity: 1})
				return err
			}, coldchain.ErrRecipientInvalid},
			{"to itself", func() error {
				_, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: b.Code, To: "imp", Quantity: 1})
				return err
			}, coldchain.ErrRecipientInvalid},
			{"a garbled code", func() error {
				_, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: "HC1:abc", To: "store", Quantity: 1})
				return err
			}, coldchain.ErrCodeInvalid},
			{"an inspection of an unknown batch", func() error {
				_, err := f.svc.Inspect(ctx, staff("store"), coldchain.InspectionInput{Code: "CC00000000000000", Kind: coldchain.Goods, Result: "positive"})
				return err
			}, coldchain.ErrBatchNotFound},
			{"an inspection by a market", func() error {
				_, err := f.svc.Inspect(ctx, staff("market"), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Goods, Result: "positive"})
				return err
			}, org.ErrScopeMissing},
			{"a disinfection without certificate", func() error {
				_, err := f.svc.Inspect(ctx, staff("store"), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Disinfection})
				return err
			}, coldchain.ErrCertificateInvalid},
			{"a sample without result", func() error {
				_, err := f.svc.Inspect(ctx, staff("store"), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Goods})
				return err
			}, coldchain.ErrResultInvalid},
			{"a sample in the future", func() error {
				_, err := f.svc.Inspect(ctx, staff("store"), coldchain.InspectionInput{Code: b.Code, Kind: coldchain.Goods, Result: "negative", SampledAt: f.now.Add(time.Hour)})
				return err
			}, coldchain.ErrSampledAtInvalid},
			{"an operator without result.write", func() error {
				_, err := f.svc.Inspect(ctx, viewer, coldchain.InspectionInput{Code: b.Code, Holder: "store", Kind: coldchain.Goods, Result: "positive"})
				return err
			}, auth.ErrForbidden},
			{"an operator of another region", func() error {
				_, err := f.svc.Inspect(ctx, other, coldchain.InspectionInput{Code: b.Code, Holder: "store", Kind: coldchain.Goods, Result: "positive"})
				return err
			}, org.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) { wantErr(t, c.do(), c.want) })
		}
		if after := rows(t, d); after != before || len(f.facts.got) != 0 {
			t.Fatalf("refusals wrote: %s, was %s", after, before)
		}
	})
}

// A positive trace whose facts could not be recorded is finished by the
// worker, once.
func TestRecordPending(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		b, err := f.svc.Register(ctx, staff("imp"), batch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Handle(ctx, staff("imp"), ref(f.nums[0], "imp"), b.Code); err != nil {
			t.Fatal(err)
		}
		f.facts.broken = true
		if _, err := f.svc.Inspect(ctx, admin, coldchain.InspectionInput{Code: b.Code, Holder: "imp", Kind: coldchain.Goods, Result: "positive"}); err == nil {
			t.Fatal("no error while the status engine is down")
		}
		f.facts.broken = false
		for range 2 {
			if err := f.svc.RecordPending(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(f.facts.got) != 1 || f.facts.got[0].Person != f.nums[0] {
			t.Fatalf("facts %+v", f.facts.got)
		}
	})
}

// TestTransfersBothWays passes part of a batch from the importer to the
// cold store while the cold store passes some back: each move takes the
// giver's stock row and then the receiver's, and they must take the two in
// one order, or PostgreSQL ends one of them as a deadlock. On PostgreSQL
// the test holds the cold store's row until both wait, the cold store's
// move first, so that it gets its own row first and then needs the
// importer's, which the other move took.
func TestTransfersBothWays(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		b, err := f.svc.Register(ctx, staff("imp"), batch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Transfer(ctx, staff("imp"), coldchain.MoveInput{Code: b.Code, To: "store", Quantity: 60}); err != nil {
			t.Fatal(err)
		}
		var moves []func() error
		for _, mv := range []struct{ from, to string }{{"store", "imp"}, {"imp", "store"}} {
			moves = append(moves, func() error {
				_, err := f.svc.Transfer(ctx, staff(mv.from), coldchain.MoveInput{Code: b.Code, To: mv.to, Quantity: 10})
				return err
			})
		}
		for _, err := range dbtest.Contend(t, d, `SELECT held FROM cc_stock WHERE batch_id = $1 AND org_id = 'store' FOR UPDATE`, []any{b.ID}, moves...) {
			if err != nil {
				t.Fatal(err)
			}
		}
		var imp, store int64
		if err := d.QueryRowContext(ctx, `SELECT (SELECT held FROM cc_stock WHERE batch_id = $1 AND org_id = 'imp'),
			(SELECT held FROM cc_stock WHERE batch_id = $1 AND org_id = 'store')`, b.ID).Scan(&imp, &store); err != nil {
			t.Fatal(err)
		}
		if imp != 40 || store != 60 {
			t.Errorf("the importer holds %d and the cold store %d, want 40 and 60", imp, store)
		}
	})
}
