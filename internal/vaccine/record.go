package vaccine

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
)

// Record is a person's vaccination record.
type Record struct {
	PersonID   string
	MaskedName string
	Doses      []Dose
	// Complete is true when every dose of the series has been given.
	Complete bool
	// NextDue is when the next dose of the series may be given; nil when
	// complete or when no dose was given.
	NextDue *time.Time
}

// RecordFor is the resident's record, or a dependent's (personID empty:
// their own); anyone else's is a 404.
func (s *Service) RecordFor(ctx context.Context, by *auth.Principal, personID string) (*Record, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	return s.RecordOf(ctx, who.Num, who.ID, who.MaskedName)
}

// RecordOf is a person's record, for the platform itself (the code page
// asks through a guarded lookup first).
func (s *Service) RecordOf(ctx context.Context, num int64, id, masked string) (*Record, error) {
	ds, err := s.doses(ctx, s.db, num)
	if err != nil {
		return nil, err
	}
	r := &Record{PersonID: id, MaskedName: masked, Doses: ds}
	if ds == nil {
		r.Doses = []Dose{}
	}
	if n := len(ds); n > 0 {
		last := ds[n-1]
		r.Complete = n >= last.Product.Doses
		if !r.Complete {
			due := s.due(last, &last.Product)
			r.NextDue = &due
		}
	}
	return r, nil
}

// Certificate is a signed vaccination certificate.
type Certificate struct {
	Code       string
	MaskedName string
	Product    string
	Dose       int
	Doses      int
	LastDoseAt time.Time
	Issuer     string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// CertificateFor signs a certificate of the resident's doses, or a
// dependent's: the same keys and format as health codes and test
// certificates (kind certificate, result vaccinated), verifiable offline
// with the trust list. It states the product and the latest dose number
// out of the series ("CoronaVac 2/2") and when that dose was given.
func (s *Service) CertificateFor(ctx context.Context, by *auth.Principal, personID string) (*Certificate, error) {
	who, err := s.persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	return s.IssueCertificate(ctx, who.Num, who.MaskedName)
}

// IssueCertificate signs the certificate of a person, for the platform
// itself; residents ask through CertificateFor.
func (s *Service) IssueCertificate(ctx context.Context, num int64, masked string) (*Certificate, error) {
	ds, err := s.doses(ctx, s.db, num)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, ErrNoDoses
	}
	if s.deps.Keys == nil {
		return nil, errNoSigner
	}
	signer := s.deps.Keys.Signer()
	if signer == nil {
		return nil, errNoSigner
	}
	last := ds[len(ds)-1]
	now := s.clock()
	given := last.GivenAt.Truncate(time.Second)
	issued := now.Truncate(time.Second)
	if issued.Before(given) {
		issued = given
	}
	what := truncateBytes(fmt.Sprintf("%d/%d %s", last.Dose, last.Product.Doses, last.Product.Name), 64)
	c := codeformat.Claims{Issuer: s.cfg.Region, IssuedAt: issued, Expires: issued.Add(s.cfg.CertificateValidity), ID: codeformat.NewID(),
		Handle: s.persons.Handles().Handle(num), MaskedName: masked, Kind: codeformat.KindCertificate,
		Result: codeformat.Vaccinated, SampledAt: given, Site: what}
	str, err := codeformat.Encode(c, signer, nil)
	if err != nil {
		return nil, fmt.Errorf("vaccine: sign certificate: %w", err)
	}
	return &Certificate{Code: str, MaskedName: masked, Product: last.Product.Name, Dose: last.Dose, Doses: last.Product.Doses,
		LastDoseAt: given, Issuer: c.Issuer, IssuedAt: c.IssuedAt, ExpiresAt: c.Expires}, nil
}

// truncateBytes cuts v to at most n bytes on a rune boundary.
func truncateBytes(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for i := n; i > 0; i-- {
		if (v[i] & 0xC0) != 0x80 {
			return v[:i]
		}
	}
	return ""
}
