package status

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
)

func TestPackRoundTrip(t *testing.T) {
	in := []storedFact{
		{num: 7, id: 1, kind: fact.NATResult, at: 1648771200000, attrs: `{"result":"negative"}`, source: "lab/1", recorded: 1648771300000},
		{num: 7, id: 900000000001, kind: "unknown.kind", at: -5, until: 1648771200001, attrs: `{}`, recorded: 1},
		{num: 7, id: 3, kind: fact.Declaration, at: 0, attrs: `{"note":"核酸阴性"}`},
	}
	var data []byte
	bounds := map[int]int{} // byte offset -> facts before it
	for i := range in {
		data = appendPacked(data, &in[i])
		bounds[len(data)] = i + 1
	}
	out, err := unpack(nil, 7, data, 1<<62)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("unpack = %+v, %v", out, err)
	}
	if out, _ := unpack(nil, 7, data, 3); len(out) != 2 || out[1].id != 3 {
		t.Fatalf("unpack up to id 3 = %+v", out)
	}
	for cut := 1; cut < len(data); cut++ {
		out, err := unpack(nil, 7, data[:cut], 1<<62)
		if n, ok := bounds[cut]; ok != (err == nil) || (ok && len(out) != n) {
			t.Fatalf("a pack cut at byte %d: %d facts, %v", cut, len(out), err)
		}
	}
}

// TestPacksFollowTheFactsTable: after any mix of Records the packs hold
// exactly the facts table, in order; RebuildPacks restores a damaged one.
func TestPacksFollowTheFactsTable(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a, b := f.person(""), f.person("")
		f.clock.set(t0.Add(day))
		rec(t, f.svc, a, fact.ClinicFever, t0, map[string]any{"clinic": "h1", "temperature": 38.5, "symptoms": []any{"fever"}})
		f.svc.Record(ctx,
			NewFact{Person: b, Fact: fact.Fact{Kind: fact.ContactSecondary, At: t0}},
			NewFact{Person: a, Key: "k", Fact: fact.Fact{Kind: fact.NATResult, At: t0.Add(time.Hour), Attrs: negative, Source: "lab"}},
			NewFact{Person: a, Key: "k", Fact: fact.Fact{Kind: fact.NATResult, At: t0.Add(time.Hour), Attrs: negative}})
		check := func() {
			t.Helper()
			for _, p := range []int64{a, b} {
				rows, err := f.svc.factRowsOf(ctx, d, []int64{p})
				if err != nil {
					t.Fatal(err)
				}
				packed, _, err := f.svc.packsOf(ctx, d, []int64{p})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(rows, packed) {
					t.Fatalf("person %d: facts %+v, pack %+v", p, rows, packed)
				}
			}
		}
		check()
		want(t, f.svc, a, G, "")
		want(t, f.svc, b, Y, "secondary_contact")
		if _, err := d.ExecContext(ctx, `UPDATE fact_packs SET data = $1 WHERE person_num = $2`, []byte{0xff}, a); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `DELETE FROM fact_packs WHERE person_num = $1`, b); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RebuildPacks(ctx); err != nil {
			t.Fatal(err)
		}
		check()
	})
}
