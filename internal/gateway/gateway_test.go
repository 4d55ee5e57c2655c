package gateway

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/rules"
)

type oneOrg struct{ o *org.Org }

func (x oneOrg) Authorize(_ context.Context, p *auth.Principal, scope string) (*org.Org, error) {
	if p.Org != x.o.ID {
		return nil, org.ErrOrgOnly
	}
	return x.o, nil
}

// verifier answers every ID number "341881…" as person 42 and refuses
// others as nobody registered; a code "bad" is expired.
type verifier struct{ lookups int }

func (v *verifier) Verify(_ context.Context, _ *auth.Principal, code string, _ codes.Temperature) (codes.Result, error) {
	switch code {
	case "bad":
		return codes.Result{Reasons: []string{"expired"}}, nil
	case "unknown":
		return codes.Result{Reasons: []string{"unknown_key"}}, nil
	case "foreign":
		return codes.Result{Valid: true, Admitted: true, Color: rules.Green, MaskedName: "周*", Kind: "dynamic", Issuer: "330100"}, nil
	}
	return codes.Result{Valid: true, Admitted: true, Color: rules.Green, MaskedName: "张*丰", Kind: "dynamic", Person: 42}, nil
}

func (v *verifier) VerifyID(_ context.Context, _ *auth.Principal, idType, number string, _ codes.Temperature) (codes.Result, error) {
	if idType != "resident_id" {
		return codes.Result{}, apierr.BadRequest("id_type_unknown", "unknown type")
	}
	v.lookups++
	if number[:6] != "341881" {
		return codes.Result{}, apierr.NotFound("id_not_registered", "nobody")
	}
	return codes.Result{Valid: true, Color: rules.Yellow, Reasons: []string{codes.ReasonYellow}, MaskedName: "张*汉", Kind: codes.KindID, Person: 43}, nil
}

// ID-number lookups: 20 at once per key or account, then one every 3 s;
// a lookup that finds nobody spends a token too, refused input does not.
func TestIDLookupsAreLimited(t *testing.T) {
	now := time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)
	ph := &org.Org{ID: "ph", Num: 7, Kind: org.Pharmacy}
	v := &verifier{}
	s, err := New(oneOrg{ph}, v, bytes.Repeat([]byte{9}, 32), Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetClock(func() time.Time { return now })
	desk := &auth.Principal{Kind: auth.APIKey, ID: "k1", Org: "ph"}
	ctx := context.Background()
	for range 5 {
		if _, err := s.Scan(ctx, desk, ScanInput{IDType: "passport_typo", IDNumber: "x"}); err == nil {
			t.Fatal("a bad ID type was looked up")
		}
	}
	for i := range 20 {
		number := "341881194801010118"
		if i%2 == 1 {
			number = "110101194801010118"
		}
		_, err := s.Scan(ctx, desk, ScanInput{IDType: "resident_id", IDNumber: number})
		if err != nil && !errors.Is(err, apierr.NotFound("id_not_registered", "")) {
			t.Fatalf("lookup %d: %v", i+1, err)
		}
	}
	_, err = s.Scan(ctx, desk, ScanInput{IDType: "resident_id", IDNumber: "341881194801010118"})
	var le *org.LimitError
	if !errors.Is(err, ErrIDRateLimited) || !errors.As(err, &le) || le.RetryAfter() != 3*time.Second {
		t.Fatalf("the 21st lookup: %v", err)
	}
	if v.lookups != 20 {
		t.Fatalf("%d lookups reached the register", v.lookups)
	}
	// A scan of a code is not an ID lookup; another key has its own bucket.
	if _, err := s.Scan(ctx, desk, ScanInput{Code: "HC1:x"}); err != nil {
		t.Fatalf("a code scan after the ID limit: %v", err)
	}
	if _, err := s.Scan(ctx, &auth.Principal{Kind: auth.APIKey, ID: "k2", Org: "ph"}, ScanInput{IDType: "resident_id", IDNumber: "341881194801010118"}); err != nil {
		t.Fatalf("another key: %v", err)
	}
	now = now.Add(3 * time.Second)
	sc, err := s.Scan(ctx, desk, ScanInput{IDType: "resident_id", IDNumber: "341881194801010118"})
	if err != nil || sc.Admitted || sc.Color != rules.Yellow || sc.Kind != codes.KindID {
		t.Fatalf("3 s later: %+v %v", sc, err)
	}
	if sub, err := s.Resolve(ph, sc.Subject); err != nil || sub.Person != 43 {
		t.Fatalf("the reference: %+v %v", sub, err)
	}
	if _, err := s.Scan(ctx, desk, ScanInput{Code: "bad"}); !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("an expired code: %v", err)
	}
	if _, err := s.Scan(ctx, desk, ScanInput{Code: "x", IDNumber: "1"}); !errors.Is(err, ErrScanInput) {
		t.Fatalf("both: %v", err)
	}
}

// Another region's code: refused unless the scenario serves visitors
// (Foreign), which gets the colour and the issuer and no reference; a code
// no key here verifies is forged, or, for such a scenario, of an issuer
// not known here.
func TestForeignCodes(t *testing.T) {
	hall := &org.Org{ID: "hall", Num: 9, Kind: org.ServiceHall}
	s, err := New(oneOrg{hall}, &verifier{}, bytes.Repeat([]byte{9}, 32), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	machine := &auth.Principal{Kind: auth.APIKey, ID: "k1", Org: "hall"}
	for _, c := range []struct {
		in   ScanInput
		want error
	}{
		{ScanInput{Code: "foreign"}, ErrCodeInvalid},
		{ScanInput{Code: "unknown"}, ErrCodeForged},
		{ScanInput{Code: "unknown", Foreign: true}, ErrIssuerUnknown},
		{ScanInput{Code: "bad", Foreign: true}, ErrCodeExpired},
	} {
		if _, err := s.Scan(ctx, machine, c.in); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.in, err, c.want)
		}
	}
	sc, err := s.Scan(ctx, machine, ScanInput{Code: "foreign", Foreign: true})
	if err != nil || sc.Subject != "" || sc.Issuer != "330100" || sc.Color != rules.Green || sc.MaskedName != "周*" {
		t.Fatalf("a foreign code for visitors: %+v, %v", sc, err)
	}
	sc, err = s.Scan(ctx, machine, ScanInput{Code: "HC1:x", Foreign: true})
	if err != nil || sc.Subject == "" {
		t.Fatalf("this region's code for visitors: %+v, %v", sc, err)
	}
}
