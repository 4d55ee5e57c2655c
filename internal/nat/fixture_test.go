package nat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/nat/nattest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is a mass-testing morning in Ningguo.
var t0 = time.Date(2022, 4, 10, 0, 30, 0, 0, time.UTC)

type fixture struct {
	t       testing.TB
	ctx     context.Context
	d       *db.DB
	svc     *nat.Service
	persons *person.Service
	rec     *nattest.Recorder
	codes   *nattest.Codes
	now     time.Time

	admin   *auth.Principal // whole country
	sampler *auth.Principal // Ningguo
	lab     *auth.Principal // Ningguo
	officer *auth.Principal // Ningguo's 西津街道 only
	outside *auth.Principal // a sampler of another city
	site    *nat.Site
	seq     int
	reg     *prometheus.Registry
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), d: d, now: t0, reg: prometheus.NewRegistry()}
	clock := func() time.Time { return f.now }
	if f.persons, err = person.New(d, keys, region.Default(), person.Config{Region: "341881"}); err != nil {
		t.Fatal(err)
	}
	f.rec = nattest.NewRecorder(clock)
	f.codes = nattest.NewCodes(f.persons.Handles())
	f.codes.Clock = clock
	f.svc = nat.New(d, f.persons, region.Default(), nat.Deps{Facts: f.rec, Codes: f.codes, Keys: f.codes},
		nat.Config{Region: "341881", Metrics: f.reg}, quiet)
	f.svc.SetClock(clock)
	op := func(id string, role auth.Role, reg string) *auth.Principal {
		return &auth.Principal{Kind: auth.Operator, ID: id, Name: id, Role: role, Region: reg}
	}
	f.admin = op("admin", auth.Admin, "")
	f.sampler = op("sampler", auth.Sampler, "341881")
	f.lab = op("lab", auth.Lab, "341881")
	f.officer = op("officer", auth.HealthOfficer, "341881001")
	f.outside = op("outsider", auth.Sampler, "341802")
	f.site = f.newSite("宁国市人民医院采样点", "341881001", 30.6335, 118.9830)
	return f
}

func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

func (f *fixture) regions() *region.Table { return region.Default() }

func ptr[T any](v T) *T { return &v }

func (f *fixture) newSite(name, reg string, lat, lng float64) *nat.Site {
	f.t.Helper()
	st, err := f.svc.CreateSite(f.ctx, f.admin, nat.SiteInput{Name: ptr(name), Address: ptr("宁国市" + name),
		Phone: ptr("0563-4012345"), Hours: ptr("08:00-17:30"), Lat: ptr(lat), Lng: ptr(lng), Region: ptr(reg)})
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// resident registers a person in a region and returns them.
func (f *fixture) resident(reg string) *person.Person {
	f.t.Helper()
	f.seq++
	first17 := fmt.Sprintf("341881199001%02d%03d", 1+f.seq%28, f.seq)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.persons.Create(f.ctx, f.admin, person.Input{Name: fmt.Sprintf("张三%d", f.seq), IDType: "resident_id",
		IDNumber: first17 + string(c), Region: reg})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) residents(n int, reg string) []*person.Person {
	out := make([]*person.Person, n)
	for i := range out {
		out[i] = f.resident(reg)
	}
	return out
}

// scan is the person's health code as a sampler's scanner reads it.
func (f *fixture) scan(p *person.Person) string {
	return f.codes.Issue(p.Num, codeformat.KindDynamic, f.now, 3*time.Minute)
}

var tubeSeq int

func (f *fixture) barcode() string {
	tubeSeq++
	return fmt.Sprintf("NG%08d", tubeSeq)
}

// tube opens a tube, swabs the persons into it and seals it.
func (f *fixture) tube(capacity int, ps ...*person.Person) string {
	f.t.Helper()
	b := f.barcode()
	if _, err := f.svc.OpenTube(f.ctx, f.sampler, b, capacity, f.site.ID); err != nil {
		f.t.Fatal(err)
	}
	for _, p := range ps {
		if _, err := f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(p)}); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := f.svc.Seal(f.ctx, f.sampler, b); err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) result(b, word string) *nat.Report {
	f.t.Helper()
	r, err := f.svc.PostResult(f.ctx, f.lab, b, word, "宁国市人民医院检验科")
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) color(p *person.Person) rules.Color { return f.rec.Color(p.Num, f.now) }

// wantErr fails unless err is an apierr with the status and code.
func wantErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (f *fixture) tasks(t *testing.T, by *auth.Principal, q nat.ListQuery) []nat.GridTask {
	t.Helper()
	ts, _, err := f.svc.Tasks(f.ctx, by, q)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (f *fixture) alerts(t *testing.T, by *auth.Principal, q nat.ListQuery) []nat.Alert {
	t.Helper()
	as, _, err := f.svc.Alerts(f.ctx, by, q)
	if err != nil {
		t.Fatal(err)
	}
	return as
}
