package coldchain_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/coldchain"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/status"
)

// countFacts counts what it is given: the benchmark measures the trace,
// not the status engine.
type countFacts struct{ n int }

func (c *countFacts) Record(_ context.Context, nf ...status.NewFact) (int, error) {
	c.n += len(nf)
	return len(nf), nil
}

// BenchmarkPositiveTrace traces a batch that went through 10,000 transfers
// among 1,000 holders and was handled in 100,000 scans by 10,000 workers:
// one positive inspection finds every holder and handler, opens the tasks
// and hands the 10,000 exposures to the status engine.
func BenchmarkPositiveTrace(b *testing.B) {
	const holders, transfers, workers, scans = 1000, 10_000, 10_000, 100_000
	ctx := context.Background()
	d := dbtest.NewSQLite(b)
	e := d.Engine()
	os := orgs{}
	var rows []any
	for i := range holders {
		o := &org.Org{ID: fmt.Sprintf("h%04d", i), Num: int64(i + 1), Kind: org.ColdStore, Name: fmt.Sprintf("冷库%d", i), Region: "341881001"}
		if i == 0 {
			o.Kind = org.Importer
		}
		os[o.ID] = o
		rows = append(rows, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("U%d", i), o.Region, "", 0, "bench")
	}
	mustInsert(b, d, e, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by) VALUES `, 9, rows)
	rows = rows[:0]
	for i := range workers {
		rows = append(rows, int64(i+1), fmt.Sprintf("p%d", i), "resident_id", []byte(fmt.Sprintf("i%d", i)), []byte{1}, []byte{1}, []byte{1},
			"341881001", 0, "bench")
	}
	mustInsert(b, d, e, `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, created_at, created_by) VALUES `, 10, rows)

	f := &countFacts{}
	svc := coldchain.New(coldchain.Deps{DB: d, Orgs: os, Subjects: subjects{}, Facts: f})
	t0 := time.Date(2022, 4, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	svc.SetClock(func() time.Time { return now })
	batch, err := svc.Register(ctx, staff("h0000"), coldchain.BatchInput{Product: "冻带鱼", OriginCountry: "BR", Port: "上海洋山港",
		Declaration: "220120221000123456", Quantity: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	// The chain: holder i passes stock on to holder (i+1) % holders, ten rounds.
	held := make([]int64, holders)
	held[0] = 10_000_000
	rows = rows[:0]
	for i := range transfers {
		from, to := i%holders, (i+1)%holders
		q := held[from] / 2
		held[from] -= q
		held[to] += q
		rows = append(rows, fmt.Sprintf("m%d", i), batch.ID, coldchain.MoveTransfer, fmt.Sprintf("h%04d", from), fmt.Sprintf("h%04d", to), q,
			t0.Add(time.Duration(i)*time.Second).UnixMilli(), "bench")
	}
	mustInsert(b, d, e, `INSERT INTO cc_moves (id, batch_id, kind, from_org, to_org, quantity, at, by_actor) VALUES `, 8, rows)
	if _, err := d.ExecContext(ctx, `DELETE FROM cc_stock`); err != nil {
		b.Fatal(err)
	}
	rows = rows[:0]
	for i, h := range held {
		rows = append(rows, batch.ID, fmt.Sprintf("h%04d", i), "341881001", h, h, 0, t0.UnixMilli())
	}
	mustInsert(b, d, e, `INSERT INTO cc_stock (batch_id, org_id, org_region, received, held, sold, received_at) VALUES `, 7, rows)
	rows = rows[:0]
	for i := range scans {
		rows = append(rows, fmt.Sprintf("s%d", i), batch.ID, fmt.Sprintf("h%04d", i%holders), int64(i%workers+1), "王*明",
			t0.Add(time.Duration(i)*time.Second).UnixMilli(), "bench")
	}
	mustInsert(b, d, e, `INSERT INTO cc_handlings (id, batch_id, org_id, person_num, masked_name, at, by_actor) VALUES `, 7, rows)
	now = t0.Add(48 * time.Hour)

	b.ResetTimer()
	for b.Loop() {
		tr, err := svc.Inspect(ctx, staff("h0001"), coldchain.InspectionInput{Code: batch.Code, Kind: coldchain.Goods, Result: "positive"})
		if err != nil {
			b.Fatal(err)
		}
		if len(tr.Holders) != holders || len(tr.Handlers) != workers {
			b.Fatalf("found %d holders and %d handlers", len(tr.Holders), len(tr.Handlers))
		}
		// A repeat positive finds only what is new; each run measures a
		// first trace.
		b.StopTimer()
		for _, tbl := range []string{"cc_exposures", "cc_tasks"} {
			if _, err := d.ExecContext(ctx, `DELETE FROM `+tbl); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}

func mustInsert(b *testing.B, d *db.DB, e db.Engine, head string, cols int, rows []any) {
	b.Helper()
	if _, err := (db.Insert{Head: head, Cols: cols}).Exec(context.Background(), d, e, rows); err != nil {
		b.Fatal(err)
	}
}
