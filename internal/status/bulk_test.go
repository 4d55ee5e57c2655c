package status

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
)

// failFactsOf makes every insert of a fact about num fail until the
// returned function is called: a chunk that dies midway.
func failFactsOf(t *testing.T, d *db.DB, num int64) (heal func()) {
	t.Helper()
	ctx := context.Background()
	var stmts []string
	var drop string
	if d.Engine() == db.SQLite {
		stmts = []string{fmt.Sprintf(`CREATE TRIGGER fail_chunk BEFORE INSERT ON facts WHEN NEW.person_num = %d
			BEGIN SELECT RAISE(ABORT, 'disk full'); END`, num)}
		drop = `DROP TRIGGER fail_chunk`
	} else {
		stmts = []string{fmt.Sprintf(`CREATE FUNCTION fail_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.person_num = %d THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$`, num),
			`CREATE TRIGGER fail_chunk BEFORE INSERT ON facts FOR EACH ROW EXECUTE FUNCTION fail_chunk()`}
		drop = `DROP TRIGGER fail_chunk ON facts`
	}
	for _, q := range stmts {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		if _, err := d.ExecContext(ctx, drop); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBulkRecordResumesAfterAFailedChunk: a big keyed batch is stored in
// chunks; when one fails, the persons of the chunks before it have their
// facts and colours (here and on another node), the rest nothing, and a
// retry stores the rest without storing anything twice.
func TestBulkRecordResumesAfterAFailedChunk(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		bulk := f.node(Config{BulkFacts: 10, Chunk: 4}, nil)
		other := f.node(Config{}, nil)
		people := f.bulk(20, "341881003")
		// One person already has a history the new fact joins.
		rec(t, f.svc, people[1], fact.NATResult, t0.Add(-time.Hour), negative)
		var batch []NewFact
		// Given out of order, as a map of stays gives them.
		for i := len(people) - 1; i >= 0; i-- {
			batch = append(batch, NewFact{Person: people[i], Key: "area:1", RecordedBy: "system",
				Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}}})
		}
		batch = append(batch, NewFact{Person: people[0], Key: "area:1:b", RecordedBy: "system", Fact: fact.Fact{Kind: fact.Declaration, At: t0}})

		// Chunks of four persons: the fourth (people 12-15) fails.
		heal := failFactsOf(t, d, people[13])
		if n, err := bulk.Record(ctx, batch...); err == nil {
			t.Fatalf("Record with a failing chunk = %d, nil", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE kind <> $1`, fact.NATResult); n != 13 {
			t.Fatalf("%d facts stored before the failure, want 13 (three chunks)", n)
		}
		if err := other.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		for i, p := range people {
			c := G
			if i < 12 {
				c = Y
			}
			if got, _ := other.Color(p); got != c {
				t.Errorf("person %d after the failure: %v on another node, want %v", i, got, c)
			}
			if c == Y {
				want(t, bulk, p, Y, "watched_drug")
			} else {
				want(t, bulk, p, G, "")
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'fact.record' AND subject = 'persons'`); n != 1 {
			t.Fatalf("%d audit entries for the stored chunks, want 1", n)
		}

		heal()
		n, err := bulk.Record(ctx, batch...)
		if err != nil || n != 8 {
			t.Fatalf("retry = %d, %v; want the 8 facts not yet stored", n, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE kind <> $1`, fact.NATResult); n != len(batch) {
			t.Fatalf("%d facts after the retry, want %d", n, len(batch))
		}
		if err := other.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		for i, p := range people {
			want(t, bulk, p, Y, "watched_drug")
			if got, _ := other.Color(p); got != Y {
				t.Errorf("person %d after the retry: %v on another node", i, got)
			}
		}
		// One change and one text per person, however many attempts.
		if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE new_color = $1`, int64(Y)); n != len(people) {
			t.Fatalf("%d changes to yellow, want %d", n, len(people))
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notifications`); n != len(people) {
			t.Fatalf("%d notifications, want %d", n, len(people))
		}
		var facts int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN detail LIKE '%"facts":8%' THEN 1 ELSE 0 END), 0)
			FROM audit_log WHERE action = 'fact.record' AND subject = 'persons'`).Scan(new(int), &facts); err != nil {
			t.Fatal(err)
		}
		if facts != 1 {
			t.Fatal("the retry is not audited with the 8 facts it stored")
		}
		// The pack holds the old fact and the new ones, once each.
		got, _, err := bulk.packsOf(ctx, d, []int64{people[0], people[1]})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("packs of the first two persons hold %d facts, want 4", len(got))
		}
	})
}

// TestBulkRecordDecidesAsOneTransaction: a batch stored in chunks gives
// every person the decision, reason and next evaluation that the same
// facts recorded in one transaction give.
func TestBulkRecordDecidesAsOneTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		bulk := f.node(Config{BulkFacts: 2, Chunk: 3}, nil)
		histories := [][]fact.Fact{
			{{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "fever"}}},
			{{Kind: fact.NATResult, At: t0.Add(-2 * time.Hour), Attrs: negative}, {Kind: fact.ContactClose, At: t0.Add(-day)}},
			{{Kind: fact.CaseConfirmed, At: t0}},
			{{Kind: fact.Declaration, At: t0}},
			{{Kind: fact.ContactClose, At: t0.Add(-3 * day)}, {Kind: fact.NATResult, At: t0, Attrs: mixedNegative}},
			{{Kind: fact.ClinicFever, At: t0, Attrs: map[string]any{"clinic": "h1"}}},
			{},
		}
		one, chunked := f.bulk(len(histories), "341881003"), f.bulk(len(histories), "341881003")
		var a, b []NewFact
		for i, h := range histories {
			for k, x := range h {
				key := fmt.Sprint("k", k)
				a = append(a, NewFact{Person: one[i], Key: key, RecordedBy: "system", Fact: x})
				b = append(b, NewFact{Person: chunked[i], Key: key, RecordedBy: "system", Fact: x})
			}
		}
		// The default node stores these few in one transaction.
		if _, err := f.svc.Record(ctx, a...); err != nil {
			t.Fatal(err)
		}
		if _, err := bulk.Record(ctx, b...); err != nil {
			t.Fatal(err)
		}
		for i := range histories {
			x, err := f.svc.Status(ctx, one[i])
			if err != nil {
				t.Fatal(err)
			}
			y, err := bulk.Status(ctx, chunked[i])
			if err != nil {
				t.Fatal(err)
			}
			if x.Color != y.Color || x.RuleID != y.RuleID || x.Reason != y.Reason || !x.NextEval.Equal(y.NextEval) {
				t.Errorf("history %d: one transaction %v/%s next %v, chunks %v/%s next %v", i, x.Color, x.RuleID, x.NextEval,
					y.Color, y.RuleID, y.NextEval)
			}
			if c, _ := bulk.Color(chunked[i]); c != y.Color {
				t.Errorf("history %d: cache %v, store %v", i, c, y.Color)
			}
		}
	})
}
