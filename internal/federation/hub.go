package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/secret"
)

// MaxSkew bounds how far a signed message's time may be from the receiver's
// clock: an older status query is a replay, an older package a stale copy.
const MaxSkew = 5 * time.Minute

// MaxMessage bounds a federation request body (a trust list with its
// revocations fits well inside).
const MaxMessage = 4 << 20

// Hub is the federation hub: enrolled regions, their packages as signed,
// the signed bundle, and the status relay. It is safe for concurrent use.
type Hub struct {
	db     *db.DB
	ring   *secret.Keyring
	key    ed25519.PrivateKey
	now    func() time.Time
	client *http.Client

	mu     sync.Mutex // serialises uploads and rebuilds
	bundle atomicBundle
}

type servedBundle struct {
	raw  []byte
	etag string
	seq  int64
	at   time.Time
}

type atomicBundle struct {
	mu sync.RWMutex
	b  servedBundle
}

func (a *atomicBundle) load() servedBundle {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.b
}

func (a *atomicBundle) store(b servedBundle) {
	a.mu.Lock()
	a.b = b
	a.mu.Unlock()
}

// NewHub opens the hub on its store and builds the bundle.
func NewHub(ctx context.Context, d *db.DB, ring *secret.Keyring) (*Hub, error) {
	h := &Hub{db: d, ring: ring, key: Key(ring), now: time.Now, client: &http.Client{Timeout: 5 * time.Second}}
	if err := h.rebuild(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// SetClock replaces the clock, for tests.
func (h *Hub) SetClock(now func() time.Time) { h.now = now }

// PublicKey is the key nodes pin to verify bundles and relayed queries.
func (h *Hub) PublicKey() ed25519.PublicKey { return h.key.Public().(ed25519.PublicKey) }

// Enrol adds a region and its federation public key, or replaces the key of
// an enrolled region (a compromised key is replaced, its package dropped).
// It is the hub operator's act, out of band, audited.
func (h *Hub) Enrol(ctx context.Context, region string, publicPEM []byte, by string) error {
	if err := CheckRegion(region); err != nil {
		return err
	}
	pub, err := ParsePublicPEM(publicPEM)
	if err != nil {
		return err
	}
	der, err := MarshalPublicDER(pub)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	err = h.db.InTx(ctx, func(tx db.Tx) error {
		var old []byte
		switch err := tx.QueryRowContext(ctx, `SELECT public_key FROM fed_regions WHERE region = $1`, region).Scan(&old); {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO fed_regions (region, public_key, enrolled_at, enrolled_by) VALUES ($1, $2, $3, $4)`,
				region, der, now.UnixMilli(), by); err != nil {
				return err
			}
		case err != nil:
			return err
		case bytes.Equal(old, der):
			return nil
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE fed_regions SET public_key = $2, enrolled_at = $3, enrolled_by = $4 WHERE region = $1`,
				region, der, now.UnixMilli(), by); err != nil {
				return err
			}
			// The old key's package must not outlive the key.
			if _, err := tx.ExecContext(ctx, `DELETE FROM fed_packages WHERE region = $1`, region); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by, Action: "federation.enrol", Subject: "region:" + region,
			Region: region, Detail: map[string]any{"key_sha256": fingerprint(der)}})
		return err
	})
	if err != nil {
		return fmt.Errorf("federation: enrol %s: %w", region, err)
	}
	return h.rebuildLocked(ctx)
}

// Host enrols a region that has no deployment of its own (path 3): the hub
// operator runs its node, whose master key the hub derives from its own, so
// the region's federation key and everything the node seals and signs rest on
// the hub's trust and no key travels out of band. It returns that master key
// for the node's --key-file; hosting again returns the same key. A region
// enrolled with a key of its own runs its own deployment and is refused.
func (h *Hub) Host(ctx context.Context, region, by string) (master []byte, err error) {
	if err := CheckRegion(region); err != nil {
		return nil, err
	}
	master = h.hostedMaster(region)
	ring, err := secret.New(master)
	if err != nil {
		return nil, err
	}
	pub := Key(ring).Public().(ed25519.PublicKey)
	held, err := h.enrolledKey(ctx, region)
	switch {
	case errors.Is(err, ErrNotEnrolled):
	case err != nil:
		return nil, err
	case !held.Equal(pub):
		return nil, ErrHasDeployment.Withf("region %s is enrolled with a federation key of its own deployment", region)
	}
	if err := h.Enrol(ctx, region, MarshalPublicPEM(pub), by); err != nil {
		return nil, err
	}
	return master, nil
}

func (h *Hub) hostedMaster(region string) []byte {
	return h.ring.Derive("federation/hosted-region/"+region, secret.KeySize)
}

// hosted reports whether a region's enrolled key is the one Host derives.
func (h *Hub) hosted(region string, der []byte) bool {
	ring, err := secret.New(h.hostedMaster(region))
	if err != nil {
		return false
	}
	own, err := MarshalPublicDER(Key(ring).Public().(ed25519.PublicKey))
	return err == nil && bytes.Equal(own, der)
}

// MarshalPublicDER is the SubjectPublicKeyInfo DER of a federation key.
func MarshalPublicDER(pub ed25519.PublicKey) ([]byte, error) { return codeformat.MarshalPublicKey(pub) }

func fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// EnrolledKey is the federation key the hub holds for region.
func (h *Hub) enrolledKey(ctx context.Context, region string) (ed25519.PublicKey, error) {
	var der []byte
	err := h.db.QueryRowContext(ctx, `SELECT public_key FROM fed_regions WHERE region = $1`, region).Scan(&der)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotEnrolled.Withf("region %s is not enrolled at this hub", region)
	}
	if err != nil {
		return nil, fmt.Errorf("federation: read region %s: %w", region, err)
	}
	return parsePublicDER(der)
}

// Upload takes a region's signed package: the signer must be enrolled and
// its key must verify the signature, the package must be for the signer's
// own region, newer than the one held and not from the past or the future;
// then it is stored as signed and the bundle rebuilt. Nothing is stored on
// a refusal.
func (h *Hub) Upload(ctx context.Context, raw []byte) error {
	env, err := ParseSigned(raw)
	if err != nil {
		return err
	}
	if err := CheckRegion(env.Signer); err != nil {
		return err
	}
	pub, err := h.enrolledKey(ctx, env.Signer)
	if err != nil {
		return err
	}
	if err := env.Verify(pub, PurposePackage); err != nil {
		return err
	}
	p, err := parsePackage(env.Body)
	if err != nil {
		return err
	}
	if p.Region != env.Signer {
		return ErrNotRegionOwner.Withf("region %s may not upload the trust list of %s", env.Signer, p.Region)
	}
	now := h.now()
	if d := now.Sub(p.IssuedAt); d > MaxSkew || d < -MaxSkew {
		return ErrStale.Withf("the package was made at %s, too far from the hub's clock", p.IssuedAt.UTC().Format(time.RFC3339))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var stored bool
	err = h.db.InTx(ctx, func(tx db.Tx) error {
		var held int64
		switch err := tx.QueryRowContext(ctx, `SELECT seq FROM fed_packages WHERE region = $1`, p.Region).Scan(&held); {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO fed_packages (region, seq, body, sig, uploaded_at) VALUES ($1, $2, $3, $4, $5)`,
				p.Region, p.Seq, env.Body, env.Sig, now.UnixMilli())
			stored = err == nil
			return err
		case err != nil:
			return err
		case p.Seq <= held:
			return ErrStale.Withf("the hub holds package %d of %s; this one is %d", held, p.Region, p.Seq)
		}
		_, err := tx.ExecContext(ctx, `UPDATE fed_packages SET seq = $2, body = $3, sig = $4, uploaded_at = $5 WHERE region = $1`,
			p.Region, p.Seq, env.Body, env.Sig, now.UnixMilli())
		stored = err == nil
		return err
	})
	if err != nil {
		return err
	}
	if stored {
		return h.rebuildLocked(ctx)
	}
	return nil
}

func (h *Hub) rebuild(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rebuildLocked(ctx)
}

// rebuildLocked signs a new bundle from the store. Its seq is the hub's
// clock, kept above the last, so nodes can refuse an older bundle.
func (h *Hub) rebuildLocked(ctx context.Context) error {
	type row struct {
		region string
		key    []byte
		body   []byte
		sig    []byte
	}
	rows, err := db.Collect(ctx, h.db, `SELECT r.region, r.public_key, p.body, p.sig FROM fed_regions r
		LEFT JOIN fed_packages p ON p.region = r.region ORDER BY r.region`, nil, func(sc db.Scanner) (row, error) {
		var r row
		err := sc.Scan(&r.region, &r.key, &r.body, &r.sig)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("federation: read packages: %w", err)
	}
	now := h.now().UTC().Truncate(time.Millisecond)
	prev := h.bundle.load()
	seq := max(now.UnixMilli(), prev.seq+1)
	body := BundleBody{Seq: seq, IssuedAt: now, Regions: make([]BundleRegion, 0, len(rows))}
	for _, r := range rows {
		br := BundleRegion{Region: r.region, FederationKey: r.key}
		if r.body != nil {
			br.Package = &Signed{Signer: r.region, Body: r.body, Sig: r.sig}
		}
		body.Regions = append(body.Regions, br)
	}
	raw := mustJSON(Sign(h.key, HubSigner, PurposeBundle, mustJSON(body)))
	sum := sha256.Sum256(raw)
	h.bundle.store(servedBundle{raw: raw, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, seq: seq, at: now})
	return nil
}

// Bundle is the signed bundle as served and its entity tag.
func (h *Hub) Bundle() (raw []byte, etag string) {
	b := h.bundle.load()
	return b.raw, b.etag
}

// Regions lists the enrolled regions and when each last uploaded, for the
// hub's status.
type HubRegion struct {
	Region     string
	Seq        int64
	UploadedAt time.Time
	Hosted     bool // its node runs on the hub's trust (Host, path 3)
}

// Regions lists what the hub holds.
func (h *Hub) Regions(ctx context.Context) ([]HubRegion, error) {
	return db.Collect(ctx, h.db, `SELECT r.region, r.public_key, COALESCE(p.seq, 0), COALESCE(p.uploaded_at, 0) FROM fed_regions r
		LEFT JOIN fed_packages p ON p.region = r.region ORDER BY r.region`, nil, func(sc db.Scanner) (HubRegion, error) {
		var r HubRegion
		var at int64
		var der []byte
		err := sc.Scan(&r.Region, &der, &r.Seq, &at)
		if at > 0 {
			r.UploadedAt = db.Time(at)
		}
		r.Hosted = err == nil && h.hosted(r.Region, der)
		return r, err
	})
}

// StatusRequest asks the issuing region for the current colour of the
// holder of a code it issued.
type StatusRequest struct {
	From   string    `json:"from"`   // the asking region
	Issuer string    `json:"issuer"` // the region that issued the code
	Handle string    `json:"handle"` // the code's person handle, hex
	Nonce  string    `json:"nonce"`
	At     time.Time `json:"at"`
}

// StatusAnswer is the issuing region's answer, signed by it.
type StatusAnswer struct {
	Issuer  string    `json:"issuer"`
	Handle  string    `json:"handle"`
	Nonce   string    `json:"nonce"`
	Known   bool      `json:"known"`
	Color   string    `json:"color"` // green, yellow or red; "" when not known
	Version uint64    `json:"version"`
	At      time.Time `json:"at"`
}

// Relay passes a region's signed status query to the issuing region, signed
// again by the hub, and returns the issuer's signed answer as it came. The
// asker must be enrolled and sign, the query must be fresh.
func (h *Hub) Relay(ctx context.Context, raw []byte) ([]byte, error) {
	env, err := ParseSigned(raw)
	if err != nil {
		return nil, err
	}
	if err := CheckRegion(env.Signer); err != nil {
		return nil, err
	}
	pub, err := h.enrolledKey(ctx, env.Signer)
	if err != nil {
		return nil, err
	}
	if err := env.Verify(pub, PurposeStatusRequest); err != nil {
		return nil, err
	}
	var q StatusRequest
	if err := json.Unmarshal(env.Body, &q); err != nil {
		return nil, ErrMalformed.Withf("the status query does not parse: %v", err)
	}
	if q.From != env.Signer {
		return nil, ErrNotRegionOwner.Withf("region %s may not ask in the name of %s", env.Signer, q.From)
	}
	if d := h.now().Sub(q.At); d > MaxSkew || d < -MaxSkew {
		return nil, ErrStale.Withf("the status query was made at %s", q.At.UTC().Format(time.RFC3339))
	}
	url, err := h.statusURL(ctx, q.Issuer)
	if err != nil {
		return nil, err
	}
	fwd := mustJSON(Sign(h.key, HubSigner, PurposeStatusRequest, env.Body))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(fwd))
	if err != nil {
		return nil, ErrIssuerUnreachable.Withf("the status address of %s is not usable", q.Issuer)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, ErrIssuerUnreachable.Withf("region %s did not answer: %v", q.Issuer, err)
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, MaxMessage))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, ErrIssuerUnreachable.Withf("region %s answered %d", q.Issuer, resp.StatusCode)
	}
	return ans, nil
}

// statusURL is where the issuing region said, in its signed package, that it
// answers status queries.
func (h *Hub) statusURL(ctx context.Context, region string) (string, error) {
	var body []byte
	err := h.db.QueryRowContext(ctx, `SELECT body FROM fed_packages WHERE region = $1`, region).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrRegionUnknown.Withf("region %s has not uploaded a trust list", region)
	}
	if err != nil {
		return "", fmt.Errorf("federation: read package of %s: %w", region, err)
	}
	var p Package
	if err := json.Unmarshal(body, &p); err != nil || p.StatusURL == "" {
		return "", ErrIssuerUnreachable.Withf("region %s gave no status address", region)
	}
	return p.StatusURL, nil
}
