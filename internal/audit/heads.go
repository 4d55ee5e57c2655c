package audit

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
)

// The hash chain alone shows that the log is consistent with itself, not
// that it is the log that was written: whoever can write the database can
// cut the tail and move the head row, or edit an entry and recompute every
// hash after it. A signed head fixes the chain's tip at a moment with the
// region's key, which is sealed by the master keyring and so out of reach of
// someone holding only the database. The heads are published and exported
// to files operators keep, so that deleting heads from the database as well
// still leaves a copy the rewritten log contradicts (Certificate
// Transparency's signed tree heads, for a hash chain).

// Head is a signed head: the log's tip at a moment, with the counts of
// codes issued and verifications so far, signed with the region's key.
type Head struct {
	Seq           int64 // 1, 2, ... in the order heads were signed
	Issuer        string
	LogSeq        int64  // the last entry of the log when signed (0: empty log)
	LogHash       string // that entry's hash
	At            time.Time
	CodesIssued   int64     // dynamic codes shown and care codes issued so far
	Verifications int64     // verifications recorded before VerifiedTo
	VerifiedTo    time.Time // the end of the time Verifications covers
	KID           string    // the key that signed (base64url, as in the trust list)
	Alg           codeformat.Alg
	Signature     []byte
}

// headMagic starts every signed message, so that a head's signature can
// never be taken for a code's or anything else the key signs.
const headMagic = "healthcode audit head v1\n"

// Message is the text the signature covers: one field a line, integers in
// decimal, times in unix milliseconds. It is what an independent verifier
// rebuilds from the published JSON.
func (h Head) Message() []byte {
	var b strings.Builder
	b.WriteString(headMagic)
	for _, f := range []struct {
		k, v string
	}{
		{"issuer", h.Issuer},
		{"seq", strconv.FormatInt(h.Seq, 10)},
		{"log_seq", strconv.FormatInt(h.LogSeq, 10)},
		{"log_hash", h.LogHash},
		{"at", strconv.FormatInt(h.At.UnixMilli(), 10)},
		{"codes_issued", strconv.FormatInt(h.CodesIssued, 10)},
		{"verifications", strconv.FormatInt(h.Verifications, 10)},
		{"verified_to", strconv.FormatInt(h.VerifiedTo.UnixMilli(), 10)},
		{"kid", h.KID},
	} {
		b.WriteString(f.k)
		b.WriteByte('=')
		b.WriteString(f.v)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// same reports whether two heads record the same thing (the signature of
// ECDSA and SM2 differs at each signing, so it is not compared).
func (h Head) same(o Head) bool {
	return string(h.Message()) == string(o.Message())
}

// HeadSigner is the region's key store (a *keys.Store): the key that signs
// now, and the region it signs for.
type HeadSigner interface {
	Signer() *codeformat.Signer
	Region() string
}

// AnchorConfig is what signing a head needs besides the store.
type AnchorConfig struct {
	Signer HeadSigner
	// CodesIssued counts the codes issued so far; Verifications the
	// verifications recorded in [from, to). Either may be nil (counted 0).
	CodesIssued   func(ctx context.Context) (int64, error)
	Verifications func(ctx context.Context, from, to time.Time) (int64, error)
	// Interval is how often the server signs a head (default 10 minutes);
	// Tick skips a head when another node signed one within half of it.
	Interval time.Duration
	// Lag keeps the verifications count this far behind the clock, so that
	// one still in a group commit when the head is signed is counted by
	// the next head rather than never (default 1 minute).
	Lag time.Duration
	Log *slog.Logger
}

// DefaultAnchorInterval is the default period of signed heads.
const DefaultAnchorInterval = 10 * time.Minute

// Anchor signs heads of the log.
type Anchor struct {
	db  *db.DB
	cfg AnchorConfig
	now func() time.Time
}

// NewAnchor returns the head signer of the log in d.
func NewAnchor(d *db.DB, cfg AnchorConfig) *Anchor {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultAnchorInterval
	}
	if cfg.Lag <= 0 {
		cfg.Lag = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Anchor{db: d, cfg: cfg, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (a *Anchor) SetClock(now func() time.Time) { a.now = now }

// Interval is how often the server should call Tick.
func (a *Anchor) Interval() time.Duration { return a.cfg.Interval }

var errHeadTaken = errors.New("audit: another node signed the same head")

// Requester is an operator who asks for a head (an *auth.Principal).
type Requester interface {
	Reader
	Actor() string
}

// SignFor signs a head now, on an operator's demand: one who may read the
// log may also fix its present state. The request is an entry of the log
// first, so the head covers who asked.
func (a *Anchor) SignFor(ctx context.Context, by Requester) (Head, error) {
	if err := by.MayReadAudit(); err != nil {
		return Head{}, err
	}
	lo, _ := by.Bounds()
	if err := Record(ctx, a.db, Entry{At: a.now(), Actor: by.Actor(), Action: "audit.sign_head", Subject: "audit", Region: lo}); err != nil {
		return Head{}, err
	}
	return a.Sign(ctx)
}

// Sign signs a head now, whether or not the log moved since the last one.
func (a *Anchor) Sign(ctx context.Context) (Head, error) {
	for range 3 {
		h, _, err := a.sign(ctx, true)
		if err == nil {
			headsSigned.Inc()
			headTime.Set(float64(h.At.UnixMilli()) / 1000)
		}
		if !errors.Is(err, errHeadTaken) {
			return h, err
		}
	}
	return Head{}, errors.New("audit: sign head: other nodes kept signing at the same moment")
}

// Tick signs a head if the log or the counts moved since the last one and
// no node signed one in the last half interval: the server's periodic job.
func (a *Anchor) Tick(ctx context.Context) error {
	h, signed, err := a.sign(ctx, false)
	if errors.Is(err, errHeadTaken) {
		return nil
	}
	if err != nil {
		return err
	}
	if signed {
		headsSigned.Inc()
		headTime.Set(float64(h.At.UnixMilli()) / 1000)
	}
	return nil
}

func (a *Anchor) sign(ctx context.Context, force bool) (Head, bool, error) {
	signer := a.cfg.Signer.Signer()
	if signer == nil {
		return Head{}, false, errors.New("audit: sign head: the region has no signing key")
	}
	now := a.now().UTC().Truncate(time.Millisecond)
	prev, err := LastHead(ctx, a.db)
	if err != nil {
		return Head{}, false, err
	}
	if !force && prev.Seq > 0 && now.Sub(prev.At) < a.cfg.Interval/2 {
		return prev, false, nil
	}
	h := Head{Seq: prev.Seq + 1, Issuer: a.cfg.Signer.Region(), At: now, KID: base64.RawURLEncoding.EncodeToString(func() []byte {
		id := signer.KeyID()
		return id[:]
	}()), Alg: signer.Alg()}
	if err := a.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.LogSeq, &h.LogHash); err != nil {
		return Head{}, false, fmt.Errorf("audit: sign head: read the log's head: %w", err)
	}
	if a.cfg.CodesIssued != nil {
		if h.CodesIssued, err = a.cfg.CodesIssued(ctx); err != nil {
			return Head{}, false, fmt.Errorf("audit: sign head: %w", err)
		}
	}
	h.VerifiedTo = now.Add(-a.cfg.Lag)
	if h.VerifiedTo.Before(prev.VerifiedTo) {
		h.VerifiedTo = prev.VerifiedTo
	}
	h.Verifications = prev.Verifications
	if a.cfg.Verifications != nil && h.VerifiedTo.After(prev.VerifiedTo) {
		n, err := a.cfg.Verifications(ctx, prev.VerifiedTo, h.VerifiedTo)
		if err != nil {
			return Head{}, false, fmt.Errorf("audit: sign head: %w", err)
		}
		h.Verifications += n
	}
	if !force && prev.Seq > 0 && prev.LogSeq == h.LogSeq && prev.CodesIssued == h.CodesIssued && prev.Verifications == h.Verifications {
		return prev, false, nil
	}
	if h.Signature, err = signer.Sign(h.Message()); err != nil {
		return Head{}, false, fmt.Errorf("audit: sign head: %w", err)
	}
	_, err = a.db.ExecContext(ctx, `INSERT INTO audit_heads (seq, issuer, log_seq, log_hash, at, codes_issued, verifications, verified_to, kid, alg, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		h.Seq, h.Issuer, h.LogSeq, h.LogHash, h.At.UnixMilli(), h.CodesIssued, h.Verifications, h.VerifiedTo.UnixMilli(), h.KID, h.Alg.String(), h.Signature)
	if db.IsUniqueViolation(err) {
		return Head{}, false, errHeadTaken
	}
	if err != nil {
		return Head{}, false, fmt.Errorf("audit: store head: %w", err)
	}
	a.cfg.Log.Debug("signed a head of the audit log", "seq", h.Seq, "log_seq", h.LogSeq)
	return h, true, nil
}

const headColumns = `seq, issuer, log_seq, log_hash, at, codes_issued, verifications, verified_to, kid, alg, signature`

func scanHead(sc db.Scanner) (Head, error) {
	var h Head
	var at, vt int64
	var alg string
	if err := sc.Scan(&h.Seq, &h.Issuer, &h.LogSeq, &h.LogHash, &at, &h.CodesIssued, &h.Verifications, &vt, &h.KID, &alg, &h.Signature); err != nil {
		return h, err
	}
	h.At, h.VerifiedTo = db.Time(at), db.Time(vt)
	if err := h.Alg.UnmarshalText([]byte(alg)); err != nil {
		return h, fmt.Errorf("head %d: %w", h.Seq, err)
	}
	return h, nil
}

// LastHead is the newest signed head (the zero Head when there is none).
func LastHead(ctx context.Context, q db.Querier) (Head, error) {
	h, err := scanHead(q.QueryRowContext(ctx, `SELECT `+headColumns+` FROM audit_heads ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("audit: read last head: %w", err)
	}
	return h, nil
}

// Heads returns the signed heads after seq after, oldest first, at most
// limit (0: all of them).
func Heads(ctx context.Context, q db.Querier, after int64, limit int) ([]Head, error) {
	lim := int64(limit)
	if limit <= 0 {
		lim = 1 << 62
	}
	out, err := db.Collect(ctx, q, `SELECT `+headColumns+` FROM audit_heads WHERE seq > $1 ORDER BY seq LIMIT $2`, []any{after, lim}, scanHead)
	if err != nil {
		return nil, fmt.Errorf("audit: read heads: %w", err)
	}
	return out, nil
}

// Anchors are signed heads from one source (the database, a kept file)
// with the keys to check them by.
type Anchors struct {
	Source string
	Heads  []Head
	Keys   codeformat.Keys
}

// check returns the heads whose signature holds, and a problem for each
// other one: a head that does not verify anchors nothing.
func (an Anchors) check() ([]Head, []Problem) {
	var good []Head
	var bad []Problem
	for _, h := range an.Heads {
		if reason := an.why(h); reason != "" {
			bad = append(bad, Problem{h.LogSeq, fmt.Sprintf("signed head %d (%s): %s", h.Seq, an.Source, reason)})
			continue
		}
		good = append(good, h)
	}
	return good, bad
}

func (an Anchors) why(h Head) string {
	raw, err := base64.RawURLEncoding.DecodeString(h.KID)
	if err != nil || len(raw) != len(codeformat.KeyID{}) {
		return "its key id is malformed"
	}
	if an.Keys == nil {
		return "no keys to check its signature"
	}
	k, ok := an.Keys.Key(codeformat.KeyID(raw))
	switch {
	case !ok:
		return "signed by key " + h.KID + ", which is not among the keys"
	case k.Issuer != h.Issuer:
		return "signed by a key of region " + k.Issuer + ", not " + h.Issuer
	case k.Alg != h.Alg || !k.VerifyRaw(h.Message(), h.Signature):
		return "its signature does not verify: the head was altered or not signed by the region's key"
	}
	return ""
}

// headJSON is one head of the published and exported document,
// {"keys":[trust-list entries of the keys that signed], "heads":[...]}.
type headJSON struct {
	Seq           int64          `json:"seq"`
	Issuer        string         `json:"issuer"`
	LogSeq        int64          `json:"log_seq"`
	LogHash       string         `json:"log_hash"`
	At            time.Time      `json:"at"`
	CodesIssued   int64          `json:"codes_issued"`
	Verifications int64          `json:"verifications"`
	VerifiedTo    time.Time      `json:"verified_to"`
	KID           string         `json:"kid"`
	Alg           codeformat.Alg `json:"alg"`
	Signature     []byte         `json:"signature"`
}

// MarshalHeads writes the heads and the keys that signed them as the JSON
// document GET /audit/heads serves and `healthcode audit heads` exports.
func MarshalHeads(keys codeformat.TrustList, heads []Head) ([]byte, error) {
	tl, err := keys.MarshalJSON()
	if err != nil {
		return nil, err
	}
	doc := map[string]json.RawMessage{}
	if err := json.Unmarshal(tl, &doc); err != nil {
		return nil, err
	}
	hs := make([]headJSON, len(heads))
	for i, h := range heads {
		h.At, h.VerifiedTo = h.At.UTC(), h.VerifiedTo.UTC()
		hs[i] = headJSON(h)
	}
	if doc["heads"], err = json.Marshal(hs); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// ParseHeads reads a document MarshalHeads wrote (a kept file, or what
// GET /audit/heads answered) as Anchors named source.
func ParseHeads(b []byte, source string) (Anchors, error) {
	var keys codeformat.TrustList
	if err := keys.UnmarshalJSON(b); err != nil {
		return Anchors{}, fmt.Errorf("audit: %s: keys: %w", source, err)
	}
	var doc struct {
		Heads []headJSON `json:"heads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Anchors{}, fmt.Errorf("audit: %s: heads: %w", source, err)
	}
	an := Anchors{Source: source, Keys: keys, Heads: make([]Head, len(doc.Heads))}
	for i, h := range doc.Heads {
		an.Heads[i] = Head(h)
	}
	return an, nil
}
