package checkin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/venue"
)

type fakeVenues map[string]*venue.Venue // token -> venue

func (f fakeVenues) ByToken(_ context.Context, token string) (*venue.Venue, bool, error) {
	if v, ok := f[token]; ok {
		return v, false, nil
	}
	return nil, false, apierr.NotFound("venue_token_unknown", "unknown")
}

func (f fakeVenues) Get(_ context.Context, by *auth.Principal, id string) (*venue.Venue, error) {
	for _, v := range f {
		if v.ID == id && (by == nil || by.InScope(v.Region)) {
			return v, nil
		}
	}
	return nil, apierr.NotFound("venue_not_found", "no such venue")
}

// fakePersons: account "aN" is person N, with no dependents.
type fakePersons struct{}

func (fakePersons) Profile(_ context.Context, account string) (person.Profile, error) {
	var n int64
	if _, err := fmt.Sscanf(account, "a%d", &n); err != nil {
		return person.Profile{}, apierr.NotFound("not_registered", "no")
	}
	return person.Profile{Num: n, ID: account}, nil
}

func (fakePersons) Dependent(context.Context, string, string) (*person.Person, error) {
	return nil, apierr.NotFound("person_not_found", "no")
}

type green struct{}

func (green) Color(int64) (rules.Color, uint64) { return rules.Green, 0 }

func newService(t testing.TB, d *db.DB, cfg Config) *Service {
	t.Helper()
	s := New(d, fakeVenues{"tok1": {ID: "v1", Name: "one", Region: "341881001"}, "tok2": {ID: "v2", Name: "two", Region: "341881002"}},
		fakePersons{}, green{}, cfg)
	t.Cleanup(func() { s.Close() })
	return s
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGroupCommitSharesTransactions(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		reg := prometheus.NewRegistry()
		s := newService(t, d, Config{Delay: 5 * time.Millisecond, Metrics: reg})
		ctx := context.Background()
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%4 == 0 {
					errs <- s.RecordVerification(ctx, Verification{KeyID: "k", Checkpoint: "cp1", Person: int64(i + 1), Valid: true, Color: rules.Green, Kind: "dynamic"})
					return
				}
				_, err := s.CheckIn(ctx, fmt.Sprintf("a%d", i+1), Input{VenueToken: "tok1"})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if c, v := count(t, d, "checkins"), count(t, d, "verifications"); c != 150 || v != 50 {
			t.Fatalf("%d check-ins and %d verifications, want 150 and 50", c, v)
		}
		txs, reqs := s.Batches()
		if reqs != n || txs >= n/2 {
			t.Fatalf("%d requests in %d transactions: the group commit is not grouping", reqs, txs)
		}
		t.Logf("%d requests in %d transactions", reqs, txs)
		for _, m := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"healthcode_checkin_commits_total", nil, float64(txs)},
			{"healthcode_checkin_committed_requests_total", nil, n},
			{"healthcode_checkin_commit_batch_requests", nil, float64(txs)},
			{"healthcode_checkin_commit_duration_seconds", nil, float64(txs)},
			{"healthcode_checkin_committed_rows_total", []string{"table", "checkins"}, 150},
			{"healthcode_checkin_committed_rows_total", []string{"table", "verifications"}, 50},
			{"healthcode_checkin_commit_failures_total", nil, 0},
		} {
			if got := metricstest.Value(t, reg, m.name, m.labels...); got != m.want {
				t.Errorf("%s%q = %v, want %v", m.name, m.labels, got, m.want)
			}
		}
	})
}

// A group commit that waits for PostgreSQL's flush and one that does not
// (the default) store the same rows; on SQLite the setting changes nothing.
func TestCommitWithAndWithoutTheFlush(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for round, flush := range []bool{false, true} {
			s := newService(t, d, Config{WaitForFlush: flush})
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%2 == 0 {
						errs <- s.RecordVerification(ctx, Verification{KeyID: "k", Checkpoint: "cp1", Person: int64(i + 1), Valid: true, Color: rules.Green, Kind: "dynamic"})
						return
					}
					_, err := s.CheckIn(ctx, fmt.Sprintf("a%d", 100*round+i+1), Input{VenueToken: "tok2"})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("flush %v: %v", flush, err)
				}
			}
			s.Close()
			if c, v := count(t, d, "checkins"), count(t, d, "verifications"); c != 20*(round+1) || v != 20*(round+1) {
				t.Fatalf("flush %v: %d check-ins and %d verifications, want %d of each", flush, c, v, 20*(round+1))
			}
		}
	})
}

func TestCloseCommitsWhatIsQueued(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		// A long delay: the writers are still collecting when Close comes.
		s := New(d, fakeVenues{"tok1": {ID: "v1", Name: "one"}}, fakePersons{}, green{}, Config{Delay: time.Hour, MaxBatch: 10000})
		ctx := context.Background()
		var wg sync.WaitGroup
		var mu sync.Mutex
		answered := 0
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.CheckIn(ctx, fmt.Sprintf("a%d", i+1), Input{VenueToken: "tok1"}); err == nil {
					mu.Lock()
					answered++
					mu.Unlock()
				}
			}()
		}
		for s.w.accepted.Load() < 50 {
			time.Sleep(time.Millisecond)
		}
		s.Close()
		wg.Wait()
		if answered != 50 || count(t, d, "checkins") != 50 {
			t.Fatalf("%d answered, %d stored; want all 50 committed at Close", answered, count(t, d, "checkins"))
		}
		if _, err := s.CheckIn(ctx, "a99", Input{VenueToken: "tok1"}); err == nil {
			t.Fatal("a check-in after Close was accepted")
		}
	})
}

func TestPurgeRemovesExactlyTheOldRows(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		now := time.Date(2022, 4, 30, 10, 17, 0, 0, time.UTC)
		s := newService(t, d, Config{})
		s.SetClock(func() time.Time { return now })
		ctx := context.Background()
		cutoff := now.Add(-s.Retention())
		if err := s.EnsureDays(ctx, now.Add(-40*24*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		ages := []time.Duration{
			60 * 24 * time.Hour,                                           // before every partition: the default partition on PostgreSQL
			40 * 24 * time.Hour, 30 * 24 * time.Hour, 29 * 24 * time.Hour, // whole days that get dropped
			28*24*time.Hour + 3*time.Hour, 28*24*time.Hour + time.Millisecond, // the cut day, before the cutoff
			28 * 24 * time.Hour, // at the cutoff: kept
			28*24*time.Hour - time.Millisecond, 27 * 24 * time.Hour, time.Hour, 0,
		}
		var p pending
		for i, age := range ages {
			at := now.Add(-age).UnixMilli()
			// Several rows per age, more than a purge batch at one of them.
			rows := 3
			if i == 4 {
				rows = purgeBatch + 7
			}
			for j := range rows {
				p.checkins = append(p.checkins, row{place: 1, at: at, person: int64(1000*i + j + 1)})
			}
			if err := d.InTx(ctx, func(tx db.Tx) error {
				return insert(ctx, d.Engine(), tx, []*pending{{verif: &verRow{at: at, place: 2, person: int64(i + 1), keyID: "k", kind: "id"}}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.InTx(ctx, func(tx db.Tx) error { return insert(ctx, d.Engine(), tx, []*pending{&p}) }); err != nil {
			t.Fatal(err)
		}
		wantKept := func(table string) (kept, old int) {
			q := fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE at >= $1`, table)
			d.QueryRowContext(ctx, q, cutoff.UnixMilli()).Scan(&kept)
			d.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE at < $1`, table), cutoff.UnixMilli()).Scan(&old)
			return
		}
		keptC, oldC := wantKept("checkins")
		keptV, oldV := wantKept("verifications")
		if keptC != 15 || oldC != 3*5+purgeBatch+7 || keptV != 5 || oldV != 6 {
			t.Fatalf("fixture: %d/%d check-ins, %d/%d verifications kept/old", keptC, oldC, keptV, oldV)
		}

		if _, err := s.Purge(ctx, now.Add(-s.cfg.Retention)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			table string
			kept  int
		}{{"checkins", keptC}, {"verifications", keptV}} {
			kept, old := wantKept(tc.table)
			if kept != tc.kept || old != 0 {
				t.Fatalf("%s after purge: %d kept (want %d), %d old left", tc.table, kept, tc.kept, old)
			}
		}
		var atCutoff int
		d.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE at = $1`, cutoff.UnixMilli()).Scan(&atCutoff)
		if atCutoff != 3 {
			t.Fatalf("%d rows at the cutoff itself, want the 3 kept", atCutoff)
		}

		if d.Engine() == db.Postgres {
			// Whole days went by dropping partitions; the next days exist.
			have, err := s.partitions(ctx, "checkins")
			if err != nil {
				t.Fatal(err)
			}
			for day := range have {
				if day+dayMs <= cutoff.UnixMilli() {
					t.Errorf("partition %s ended before the cutoff and was not dropped", have[day])
				}
			}
			for d := floorDay(now.UnixMilli()); d <= now.Add(daysAhead*24*time.Hour).UnixMilli(); d += dayMs {
				if _, ok := have[d]; !ok {
					t.Errorf("no partition for %s", partitionName("checkins", d))
				}
			}
			if _, ok := have[floorDay(cutoff.UnixMilli())]; !ok {
				t.Error("the partially expired day was dropped")
			}
		}
		// Purging again finds nothing.
		if p, err := s.PurgeBefore(ctx, cutoff); err != nil || p.Rows != 0 || p.Days != 0 {
			t.Fatalf("second purge: %+v %v", p, err)
		}
	})
}

func TestPartitionTakesInRowsFromTheDefault(t *testing.T) {
	d := dbtest.NewPostgres(t)
	s := newService(t, d, Config{})
	ctx := context.Background()
	// A row from a day with no partition yet goes to the default partition,
	// and moves to its day when the day is created.
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli()
	if err := d.InTx(ctx, func(tx db.Tx) error {
		return insert(ctx, d.Engine(), tx, []*pending{{checkins: []row{{place: 1, at: at, person: 1}}}})
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, "checkins_default"); n != 1 {
		t.Fatalf("%d rows in the default partition, want 1", n)
	}
	if err := s.EnsureDays(ctx, time.UnixMilli(at), time.UnixMilli(at)); err != nil {
		t.Fatal(err)
	}
	if n, m := count(t, d, "checkins_default"), count(t, d, "checkins_p20300102"); n != 0 || m != 1 {
		t.Fatalf("after creating the day: %d in default, %d in the day", n, m)
	}
}

func TestCounts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d, Config{Location: time.UTC})
		ctx := context.Background()
		base := time.Date(2022, 4, 1, 9, 0, 0, 0, time.UTC)
		for i, off := range []time.Duration{0, 10 * time.Minute, 59*time.Minute + 59*time.Second, time.Hour, 3*time.Hour + time.Minute} {
			s.SetClock(func() time.Time { return base.Add(off) })
			if _, err := s.CheckIn(ctx, fmt.Sprintf("a%d", i+1), Input{VenueToken: "tok1"}); err != nil {
				t.Fatal(err)
			}
		}
		admin := &auth.Principal{Kind: auth.Operator, Role: auth.Admin, Region: "341881"}
		c, err := s.Counts(ctx, admin, "v1", base.Add(-30*time.Minute), base.Add(3*time.Hour+30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{0, 3, 1, 0, 1}
		if len(c.Hours) != len(want) || c.Total != 5 || !c.From.Equal(base.Add(-time.Hour)) || !c.To.Equal(base.Add(4*time.Hour)) {
			t.Fatalf("counts: %+v", c)
		}
		for i, h := range c.Hours {
			if h.Count != want[i] || !h.Hour.Equal(base.Add(time.Duration(i-1)*time.Hour)) {
				t.Fatalf("hour %d: %+v, want %d", i, h, want[i])
			}
		}
		if c, err := s.Counts(ctx, admin, "v2", base, base.Add(time.Hour)); err != nil || c.Total != 0 || len(c.Hours) != 1 {
			t.Fatalf("a venue nobody visited: %+v %v", c, err)
		}
		town := &auth.Principal{Kind: auth.Operator, Role: auth.Viewer, Region: "341881002"}
		if _, err := s.Counts(ctx, town, "v1", base, base.Add(time.Hour)); !errors.Is(err, venue.ErrNotFound) {
			t.Fatalf("out of scope: %v", err)
		}
	})
}

func TestEncountersAndVisitors(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d, Config{})
		ctx := context.Background()
		base := time.Date(2022, 4, 1, 9, 0, 0, 0, time.UTC)
		checkIn := func(account, token string, off time.Duration) {
			s.SetClock(func() time.Time { return base.Add(off) })
			if _, err := s.CheckIn(ctx, account, Input{VenueToken: token}); err != nil {
				t.Fatal(err)
			}
		}
		checkIn("a1", "tok1", 0)
		checkIn("a2", "tok1", 20*time.Minute)
		checkIn("a3", "tok1", 31*time.Minute) // beyond a 30 min window
		checkIn("a4", "tok2", 0)              // elsewhere
		for _, v := range []Verification{
			{Checkpoint: "cp", Person: 1, At: base.Add(time.Hour)},
			{Checkpoint: "cp", Person: 5, At: base.Add(time.Hour - 5*time.Minute)},
			{Checkpoint: "cp", Person: 0, At: base.Add(time.Hour)}, // unattributed
			{Checkpoint: "", Person: 6, At: base.Add(time.Hour)},   // an integrator key: no place
		} {
			if err := s.RecordVerification(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		var got []Encounter
		err := s.Encounters(ctx, 1, base.Add(-time.Hour).UnixMilli(), base.Add(2*time.Hour).UnixMilli(), (30 * time.Minute).Milliseconds(),
			func(e Encounter) { got = append(got, e) })
		if err != nil {
			t.Fatal(err)
		}
		persons := map[int64]bool{}
		for _, e := range got {
			persons[e.Person] = true
		}
		if len(got) != 2 || !persons[2] || !persons[5] {
			t.Fatalf("encounters of person 1: %+v", got)
		}
		v1, err := s.VenuePlace(ctx, "v1")
		if err != nil || v1 == 0 {
			t.Fatalf("place of v1: %d %v", v1, err)
		}
		if pl, err := s.Place(ctx, v1); err != nil || pl.Kind != PlaceVenue || pl.Ref != "v1" {
			t.Fatalf("place %d: %+v %v", v1, pl, err)
		}
		var visitors []Presence
		if err := s.Visitors(ctx, v1, base.UnixMilli(), base.Add(30*time.Minute).UnixMilli(), func(p Presence) { visitors = append(visitors, p) }); err != nil {
			t.Fatal(err)
		}
		if len(visitors) != 2 {
			t.Fatalf("visitors: %+v", visitors)
		}
		if n, err := s.VenuePlace(ctx, "never-visited"); err != nil || n != 0 {
			t.Fatalf("an unvisited venue has place %d (%v)", n, err)
		}
	})
}

// TestStopsOfManyIsStopsOfEach: the batched read a risk area's publication
// uses gives every person exactly what Stops gives them alone (check-ins and
// checkpoint verifications in the window, oldest first), and skips persons
// with none.
func TestStopsOfManyIsStopsOfEach(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d, Config{})
		ctx := context.Background()
		base := time.Date(2022, 4, 1, 9, 0, 0, 0, time.UTC)
		ms := func(h int) int64 { return base.Add(time.Duration(h) * time.Hour).UnixMilli() }
		if err := s.Import(ctx, []ImportRow{
			{Place: 7, At: ms(0), Person: 1}, {Place: 8, At: ms(5), Person: 1}, {Place: 7, At: ms(50), Person: 1}, // the last after the window
			{Place: 7, At: ms(1), Person: 2}, {Place: 9, At: ms(-3), Person: 3}, // 3 before the window
		}); err != nil {
			t.Fatal(err)
		}
		for _, v := range []Verification{
			{Checkpoint: "cp", Person: 1, At: base.Add(2 * time.Hour)},
			{Checkpoint: "", Person: 2, At: base.Add(3 * time.Hour)}, // no place: not presence
			{Checkpoint: "cp", Person: 4, At: base.Add(4 * time.Hour)},
		} {
			if err := s.RecordVerification(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		from, to := ms(0), ms(24)
		got := map[int64][]Stop{}
		// Persons in order and filling their numbers are read by one range
		// (a neighbour's stops, 2's, left out); others by a list.
		for _, c := range []struct {
			persons, want []int64
		}{
			{[]int64{1, 2, 3, 4, 5}, []int64{1, 2, 4}},
			{[]int64{1, 4}, []int64{1, 4}},
			{[]int64{5, 4, 2, 1}, []int64{4, 2, 1}},
			{[]int64{1, 4, 1000}, []int64{1, 4}},
		} {
			var order []int64
			if err := s.StopsOfMany(ctx, c.persons, from, to, func(p int64, stops []Stop) error {
				if prev, ok := got[p]; ok && !slices.Equal(prev, stops) {
					t.Errorf("persons %v: person %d's stops %+v, before %+v", c.persons, p, stops, prev)
				}
				got[p], order = stops, append(order, p)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(order, c.want) {
				t.Fatalf("persons %v: called back %v, want %v", c.persons, order, c.want)
			}
		}
		for _, p := range []int64{1, 2, 3, 4, 5} {
			want, err := s.Stops(ctx, p, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[p], want) {
				t.Errorf("person %d: StopsOfMany %+v, Stops %+v", p, got[p], want)
			}
		}
		if len(got[1]) != 3 {
			t.Errorf("person 1 has %d stops in the window, want 3: %+v", len(got[1]), got[1])
		}
	})
}
