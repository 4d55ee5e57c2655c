// Package clinic is the gateway's fever-clinic scenario (发热门诊): a
// clinic scans the patient's code, registers the visit (temperature,
// symptoms, diagnosis, doctor), which becomes the fact clinic.fever (the
// default rules keep the patient yellow until a negative test taken at or
// after the visit), and follows each visit up until it is closed: with the
// result of the test the clinic took (recorded as nat.result, so a negative
// one turns the patient green again) or by discharge without one. Each
// clinic sees its own open and closed visits; the health authority sees
// the day per town.
package clinic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// Orgs authorises gateway callers and shows organisations to operators
// (the organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*org.Org, error)
}

// Subjects opens subject references (the gateway).
type Subjects interface {
	Resolve(o *org.Org, ref string) (gateway.Subject, error)
}

// Persons reads a person by number (the person service).
type Persons interface {
	Get(ctx context.Context, num int64) (*person.Person, error)
}

// FactRecorder records facts and recomputes colours (the status service).
type FactRecorder interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// Colors is the status cache.
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Config tunes the service.
type Config struct {
	Location *time.Location // "days" of lists and summaries (Asia/Shanghai by default)
	// PendingAfter is how old a visit whose fact is not recorded must be
	// before the worker records it (default 1 minute).
	PendingAfter time.Duration
}

// Deps are the services the clinic scenario uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Subjects Subjects
	Persons  Persons
	Facts    FactRecorder
	Colors   Colors
	Log      *slog.Logger
}

// Service registers visits and follows them up. It is safe for concurrent use.
type Service struct {
	db       *db.DB
	orgs     Orgs
	subjects Subjects
	persons  Persons
	facts    FactRecorder
	colors   Colors
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.PendingAfter <= 0 {
		cfg.PendingAfter = time.Minute
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{db: d.DB, orgs: d.Orgs, subjects: d.Subjects, persons: d.Persons, facts: d.Facts, colors: d.Colors,
		cfg: cfg, log: d.Log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Outcomes that close a visit's follow-up.
const (
	Negative   = fact.ResultNegative // the clinic's test was negative
	Positive   = fact.ResultPositive // the clinic's test was positive (a single tube)
	Discharged = "discharged"        // sent home without a result; the rules keep the patient yellow until a negative test
)

// Outcomes lists them in the order forms show them.
var Outcomes = []string{Negative, Positive, Discharged}

// VisitInput is a visit registered after the scan.
type VisitInput struct {
	Subject     string  // the reference the scan answered
	Temperature float64 // °C, as measured at the clinic
	Symptoms    []string
	Diagnosis   string // optional (often pending the test)
	Doctor      string
}

// CloseInput closes a visit's follow-up.
type CloseInput struct {
	Outcome string
	// SampledAt is when the swab of the test was taken: zero is at the
	// visit. Not for a discharge.
	SampledAt time.Time
	Note      string
}

// Visit is a fever-clinic visit as the clinic sees it.
type Visit struct {
	ID          string
	Org         string
	At          time.Time
	MaskedName  string
	Temperature float64
	Symptoms    []string
	Diagnosis   string
	Doctor      string
	ClosedAt    time.Time // zero while open
	Outcome     string
	SampledAt   time.Time // of the test that closed it
	Note        string
	// Color is the patient's colour once the visit (or its close) is
	// recorded: in the answer to a registration or a close only.
	Color rules.Color
}

// Open reports whether the visit is still followed up.
func (v *Visit) Open() bool { return v.ClosedAt.IsZero() }

// Fever reports whether the visit measured a fever.
func (v *Visit) Fever() bool { return v.Temperature >= fact.FeverCelsius }

const (
	maxText   = 200
	maxDoctor = 50
)

// checkVisit validates and normalises what a clinic typed.
func checkVisit(in VisitInput) (VisitInput, error) {
	if math.IsNaN(in.Temperature) || in.Temperature < 34 || in.Temperature > 43 {
		return in, ErrTemperatureInvalid
	}
	in.Temperature = math.Round(in.Temperature*10) / 10
	var syms []string
	for _, sym := range in.Symptoms {
		sym = strings.TrimSpace(sym)
		if !slices.ContainsFunc(fact.Symptoms, func(x fact.Symptom) bool { return x.Code == sym }) || slices.Contains(syms, sym) {
			codes := make([]string, len(fact.Symptoms))
			for i, x := range fact.Symptoms {
				codes[i] = x.Code
			}
			return in, ErrSymptomsInvalid.Withf("unknown or repeated symptom %q (symptoms are %s, each once)", sym, strings.Join(codes, ", "))
		}
		syms = append(syms, sym)
	}
	in.Symptoms = syms
	in.Diagnosis, in.Doctor = strings.TrimSpace(in.Diagnosis), strings.TrimSpace(in.Doctor)
	if utf8.RuneCountInString(in.Diagnosis) > maxText {
		return in, ErrDiagnosisTooLong
	}
	if n := utf8.RuneCountInString(in.Doctor); n == 0 || n > maxDoctor {
		return in, ErrDoctorInvalid
	}
	return in, nil
}

// clinicOf authorises a clinic's key (scope clinic.fever) or account.
func (s *Service) clinicOf(ctx context.Context, by *auth.Principal) (*org.Org, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeClinicFever)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.FeverClinic && o.Kind != org.Hospital {
		return nil, ErrNotClinic
	}
	return o, nil
}

// Register records a fever-clinic visit of the person a scan referred to,
// for a clinic's key (scope clinic.fever) or account. The visit is stored,
// then recorded as the fact clinic.fever, which recomputes the patient's
// colour before the answer. Refused input writes nothing.
func (s *Service) Register(ctx context.Context, by *auth.Principal, in VisitInput) (*Visit, error) {
	o, err := s.clinicOf(ctx, by)
	if err != nil {
		return nil, err
	}
	sub, err := s.subjects.Resolve(o, in.Subject)
	if err != nil {
		return nil, err
	}
	if in, err = checkVisit(in); err != nil {
		return nil, err
	}
	p, err := s.persons.Get(ctx, sub.Person)
	if err != nil {
		return nil, err
	}
	v := &Visit{ID: ids.New(), Org: o.ID, At: s.now().UTC().Truncate(time.Millisecond), MaskedName: idnum.MaskName(p.Name),
		Temperature: in.Temperature, Symptoms: in.Symptoms, Diagnosis: in.Diagnosis, Doctor: in.Doctor}
	_, err = s.db.ExecContext(ctx, `INSERT INTO clinic_visits (id, org_id, org_region, person_num, person_region, masked_name, at,
			temperature, symptoms, diagnosis, doctor, recorded_by, fact_recorded)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, FALSE)`,
		v.ID, o.ID, o.Region, p.Num, p.Region, v.MaskedName, v.At.UnixMilli(), tenths(v.Temperature),
		strings.Join(v.Symptoms, ","), v.Diagnosis, v.Doctor, by.Actor())
	if err != nil {
		return nil, fmt.Errorf("clinic: store visit: %w", err)
	}
	if err := s.recordVisit(ctx, pending{id: v.ID, org: o.ID, person: p.Num, at: v.At, by: by.Actor(),
		temperature: v.Temperature, symptoms: v.Symptoms}); err != nil {
		// The visit is stored; RecordPending records its fact later.
		return nil, err
	}
	v.Color = s.color(p.Num)
	return v, nil
}

func (s *Service) color(num int64) rules.Color {
	c, _ := s.colors.Color(num)
	if !c.Valid() {
		return rules.Green
	}
	return c
}

func tenths(c float64) int64 { return int64(math.Round(c * 10)) }

// Close ends a visit's follow-up, for the clinic that registered it: with
// the result of its test (negative or positive, recorded as the patient's
// nat.result at the sampling time, so the status engine recomputes the
// colour before the answer) or by discharge. A visit closes once.
func (s *Service) Close(ctx context.Context, by *auth.Principal, visitID string, in CloseInput) (*Visit, error) {
	o, err := s.clinicOf(ctx, by)
	if err != nil {
		return nil, err
	}
	v, num, err := s.visit(ctx, o.ID, visitID)
	if err != nil {
		return nil, err
	}
	if !v.Open() {
		return nil, ErrVisitClosed.Withf("the follow-up of visit %s was closed at %s (%s)", v.ID, v.ClosedAt.Format(time.RFC3339), v.Outcome)
	}
	if !slices.Contains(Outcomes, in.Outcome) {
		return nil, ErrOutcomeInvalid
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	test := in.Outcome != Discharged
	switch {
	case !test && !in.SampledAt.IsZero():
		return nil, ErrSampledAtInvalid.Withf("a discharge has no test: leave out the sampling time")
	case test && in.SampledAt.IsZero():
		in.SampledAt = v.At
	case test && (in.SampledAt.Before(v.At) || in.SampledAt.After(now)):
		return nil, ErrSampledAtInvalid.Withf("the swab was taken between the visit (%s) and now", v.At.Format(time.RFC3339))
	}
	in.SampledAt = in.SampledAt.UTC().Truncate(time.Millisecond)
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > maxText {
		return nil, ErrNoteTooLong
	}
	var sampled any
	if test {
		sampled = in.SampledAt.UnixMilli()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE clinic_visits SET closed_at = $1, outcome = $2, sampled_at = $3, close_note = $4,
			closed_by = $5, test_recorded = $6
		WHERE id = $7 AND closed_at IS NULL`, now.UnixMilli(), in.Outcome, sampled, in.Note, by.Actor(), !test, v.ID)
	if err != nil {
		return nil, fmt.Errorf("clinic: close visit: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("clinic: close visit: %w", err)
	} else if n == 0 {
		return nil, ErrVisitClosed.Withf("the follow-up of visit %s was closed meanwhile", v.ID)
	}
	v.ClosedAt, v.Outcome, v.Note = now, in.Outcome, in.Note
	if test {
		v.SampledAt = in.SampledAt
		if err := s.recordTest(ctx, pendingTest{id: v.ID, org: o.ID, lab: o.Name, person: num, result: in.Outcome,
			at: v.SampledAt, by: by.Actor()}); err != nil {
			return nil, err
		}
	}
	v.Color = s.color(num)
	return v, nil
}

const visitCols = `id, org_id, at, masked_name, temperature, symptoms, diagnosis, doctor, closed_at, outcome, sampled_at, close_note, person_num`

func scanVisit(row db.Scanner) (*Visit, int64, error) {
	var v Visit
	var at, temp, num int64
	var syms string
	var closed, sampled sql.NullInt64
	var outcome, note sql.NullString
	if err := row.Scan(&v.ID, &v.Org, &at, &v.MaskedName, &temp, &syms, &v.Diagnosis, &v.Doctor, &closed, &outcome, &sampled, &note, &num); err != nil {
		return nil, 0, err
	}
	v.At, v.Temperature = db.Time(at), float64(temp)/10
	if syms != "" {
		v.Symptoms = strings.Split(syms, ",")
	}
	if closed.Valid {
		v.ClosedAt = db.Time(closed.Int64)
	}
	if sampled.Valid {
		v.SampledAt = db.Time(sampled.Int64)
	}
	v.Outcome, v.Note = outcome.String, note.String
	return &v, num, nil
}

// visit reads one of the clinic's visits.
func (s *Service) visit(ctx context.Context, orgID, id string) (*Visit, int64, error) {
	v, num, err := scanVisit(s.db.QueryRowContext(ctx, `SELECT `+visitCols+` FROM clinic_visits WHERE id = $1 AND org_id = $2`, id, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrVisitNotFound.Withf("no visit %q at this clinic", id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("clinic: visit: %w", err)
	}
	return v, num, nil
}

// pending is a stored visit whose fact is to be recorded.
type pending struct {
	id, org, by string
	person      int64
	at          time.Time
	temperature float64
	symptoms    []string
}

// recordVisit records the visit's fact (idempotent by the visit's id) and
// marks the visit recorded.
func (s *Service) recordVisit(ctx context.Context, p pending) error {
	attrs := map[string]any{"clinic": p.org, "temperature": p.temperature}
	if len(p.symptoms) > 0 {
		attrs["symptoms"] = p.symptoms
	}
	_, err := s.facts.Record(ctx, status.NewFact{Person: p.person, RecordedBy: p.by, Key: "clinic.fever:" + p.id,
		Fact: fact.Fact{Kind: fact.ClinicFever, At: p.at, Source: "clinic:" + p.org, Attrs: attrs}})
	if err != nil {
		return fmt.Errorf("clinic: record fact of visit %s: %w", p.id, err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE clinic_visits SET fact_recorded = TRUE WHERE id = $1`, p.id); err != nil {
		return fmt.Errorf("clinic: mark visit %s recorded: %w", p.id, err)
	}
	return nil
}

// pendingTest is a closed visit whose test result is to be recorded.
type pendingTest struct {
	id, org, lab, by, result string
	person                   int64
	at                       time.Time
}

// recordTest records the clinic's test result as the patient's nat.result
// (a single tube; idempotent by the visit's id) and marks it recorded.
func (s *Service) recordTest(ctx context.Context, p pendingTest) error {
	lab := p.lab
	if r := []rune(lab); len(r) > 128 {
		lab = string(r[:128])
	}
	_, err := s.facts.Record(ctx, status.NewFact{Person: p.person, RecordedBy: p.by, Key: "clinic.test:" + p.id,
		Fact: fact.Fact{Kind: fact.NATResult, At: p.at, Source: "clinic:" + p.org,
			Attrs: map[string]any{"result": p.result, "tube_capacity": int64(1), "lab": lab}}})
	if err != nil {
		return fmt.Errorf("clinic: record the test of visit %s: %w", p.id, err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE clinic_visits SET test_recorded = TRUE WHERE id = $1`, p.id); err != nil {
		return fmt.Errorf("clinic: mark the test of visit %s recorded: %w", p.id, err)
	}
	return nil
}

// RecordPending records the facts a failure left behind (the status
// engine was unreachable, the node stopped between the two steps); the
// server runs it every minute.
func (s *Service) RecordPending(ctx context.Context) error {
	cutoff := s.now().Add(-s.cfg.PendingAfter).UnixMilli()
	type row struct {
		p       pending
		t       pendingTest
		visit   bool
		test    bool
		orgName string
	}
	todo, err := db.Collect(ctx, s.db, `SELECT v.id, v.org_id, o.name, v.person_num, v.at, v.temperature, v.symptoms, v.recorded_by,
			v.fact_recorded, v.test_recorded, v.outcome, v.sampled_at, v.closed_by
		FROM clinic_visits v JOIN orgs o ON o.id = v.org_id
		WHERE (v.fact_recorded = FALSE OR v.test_recorded = FALSE) AND v.at < $1 ORDER BY v.at LIMIT 500`, []any{cutoff},
		func(sc db.Scanner) (row, error) {
			var r row
			var at, temp int64
			var syms string
			var factDone, testDone bool
			var outcome, closedBy sql.NullString
			var sampled sql.NullInt64
			if err := sc.Scan(&r.p.id, &r.p.org, &r.orgName, &r.p.person, &at, &temp, &syms, &r.p.by, &factDone, &testDone,
				&outcome, &sampled, &closedBy); err != nil {
				return r, err
			}
			r.p.at, r.p.temperature = db.Time(at), float64(temp)/10
			if syms != "" {
				r.p.symptoms = strings.Split(syms, ",")
			}
			r.visit, r.test = !factDone, !testDone && sampled.Valid
			r.t = pendingTest{id: r.p.id, org: r.p.org, lab: r.orgName, by: closedBy.String, result: outcome.String,
				person: r.p.person, at: db.Time(sampled.Int64)}
			return r, nil
		})
	if err != nil {
		return fmt.Errorf("clinic: read pending visits: %w", err)
	}
	for _, r := range todo {
		if r.visit {
			if err := s.recordVisit(ctx, r.p); err != nil {
				return err
			}
		}
		if r.test {
			if err := s.recordTest(ctx, r.t); err != nil {
				return err
			}
		}
	}
	if len(todo) > 0 {
		s.log.Info("clinic: recorded facts of visits left pending", "visits", len(todo))
	}
	return nil
}
