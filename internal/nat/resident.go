package nat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
)

// Test is one of a person's tests as the resident sees it.
type Test struct {
	ID           string
	SampledAt    time.Time
	Site         SiteRef
	Tube         string
	TubeCapacity int
	// Result is what the test means for the person: pending, negative,
	// positive (single tube), mixed_positive, or invalid (resample).
	Result     string
	ReportedAt *time.Time
	Lab        string
	Corrected  bool
	// Certificate says whether GET .../certificate will give one now.
	Certificate bool
}

// SiteRef names the site of a test.
type SiteRef struct {
	ID      string
	Name    string
	Address string
}

// Task is a follow-up the person has to do.
type Task struct {
	ID        string
	Kind      string // retest (single tube), resample
	Tube      string
	CreatedAt time.Time
}

// Tests is a person's tests, newest first, and their open tasks.
type Tests struct {
	Tests []Test
	Tasks []Task
}

// Pending is the result of a test the lab has not reported yet.
const Pending = "pending"

const testCols = `s.id, s.sampled_at, st.id, st.name, st.address, t.barcode, t.capacity, COALESCE(t.result, ''),
	t.result_version, t.result_at, COALESCE(r.lab, '')`

const testFrom = ` FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode JOIN nat_sites st ON st.id = t.site_id
	LEFT JOIN nat_results r ON r.barcode = t.barcode AND r.version = t.result_version`

func (s *Service) scanTest(row interface{ Scan(...any) error }) (*Test, error) {
	var t Test
	var sampled int64
	var reported sql.NullInt64
	var version int
	if err := row.Scan(&t.ID, &sampled, &t.Site.ID, &t.Site.Name, &t.Site.Address, &t.Tube, &t.TubeCapacity,
		&t.Result, &version, &reported, &t.Lab); err != nil {
		return nil, err
	}
	t.SampledAt = db.Time(sampled)
	if t.Result == "" {
		t.Result = Pending
	} else {
		t.Result = PersonResult(t.Result, t.TubeCapacity)
		at := db.NullTime(reported)
		t.ReportedAt = &at
	}
	t.Corrected = version > 1
	t.Certificate = t.Result == Negative && s.clock().Before(t.SampledAt.Add(s.cfg.CertificateValidity))
	return &t, nil
}

// MaxTests bounds the history a resident sees.
const MaxTests = 100

// TestsFor is a resident's tests, or a dependent's (personID empty: their
// own), newest first, with their open follow-up tasks. Anyone else's are a
// 404, and only residents ask.
func (s *Service) TestsFor(ctx context.Context, by *auth.Principal, personID string) (*Tests, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	return s.ListTests(ctx, who.Num)
}

// ListTests returns the person's tests, newest first, with their open
// follow-up tasks, to the platform itself: residents ask through TestsFor.
func (s *Service) ListTests(ctx context.Context, num int64) (*Tests, error) {
	out := &Tests{Tests: []Test{}, Tasks: []Task{}}
	err := db.Each(ctx, s.db, `SELECT `+testCols+testFrom+` WHERE s.person_num = $1 ORDER BY s.sampled_at DESC LIMIT $2`, []any{num, MaxTests},
		func(sc db.Scanner) error {
			t, err := s.scanTest(sc)
			if err != nil {
				return err
			}
			out.Tests = append(out.Tests, *t)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("nat: list tests: %w", err)
	}
	err = db.Each(ctx, s.db, `SELECT id, kind, barcode, created_at FROM nat_tasks
		WHERE person_num = $1 AND closed_at IS NULL ORDER BY created_at`, []any{num}, func(sc db.Scanner) error {
		var t Task
		var at int64
		if err := sc.Scan(&t.ID, &t.Kind, &t.Tube, &at); err != nil {
			return err
		}
		t.CreatedAt = db.Time(at)
		out.Tasks = append(out.Tasks, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nat: list tasks: %w", err)
	}
	return out, nil
}

// Certificate is a signed certificate of a negative test.
type Certificate struct {
	Code       string
	Kind       codeformat.Kind
	Result     codeformat.TestResult
	MaskedName string
	SampledAt  time.Time
	Site       string
	Issuer     string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// CertificateFor signs a certificate of a negative test of a resident, or
// of a dependent (personID empty: their own); see IssueCertificate. Anyone
// else's tests are a 404, and only residents ask.
func (s *Service) CertificateFor(ctx context.Context, by *auth.Principal, personID, testID string) (*Certificate, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	return s.IssueCertificate(ctx, who.Num, who.MaskedName, testID)
}

// IssueCertificate signs a certificate of the person's negative test: the
// same pipeline and keys as health codes, kind certificate, verifiable
// offline with the trust list. Only a negative result qualifies, and only
// until the certificate validity after sampling has passed. It serves the
// platform itself, which gives the masked name the certificate shows:
// residents ask through CertificateFor.
func (s *Service) IssueCertificate(ctx context.Context, num int64, maskedName, testID string) (*Certificate, error) {
	t, err := s.scanTest(s.db.QueryRowContext(ctx, `SELECT `+testCols+testFrom+` WHERE s.id = $1 AND s.person_num = $2`, testID, num))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTestNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("nat: read test: %w", err)
	}
	switch t.Result {
	case Negative:
	case Pending:
		return nil, ErrResultPending.Withf("the result of this test is not out yet")
	default:
		return nil, ErrResultNotNegative.Withf("certificates are issued for negative results only; this test is %s", t.Result)
	}
	now := s.clock()
	expires := t.SampledAt.Add(s.cfg.CertificateValidity)
	if !now.Before(expires) {
		return nil, ErrCertificateExpired.Withf("this test was sampled more than %s ago; a certificate would already have expired", s.cfg.CertificateValidity)
	}
	if s.deps.Keys == nil {
		return nil, errNoSigner
	}
	signer := s.deps.Keys.Signer()
	if signer == nil {
		return nil, errNoSigner
	}
	// NumericDate has whole seconds: round the sampling time down and the
	// issue time up so that sampled <= issued holds on the wire too.
	sampled := t.SampledAt.Truncate(time.Second)
	issued := now.Truncate(time.Second)
	if issued.Before(sampled) {
		issued = sampled
	}
	c := codeformat.Claims{
		Issuer: s.cfg.Region, IssuedAt: issued, Expires: expires.Truncate(time.Second), ID: codeformat.NewID(),
		Handle: s.persons.Handles().Handle(num), MaskedName: maskedName, Kind: codeformat.KindCertificate,
		Result: codeformat.TestNegative, SampledAt: sampled, Site: truncate(t.Site.Name, 64),
	}
	if !c.Expires.After(c.IssuedAt) {
		return nil, ErrCertificateExpired.Withf("this test is about to be too old for a certificate")
	}
	str, err := codeformat.Encode(c, signer, nil)
	if err != nil {
		return nil, fmt.Errorf("nat: sign certificate: %w", err)
	}
	return &Certificate{Code: str, Kind: c.Kind, Result: c.Result, MaskedName: c.MaskedName, SampledAt: c.SampledAt,
		Site: c.Site, Issuer: c.Issuer, IssuedAt: c.IssuedAt, ExpiresAt: c.Expires}, nil
}
