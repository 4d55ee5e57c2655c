package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
)

// t0 is the start of every scenario: 2022-04-01 10:00 in Shanghai.
var t0 = time.Date(2022, 4, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

const day = 24 * time.Hour

// clock is a settable clock shared by the services of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var admin = &auth.Principal{Kind: auth.Operator, ID: "op-admin", Name: "admin", Role: auth.Admin, Region: ""}

// fixture is one database with the foundation services and a first node.
type fixture struct {
	t       testing.TB
	d       *db.DB
	keys    *secret.Keyring
	persons *person.Service
	outbox  *sms.Outbox
	clock   *clock
	svc     *Service
	seq     int
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, d: d, keys: keys, persons: ps, outbox: sms.NewOutbox(d, keys), clock: &clock{t: t0}}
	f.svc = f.node(Config{}, nil)
	return f
}

// node starts another Service on the fixture's database: another node of
// the same deployment.
func (f *fixture) node(cfg Config, sender sms.Sender) *Service {
	f.t.Helper()
	if sender == nil {
		sender = f.outbox
	}
	s, err := New(context.Background(), Deps{DB: f.d, People: f.persons, IDs: f.persons.Handles(), SMS: sender, Hasher: f.keys, Log: quiet}, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	s.SetClock(f.clock.now)
	return s
}

// person registers a person in region (a Ningguo town by default).
func (f *fixture) person(regionCode string) int64 {
	f.t.Helper()
	if regionCode == "" {
		regionCode = "341881001"
	}
	f.seq++
	first17 := fmt.Sprintf("341881%s%03d", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, f.seq/900).Format("20060102"), f.seq%900+100)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.persons.Create(context.Background(), admin, person.Input{Name: "测试人" + fmt.Sprint(f.seq), IDType: "resident_id",
		IDNumber: first17 + string(c), Region: regionCode})
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Num
}

// phone gives a person an account (as a resident who registered would have).
func (f *fixture) phone(num int64, phone string) string {
	f.t.Helper()
	id := ids.New()
	_, err := f.d.ExecContext(context.Background(), `INSERT INTO accounts (id, phone_hash, phone_enc, person_num, created_at) VALUES ($1, $2, $3, $4, 0)`,
		id, f.keys.BlindIndex("phone", phone), f.keys.SealString(phone, "accounts.phone:"+id), num)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// guardian makes an account with a phone manage the person (代办).
func (f *fixture) guardian(num int64, phone string) {
	f.t.Helper()
	id := ids.New()
	ctx := context.Background()
	_, err := f.d.ExecContext(ctx, `INSERT INTO accounts (id, phone_hash, phone_enc, created_at) VALUES ($1, $2, $3, 0)`,
		id, f.keys.BlindIndex("phone", phone), f.keys.SealString(phone, "accounts.phone:"+id))
	if err == nil {
		_, err = f.d.ExecContext(ctx, `INSERT INTO dependents (account_id, person_num, relation, created_at) VALUES ($1, $2, 'parent', 0)`, id, num)
	}
	if err != nil {
		f.t.Fatal(err)
	}
}

// rec records one fact through s, failing the test on error.
func rec(t testing.TB, s *Service, num int64, kind string, at time.Time, attrs map[string]any) {
	t.Helper()
	recUntil(t, s, num, kind, at, time.Time{}, attrs)
}

func recUntil(t testing.TB, s *Service, num int64, kind string, at, until time.Time, attrs map[string]any) {
	t.Helper()
	if _, err := s.Record(context.Background(), NewFact{Person: num, RecordedBy: "system",
		Fact: fact.Fact{Kind: kind, At: at, Until: until, Attrs: attrs}}); err != nil {
		t.Fatalf("record %s: %v", kind, err)
	}
}

// want checks the person's stored status, and that this node's cache agrees.
func want(t testing.TB, s *Service, num int64, color rules.Color, rule string) Status {
	t.Helper()
	st, err := s.Status(context.Background(), num)
	if err != nil {
		t.Fatal(err)
	}
	if st.Color != color || st.RuleID != rule {
		t.Fatalf("status %v/%q, want %v/%q (reason %q)", st.Color, st.RuleID, color, rule, st.Reason.ZH)
	}
	c, v := s.Color(num)
	if c != st.Color || v != st.Version {
		t.Fatalf("cache says %v v%d, store says %v v%d", c, v, st.Color, st.Version)
	}
	return st
}

// coughRun is a watched-drug purchase of each person, keyed and recorded
// alike: a long run of changes to the same decision.
func coughRun(people []int64) []NewFact {
	facts := make([]NewFact, 0, len(people))
	for _, p := range people {
		facts = append(facts, NewFact{Person: p, RecordedBy: "system", Key: "run",
			Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}, Source: "pharmacy:1"}})
	}
	return facts
}

// queued is the notifications queued, once every queued run of changes is
// turned into them as the sender does; where is a condition on them.
func queued(t testing.TB, svc *Service, d *db.DB, where string, args ...any) int {
	t.Helper()
	for range 10_000 {
		n, err := svc.expandRun(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return count(t, d, `SELECT COUNT(*) FROM notifications WHERE `+where, args...)
		}
	}
	t.Fatal("the queued runs of changes did not end")
	return 0
}

func count(t testing.TB, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	negative      = map[string]any{"result": "negative"}
	mixedNegative = map[string]any{"result": "negative", "tube_capacity": 10}
)

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bulk registers n persons in a region in one transaction, straight into
// the table (person.Service registers one per transaction, too slow for
// thousands); the rows are complete, so Get and Phones work on them.
func (f *fixture) bulk(n int, regionCode string) []int64 {
	f.t.Helper()
	ctx := context.Background()
	out := make([]int64, 0, n)
	err := f.d.InTx(ctx, func(tx db.Tx) error {
		last, err := db.NextVal(ctx, tx, "persons", int64(n))
		if err != nil {
			return err
		}
		h := f.persons.Handles()
		var args []any
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, f.d.Engine().Positional(`INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc,
				region_code, birth_year, created_at, created_by) VALUES `+db.Rows(0, len(args)/11, 11)), args...)
			args = args[:0]
			return err
		}
		for num := last - int64(n) + 1; num <= last; num++ {
			id, number, name := h.ID(num), fmt.Sprintf("B%017d", num), fmt.Sprintf("批量%d", num)
			args = append(args, num, id, "passport", f.keys.BlindIndex("id", "passport:"+number),
				f.keys.SealString(number, "persons.id_number:"+id), f.keys.BlindIndex("name", name),
				f.keys.SealString(name, "persons.name:"+id), regionCode, 1980, 0, "test")
			out = append(out, num)
			if len(args) >= 11*1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}
