package codes

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

// Reasons a verification adds to the code's own (code.Reason): the code is
// valid but the person is not admitted.
const (
	ReasonFever  = "fever"        // a temperature of 37.3 °C or more was measured (扫码+体温)
	ReasonYellow = "color_yellow" // the person's current colour is yellow
	ReasonRed    = "color_red"    // the person's current colour is red
	// ReasonLiveStatusUnavailable is a code of another region whose issuer
	// did not answer through the hub within the deadline: the colour is the
	// one inside the code (or none, for a care code, which is then refused).
	ReasonLiveStatusUnavailable = "live_status_unavailable"
	// ReasonVenueRefused prefixes why the entry policy of the checkpoint's
	// venue kind turns the person away: venue_refused_starred,
	// venue_refused_untested (red and yellow are refused already).
	ReasonVenueRefused = "venue_refused_"
)

// Where the colour of a valid result comes from.
const (
	ColorSourceLocal = "local" // this region's status cache
	ColorSourceLive  = "live"  // the issuing region answered through the hub
	ColorSourceCode  = "code"  // the colour inside the code (the issuer did not answer)
)

// KindID is the kind of a verification by identity number (no code).
const KindID = "id"

// Result is the answer to a checkpoint: whether the code is valid, whether
// the person may pass, and what the scanner shows.
type Result struct {
	Valid bool
	// Admitted is Valid, a green current colour and no fever.
	Admitted bool
	// Color is the person's current colour, not the one at issue (valid
	// codes only): a colour change shows at the next scan.
	Color rules.Color
	// ColorSource says where Color comes from (ColorSource*); empty unless
	// valid.
	ColorSource string
	MaskedName  string
	Kind        string // dynamic, care, certificate or id; empty when the code is not authentic
	Issuer      string
	ExpiresAt   time.Time // zero for kind id
	// Result and ResultAt are what a certificate (kind certificate)
	// certifies: negative and the sampling time of a test, or vaccinated
	// and the time of the latest dose; empty for health codes.
	Result   string
	ResultAt time.Time
	// Reasons says why the code is not valid (code.Reason values, in the
	// verifier's order) and then why the person is not admitted.
	Reasons []string
	// Person is the person's internal number (valid results only), for
	// features that act on the person scanned (the gateway seals it into a
	// subject reference); never shown to a scanner.
	Person int64
}

// Temperature is an optional reading taken with the scan.
type Temperature struct {
	Celsius float64
	Set     bool
}

// Readings outside this range are a thermometer's error, not a person's.
const (
	minCelsius = 30.0
	maxCelsius = 43.0
)

func (t Temperature) check() error {
	if t.Set && (math.IsNaN(t.Celsius) || t.Celsius < minCelsius || t.Celsius > maxCelsius) {
		return ErrTemperatureOutOfRange.Withf("temperature must be between %g and %g °C, not %s",
			minCelsius, maxCelsius, strconv.FormatFloat(t.Celsius, 'g', -1, 64))
	}
	return nil
}

// Fever reports whether the reading is 37.3 °C or more.
func (t Temperature) Fever() bool { return t.Set && t.Celsius >= fact.FeverCelsius }

// TrimScanned removes the CR and LF a scanner gun appends (or a copy adds
// in front). Nothing else is trimmed: a space is a base45 character.
func TrimScanned(s string) string { return strings.Trim(s, "\r\n") }

// authentic reports whether the claims of a result come from a trusted
// key: an expired or revoked code still says truthfully whose it is, a
// forged one does not.
func authentic(r *codeformat.Result) bool {
	if r.Claims.Kind == 0 {
		return false
	}
	for _, x := range r.Reasons {
		if x == codeformat.ReasonUnknownKey || x == codeformat.ReasonAlgMismatch || x == codeformat.ReasonBadSignature {
			return false
		}
	}
	return true
}

// Verify checks a scanned code for a checkpoint (or integrator) key with
// the verify scope: signature or region MAC, key, expiry, revocation, kind,
// then the current colour and the temperature. A test certificate is
// accepted too (kind certificate, with its result and sampling time): it
// names its holder as a code does, and admission still follows the
// holder's colour now. It records a temperature of
// 37.3 °C or more as a fact and the scan as a verification event. An
// invalid code is a Result with reasons, not an error.
func (s *Service) Verify(ctx context.Context, by *auth.Principal, scanned string, t Temperature) (Result, error) {
	if err := by.RequireScope(auth.ScopeVerify); err != nil {
		return Result{}, err
	}
	if err := t.check(); err != nil {
		return Result{}, err
	}
	if scanned = TrimScanned(scanned); scanned == "" {
		return Result{}, ErrCodeMissing
	}
	now := s.now()
	r := s.scans.Verify(scanned, now)
	if s.Federation != nil && unknownKey(&r) && s.Federation.Refetch(ctx) {
		r = s.scans.Verify(scanned, now)
	}
	res := Result{Valid: r.Valid}
	if len(r.Reasons) > 0 {
		res.Reasons = make([]string, len(r.Reasons), len(r.Reasons)+2)
		for i, x := range r.Reasons {
			res.Reasons[i] = string(x)
		}
	}
	kind := ""
	if authentic(&r) {
		kind = r.Claims.Kind.String()
		res.MaskedName, res.Kind, res.Issuer, res.ExpiresAt = r.Claims.MaskedName, kind, r.Claims.Issuer, r.Claims.Expires.UTC()
		if r.Claims.Kind == codeformat.KindCertificate {
			res.Result, res.ResultAt = r.Claims.Result.String(), r.Claims.SampledAt.UTC()
		}
	}
	cp, cpKind, err := s.checkpointOf(ctx, by.ID, now)
	if err != nil {
		return Result{}, err
	}
	var num int64
	foreign := r.Valid && r.Claims.Issuer != s.cfg.Region
	if r.Valid && !foreign {
		num = s.Persons.Handles().Num(r.Claims.Handle)
		res.Person = num
	}
	if foreign {
		s.foreignColor(ctx, &res, &r.Claims)
	}
	if err := s.admit(ctx, &res, by, cp, num, subject{code: r.Claims.ID}, t, now); err != nil {
		return Result{}, err
	}
	if err := s.venuePolicy(ctx, &res, cp, cpKind, num); err != nil {
		return Result{}, err
	}
	return res, s.record(ctx, by, cp, num, kind, &res, now)
}

func unknownKey(r *codeformat.Result) bool {
	return len(r.Reasons) > 0 && r.Reasons[0] == codeformat.ReasonUnknownKey
}

// foreignColor sets the colour of another region's valid code: the issuer's
// live answer through the hub within the deadline, else the colour inside
// the code with the reason live_status_unavailable; either read through the
// region's colour policy. A foreign care code carries no colour, so without
// a live answer it is refused.
func (s *Service) foreignColor(ctx context.Context, res *Result, c *codeformat.Claims) {
	if col, ok := s.Federation.Status(ctx, c.Issuer, c.Handle); ok {
		res.Color, res.ColorSource = s.Federation.Map(c.Issuer, col), ColorSourceLive
		return
	}
	res.Reasons = append(res.Reasons, ReasonLiveStatusUnavailable)
	if c.Kind != codeformat.KindDynamic || !rules.Color(c.Color).Valid() {
		res.Valid = false
		return
	}
	res.Color, res.ColorSource = s.Federation.Map(c.Issuer, rules.Color(c.Color)), ColorSourceCode
}

// record writes the verification event, a presence for tracing, and counts
// the verification.
func (s *Service) record(ctx context.Context, by *auth.Principal, cp string, num int64, kind string, res *Result, now time.Time) error {
	if err := s.recordEvent(ctx, by, cp, num, kind, res, now); err != nil {
		return err
	}
	s.metrics.verification(kind, res)
	return nil
}

// admit adds the current colour and the temperature to a valid result,
// recording a fever first so that the colour answered already reflects it.
func (s *Service) admit(ctx context.Context, res *Result, by *auth.Principal, cp string, num int64, who subject, t Temperature, now time.Time) error {
	fever := t.Fever()
	if res.Valid && fever && s.Facts != nil {
		where := cp
		if where == "" {
			where = by.Actor()
		}
		_, err := s.Facts.Record(ctx, status.NewFact{
			Person: num,
			Fact: fact.Fact{Kind: fact.Temperature, At: now, Source: "verification:" + where,
				Attrs: map[string]any{"celsius": t.Celsius, "checkpoint": where}},
			RecordedBy: by.Actor(),
			// A scanner that retries must not make two readings.
			Key: fmt.Sprintf("temperature:%s:%s:%d", where, who, now.Unix()/60),
		})
		if err != nil {
			return fmt.Errorf("codes: record temperature: %w", err)
		}
	}
	if res.Valid && res.ColorSource == "" {
		res.Color, _ = s.color(num)
		res.ColorSource = ColorSourceLocal
	}
	res.Admitted = res.Valid && res.Color == rules.Green && !fever
	if fever {
		res.Reasons = append(res.Reasons, ReasonFever)
	}
	switch {
	case !res.Valid:
	case res.Color == rules.Yellow:
		res.Reasons = append(res.Reasons, ReasonYellow)
	case res.Color == rules.Red:
		res.Reasons = append(res.Reasons, ReasonRed)
	}
	return nil
}

// subject is what a scan was of, for the key that keeps a retried fever
// reading from being recorded twice: a code, or a person looked up by ID
// number. Its text is built only when a fever is recorded, not per scan.
type subject struct {
	code   [8]byte
	person string
}

func (w subject) String() string {
	if w.person != "" {
		return "person:" + w.person
	}
	return "code:" + hex.EncodeToString(w.code[:])
}

func (s *Service) recordEvent(ctx context.Context, by *auth.Principal, cp string, num int64, kind string, res *Result, now time.Time) error {
	if s.Verifications == nil {
		return nil
	}
	v := checkin.Verification{KeyID: by.ID, Checkpoint: cp, Person: num, At: now, Valid: res.Valid, Kind: kind}
	if res.Valid {
		v.Color = res.Color
	} else if len(res.Reasons) > 0 {
		v.Reason = res.Reasons[0]
	}
	if err := s.Verifications.RecordVerification(ctx, v); err != nil {
		return fmt.Errorf("codes: record verification: %w", err)
	}
	return nil
}

// venuePolicy refuses an admitted person whom the entry policy of the
// checkpoint's venue kind turns away (a star on the trip card, no recent
// negative test), with the reason venue_refused_<why>, and counts the
// refusal for the checkpoint. Only a person the scan would admit is asked
// about: a red or yellow code or a fever is already refused with its own
// reason. Another region's person has no trip card or tests here.
func (s *Service) venuePolicy(ctx context.Context, res *Result, cp, cpKind string, num int64) error {
	if s.policy == nil || cpKind == "" || !res.Admitted || num == 0 {
		return nil
	}
	why, err := s.policy.Admit(ctx, &venue.Venue{Kind: cpKind}, "", num, res.Color)
	if err != nil {
		return fmt.Errorf("codes: venue policy: %w", err)
	}
	if why == "" {
		return nil
	}
	res.Admitted = false
	res.Reasons = append(res.Reasons, ReasonVenueRefused+why)
	if s.refusals != nil {
		if err := s.refusals.CountCheckpointRefusal(ctx, cp, why); err != nil {
			return err
		}
	}
	return nil
}

// checkpointOf maps an API key to its checkpoint ("" for an integrator's
// key) and the kind of venue it stands at, cached: a checkpoint's key does
// not move to another checkpoint, and a new kind holds within the cache time.
func (s *Service) checkpointOf(ctx context.Context, keyID string, now time.Time) (id, kind string, err error) {
	if s.Checkpoints == nil {
		return "", "", nil
	}
	if v, ok := s.cps.Load(keyID); ok {
		if e := v.(*cpEntry); now.Before(e.until) {
			return e.id, e.kind, nil
		}
	}
	c, err := s.Checkpoints.ByAPIKey(ctx, keyID)
	switch {
	case err == nil:
		id, kind = c.ID, c.VenueKind
	case errors.Is(err, checkpoint.ErrNotFound):
	default:
		return "", "", fmt.Errorf("codes: checkpoint of API key: %w", err)
	}
	s.cps.Store(keyID, &cpEntry{id: id, kind: kind, until: now.Add(s.cfg.CacheTTL)})
	return id, kind, nil
}

// VerifyID is the fallback for people without a phone or a printed code:
// the checkpoint types the identity number, with a key that has the
// verify_id scope. Every lookup is audited, found or not; a number nobody
// registered is a 404 id_not_registered. Lookups are rate limited per key
// (429 rate_limited); only a lookup spends from the limit (an answer, or
// nobody registered), refused input does not.
func (s *Service) VerifyID(ctx context.Context, by *auth.Principal, idType, idNumber string, t Temperature) (Result, error) {
	if err := by.RequireScope(auth.ScopeVerifyID); err != nil {
		return Result{}, err
	}
	if wait := s.idLookups.wait(by.ID); wait > 0 {
		return Result{}, ErrRateLimited.Withf("too many identity-number lookups with this key; try again in %d s", int(wait.Seconds())+1)
	}
	res, err := s.verifyID(ctx, by, idType, idNumber, t)
	if e, ok := apierr.As(err); !ok || e.Status == http.StatusNotFound {
		s.idLookups.take(by.ID)
	}
	return res, err
}

func (s *Service) verifyID(ctx context.Context, by *auth.Principal, idType, idNumber string, t Temperature) (Result, error) {
	if err := t.check(); err != nil {
		return Result{}, err
	}
	now := s.now()
	cp, cpKind, err := s.checkpointOf(ctx, by.ID, now)
	if err != nil {
		return Result{}, err
	}
	p, err := s.Persons.FindByIDNumber(ctx, idType, idNumber)
	if errors.Is(err, person.ErrNotFound) {
		if err := audit.Record(ctx, s.DB, audit.Entry{At: now, Actor: by.Actor(), Action: "person.verify_id", Region: by.Region,
			Detail: map[string]any{"checkpoint": cp, "found": false, "id_type": idType, "id_number": idnum.MaskNumber(idNumber)}}); err != nil {
			return Result{}, err
		}
		miss := Result{Kind: KindID, Reasons: []string{"id_not_registered"}}
		if err := s.record(ctx, by, cp, 0, KindID, &miss, now); err != nil {
			return Result{}, err
		}
		return Result{}, ErrIDNotRegistered
	}
	if err != nil {
		return Result{}, err
	}
	if err := audit.Record(ctx, s.DB, audit.Entry{At: now, Actor: by.Actor(), Action: "person.verify_id",
		Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"checkpoint": cp, "found": true}}); err != nil {
		return Result{}, err
	}
	res := Result{Valid: true, Kind: KindID, MaskedName: maskedName(p), Issuer: s.cfg.Region, Person: p.Num}
	if err := s.admit(ctx, &res, by, cp, p.Num, subject{person: p.ID}, t, now); err != nil {
		return Result{}, err
	}
	if err := s.venuePolicy(ctx, &res, cp, cpKind, p.Num); err != nil {
		return Result{}, err
	}
	return res, s.record(ctx, by, cp, p.Num, KindID, &res, now)
}

// Resolve verifies a scanned dynamic or care code online (signature or
// MAC, expiry, revocation) and returns whose it is, for features that bind
// a person by their code (sampling). An invalid code is a 422 code_invalid
// naming the reasons.
func (s *Service) Resolve(ctx context.Context, scanned string) (num int64, kind codeformat.Kind, err error) {
	r := s.verifier.Verify(TrimScanned(scanned), s.now())
	if !r.Valid {
		rs := make([]string, len(r.Reasons))
		for i, x := range r.Reasons {
			rs[i] = string(x)
		}
		return 0, 0, ErrCodeInvalid.Withf("the code is not valid: %s", strings.Join(rs, ", "))
	}
	if r.Claims.Issuer != s.cfg.Region {
		// Another region's resident is not a person of this store.
		return 0, 0, ErrCodeInvalid.Withf("the code was issued by region %s; only this region's codes bind a person here", r.Claims.Issuer)
	}
	return s.Persons.Handles().Num(r.Claims.Handle), r.Claims.Kind, nil
}

// Check verifies a code or test certificate that a resident attached to an
// appeal as evidence: the checks of Verify (signature, key, expiry,
// revocation; another region's code under its key from the hub's bundle,
// with its issuer's live colour), for the platform itself, without a
// checkpoint and without recording a verification or a presence: an
// attachment is not a scan at a door.
func (s *Service) Check(ctx context.Context, scanned string) Result {
	scanned = TrimScanned(scanned)
	now := s.now()
	r := s.scans.Verify(scanned, now)
	if s.Federation != nil && unknownKey(&r) && s.Federation.Refetch(ctx) {
		r = s.scans.Verify(scanned, now)
	}
	res := Result{Valid: r.Valid}
	for _, x := range r.Reasons {
		res.Reasons = append(res.Reasons, string(x))
	}
	if !authentic(&r) {
		return res
	}
	res.MaskedName, res.Kind, res.Issuer, res.ExpiresAt = r.Claims.MaskedName, r.Claims.Kind.String(), r.Claims.Issuer, r.Claims.Expires.UTC()
	if r.Claims.Kind == codeformat.KindCertificate {
		res.Result, res.ResultAt = r.Claims.Result.String(), r.Claims.SampledAt.UTC()
		return res
	}
	if !r.Valid {
		return res
	}
	if r.Claims.Issuer != s.cfg.Region {
		if s.Federation != nil {
			s.foreignColor(ctx, &res, &r.Claims)
		}
		return res
	}
	res.Color, _ = s.color(s.Persons.Handles().Num(r.Claims.Handle))
	res.ColorSource = ColorSourceLocal
	return res
}
