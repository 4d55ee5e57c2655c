package status

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
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
		// One change and one text per person, however many attempts.
		wantYellowOnce(t, d, bulk, other, people)
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

// streamOf hands facts to RecordStream per calls of the given sizes (by
// person; the last call takes the rest), counting the calls.
// wantYellowOnce checks that every person is yellow for the watched drug,
// here and on another node once it tailed the change log, with one change
// and one notification each.
func wantYellowOnce(t *testing.T, d *db.DB, bulk, other *Service, people []int64) {
	t.Helper()
	if err := other.Tail(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, p := range people {
		want(t, bulk, p, Y, "watched_drug")
		if got, _ := other.Color(p); got != Y {
			t.Errorf("person %d: %v on another node", i, got)
		}
	}
	if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE new_color = $1`, int64(Y)); n != len(people) {
		t.Fatalf("%d changes to yellow, want %d", n, len(people))
	}
	if n := queued(t, bulk, d, "TRUE"); n != len(people) {
		t.Fatalf("%d notifications, want %d", n, len(people))
	}
}

func streamOf(facts []NewFact, per int, calls *int) func(context.Context) ([]NewFact, error) {
	i := 0
	return func(context.Context) ([]NewFact, error) {
		*calls++
		if i >= len(facts) {
			return nil, nil
		}
		j, persons := i, 0
		for j < len(facts) && (persons < per || facts[j].Person == facts[j-1].Person) {
			if j == i || facts[j].Person != facts[j-1].Person {
				persons++
			}
			j++
		}
		out := facts[i:j]
		i = j
		return out, nil
	}
}

// TestRecordStreamStoresLikeRecord: facts handed over piece by piece end as
// the same facts given to Record at once: the colours here and on another
// node, one change and one text per person, one audit entry; a stream that
// fails midway leaves whole chunks, and the same stream again stores the
// rest and nothing twice; a small stream is one Record.
func TestRecordStreamStoresLikeRecord(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		bulk := f.node(Config{BulkFacts: 10, Chunk: 4}, nil)
		other := f.node(Config{}, nil)
		people := f.bulk(20, "341881003")
		rec(t, f.svc, people[1], fact.NATResult, t0.Add(-time.Hour), negative)
		var facts []NewFact
		for _, p := range people {
			facts = append(facts, NewFact{Person: p, Key: "area:1", RecordedBy: "system",
				Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}}})
			if p == people[0] {
				facts = append(facts, NewFact{Person: p, Key: "area:1:b", RecordedBy: "system", Fact: fact.Fact{Kind: fact.Declaration, At: t0}})
			}
		}
		heal := failFactsOf(t, d, people[13])
		calls := 0
		if n, err := bulk.RecordStream(ctx, streamOf(facts, 3, &calls)); err == nil {
			t.Fatalf("RecordStream with a failing chunk = %d, nil", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE kind <> $1`, fact.NATResult); n != 13 {
			t.Fatalf("%d facts stored before the failure, want 13 (three chunks)", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'fact.record' AND subject = 'persons'`); n != 1 {
			t.Fatalf("%d audit entries for the stored chunks, want 1", n)
		}
		heal()
		calls = 0
		n, err := bulk.RecordStream(ctx, streamOf(facts, 3, &calls))
		if err != nil || n != 8 {
			t.Fatalf("retry = %d, %v; want the 8 facts not yet stored", n, err)
		}
		if calls != 8 {
			t.Fatalf("next called %d times, want 8 (seven slices and the end)", calls)
		}
		wantYellowOnce(t, d, bulk, other, people)
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'fact.record' AND subject = 'persons'`); n != 2 {
			t.Fatalf("%d audit entries, want 2 (the failed call's chunks and the retry)", n)
		}
		got, _, err := bulk.packsOf(ctx, d, []int64{people[0], people[1]})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 {
			t.Fatalf("packs of the first two persons hold %d facts, want 4", len(got))
		}

		// Out of order, and without keys: refused, nothing stored.
		more := f.bulk(12, "341881003")
		var loose []NewFact
		for i := len(more) - 1; i >= 0; i-- {
			loose = append(loose, NewFact{Person: more[i], Key: "k", RecordedBy: "system", Fact: fact.Fact{Kind: fact.Declaration, At: t0}})
		}
		if _, err := bulk.RecordStream(ctx, streamOf(loose, 2, &calls)); err == nil {
			t.Fatal("a stream going back in person numbers was taken")
		}
		for i := range loose {
			loose[i].Key = ""
		}
		slices.Reverse(loose)
		if _, err := bulk.RecordStream(ctx, streamOf(loose, 2, &calls)); !errors.Is(err, errUnkeyed) {
			t.Fatalf("a stream without keys: %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE kind = $1`, fact.Declaration); n != 1 {
			t.Fatalf("%d declarations stored, want the 1 of before", n)
		}
		// Fewer than BulkFacts: one Record, unkeyed facts too.
		if n, err := bulk.RecordStream(ctx, streamOf(loose[:5], 2, &calls)); err != nil || n != 5 {
			t.Fatalf("small stream = %d, %v", n, err)
		}
	})
}

// TestManyChangesQueueTheirTexts: a long run of changes with the same
// texts queues the same notification and writes the same status row for
// each person as a short one does.
func TestManyChangesQueueTheirTexts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		people := f.bulk(copyRun+5, "341881003")
		facts := coughRun(people)
		short := f.bulk(2, "341881004")
		// Changes of another node's write between the runs' seqs do not
		// belong to them.
		for _, batch := range [][]NewFact{facts[:3], {{Person: short[0], RecordedBy: "system", Fact: fact.Fact{Kind: fact.CaseConfirmed, At: t0}}},
			facts[3:], {{Person: short[1], RecordedBy: "system", Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0,
				Attrs: map[string]any{"drug_class": "cough"}}}}} {
			if _, err := f.svc.Record(ctx, batch...); err != nil {
				t.Fatal(err)
			}
		}
		st := want(t, f.svc, people[0], Y, "watched_drug")
		// The facts of the long run, which share their kind, source, key and
		// recorder, are stored whole, and again not at all.
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE kind = $1 AND source = 'pharmacy:1' AND idem_key = 'run' AND
			recorded_by = 'system' AND recorded_at = $2 AND at = $2 AND until_at IS NULL AND attrs = '{"drug_class":"cough"}'`,
			fact.PharmacyPurchase, t0.UnixMilli()); n != len(people) {
			t.Fatalf("%d facts as given, want %d", n, len(people))
		}
		if n, err := f.svc.Record(ctx, facts...); err != nil || n != 0 {
			t.Fatalf("the same facts again = %d, %v", n, err)
		}
		if n, err := f.svc.Record(ctx, append(facts, NewFact{Person: short[0], RecordedBy: "system", Key: "run",
			Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}, Source: "pharmacy:1"}})...); err != nil || n != 1 {
			t.Fatalf("the same facts and one more = %d, %v", n, err)
		}
		// The long run is queued as one, shown to its persons as pending,
		// and turned into their notifications by the sender.
		if n := count(t, d, `SELECT COUNT(*) FROM notification_runs`); n != 1 {
			t.Fatalf("%d runs queued, want 1", n)
		}
		shown, err := f.svc.Notifications(ctx, people[len(people)-1])
		if err != nil || len(shown) != 1 || shown[0].State != NotePending || shown[0].New != Y || !shown[0].NextAt.Equal(t0) {
			t.Fatalf("the last person's notifications before sending: %+v, %v", shown, err)
		}
		if n := queued(t, f.svc, d, "TRUE"); n != len(people)+2 {
			t.Fatalf("%d notifications, want %d", n, len(people)+2)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notification_runs`); n != 0 {
			t.Fatalf("%d runs left", n)
		}
		after, err := f.svc.Notifications(ctx, people[len(people)-1])
		if err != nil || len(after) != 1 || after[0] != shown[0] {
			t.Fatalf("the last person's notifications once queued: %+v, %v; before %+v", after, err, shown)
		}
		type note struct {
			seq, num, old, new, attempts, next, created       int64
			region, reason, advice, state, delivered, lastErr string
		}
		var notes []note
		err = db.Each(ctx, d, `SELECT n.seq, n.person_num, n.old_color, n.new_color, n.attempts, n.next_at, n.created_at, n.region_code,
			n.reason_zh, n.advice_zh, n.state, n.delivered, n.last_error FROM notifications n ORDER BY n.seq`, nil, func(sc db.Scanner) error {
			var n note
			if err := sc.Scan(&n.seq, &n.num, &n.old, &n.new, &n.attempts, &n.next, &n.created, &n.region, &n.reason, &n.advice,
				&n.state, &n.delivered, &n.lastErr); err != nil {
				return err
			}
			notes = append(notes, n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != len(people)+2 {
			t.Fatalf("%d notifications, want %d", len(notes), len(people)+2)
		}
		byNum := map[int64]note{}
		for _, n := range notes {
			byNum[n.num] = n
		}
		for i, p := range append(append([]int64{}, people...), short[1]) {
			n := byNum[p]
			wantRegion := "341881003"
			if p == short[1] {
				wantRegion = "341881004"
			}
			if n.region != wantRegion || n.old != int64(G) || n.new != int64(Y) || n.reason != st.Reason.ZH || n.advice != st.Advice.ZH ||
				n.state != NotePending || n.attempts != 0 || n.delivered != "" || n.lastErr != "" || n.next != t0.UnixMilli() ||
				n.created != t0.UnixMilli() {
				t.Errorf("person %d's notification: %+v", i, n)
			}
			var seq int64
			if err := d.QueryRowContext(ctx, `SELECT seq FROM status_changes WHERE person_num = $1`, p).Scan(&seq); err != nil || seq != n.seq {
				t.Errorf("person %d: notification seq %d, change %d (%v)", i, n.seq, seq, err)
			}
		}
		// Their status rows too, but for the version, which is the change's.
		type statusRow struct {
			region, rule, reasonZH, reasonEN, adviceZH, adviceEN string
			color, next, version, rulesVer, evaluated, updated   int64
		}
		rows := map[int64]statusRow{}
		err = db.Each(ctx, d, `SELECT person_num, region_code, rule_id, reason_zh, reason_en, advice_zh, advice_en, color,
			COALESCE(next_eval_at, 0), version, rules_version, evaluated_at, updated_at FROM status`, nil, func(sc db.Scanner) error {
			var num int64
			var r statusRow
			if err := sc.Scan(&num, &r.region, &r.rule, &r.reasonZH, &r.reasonEN, &r.adviceZH, &r.adviceEN, &r.color, &r.next,
				&r.version, &r.rulesVer, &r.evaluated, &r.updated); err != nil {
				return err
			}
			rows[num] = r
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		first := rows[people[0]]
		for i, p := range people {
			r := rows[p]
			if r.version != byNum[p].seq {
				t.Errorf("person %d: status version %d, change %d", i, r.version, byNum[p].seq)
			}
			r.version = first.version
			if r != first {
				t.Errorf("person %d's status row %+v, the first's %+v", i, r, first)
			}
		}
		if first.color != int64(Y) || first.rule != "watched_drug" || first.updated != t0.UnixMilli() || first.evaluated != t0.UnixMilli() {
			t.Errorf("status row %+v", first)
		}
		if n := byNum[short[0]]; n.new != int64(R) || n.reason == st.Reason.ZH {
			t.Errorf("the confirmed case's notification: %+v", n)
		}
	})
}

// TestDenseChunkLeavesItsNeighbours: a chunk whose persons fill most of
// their range of numbers reads the status rows and packs of that range at
// once (denseIn); persons in the range but not in the chunk, with rows and
// packs of their own, are neither read into the chunk nor changed, and the
// chunk's persons keep the facts they had.
func TestDenseChunkLeavesItsNeighbours(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		bulk := f.node(Config{BulkFacts: 10, Chunk: 1000}, nil)
		other := f.node(Config{}, nil)
		people := f.bulk(300, "341881003")
		var in, out, before []int64
		for i, p := range people {
			switch i % 3 {
			case 0:
				out = append(out, p)
				rec(t, f.svc, p, fact.CaseConfirmed, t0, nil)
			case 1:
				before = append(before, p)
				rec(t, f.svc, p, fact.NATResult, t0.Add(-time.Hour), negative)
				in = append(in, p)
			default:
				in = append(in, p)
			}
		}
		if denseIn(in) == nil {
			t.Fatal("the chunk is not read by range")
		}
		var facts []NewFact
		for _, p := range in {
			facts = append(facts, NewFact{Person: p, Key: "area:1", RecordedBy: "system",
				Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}}})
		}
		calls := 0
		if n, err := bulk.RecordStream(ctx, streamOf(facts, 50, &calls)); err != nil || n != len(in) {
			t.Fatalf("RecordStream = %d, %v; want %d", n, err, len(in))
		}
		if err := other.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range in {
			want(t, bulk, p, Y, "watched_drug")
			if got, _ := other.Color(p); got != Y {
				t.Fatalf("person %d: %v on another node, want yellow", p, got)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE new_color = $1`, int64(Y)); n != len(in) {
			t.Fatalf("%d changes to yellow, want %d", n, len(in))
		}
		if n := queued(t, bulk, d, "new_color = $1", int64(Y)); n != len(in) {
			t.Fatalf("%d notifications of yellow, want %d", n, len(in))
		}
		for _, p := range out {
			want(t, f.svc, p, R, "confirmed_case")
			if got, _ := other.Color(p); got != R {
				t.Fatalf("person %d: %v on another node, want red", p, got)
			}
		}
		// The chunk's packs read by range: a fact each, and the earlier
		// negative of a third of them; the neighbours' packs their own one.
		for _, set := range []struct {
			ns    []int64
			facts int
		}{{in, len(in) + len(before)}, {out, len(out)}, {before, 2 * len(before)}} {
			got, _, err := bulk.packsOf(ctx, d, set.ns)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != set.facts {
				t.Fatalf("packs of %d persons hold %d facts, want %d", len(set.ns), len(got), set.facts)
			}
			for _, sf := range got {
				if !slices.Contains(set.ns, sf.num) {
					t.Fatalf("pack of person %d read, not asked for", sf.num)
				}
			}
		}
	})
}

// TestBulkChunksReuseTheirStatements: chunks large enough for full
// thousand-row statements (three of 2,100 persons) take the writer's
// prepared statements from the chunk before on SQLite and store what
// smaller chunks store: each person yellow once, a change and a
// notification each.
func TestBulkChunksReuseTheirStatements(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		bulk := f.node(Config{BulkFacts: 10, Chunk: 2100}, nil)
		other := f.node(Config{}, nil)
		people := f.bulk(3*2100, "341881003")
		var facts []NewFact
		for _, p := range people {
			facts = append(facts, NewFact{Person: p, Key: "area:1", RecordedBy: "system",
				Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}}})
		}
		calls := 0
		n, err := bulk.RecordStream(ctx, streamOf(facts, 700, &calls))
		if err != nil || n != len(people) {
			t.Fatalf("RecordStream = %d, %v; want %d", n, err, len(people))
		}
		if d.Engine() == db.SQLite && len(bulk.stmts) == 0 {
			t.Fatal("no statement kept for the next chunk")
		}
		wantYellowOnce(t, d, bulk, other, people)
		if n := queued(t, f.svc, d, "new_color = $1", int64(Y)); n != len(people) {
			t.Fatalf("%d notifications, want %d", n, len(people))
		}
		// Through the full statements again: the stored keys are skipped,
		// and where half of the facts are new, exactly those are stored.
		if n, err := bulk.RecordStream(ctx, streamOf(facts, 700, &calls)); err != nil || n != 0 {
			t.Fatalf("the same stream again = %d, %v; want 0", n, err)
		}
		for i := range facts {
			if i%2 == 1 {
				facts[i].Key = "area:2"
			}
		}
		if n, err := bulk.RecordStream(ctx, streamOf(facts, 700, &calls)); err != nil || n != len(people)/2 {
			t.Fatalf("half new = %d, %v; want %d", n, err, len(people)/2)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE idem_key = 'area:2'`); n != len(people)/2 {
			t.Fatalf("%d facts of the second key, want %d", n, len(people)/2)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM status_changes`); n != len(people) {
			t.Fatalf("%d changes, want %d: a second purchase changes no colour", n, len(people))
		}
	})
}

// TestDenseRegionsAsListed: the regions of a chunk whose persons fill most
// of their range are read by that range (denseIn) and are those of the
// chunk's persons alone, as the IN lists give them; a number without a
// person in such a chunk fails as it does there.
func TestDenseRegionsAsListed(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		people := append(f.bulk(150, "341881003"), f.bulk(150, "341881001")...)
		var in []int64
		for i, p := range people {
			if i%3 != 0 {
				in = append(in, p)
			}
		}
		if denseIn(in) == nil {
			t.Fatal("the chunk is not read by range")
		}
		got, err := f.svc.personRegions(ctx, d, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(in) {
			t.Fatalf("%d persons read, want %d", len(got), len(in))
		}
		for i, p := range got {
			wantRegion := "341881003"
			if slices.Index(people, p.num) >= 150 {
				wantRegion = "341881001"
			}
			if p.num != in[i] || p.region != wantRegion {
				t.Fatalf("person %d: %d in %s, want %d in %s", i, p.num, p.region, in[i], wantRegion)
			}
		}
		missing := append(slices.Clone(in), people[len(people)-1]+1)
		if _, err := f.svc.personRegions(ctx, d, missing); !errors.Is(err, person.ErrNotFound) {
			t.Fatalf("a number without a person: %v, want %v", err, person.ErrNotFound)
		}
	})
}

// TestBulkClaimLosesToAnotherWriter: a bulk chunk inserts the status rows
// of its new persons without locking them first (absentClaim). When another
// transaction creates one of those rows meanwhile, the chunk must not keep
// that transaction's decision nor write a change from a colour the person
// no longer had: it is written again with its rows locked, and the change
// starts from the other transaction's row. The claim is made after the
// chunk took the status_changes counter; when the other transaction then
// asks for the counter too (as a recompute holding the row would), the
// claim gives up by its own short lock timeout, not by PostgreSQL's deadlock
// check, which could as well have aborted the other side. A first pack the
// other transaction wrote with the row is lost the same way, before the
// counter. PostgreSQL only: SQLite has one writer.
func TestBulkClaimLosesToAnotherWriter(t *testing.T) {
	for _, c := range []struct {
		name    string
		persons int
		pack    bool // the holder wrote the person's first pack too
	}{
		{"a run copied from the change log", copyRun + 36, false},
		{"rows sent as values", 10, false},
		{"a first pack", 10, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := dbtest.New(t, db.Postgres)
			f := newFixture(t, d)
			ctx := context.Background()
			// A file, whose writes several goroutines may make at once.
			logged, err := os.Create(filepath.Join(t.TempDir(), "bulk.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer logged.Close()
			bulk, err := New(ctx, Deps{DB: d, People: f.persons, IDs: f.persons.Handles(), SMS: f.outbox, Hasher: f.keys,
				Log: slog.New(slog.NewTextHandler(logged, nil))}, Config{BulkFacts: 2, Chunk: 1000})
			if err != nil {
				t.Fatal(err)
			}
			bulk.SetClock(f.clock.now)
			// A rule that fails at run time for everyone the run reaches:
			// the warning is for the write that committed, not for the
			// claim rolled back before it.
			set := rules.Default()
			set.Rules = append([]rules.Rule{{ID: "broken", Color: R,
				Condition: "facts.any('pharmacy.purchase', 'drug_class', 'cough') && facts.latest('pharmacy.purchase').attrs.nope == 1",
				Reason:    rules.Text{ZH: "坏规则", EN: "broken"}}}, set.Rules...)
			v, err := f.svc.CreateRuleSet(ctx, admin, mustJSON(t, set))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Activate(ctx, admin, v.Version); err != nil {
				t.Fatal(err)
			}
			people := f.bulk(c.persons, "341881003")
			held := people[c.persons/2]
			// The counter the holder will ask for exists, as it does once
			// any change was logged.
			if _, err := d.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('status_changes', 0)`); err != nil {
				t.Fatal(err)
			}
			inserted, counter, release, done := make(chan error, 1), make(chan struct{}), make(chan struct{}), make(chan error, 1)
			var counted error
			go func() {
				done <- d.InTx(ctx, func(tx db.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO status (person_num, region_code, color, rule_id, reason_zh, reason_en,
						advice_zh, advice_en, next_eval_at, version, rules_version, evaluated_at, updated_at)
						VALUES ($1, '341881003', $2, 'held', '', '', '', '', NULL, 0, 1, 0, 0)`, held, int64(R))
					if err == nil && c.pack {
						_, err = tx.ExecContext(ctx, `INSERT INTO fact_packs (person_num, last_id, data) VALUES ($1, 0, '')`, held)
					}
					inserted <- err
					if err != nil {
						return err
					}
					<-counter
					_, counted = tx.ExecContext(ctx, `UPDATE counters SET value = value WHERE name = 'status_changes'`)
					<-release
					return counted
				})
			}()
			if err := <-inserted; err != nil {
				t.Fatal(err)
			}
			recorded := make(chan error, 1)
			go func() {
				_, err := bulk.Record(ctx, coughRun(people)...)
				recorded <- err
			}()
			// The bulk write reaches the held row and waits for it.
			waiting := false
			for range 1000 {
				if count(t, d, `SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`) > 0 {
					waiting = true
					break
				}
				time.Sleep(time.Millisecond)
			}
			close(counter)
			// The holder has the counter once the claim gave up; then the
			// careful attempt waits for the holder's row again.
			for range 2000 {
				if count(t, d, `SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`) > 0 &&
					count(t, d, `SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
						WHERE NOT l.granted AND a.query LIKE 'UPDATE counters%'`) == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("the holder of the row: %v", err)
			}
			if err := <-recorded; err != nil {
				t.Fatal(err)
			}
			if !waiting {
				t.Fatal("the bulk write never waited for the held row")
			}
			// A lost pack is lost before the counter: the holder commits
			// either before the claim's bound (a duplicate) or after it.
			written, err := os.ReadFile(logged.Name())
			if err != nil {
				t.Fatal(err)
			}
			out := string(written)
			if !strings.Contains(out, "a claimed row was created, or is held") || strings.Contains(out, "40P01") ||
				!c.pack && !strings.Contains(out, "SQLSTATE 55P03") {
				t.Fatalf("the claim did not give up by its lock timeout:\n%s", out)
			}
			if n := strings.Count(out, "rules failed at run time"); n != 1 {
				t.Fatalf("the failing rule reported %d times, want once (the committed write):\n%s", n, out)
			}
			for _, p := range people {
				want(t, bulk, p, Y, "watched_drug")
			}
			var old int64
			var oldRule string
			if err := d.QueryRowContext(ctx, `SELECT old_color, old_rule FROM status_changes WHERE person_num = $1`, held).Scan(&old, &oldRule); err != nil ||
				old != int64(R) || oldRule != "held" {
				t.Fatalf("the held person's change from %d/%q, %v; want from red/held", old, oldRule, err)
			}
			if n := count(t, d, `SELECT COUNT(*) FROM status_changes`); n != c.persons {
				t.Fatalf("%d changes, want %d", n, c.persons)
			}
		})
	}
}
