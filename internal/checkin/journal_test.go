package checkin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/rules"
)

// journalFiles lists the journal's files in dir.
func journalFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// journalled is a service on a fresh SQLite store with its journal open in
// a directory of its own.
func journalled(t *testing.T) (*Service, *db.DB, string) {
	t.Helper()
	d := dbtest.New(t, db.SQLite)
	s := newService(t, d, Config{})
	dir := t.TempDir()
	if err := s.OpenJournal(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	return s, d, dir
}

// An answered check-in or scan is in the journal; every read of the
// service sees it, and the tables have it within the indexer's interval
// without a read.
func TestJournalAnswersAndReadsSeeEverything(t *testing.T) {
	ctx := context.Background()
	s, d, dir := journalled(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	s.SetClock(func() time.Time { return base })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.RecordVerification(ctx, Verification{KeyID: "k", Checkpoint: "cp1", Person: int64(i + 1), At: base.Add(time.Duration(i) * time.Second),
				Valid: true, Color: rules.Green, Kind: "dynamic"})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CheckIn(ctx, "a1", Input{VenueToken: "tok1"}); err != nil {
		t.Fatal(err)
	}
	// Read at once, through the service: the rows are there.
	stops, err := s.Stops(ctx, 7, base.Add(-time.Minute).UnixMilli(), base.Add(time.Minute).UnixMilli())
	if err != nil || len(stops) != 1 {
		t.Fatalf("stops of person 7 right after the scan: %v, %v", stops, err)
	}
	n, err := s.CountVerifications(ctx, base.Add(-time.Minute), base.Add(time.Hour))
	if err != nil || n != 32 {
		t.Fatalf("verifications counted: %d, %v; want 32", n, err)
	}
	// Without a read the indexer moves them within its interval.
	if _, err := s.CheckIn(ctx, "a2", Input{VenueToken: "tok2"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * indexEvery)
	for count(t, d, "checkins") != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d check-ins in the table %s after the scan, want 2", count(t, d, "checkins"), 10*indexEvery)
		}
		time.Sleep(indexEvery / 4)
	}
	// The position covers everything, so a restart moves nothing again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := newService(t, d, Config{})
	if err := s2.OpenJournal(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	if err := s2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c, v := count(t, d, "checkins"), count(t, d, "verifications"); c != 2 || v != 32 {
		t.Fatalf("after a restart %d check-ins and %d verifications, want 2 and 32 (nothing moved twice)", c, v)
	}
}

// After a crash the frames beyond the recorded position are moved before
// serving, each once; a frame cut short at the end is left out; the files
// the tables cover are removed.
func TestJournalReplaysWhatACrashLeft(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t, db.SQLite)
	dir := t.TempDir()
	at := time.Now().Add(-time.Hour).UnixMilli()
	frame := func(first int64, n int) []byte {
		var batch []*pending
		for i := range int64(n) {
			batch = append(batch, &pending{verif: &verRow{at: at + first + i, place: 1, person: first + i, keyID: "k", valid: true, color: 1, kind: "dynamic"}})
			batch = append(batch, &pending{checkins: []row{{place: 2, at: at + first + i, person: first + i}}})
		}
		return encodeFrame(batch)
	}
	// Generation 3 was moved up to the end of its first frame when the
	// process died; a second frame follows, and half of a third. A
	// generation 4 began after it (a rotation whose position was not yet
	// written); generation 2 is older than the position.
	f1, f2, f3 := frame(0, 5), frame(100, 7), frame(200, 9)
	gen3 := append(append(append([]byte{}, f1...), f2...), f3[:len(f3)/2]...)
	for gen, data := range map[int64][]byte{2: frame(300, 4), 3: gen3, 4: frame(400, 3)} {
		if err := os.WriteFile(filepath.Join(dir, journalName(gen)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO checkin_journal (id, gen, off) VALUES (1, 3, $1)`, len(f1)); err != nil {
		t.Fatal(err)
	}
	s := newService(t, d, Config{})
	if err := s.OpenJournal(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	if c, v := count(t, d, "checkins"), count(t, d, "verifications"); c != 10 || v != 10 {
		t.Fatalf("replayed %d check-ins and %d verifications, want 10 and 10 (7 of generation 3's second frame, 3 of generation 4)", c, v)
	}
	var persons []int64
	err := db.Each(ctx, d, `SELECT person FROM verifications ORDER BY person`, nil, func(sc db.Scanner) error {
		var p int64
		err := sc.Scan(&p)
		persons = append(persons, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{100, 101, 102, 103, 104, 105, 106, 400, 401, 402}; !reflect.DeepEqual(persons, want) {
		t.Fatalf("replayed persons %v, want %v", persons, want)
	}
	if files := journalFiles(t, dir); len(files) != 1 || files[0] != journalName(5) {
		t.Fatalf("journal files after the replay: %v, want only a new %s", files, journalName(5))
	}
	// Opening again moves nothing twice.
	s.Close()
	s2 := newService(t, d, Config{})
	if err := s2.OpenJournal(ctx, dir, nil); err != nil {
		t.Fatal(err)
	}
	if v := count(t, d, "verifications"); v != 10 {
		t.Fatalf("%d verifications after a second start, want 10", v)
	}
}

// A journal beside a database that never had one (the database was
// replaced) is refused, not moved into it.
func TestJournalOfAnotherDatabaseIsRefused(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t, db.SQLite)
	dir := t.TempDir()
	frame := encodeFrame([]*pending{{checkins: []row{{place: 1, at: 1000, person: 5}}}})
	if err := os.WriteFile(filepath.Join(dir, journalName(0)), frame, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newService(t, d, Config{})
	err := s.OpenJournal(ctx, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "belongs to another database") {
		t.Fatalf("opening another database's journal: %v", err)
	}
	if c := count(t, d, "checkins"); c != 0 {
		t.Fatalf("%d check-ins moved from another database's journal", c)
	}
}

// A purge turns the journal over: rows removed from the tables do not stay
// behind in a file.
func TestJournalPurgeRemovesTheFile(t *testing.T) {
	ctx := context.Background()
	s, d, dir := journalled(t)
	if err := s.RecordVerification(ctx, Verification{KeyID: "k", Checkpoint: "cp1", Person: 42, Valid: true, Color: rules.Green, Kind: "dynamic"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeBefore(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v := count(t, d, "verifications"); v != 0 {
		t.Fatalf("%d verifications after purging everything", v)
	}
	for _, name := range journalFiles(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != 0 {
			t.Fatalf("journal file %s keeps %d bytes after the purge", name, len(data))
		}
	}
}

// A copy of the database taken while rows wait in the journal (a backup)
// gets them from the files read before it.
func TestApplyJournalToACopy(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t, db.SQLite)
	if _, err := d.ExecContext(ctx, `INSERT INTO checkin_journal (id, gen, off) VALUES (1, 7, 0)`); err != nil {
		t.Fatal(err)
	}
	frame := encodeFrame([]*pending{{checkins: []row{{place: 1, at: 1000, person: 5}, {place: 1, at: 1001, person: 6}}}})
	n, err := ApplyJournal(ctx, d, map[int64][]byte{6: frame, 7: frame})
	if err != nil || n != 2 {
		t.Fatalf("applied %d rows, %v; want 2 (generation 6 is older than the position)", n, err)
	}
	if c := count(t, d, "checkins"); c != 2 {
		t.Fatalf("%d check-ins in the copy, want 2", c)
	}

	// The node went on appending to generation 7 and indexing it after the
	// files were read and before the copy began: the copy's position lies
	// past the bytes read, and it holds those rows already.
	if _, err := d.ExecContext(ctx, `UPDATE checkin_journal SET off = $1 WHERE id = 1`, 3*len(frame)); err != nil {
		t.Fatal(err)
	}
	n, err = ApplyJournal(ctx, d, map[int64][]byte{7: frame})
	if err != nil || n != 0 {
		t.Fatalf("a copy past the bytes read: applied %d rows, %v; want none and no error", n, err)
	}
	if c := count(t, d, "checkins"); c != 2 {
		t.Fatalf("%d check-ins in the copy, want still 2", c)
	}
}

func TestJournalFrameRoundTrip(t *testing.T) {
	batch := []*pending{
		{checkins: []row{{place: 1, at: 1_700_000_000_000, person: 99}, {place: 2, at: -5, person: 0}}},
		{verif: &verRow{at: 1_700_000_000_001, place: 0, person: 7, keyID: "键-1", valid: false, reason: "expired", color: 0, kind: "static"}},
		{verif: &verRow{at: 3, place: 9, person: 1 << 40, keyID: "", valid: true, color: 2, kind: "dynamic"}},
	}
	data := encodeFrame(batch)
	got, n, err := decodeFrame(append(data, 0xff))
	if err != nil || n != len(data) {
		t.Fatalf("decode: %d bytes, %v", n, err)
	}
	var want []*pending
	for _, p := range batch {
		for _, r := range p.checkins {
			want = append(want, &pending{checkins: []row{r}})
		}
		if p.verif != nil {
			want = append(want, &pending{verif: p.verif})
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	for cut := range len(data) {
		if _, _, err := decodeFrame(data[:cut]); err == nil {
			t.Fatalf("a frame cut at %d of %d bytes decoded", cut, len(data))
		}
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-1] ^= 1
	if _, _, err := decodeFrame(flipped); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("a flipped bit: %v", err)
	}
}

// FuzzJournalFrame: whatever a damaged file holds, decoding answers an error
// or rows, never a panic, and rows re-encode to a frame that decodes to them.
func FuzzJournalFrame(f *testing.F) {
	f.Add(encodeFrame([]*pending{{checkins: []row{{place: 1, at: 2, person: 3}}}}))
	f.Add(encodeFrame([]*pending{{verif: &verRow{at: 1, place: 2, person: 3, keyID: "k", valid: true, reason: "r", color: 1, kind: "dynamic"}}}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 'v'})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, n, err := decodeFrame(data)
		if err != nil {
			return
		}
		if n < frameHeader || n > len(data) {
			t.Fatalf("frame length %d of %d bytes", n, len(data))
		}
		again, _, err := decodeFrame(encodeFrame(rows))
		if err != nil || len(again) != len(rows) {
			t.Fatalf("re-encoded rows: %d, %v; want %d", len(again), err, len(rows))
		}
	})
}
