// Package gateway is the unified service gateway (统一服务网关): the way an
// organisation acts on a person. It scans a code (or looks a person up by
// ID number at a desk), answers the colour and a masked name, and hands out
// a subject reference bound to the organisation that later calls (a
// purchase, a clinic visit ...) present instead of any person id. Scenario
// packages open references through Resolve.
//
// Scans go through the codes service's verification, so each one is
// recorded as a verification event by the group commit (who: the key or
// account, and through it the organisation; when; whom), and every ID-number
// lookup is written to the audit log; a scan itself writes nothing else.
package gateway

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/ratelimit"
	"github.com/healthcode/healthcode/internal/rules"
)

// Orgs is the organisation service: who acts for which organisation, with
// which scope, within which limits.
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
}

// Verifier checks scanned codes and ID numbers and records each scan (the
// codes service).
type Verifier interface {
	Verify(ctx context.Context, by *auth.Principal, scanned string, t codes.Temperature) (codes.Result, error)
	VerifyID(ctx context.Context, by *auth.Principal, idType, idNumber string, t codes.Temperature) (codes.Result, error)
}

// Config tunes the gateway; zero values take the defaults.
type Config struct {
	// SubjectTTL is how long a subject reference can be used (default 15
	// minutes: a scan, then the form at the counter).
	SubjectTTL time.Duration
	// IDBurst and IDPeriod limit ID-number lookups per key or account on
	// each node: IDBurst at once, then one every IDPeriod (20 and 3 s, as
	// the checkpoints' POST /verify/id).
	IDBurst  int64
	IDPeriod time.Duration
	// Metrics receives the gateway's metrics (nil: not registered).
	Metrics prometheus.Registerer
}

// Defaults.
const (
	DefaultSubjectTTL = 15 * time.Minute
	DefaultIDBurst    = 20
	DefaultIDPeriod   = 3 * time.Second
)

// Service is the gateway. It is safe for concurrent use.
type Service struct {
	orgs  Orgs
	codes Verifier
	seal  *sealer
	cfg   Config
	now   func() time.Time
	ids   *ratelimit.Limiter
	m     *metrics
}

// New returns the gateway; key is the 32-byte subject-reference key
// (secret.Keyring.Derive("gateway/subject", 32)).
func New(orgs Orgs, v Verifier, key []byte, cfg Config) (*Service, error) {
	if cfg.SubjectTTL <= 0 {
		cfg.SubjectTTL = DefaultSubjectTTL
	}
	if cfg.IDBurst <= 0 {
		cfg.IDBurst = DefaultIDBurst
	}
	if cfg.IDPeriod <= 0 {
		cfg.IDPeriod = DefaultIDPeriod
	}
	sl, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	s := &Service{orgs: orgs, codes: v, seal: sl, cfg: cfg, now: time.Now, m: newMetrics(cfg.Metrics)}
	s.ids = ratelimit.New(func() time.Time { return s.now() })
	return s, nil
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// ScanInput is a scanned code, or an identity number typed at a desk.
type ScanInput struct {
	Code     string
	IDType   string
	IDNumber string
	// Foreign serves another region's residents too: their code verified
	// through the federation answers with its colour and issuer and no
	// subject reference (there is no person here to refer to), and a code
	// whose issuer is not known here is ErrIssuerUnknown rather than
	// ErrCodeForged. For scenarios that serve visitors (a hall's queue).
	Foreign bool
	// Slip accepts a signed test certificate as well as a health code:
	// a school's gate admits by a paper slip too (有码认码、有单认单), where
	// a teacher who knows the pupil matches the name on it.
	Slip bool
	// Temperature is read with the code where the scanner has a
	// thermometer (a station's gate): a fever refuses with the reason.
	Temperature codes.Temperature
}

// Scan is the answer to a scan.
type Scan struct {
	Subject    string // the reference later calls present
	ExpiresAt  time.Time
	Color      rules.Color
	MaskedName string
	// Admitted is false for yellow and red, with the reasons.
	Admitted bool
	Reasons  []string
	Kind     string // dynamic, care, id, or certificate (ScanInput.Slip only)
	Org      *org.Org
	// Issuer is the region that issued the code; another region's only
	// with ScanInput.Foreign, and then Subject is "".
	Issuer string
	// Result and ResultAt are what a certificate certifies (negative or
	// positive, and the sampling time); empty for codes.
	Result   string
	ResultAt time.Time
}

// Scan verifies a code (scope scan) or looks a person up by ID number
// (scope scan_id: audited and rate limited) for the organisation the caller
// acts for, and answers a subject reference bound to that organisation. A
// code that is not valid is a 422 saying why; the scan is recorded either way.
func (s *Service) Scan(ctx context.Context, p *auth.Principal, in ScanInput) (*Scan, error) {
	sc, err := s.scan(ctx, p, in)
	s.m.scan(&in, sc, err)
	return sc, err
}

func (s *Service) scan(ctx context.Context, p *auth.Principal, in ScanInput) (*Scan, error) {
	byCode := in.Code != ""
	byID := in.IDType != "" || in.IDNumber != ""
	if byCode == byID {
		return nil, ErrScanInput
	}
	if byCode {
		o, err := s.orgs.Authorize(ctx, p, org.ScopeScan)
		if err != nil {
			return nil, err
		}
		res, err := s.codes.Verify(ctx, p.Delegate(auth.ScopeVerify), in.Code, in.Temperature)
		if err != nil {
			return nil, err
		}
		if !res.Valid {
			if in.Foreign && slices.Contains(res.Reasons, string(codeformat.ReasonUnknownKey)) {
				return nil, ErrIssuerUnknown
			}
			return nil, invalid(res.Reasons)
		}
		// A certificate proves a test or a vaccination, not who stands at
		// the desk now: the gateway binds people by their health code.
		if res.Kind == codeformat.KindCertificate.String() && !in.Slip {
			return nil, invalid([]string{string(codeformat.ReasonWrongKind)})
		}
		if res.Person == 0 && in.Foreign {
			return &Scan{Color: res.Color, MaskedName: res.MaskedName, Admitted: res.Admitted, Reasons: res.Reasons, Kind: res.Kind,
				Org: o, Issuer: res.Issuer}, nil
		}
		if res.Person == 0 {
			// Another region's resident (recognised through the federation)
			// is nobody an organisation here can act on.
			return nil, ErrCodeInvalid.Withf("the code was issued by region %s; organisations act on this region's residents only", res.Issuer)
		}
		return s.answer(o, &res), nil
	}
	o, err := s.orgs.Authorize(ctx, p, org.ScopeScanID)
	if err != nil {
		return nil, err
	}
	if wait := s.ids.Wait(p.Actor(), s.cfg.IDBurst, s.cfg.IDPeriod); wait > 0 {
		return nil, org.Limited(ErrIDRateLimited.Withf("too many identity-number lookups; try again in %d s", int(wait.Seconds())+1), wait)
	}
	res, err := s.codes.VerifyID(ctx, p.Delegate(auth.ScopeVerifyID), in.IDType, in.IDNumber, in.Temperature)
	// A lookup spends a token whether it found someone or not; refused
	// input does not.
	if e, ok := apierr.As(err); !ok || e.Status == 404 {
		s.ids.Take(p.Actor(), s.cfg.IDBurst, s.cfg.IDPeriod)
	}
	if err != nil {
		return nil, err
	}
	return s.answer(o, &res), nil
}

func (s *Service) answer(o *org.Org, res *codes.Result) *Scan {
	exp := s.now().Add(s.cfg.SubjectTTL).Truncate(time.Second).UTC()
	return &Scan{
		Subject:   s.seal.seal(subject{org: o.Num, person: res.Person, expires: exp}),
		ExpiresAt: exp, Color: res.Color, MaskedName: res.MaskedName, Admitted: res.Admitted,
		Reasons: res.Reasons, Kind: res.Kind, Org: o, Issuer: res.Issuer, Result: res.Result, ResultAt: res.ResultAt,
	}
}

// invalid is the precise error for a code that is not valid.
func invalid(reasons []string) error {
	has := func(rs ...codeformat.Reason) bool {
		return slices.ContainsFunc(rs, func(r codeformat.Reason) bool { return slices.Contains(reasons, string(r)) })
	}
	why := "(" + strings.Join(reasons, ", ") + ")"
	switch {
	case has(codeformat.ReasonBadPrefix, codeformat.ReasonBadBase45, codeformat.ReasonBadZlib, codeformat.ReasonBadCBOR, codeformat.ReasonBadCOSE):
		return ErrCodeUnreadable.Withf("%s %s", ErrCodeUnreadable.Message, why)
	case has(codeformat.ReasonUnknownKey, codeformat.ReasonAlgMismatch, codeformat.ReasonBadSignature):
		return ErrCodeForged.Withf("%s %s", ErrCodeForged.Message, why)
	case has(codeformat.ReasonRevoked):
		return ErrCodeRevoked.Withf("%s %s", ErrCodeRevoked.Message, why)
	case has(codeformat.ReasonExpired, codeformat.ReasonNotYetValid):
		return ErrCodeExpired.Withf("%s %s", ErrCodeExpired.Message, why)
	}
	return ErrCodeInvalid.Withf("%s %s", ErrCodeInvalid.Message, why)
}

// Subject is a person as a scenario sees them: their internal number, for
// recording facts; never given to the organisation.
type Subject struct {
	Person    int64
	ExpiresAt time.Time
	// Ref tells one scan's reference from another's (48 hex characters):
	// a call the organisation may make once per scan stores it.
	Ref string
}

// Resolve opens a subject reference presented by org o (which the caller
// has authorised): a reference that is altered, expired or issued to
// another organisation is refused with its own 4xx. With the refusal of a
// foreign or expired reference, which did open, the Subject still names
// the person, so that a caller handing out personal data can audit the
// attempt; with an altered one it is empty.
func (s *Service) Resolve(o *org.Org, ref string) (Subject, error) {
	sub, err := s.seal.open(strings.TrimSpace(ref))
	if err != nil {
		return Subject{}, err
	}
	out := Subject{Person: sub.person, ExpiresAt: sub.expires, Ref: sub.ref}
	if sub.org != o.Num {
		return out, ErrSubjectForeign
	}
	if !s.now().Before(sub.expires) {
		return out, ErrSubjectExpired.Withf("the subject reference expired at %s; scan the person's code again", sub.expires.Format(time.RFC3339))
	}
	return out, nil
}
