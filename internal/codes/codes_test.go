package codes_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// memKeys is a key store in memory.
type memKeys struct {
	signer *codeformat.Signer
	trust  codeformat.TrustList
}

func newMemKeys(t *testing.T) *memKeys {
	k, err := codeformat.GenerateKey(codeformat.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := codeformat.NewSigner(k)
	tl := codeformat.TrustList{}
	tl.Add(codeformat.PublicKey{KID: s.KeyID(), Alg: s.Alg(), Key: s.Public(), Issuer: "341881"})
	return &memKeys{signer: s, trust: tl}
}

func (m *memKeys) SignerAt(time.Time) *codeformat.Signer                 { return m.signer }
func (m *memKeys) MACKey() []byte                                        { return []byte("0123456789abcdef0123456789abcdef") }
func (m *memKeys) Key(kid codeformat.KeyID) (codeformat.PublicKey, bool) { return m.trust.Key(kid) }

// memPersons knows one person.
type memPersons struct {
	h *person.Handles
	p person.Profile
}

func (m *memPersons) Handles() *person.Handles { return m.h }
func (m *memPersons) Profile(_ context.Context, acct string) (person.Profile, error) {
	if acct != "acct" {
		return person.Profile{}, apierr.NotFound("not_registered", "no")
	}
	return m.p, nil
}
func (m *memPersons) Dependent(context.Context, string, string) (*person.Person, error) {
	return nil, apierr.NotFound("person_not_found", "no")
}
func (m *memPersons) GetByID(context.Context, string) (*person.Person, error) {
	return nil, apierr.NotFound("person_not_found", "no")
}
func (m *memPersons) FindByIDNumber(context.Context, string, string) (*person.Person, error) {
	return nil, apierr.NotFound("person_not_found", "no")
}

type colors struct{ c rules.Color }

func (c colors) Color(int64) (rules.Color, uint64) { return c.c, 7 }

type facts struct {
	err error
	got []status.NewFact
}

func (f *facts) Record(_ context.Context, nf ...status.NewFact) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	for _, x := range nf {
		if err := x.Fact.Validate(); err != nil {
			return 0, err
		}
	}
	f.got = append(f.got, nf...)
	return len(nf), nil
}

type events struct {
	mu sync.Mutex
	vs []checkin.Verification
}

func (e *events) RecordVerification(_ context.Context, v checkin.Verification) error {
	e.mu.Lock()
	e.vs = append(e.vs, v)
	e.mu.Unlock()
	return nil
}

type checkpoints struct {
	calls int
	err   error
}

func (c *checkpoints) ByAPIKey(_ context.Context, key string) (*checkpoint.Checkpoint, error) {
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	if key == "integrator" {
		return nil, apierr.NotFound("checkpoint_not_found", "no")
	}
	return &checkpoint.Checkpoint{ID: "cp-" + key}, nil
}

type fixture struct {
	svc   *codes.Service
	keys  *memKeys
	facts *facts
	ev    *events
	cps   *checkpoints
	now   time.Time
}

func newFixture(t *testing.T, c rules.Color, mods ...func(*codes.Config)) *fixture {
	t.Helper()
	h, err := person.NewHandles([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{keys: newMemKeys(t), facts: &facts{}, ev: &events{}, cps: &checkpoints{},
		now: time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)}
	cfg := codes.Config{Region: "341881"}
	for _, m := range mods {
		m(&cfg)
	}
	f.svc, err = codes.New(context.Background(), codes.Deps{Keys: f.keys,
		Persons:     &memPersons{h: h, p: person.Profile{Num: 42, ID: h.ID(42), MaskedName: "张*离", Region: "341881001"}},
		Checkpoints: f.cps, Colors: colors{c}, Facts: f.facts, Verifications: f.ev}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

var key = &auth.Principal{Kind: auth.APIKey, ID: "k1", Scopes: []string{auth.ScopeVerify}}

func TestIssueAndVerify(t *testing.T) {
	f := newFixture(t, rules.Yellow)
	iss, err := f.svc.MyCode(context.Background(), "acct")
	if err != nil {
		t.Fatal(err)
	}
	if iss.Color != rules.Yellow || iss.Kind != codeformat.KindDynamic || !iss.ExpiresAt.Equal(f.now.Add(codes.DefaultTTL)) {
		t.Fatalf("issued %+v", iss)
	}
	d, err := codeformat.Decode(iss.Code)
	if err != nil || d.Claims.Color != codeformat.ColorYellow || d.Claims.StatusVersion != 7 || d.MAC == nil ||
		d.Claims.Handle != f.svc.Deps.Persons.Handles().Handle(42) {
		t.Fatalf("claims %+v (%v)", d, err)
	}
	if _, err := f.svc.MyCode(context.Background(), "other"); !errors.Is(err, person.ErrNotRegistered) {
		t.Fatalf("unregistered: %v", err)
	}
	res, err := f.svc.Verify(context.Background(), key, "\n"+iss.Code+"\r\n", codes.Temperature{})
	if err != nil || !res.Valid || res.Admitted || res.Color != rules.Yellow || strings.Join(res.Reasons, ",") != "color_yellow" {
		t.Fatalf("verify %+v %v", res, err)
	}
	if v := f.ev.vs[0]; v.Checkpoint != "cp-k1" || v.Person != 42 || v.KeyID != "k1" || !v.At.Equal(f.now) {
		t.Fatalf("event %+v", v)
	}
}

func TestTemperature(t *testing.T) {
	f := newFixture(t, rules.Green)
	iss, _ := f.svc.MyCode(context.Background(), "acct")
	for _, tc := range []struct {
		celsius  float64
		admitted bool
	}{{36.5, true}, {37.29, true}, {37.3, false}, {40, false}} {
		res, err := f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{Celsius: tc.celsius, Set: true})
		if err != nil || res.Admitted != tc.admitted || res.Valid != true {
			t.Errorf("%v °C: %+v %v", tc.celsius, res, err)
		}
	}
	if len(f.facts.got) != 2 || f.facts.got[0].Fact.Attrs["checkpoint"] != "cp-k1" {
		t.Fatalf("facts %+v", f.facts.got)
	}
	for _, c := range []float64{29.9, 43.1} {
		if _, err := f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{Celsius: c, Set: true}); !errors.Is(err, codes.ErrTemperatureOutOfRange) {
			t.Errorf("%v °C: %v", c, err)
		}
	}
	// An integrator's key has no checkpoint: the fact names the key.
	integ := &auth.Principal{Kind: auth.APIKey, ID: "integrator", Scopes: []string{auth.ScopeVerify}}
	if _, err := f.svc.Verify(context.Background(), integ, iss.Code, codes.Temperature{Celsius: 38, Set: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.facts.got[len(f.facts.got)-1].Fact.Attrs["checkpoint"]; got != "apikey:integrator" {
		t.Fatalf("integrator fact names %v", got)
	}
	// A fact that cannot be recorded is an error, not a silent pass.
	f.facts.err = errors.New("store down")
	if _, err := f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{Celsius: 38, Set: true}); err == nil {
		t.Fatal("a failed fact was ignored")
	}
}

func TestCheckpointCache(t *testing.T) {
	f := newFixture(t, rules.Green)
	iss, _ := f.svc.MyCode(context.Background(), "acct")
	for range 3 {
		f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{})
	}
	if f.cps.calls != 1 {
		t.Fatalf("%d checkpoint lookups for 3 scans, want 1", f.cps.calls)
	}
	f.now = f.now.Add(31 * time.Second)
	f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{})
	if f.cps.calls != 2 {
		t.Fatalf("the cache did not expire: %d lookups", f.cps.calls)
	}
	f.cps.err = errors.New("store down")
	f.now = f.now.Add(31 * time.Second)
	if _, err := f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{}); err == nil {
		t.Fatal("a failed checkpoint lookup was ignored")
	}
}

func TestVerifyReasons(t *testing.T) {
	f := newFixture(t, rules.Green)
	iss, _ := f.svc.MyCode(context.Background(), "acct")
	res, _ := f.svc.Verify(context.Background(), key, strings.ToLower(iss.Code), codes.Temperature{})
	if res.Valid || strings.Join(res.Reasons, ",") != "bad_prefix" || res.Kind != "" || f.ev.vs[0].Reason != "bad_prefix" {
		t.Fatalf("lower case: %+v", res)
	}
	f.now = f.now.Add(codes.DefaultTTL + time.Minute)
	res, _ = f.svc.Verify(context.Background(), key, iss.Code, codes.Temperature{})
	if res.Valid || strings.Join(res.Reasons, ",") != "expired" || res.MaskedName != "张*离" || res.Color != 0 {
		t.Fatalf("expired: %+v", res)
	}
	if _, err := f.svc.Verify(context.Background(), key, "\r\n", codes.Temperature{}); !errors.Is(err, codes.ErrCodeMissing) {
		t.Fatalf("empty: %v", err)
	}
	if _, _, err := f.svc.Resolve(context.Background(), iss.Code); !errors.Is(err, codes.ErrCodeInvalid) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Resolve expired: %v", err)
	}
}

func TestEveryReasonHasTextAndIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/CODES.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range codes.Reasons() {
		txt, ok := codes.ReasonText(r)
		if !ok || txt.ZH == "" || txt.EN == "" {
			t.Errorf("reason %s has no text", r)
		}
		if !strings.Contains(string(doc), "`"+r+"`") {
			t.Errorf("docs/CODES.md does not list reason %s", r)
		}
	}
}

func TestMaxLifetime(t *testing.T) {
	if got := (codes.Config{}).MaxLifetime(); got != 14*24*time.Hour+codeformat.DefaultSkew {
		t.Fatalf("default max lifetime %v", got)
	}
	if got := (codes.Config{TTL: time.Hour, CareTTL: time.Minute}).MaxLifetime(); got != time.Hour+codeformat.DefaultSkew {
		t.Fatalf("max lifetime %v", got)
	}
}
