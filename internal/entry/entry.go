// Package entry is the border (入境): foreign health credentials verified
// against imported trust material (package foreign does the checking), and
// inbound travellers registered with a verified credential, which records
// their arrival (the default rules then decide the quarantine) and issues
// them a local code.
package entry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/foreign"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// Persons finds and registers travellers.
type Persons interface {
	FindByIDNumber(ctx context.Context, idType, number string) (*person.Person, error)
	Create(ctx context.Context, by *auth.Principal, in person.Input) (*person.Person, error)
	Get(ctx context.Context, num int64) (*person.Person, error)
}

// Facts records the arrival and tells the colour it gave.
type Facts interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
	Status(ctx context.Context, num int64) (status.Status, error)
}

// CareCodes issues the traveller's local code: a printed code, since a
// traveller has no local phone number to log in with yet.
type CareCodes interface {
	IssueCare(ctx context.Context, by *auth.Principal, personID string) (*codes.CareCode, error)
}

// Service verifies foreign credentials and registers arrivals.
type Service struct {
	db      *db.DB
	persons Persons
	facts   Facts
	care    CareCodes
	region  string
	log     *slog.Logger
	now     func() time.Time
	trust   atomic.Pointer[trustState]
}

// New returns the service. region is the deployment's region, where
// travellers are registered when the officer's scope is all regions.
func New(d *db.DB, persons Persons, facts Facts, care CareCodes, region string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, persons: persons, facts: facts, care: care, region: region, log: log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Verify checks a foreign credential for a checkpoint (or border) API key
// with the verify scope, or an operator who registers arrivals. Nothing is
// stored: a verification at the border is not a presence in the region.
// An invalid credential is a Result with reasons, not an error.
func (s *Service) Verify(ctx context.Context, by *auth.Principal, credential string) (foreign.Result, error) {
	if by != nil && by.Kind == auth.Operator {
		if err := by.Require(auth.EntryWrite); err != nil {
			return foreign.Result{}, err
		}
	} else if err := by.RequireScope(auth.ScopeVerify); err != nil {
		return foreign.Result{}, err
	}
	return s.verify(ctx, credential)
}

func (s *Service) verify(ctx context.Context, credential string) (foreign.Result, error) {
	if strings.TrimSpace(credential) == "" {
		return foreign.Result{}, ErrCredentialMissing
	}
	if len(credential) > foreign.MaxSize {
		return foreign.Result{}, ErrCredentialTooLarge.Withf("the credential has %d bytes; at most %d are read", len(credential), foreign.MaxSize)
	}
	t, err := s.Trust(ctx)
	if err != nil {
		return foreign.Result{}, err
	}
	return (&foreign.Verifier{Trust: t}).Verify(credential, s.now()), nil
}

// Check verifies a foreign credential that a resident attached to an appeal
// as evidence, under the imported trust, for the platform itself: nothing
// is stored here (the appeal keeps what the reviewer needs).
func (s *Service) Check(ctx context.Context, credential string) (foreign.Result, error) {
	return s.verify(ctx, credential)
}

// ArrivalInput registers an inbound traveller.
type ArrivalInput struct {
	Credential    string
	Name          string // as in the passport
	IDType        string // passport or a travel permit
	IDNumber      string
	Phone         string // optional: a local number, for SMS
	OriginCountry string // ISO 3166 alpha-2 or alpha-3; default: the credential's issuer country
	Port          string
	Transport     string    // default air
	ArrivedAt     time.Time // default now
}

// Arrival is a registered inbound traveller.
type Arrival struct {
	ID            string
	PersonID      string
	MaskedName    string
	Origin        string // alpha-3
	Port          string
	Transport     string
	ArrivedAt     time.Time
	Format        foreign.Format
	Kind          foreign.Kind
	IssuerCountry string
	Color         rules.Color
	RuleID        string
	Reason        rules.Text
	CareCodeID    string
	Code          string // the local code, at registration only
	CodeExpiresAt time.Time
	CreatedAt     time.Time
	CreatedBy     string
}

var transports = []string{"air", "rail", "road", "water", "other"}

// RegisterArrival registers an inbound traveller at the border: the
// credential must verify; the traveller is found by passport number or
// registered; the arrival is recorded as arrival.inbound (from abroad,
// registered at the border, with the credential's format and kind), which
// the default rules turn into the inbound quarantine; and a local code is
// issued. Every check on the input comes before anything is written.
func (s *Service) RegisterArrival(ctx context.Context, by *auth.Principal, in ArrivalInput) (*Arrival, error) {
	if err := by.Require(auth.EntryWrite); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	in.Name = strings.TrimSpace(in.Name)
	in.Port = strings.TrimSpace(in.Port)
	switch {
	case in.Name == "":
		return nil, ErrNameMissing
	case in.IDType == string(idnum.ResidentID):
		return nil, ErrIDTypeNotForeign
	case in.Port == "":
		return nil, ErrPortMissing
	case utf8.RuneCountInString(in.Port) > 128:
		return nil, ErrPortMissing.Withf("the port of entry has more than 128 characters")
	}
	if in.Transport == "" {
		in.Transport = "air"
	}
	if !contains(transports, in.Transport) {
		return nil, ErrTransportInvalid
	}
	if in.ArrivedAt.IsZero() {
		in.ArrivedAt = now
	}
	if in.ArrivedAt.After(now.Add(5 * time.Minute)) {
		return nil, ErrArrivedInFuture
	}
	res, err := s.verify(ctx, in.Credential)
	if err != nil {
		return nil, err
	}
	if !res.Valid {
		rs := make([]string, len(res.Reasons))
		for i, r := range res.Reasons {
			rs[i] = string(r)
		}
		return nil, ErrCredentialInvalid.Withf("the foreign credential is not valid: %s", strings.Join(rs, ", "))
	}
	origin := in.OriginCountry
	if origin == "" {
		origin = res.IssuerCountry
	}
	if origin = Alpha3(origin); origin == "" {
		return nil, ErrOriginInvalid.Withf("origin_country %q is not a country code this desk knows; give it in alpha-3 (DEU, USA)", in.OriginCountry)
	}
	day := in.ArrivedAt.UTC().Format("2006-01-02")
	p, err := s.persons.FindByIDNumber(ctx, in.IDType, in.IDNumber)
	switch {
	case errors.Is(err, person.ErrNotFound):
		region := by.Region
		if region == "" {
			region = s.region
		}
		if p, err = s.persons.Create(ctx, by, person.Input{Name: in.Name, IDType: in.IDType, IDNumber: in.IDNumber, Phone: in.Phone, Region: region}); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !by.InScope(p.Region):
		return nil, auth.ErrOutOfScope.Withf("this traveller is registered in region %s, outside your scope", p.Region)
	default:
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM arrivals WHERE person_num = $1 AND credential_id = $2 AND arrival_day = $3`,
			p.Num, res.ID, day).Scan(&n); err != nil {
			return nil, fmt.Errorf("entry: find arrival: %w", err)
		}
		if n > 0 {
			return nil, ErrArrivalExists
		}
	}
	if _, err := s.facts.Record(ctx, status.NewFact{Person: p.Num, RecordedBy: by.Actor(), Key: "arrival:" + res.ID + ":" + day,
		Fact: fact.Fact{Kind: fact.ArrivalInbound, At: in.ArrivedAt, Source: "entry:" + in.Port, Attrs: map[string]any{
			"origin": origin, "international": true, "border_entry": true, "transport": in.Transport, "port": in.Port,
			"credential": string(res.Format), "credential_kind": string(res.Kind)}}}); err != nil {
		return nil, err
	}
	cc, err := s.care.IssueCare(ctx, by, p.ID)
	if err != nil {
		return nil, err
	}
	a := &Arrival{ID: ids.New(), PersonID: p.ID, MaskedName: idnum.MaskName(p.Name), Origin: origin, Port: in.Port, Transport: in.Transport,
		ArrivedAt: in.ArrivedAt.UTC().Truncate(time.Millisecond), Format: res.Format, Kind: res.Kind, IssuerCountry: res.IssuerCountry,
		CareCodeID: cc.ID, Code: cc.Code, CodeExpiresAt: cc.ExpiresAt, CreatedAt: now.Truncate(time.Millisecond), CreatedBy: by.Actor()}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO arrivals (id, person_num, region_code, origin, port, transport, arrived_at, arrival_day,
			format, credential_kind, credential_id, issuer_country, care_code_id, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			a.ID, p.Num, p.Region, a.Origin, a.Port, a.Transport, a.ArrivedAt.UnixMilli(), day, string(a.Format), string(a.Kind),
			res.ID, a.IssuerCountry, a.CareCodeID, a.CreatedAt.UnixMilli(), a.CreatedBy); err != nil {
			return fmt.Errorf("entry: store arrival: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "entry.arrival", Subject: "person:" + p.ID,
			Region: p.Region, Detail: map[string]any{"origin": origin, "port": a.Port, "format": string(a.Format), "kind": string(a.Kind)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.colour(ctx, p.Num, a); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Service) colour(ctx context.Context, num int64, a *Arrival) error {
	st, err := s.facts.Status(ctx, num)
	if err != nil {
		return fmt.Errorf("entry: status: %w", err)
	}
	a.Color, a.RuleID, a.Reason = st.Color, st.RuleID, st.Reason
	return nil
}

// Arrivals lists the latest arrivals in the operator's scope, newest first.
func (s *Service) Arrivals(ctx context.Context, by *auth.Principal, limit int) ([]*Arrival, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	lo, hi := by.Bounds()
	where, args := db.Scope("region_code", lo, hi, nil)
	type row struct {
		a   Arrival
		num int64
	}
	rows, err := db.Collect(ctx, s.db, `SELECT id, person_num, origin, port, transport, arrived_at, format, credential_kind, issuer_country,
		care_code_id, created_at, created_by FROM arrivals WHERE `+where+fmt.Sprintf(` ORDER BY arrived_at DESC, id LIMIT %d`, limit), args,
		func(r db.Scanner) (row, error) {
			var x row
			var format, kind string
			var at, created int64
			err := r.Scan(&x.a.ID, &x.num, &x.a.Origin, &x.a.Port, &x.a.Transport, &at, &format, &kind, &x.a.IssuerCountry,
				&x.a.CareCodeID, &created, &x.a.CreatedBy)
			x.a.Format, x.a.Kind = foreign.Format(format), foreign.Kind(kind)
			x.a.ArrivedAt, x.a.CreatedAt = time.UnixMilli(at).UTC(), time.UnixMilli(created).UTC()
			return x, err
		})
	if err != nil {
		return nil, fmt.Errorf("entry: list arrivals: %w", err)
	}
	out := make([]*Arrival, 0, len(rows))
	for i := range rows {
		a := &rows[i].a
		p, err := s.persons.Get(ctx, rows[i].num)
		if err != nil {
			return nil, err
		}
		a.PersonID, a.MaskedName = p.ID, idnum.MaskName(p.Name)
		if err := s.colour(ctx, rows[i].num, a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
