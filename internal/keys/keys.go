// Package keys keeps the region's code-signing keys: it generates and
// rotates them (Ed25519, ECDSA P-256 or SM2), seals the private keys at rest
// with the master keyring, publishes the public keys as the trust list, and
// holds the current signer and the region MAC key in memory so that issuing
// and verifying codes never read the database.
//
// Rotation is announced ahead: the new key is published at once but starts
// signing only after a grace period (default 1 minute), and the old key
// stops at the same instant. Every node reloads the keys every 30 s, so by
// the switch every node already trusts the new key and all switch together,
// whatever node the rotation ran on. The old key stays published until every
// code it signed has expired (the longest code lifetime: care codes, 14 days
// by default).
package keys

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/secret"
)

// Config holds the store's settings.
type Config struct {
	// Region is the issuer whose keys the store keeps (GB/T 2260 code).
	Region string
	// Retain is how long a retired key stays published after it stopped
	// signing: the longest lifetime of a code plus the clock-skew
	// allowance (default 14 days + 1 minute).
	Retain time.Duration
	// Grace is how long after a rotation the new key starts signing; it
	// must exceed the nodes' reload period (default 1 minute).
	Grace time.Duration
}

// DefaultRetain is the default publication period of a retired key: care
// codes live 14 days, plus the clock-skew allowance with a margin.
const DefaultRetain = 14*24*time.Hour + time.Minute

// DefaultGrace is the default delay between a rotation and its switch.
const DefaultGrace = time.Minute

// ReloadPeriod is how often a node should call Reload; Grace must exceed it.
const ReloadPeriod = 30 * time.Second

// firstKeySlack backdates the signing period of a region's first key: no
// code predates it, and a node whose clock runs behind the one that made the
// key must still find it current.
const firstKeySlack = 5 * time.Minute

// Key describes a stored signing key (never its private part).
type Key struct {
	KID          string         `json:"kid"`
	Alg          codeformat.Alg `json:"alg"`
	Issuer       string         `json:"issuer"`
	State        string         `json:"state"` // pending, active, retired (still published) or dropped
	NotBefore    time.Time      `json:"not_before"`
	NotAfter     time.Time      `json:"not_after,omitzero"`
	PublishUntil time.Time      `json:"publish_until,omitzero"`
	CreatedAt    time.Time      `json:"created_at"`
	CreatedBy    string         `json:"created_by"`
}

// Key states.
const (
	StatePending = "pending" // published, signs from NotBefore
	StateActive  = "active"  // signs now
	StateRetired = "retired" // stopped signing, still published
	StateDropped = "dropped" // no longer published
)

func (k *Key) state(now time.Time) string {
	switch {
	case now.Before(k.NotBefore):
		return StatePending
	case k.NotAfter.IsZero() || now.Before(k.NotAfter):
		return StateActive
	case k.PublishUntil.IsZero() || now.Before(k.PublishUntil):
		return StateRetired
	}
	return StateDropped
}

// Store is the region's key store. It is safe for concurrent use; the
// accessors read an immutable snapshot that Reload replaces.
type Store struct {
	db   *db.DB
	ring *secret.Keyring
	cfg  Config
	now  func() time.Time
	mac  []byte

	mu   sync.Mutex // serialises reloads
	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	signers []timedSigner // ascending by notBefore
	trust   codeformat.TrustList
	json    []byte
}

type timedSigner struct {
	s                   *codeformat.Signer
	notBefore, notAfter time.Time
}

// MACKeyFor is the region MAC key of a region, derived from the master
// keyring so that every node of the region holds the same one.
func MACKeyFor(ring *secret.Keyring, region string) []byte {
	return ring.Derive("code/mac/"+region, 32)
}

// Open returns the store with the keys loaded. It does not create a key;
// see EnsureKey.
func Open(ctx context.Context, d *db.DB, ring *secret.Keyring, cfg Config) (*Store, error) {
	if cfg.Region == "" {
		return nil, errors.New("keys: no region")
	}
	if cfg.Retain <= 0 {
		cfg.Retain = DefaultRetain
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	s := &Store{db: d, ring: ring, cfg: cfg, now: time.Now, mac: MACKeyFor(ring, cfg.Region)}
	s.snap.Store(&snapshot{trust: codeformat.TrustList{}, json: []byte(`{"keys":[]}`)})
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// SetClock replaces the clock, for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Region is the issuer the store signs for.
func (s *Store) Region() string { return s.cfg.Region }

// Signer is the key that signs now (nil if the region has none yet).
func (s *Store) Signer() *codeformat.Signer { return s.SignerAt(s.now()) }

// SignerAt is the key that signs at t, from the loaded snapshot.
func (s *Store) SignerAt(t time.Time) *codeformat.Signer {
	sn := s.snap.Load()
	for i := len(sn.signers) - 1; i >= 0; i-- {
		ts := &sn.signers[i]
		if !t.Before(ts.notBefore) && (ts.notAfter.IsZero() || t.Before(ts.notAfter)) {
			return ts.s
		}
	}
	return nil
}

// MACKey is this region's MAC key. Callers must not modify it.
func (s *Store) MACKey() []byte { return s.mac }

// TrustList is the published keys. Callers must not modify it.
func (s *Store) TrustList() codeformat.TrustList { return s.snap.Load().trust }

// TrustListJSON is TrustList as the JSON document of docs/CODE-FORMAT.md.
// Callers must not modify it.
func (s *Store) TrustListJSON() []byte { return s.snap.Load().json }

// Key implements code.Keys over the loaded trust list, so a verifier built
// once follows every reload.
func (s *Store) Key(kid codeformat.KeyID) (codeformat.PublicKey, bool) {
	k, ok := s.snap.Load().trust[kid]
	return k, ok
}

// KID is the text form of a key id (base64url, as in the trust list).
func KID(id codeformat.KeyID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func (s *Store) aad(kid string) []byte { return []byte("signing_keys.private_key:" + kid) }

// Reload reads the published keys and the private keys that still sign,
// and replaces the snapshot. On an error the previous snapshot stays.
func (s *Store) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rows, err := s.db.QueryContext(ctx, `SELECT kid, alg, public_key, private_enc, not_before, not_after, publish_until
		FROM signing_keys WHERE issuer = $1 AND (publish_until IS NULL OR publish_until > $2) ORDER BY not_before, kid`,
		s.cfg.Region, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	defer rows.Close()
	prev := s.snap.Load()
	next := &snapshot{trust: codeformat.TrustList{}}
	for rows.Next() {
		var kid, algName string
		var pubDER, privEnc []byte
		var nb int64
		var na, pu sql.NullInt64
		if err := rows.Scan(&kid, &algName, &pubDER, &privEnc, &nb, &na, &pu); err != nil {
			return fmt.Errorf("keys: load: %w", err)
		}
		pk, err := s.publicKey(kid, algName, pubDER)
		if err != nil {
			return err
		}
		pk.NotBefore, pk.NotAfter = db.Time(nb), db.NullTime(na)
		if err := next.trust.Add(pk); err != nil {
			return fmt.Errorf("keys: key %s: %w", kid, err)
		}
		if (na.Valid && na.Int64 <= now.UnixMilli()) || privEnc == nil {
			continue // no longer signs
		}
		signer := prev.signer(pk.KID)
		if signer == nil {
			if signer, err = s.openSigner(kid, pk, privEnc); err != nil {
				return err
			}
		}
		next.signers = append(next.signers, timedSigner{s: signer, notBefore: pk.NotBefore, notAfter: pk.NotAfter})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	if next.json, err = next.trust.MarshalJSON(); err != nil {
		return fmt.Errorf("keys: trust list: %w", err)
	}
	s.snap.Store(next)
	return nil
}

func (sn *snapshot) signer(kid codeformat.KeyID) *codeformat.Signer {
	for _, ts := range sn.signers {
		if ts.s.KeyID() == kid {
			return ts.s
		}
	}
	return nil
}

// publicKey parses a stored public key and checks that it is what its row
// says: a key id that does not match its key is a corrupted or forged row.
func (s *Store) publicKey(kid, algName string, der []byte) (codeformat.PublicKey, error) {
	var alg codeformat.Alg
	if err := alg.UnmarshalText([]byte(algName)); err != nil {
		return codeformat.PublicKey{}, fmt.Errorf("keys: key %s: %w", kid, err)
	}
	pub, pubAlg, err := codeformat.ParsePublicKey(der)
	if err != nil {
		return codeformat.PublicKey{}, fmt.Errorf("keys: key %s: %w", kid, err)
	}
	id, err := codeformat.KeyIDFor(pub)
	if err != nil {
		return codeformat.PublicKey{}, fmt.Errorf("keys: key %s: %w", kid, err)
	}
	if KID(id) != kid || pubAlg != alg {
		return codeformat.PublicKey{}, fmt.Errorf("keys: key %s: stored public key does not match its id or algorithm", kid)
	}
	return codeformat.PublicKey{KID: id, Alg: alg, Key: pub, Issuer: s.cfg.Region}, nil
}

func (s *Store) openSigner(kid string, pk codeformat.PublicKey, enc []byte) (*codeformat.Signer, error) {
	der, err := s.ring.Open(enc, s.aad(kid))
	if err != nil {
		return nil, fmt.Errorf("keys: private key %s: %w", kid, err)
	}
	priv, err := codeformat.ParsePrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("keys: private key %s: %w", kid, err)
	}
	signer, err := codeformat.NewSigner(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: private key %s: %w", kid, err)
	}
	if signer.KeyID() != pk.KID {
		return nil, fmt.Errorf("keys: private key %s does not match its public key", kid)
	}
	return signer, nil
}

// newKey generates a key and its row values.
func (s *Store) newKey(alg codeformat.Alg) (kid string, pubDER, privEnc []byte, err error) {
	priv, err := codeformat.GenerateKey(alg)
	if err != nil {
		return "", nil, nil, fmt.Errorf("keys: generate: %w", err)
	}
	id, err := codeformat.KeyIDFor(priv.Public())
	if err != nil {
		return "", nil, nil, err
	}
	if pubDER, err = codeformat.MarshalPublicKey(priv.Public()); err != nil {
		return "", nil, nil, err
	}
	der, err := codeformat.MarshalPrivateKey(priv)
	if err != nil {
		return "", nil, nil, err
	}
	kid = KID(id)
	privEnc = s.ring.Seal(der, s.aad(kid))
	clear(der)
	return kid, pubDER, privEnc, nil
}

func (s *Store) insert(ctx context.Context, tx db.Tx, alg codeformat.Alg, notBefore time.Time, by string) (Key, error) {
	kid, pub, priv, err := s.newKey(alg)
	if err != nil {
		return Key{}, err
	}
	now := s.now()
	k := Key{KID: kid, Alg: alg, Issuer: s.cfg.Region, NotBefore: notBefore.UTC(), CreatedAt: now.UTC().Truncate(time.Millisecond), CreatedBy: by}
	if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, issuer, public_key, private_enc, not_before, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		kid, alg.String(), s.cfg.Region, pub, priv, k.NotBefore.UnixMilli(), k.CreatedAt.UnixMilli(), by); err != nil {
		return Key{}, err
	}
	k.State = k.state(now)
	return k, nil
}

// Generate makes the region's first signing key, which signs at once. A
// region that has a current key is a 409 key_exists: use Rotate.
func (s *Store) Generate(ctx context.Context, alg codeformat.Alg, by string) (Key, error) {
	var k Key
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys WHERE issuer = $1 AND not_after IS NULL`, s.cfg.Region).Scan(&n); err != nil {
			return fmt.Errorf("keys: generate: %w", err)
		}
		if n > 0 {
			return ErrKeyExists
		}
		var err error
		k, err = s.insert(ctx, tx, alg, s.now().Add(-firstKeySlack).Truncate(time.Second), by)
		if db.IsUniqueViolation(err) {
			return ErrKeyExists
		}
		if err != nil {
			return fmt.Errorf("keys: generate: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by, Action: "keys.generate", Subject: "key:" + k.KID,
			Region: s.cfg.Region, Detail: map[string]any{"alg": alg.String()}})
		return err
	})
	if err != nil {
		return Key{}, err
	}
	return k, s.Reload(ctx)
}

// EnsureKey generates the region's first key if it has none, as a fresh
// server does at its first start. Several nodes starting together make one key.
func (s *Store) EnsureKey(ctx context.Context, alg codeformat.Alg, by string) (created bool, err error) {
	if len(s.snap.Load().signers) > 0 {
		return false, nil
	}
	_, err = s.Generate(ctx, alg, by)
	if errors.Is(err, ErrKeyExists) {
		return false, s.Reload(ctx)
	}
	return err == nil, err
}

// Rotation is the outcome of Rotate.
type Rotation struct {
	Old, New Key
	SwitchAt time.Time // when New starts and Old stops signing
}

// Rotate retires the current key and makes a new one (alg 0: the same
// algorithm). The new key is published at once and signs from now + Grace;
// the old one signs until then and stays published for Retain after.
func (s *Store) Rotate(ctx context.Context, alg codeformat.Alg, by string) (Rotation, error) {
	var r Rotation
	now := s.now()
	// Whole seconds: codes carry issued-at in seconds, and must fall inside
	// the signing period of the key that signed them.
	r.SwitchAt = now.Add(s.cfg.Grace).Add(time.Second - 1).Truncate(time.Second).UTC()
	publishUntil := r.SwitchAt.Add(s.cfg.Retain)
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var algName string
		var nb, created int64
		err := tx.QueryRowContext(ctx, `UPDATE signing_keys SET not_after = $1, publish_until = $2
			WHERE issuer = $3 AND not_after IS NULL AND not_before <= $4
			RETURNING kid, alg, not_before, created_at, created_by`,
			r.SwitchAt.UnixMilli(), publishUntil.UnixMilli(), s.cfg.Region, now.UnixMilli()).
			Scan(&r.Old.KID, &algName, &nb, &created, &r.Old.CreatedBy)
		if errors.Is(err, sql.ErrNoRows) {
			return s.whyNoRotation(ctx, tx)
		}
		if err != nil {
			return fmt.Errorf("keys: rotate: %w", err)
		}
		if err := r.Old.Alg.UnmarshalText([]byte(algName)); err != nil {
			return fmt.Errorf("keys: rotate: %w", err)
		}
		r.Old.Issuer, r.Old.NotBefore, r.Old.CreatedAt = s.cfg.Region, db.Time(nb), db.Time(created)
		r.Old.NotAfter, r.Old.PublishUntil = r.SwitchAt, publishUntil
		r.Old.State = r.Old.state(now)
		if alg == 0 {
			alg = r.Old.Alg
		}
		if r.New, err = s.insert(ctx, tx, alg, r.SwitchAt, by); err != nil {
			return fmt.Errorf("keys: rotate: %w", err)
		}
		if err := s.wipe(ctx, tx, now); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by, Action: "keys.rotate", Subject: "key:" + r.New.KID,
			Region: s.cfg.Region, Detail: map[string]any{"alg": alg.String(), "retired": r.Old.KID,
				"switch_at": r.SwitchAt.Format(time.RFC3339), "retired_published_until": publishUntil.Format(time.RFC3339)}})
		return err
	})
	if err != nil {
		return Rotation{}, err
	}
	return r, s.Reload(ctx)
}

func (s *Store) whyNoRotation(ctx context.Context, tx db.Tx) error {
	var nb sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(not_before) FROM signing_keys WHERE issuer = $1 AND not_after IS NULL`,
		s.cfg.Region).Scan(&nb); err != nil {
		return fmt.Errorf("keys: rotate: %w", err)
	}
	if !nb.Valid {
		return ErrNoKey
	}
	return ErrRotationPending.Withf("a rotation is already under way: the new key signs from %s",
		db.Time(nb.Int64).Format(time.RFC3339))
}

// wipe forgets the private keys that no longer sign.
func (s *Store) wipe(ctx context.Context, tx db.Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET private_enc = NULL
		WHERE issuer = $1 AND private_enc IS NOT NULL AND not_after IS NOT NULL AND not_after <= $2`,
		s.cfg.Region, now.UnixMilli()); err != nil {
		return fmt.Errorf("keys: wipe retired private keys: %w", err)
	}
	return nil
}

// Prune wipes the private keys of retired keys once they have stopped
// signing: a stolen backup then holds no key that could still forge codes
// a verifier would accept. The server runs it periodically.
func (s *Store) Prune(ctx context.Context) error {
	return s.db.InTx(ctx, func(tx db.Tx) error { return s.wipe(ctx, tx, s.now()) })
}

// List returns every key of the region, newest first, with its state now.
func (s *Store) List(ctx context.Context) ([]Key, error) {
	now := s.now()
	out, err := db.Collect(ctx, s.db, `SELECT kid, alg, not_before, not_after, publish_until, created_at, created_by
		FROM signing_keys WHERE issuer = $1`, []any{s.cfg.Region}, func(sc db.Scanner) (Key, error) {
		k := Key{Issuer: s.cfg.Region}
		var algName string
		var nb, created int64
		var na, pu sql.NullInt64
		if err := sc.Scan(&k.KID, &algName, &nb, &na, &pu, &created, &k.CreatedBy); err != nil {
			return k, err
		}
		if err := k.Alg.UnmarshalText([]byte(algName)); err != nil {
			return k, err
		}
		k.NotBefore, k.NotAfter, k.PublishUntil, k.CreatedAt = db.Time(nb), db.NullTime(na), db.NullTime(pu), db.Time(created)
		k.State = k.state(now)
		return k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	slices.SortFunc(out, func(a, b Key) int {
		if c := b.NotBefore.Compare(a.NotBefore); c != 0 {
			return c
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return out, nil
}

// ParseAlg reads an algorithm as the command line spells it (ed25519, es256,
// sm2) or as the trust list does (EdDSA, ES256, SM2).
func ParseAlg(s string) (codeformat.Alg, error) {
	switch s {
	case "ed25519", "Ed25519", "eddsa", "EdDSA":
		return codeformat.AlgEdDSA, nil
	case "es256", "ES256", "p256", "P-256", "ecdsa":
		return codeformat.AlgES256, nil
	case "sm2", "SM2":
		return codeformat.AlgSM2, nil
	}
	return 0, ErrAlgUnknown.Withf("unknown algorithm %q: use ed25519, es256 or sm2", s)
}

// AllPublic returns the public part of every key the store ever held, of
// every issuer, including keys no longer published: documents signed long
// ago (the audit log's signed heads) are checked with them. It needs no
// master keyring.
func AllPublic(ctx context.Context, q db.Querier) (codeformat.TrustList, error) {
	list := codeformat.TrustList{}
	err := db.Each(ctx, q, `SELECT kid, alg, issuer, public_key, not_before, not_after FROM signing_keys`, nil, func(sc db.Scanner) error {
		var kid, algName, issuer string
		var der []byte
		var nb int64
		var na sql.NullInt64
		if err := sc.Scan(&kid, &algName, &issuer, &der, &nb, &na); err != nil {
			return err
		}
		pk, err := (&Store{cfg: Config{Region: issuer}}).publicKey(kid, algName, der)
		if err != nil {
			return err
		}
		pk.NotBefore, pk.NotAfter = db.Time(nb), db.NullTime(na)
		return list.Add(pk)
	})
	if err != nil {
		return nil, fmt.Errorf("keys: read public keys: %w", err)
	}
	return list, nil
}
