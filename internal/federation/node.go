package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/prometheus/client_golang/prometheus"
)

// Paths of the federation protocol, on the hub and on every node.
const (
	PathTrustList  = "/federation/v1/trust-list"
	PathTrustLists = "/federation/v1/trust-lists"
	PathStatus     = "/federation/v1/status"
)

// Defaults of a node's federation settings.
const (
	DefaultDeadline   = 300 * time.Millisecond
	DefaultPullPeriod = time.Minute
	// HubBackoff is how long a node asks no live status after a query the
	// hub did not answer (no connection, the deadline passed, a 5xx): with
	// the hub down or stalled, scans fall back to the colour in the code at
	// once instead of each dialling or waiting out the deadline; one query
	// a period finds the hub again.
	HubBackoff = time.Second
	// DefaultRefetchGap is the least time between two pulls triggered by
	// codes under a key the node does not know: a stream of forged key ids
	// costs the hub one request per gap, not one per scan.
	DefaultRefetchGap = 10 * time.Second
)

// NodeConfig configures a node's side of the federation.
type NodeConfig struct {
	Region string // this deployment's region
	Hub    string // the hub's base URL
	// HubKey is the hub's federation public key, pinned: bundles and relayed
	// queries are believed only under it.
	HubKey ed25519.PublicKey
	// StatusURL is where the hub reaches this node for status queries
	// (PUBLIC-URL/federation/v1/status).
	StatusURL  string
	Deadline   time.Duration // of a live status query (default 300 ms)
	RefetchGap time.Duration // default 10 s
	Client     *http.Client
	Log        *slog.Logger
	// Metrics registers the node's metrics (nil: not exported).
	Metrics prometheus.Registerer
}

// Colors is the status cache (status.Service).
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Handles turns a code's person handle into the person's number
// (person.Handles).
type Handles interface {
	Num(handle [8]byte) int64
}

// Node is a deployment's member of the federation: the last verified bundle,
// the colour policy, the status client and the status answerer. It is safe
// for concurrent use; the accessors used per scan read immutable snapshots.
type Node struct {
	db      *db.DB
	cfg     NodeConfig
	key     ed25519.PrivateKey
	colors  Colors
	handles Handles
	now     func() time.Time
	log     *slog.Logger

	snap   atomic.Pointer[nodeSnap]
	policy atomic.Pointer[colorPolicy]

	pullMu     sync.Mutex // one pull at a time
	lastTry    atomic.Int64
	lastPullMs atomic.Int64
	metrics    *metrics
	lastErr    atomic.Pointer[string]
	uploadMu   sync.Mutex
	uploaded   []byte // the last package content the hub took
	uploadSeq  int64
	lastUpMs   atomic.Int64
	// hubDownUntil (unix ms): no status query before it (HubBackoff).
	hubDownUntil atomic.Int64
}

type nodeSnap struct {
	bundle  *Bundle
	etag    string
	keys    codeformat.TrustList // other regions' keys
	revoked map[[8]byte]struct{} // RevokedHash of every region's revoked care codes
}

// NewNode starts the node's federation from the bundle it stored last, if
// any, so a restart while the hub is down still recognises other regions.
func NewNode(ctx context.Context, d *db.DB, ring *secret.Keyring, colors Colors, handles Handles, cfg NodeConfig) (*Node, error) {
	if cfg.Region == "" || cfg.Hub == "" || len(cfg.HubKey) != ed25519.PublicKeySize {
		return nil, errors.New("federation: a node needs its region, the hub's address and the hub's key")
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = DefaultDeadline
	}
	if cfg.RefetchGap <= 0 {
		cfg.RefetchGap = DefaultRefetchGap
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Hub = strings.TrimRight(cfg.Hub, "/")
	n := &Node{db: d, cfg: cfg, key: Key(ring), colors: colors, handles: handles, now: time.Now, log: cfg.Log}
	n.metrics = newMetrics(cfg.Metrics, n)
	n.snap.Store(&nodeSnap{keys: codeformat.TrustList{}, revoked: map[[8]byte]struct{}{}})
	var raw []byte
	var etag string
	var at int64
	err := d.QueryRowContext(ctx, `SELECT raw, etag, pulled_at FROM fed_bundle WHERE id = 1`).Scan(&raw, &etag, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("federation: read the stored bundle: %w", err)
	default:
		if b, err := DecodeBundle(raw, cfg.HubKey); err == nil {
			n.install(b, etag)
			n.lastPullMs.Store(at)
		} else {
			n.log.Warn("the stored federation bundle does not verify under the hub's key; waiting for a pull", "err", err)
		}
	}
	if err := n.LoadPolicy(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// SetClock replaces the clock, for tests.
func (n *Node) SetClock(now func() time.Time) { n.now = now }

// Region is this deployment's region.
func (n *Node) Region() string { return n.cfg.Region }

// Deadline is how long a live status query may take.
func (n *Node) Deadline() time.Duration { return n.cfg.Deadline }

// PublicKey is this deployment's federation key, for the hub to enrol.
func (n *Node) PublicKey() ed25519.PublicKey { return n.key.Public().(ed25519.PublicKey) }

func (n *Node) install(b *Bundle, etag string) {
	s := &nodeSnap{bundle: b, etag: etag, keys: codeformat.TrustList{}, revoked: map[[8]byte]struct{}{}}
	for code, r := range b.Regions {
		if code == n.cfg.Region {
			// Our own keys come from our own store, never from the hub.
			continue
		}
		for kid, k := range r.Trust {
			if _, dup := s.keys[kid]; !dup {
				s.keys[kid] = k
			}
		}
		for h := range r.Revoked {
			s.revoked[h] = struct{}{}
		}
	}
	n.snap.Store(s)
}

// Key finds another region's code-signing key in the bundle.
func (n *Node) Key(kid codeformat.KeyID) (codeformat.PublicKey, bool) {
	k, ok := n.snap.Load().keys[kid]
	return k, ok
}

// Revoked reports whether the issuing region revoked a care code.
func (n *Node) Revoked(issuer string, cti [8]byte) bool {
	_, ok := n.snap.Load().revoked[RevokedHash(issuer, cti)]
	return ok
}

// Pull fetches the bundle (If-None-Match its ETag), verifies it end to end
// and installs it. A bundle that fails to verify, or is older than the one
// held, is refused and the held one stays.
func (n *Node) Pull(ctx context.Context) error {
	n.pullMu.Lock()
	defer n.pullMu.Unlock()
	changed, err := n.pull(ctx)
	n.metrics.pulled(changed, err)
	if err != nil {
		msg := err.Error()
		n.lastErr.Store(&msg)
	} else {
		n.lastErr.Store(nil)
	}
	return err
}

func (n *Node) pull(ctx context.Context) (changed bool, err error) {
	n.lastTry.Store(n.now().UnixMilli())
	cur := n.snap.Load()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.cfg.Hub+PathTrustLists, nil)
	if err != nil {
		return false, fmt.Errorf("federation: pull: %w", err)
	}
	if cur.etag != "" {
		req.Header.Set("If-None-Match", cur.etag)
	}
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return false, fmt.Errorf("federation: pull from the hub: %w", err)
	}
	defer resp.Body.Close()
	now := n.now()
	switch resp.StatusCode {
	case http.StatusNotModified:
		n.lastPullMs.Store(now.UnixMilli())
		return false, nil
	case http.StatusOK:
	default:
		return false, fmt.Errorf("federation: pull: the hub answered %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return false, fmt.Errorf("federation: pull: %w", err)
	}
	b, err := DecodeBundle(raw, n.cfg.HubKey)
	if err != nil {
		return false, fmt.Errorf("federation: pull: %w", err)
	}
	if cur.bundle != nil && b.Seq < cur.bundle.Seq {
		return false, fmt.Errorf("federation: pull: %w", ErrStale.Withf("the hub served bundle %d, older than %d held", b.Seq, cur.bundle.Seq))
	}
	etag := resp.Header.Get("ETag")
	if _, err := n.db.ExecContext(ctx, `INSERT INTO fed_bundle (id, seq, etag, raw, pulled_at) VALUES (1, $1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, etag = excluded.etag, raw = excluded.raw, pulled_at = excluded.pulled_at`,
		b.Seq, etag, raw, now.UnixMilli()); err != nil {
		return false, fmt.Errorf("federation: store the bundle: %w", err)
	}
	n.install(b, etag)
	n.lastPullMs.Store(now.UnixMilli())
	return cur.bundle == nil || b.Seq != cur.bundle.Seq, nil
}

// Refetch pulls once for a code under a key id the node does not know,
// within the status deadline, at most once per RefetchGap. It reports
// whether a new bundle arrived.
func (n *Node) Refetch(ctx context.Context) bool {
	now := n.now().UnixMilli()
	last := n.lastTry.Load()
	if now-last < n.cfg.RefetchGap.Milliseconds() || !n.lastTry.CompareAndSwap(last, now) {
		return false
	}
	if !n.pullMu.TryLock() {
		return false
	}
	defer n.pullMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Deadline)
	defer cancel()
	changed, err := n.pull(ctx)
	n.metrics.pulled(changed, err)
	if err != nil {
		n.log.Warn("federation: refetch on an unknown key id failed", "err", err)
		return false
	}
	return changed
}

// Status asks the issuing region, through the hub, for the current colour
// of the holder of one of its codes, within the deadline. ok is false when
// no verified answer came in time.
func (n *Node) Status(ctx context.Context, issuer string, handle [8]byte) (c rules.Color, ok bool) {
	c, ok = n.status(ctx, issuer, handle)
	if ok {
		n.metrics.queries.WithLabelValues("answered").Inc()
	} else {
		n.metrics.queries.WithLabelValues("unavailable").Inc()
	}
	return c, ok
}

func (n *Node) status(ctx context.Context, issuer string, handle [8]byte) (c rules.Color, ok bool) {
	r := n.snap.Load().bundle
	if r == nil || r.Regions[issuer] == nil {
		return 0, false
	}
	issuerKey := r.Regions[issuer].FederationKey
	if n.now().UnixMilli() < n.hubDownUntil.Load() {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Deadline)
	defer cancel()
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	q := StatusRequest{From: n.cfg.Region, Issuer: issuer, Handle: hex.EncodeToString(handle[:]),
		Nonce: hex.EncodeToString(nonce[:]), At: n.now().UTC()}
	env := mustJSON(Sign(n.key, n.cfg.Region, PurposeStatusRequest, mustJSON(q)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Hub+PathStatus, bytes.NewReader(env))
	if err != nil {
		return 0, false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		n.hubDown()
		return 0, false
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil || resp.StatusCode >= 500 {
		n.hubDown()
		return 0, false
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	a, err := ParseSigned(raw)
	if err != nil || a.Signer != issuer || a.Verify(issuerKey, PurposeStatusAnswer) != nil {
		return 0, false
	}
	var ans StatusAnswer
	if json.Unmarshal(a.Body, &ans) != nil || ans.Nonce != q.Nonce || ans.Handle != q.Handle || ans.Issuer != issuer || !ans.Known {
		return 0, false
	}
	col, err := rules.ParseColor(ans.Color)
	if err != nil {
		return 0, false
	}
	return col, true
}

func (n *Node) hubDown() { n.hubDownUntil.Store(n.now().Add(HubBackoff).UnixMilli()) }

// Answer is this region's side of a status query relayed by the hub: the
// query must carry the hub's signature, be for this region and be fresh; the
// answer, signed with this region's key, is the holder's colour now.
func (n *Node) Answer(ctx context.Context, raw []byte) ([]byte, error) {
	env, err := ParseSigned(raw)
	if err != nil {
		return nil, err
	}
	if env.Signer != HubSigner {
		return nil, ErrNotRegionOwner.Withf("status queries come through the hub, not from %q", env.Signer)
	}
	if err := env.Verify(n.cfg.HubKey, PurposeStatusRequest); err != nil {
		return nil, err
	}
	var q StatusRequest
	if err := json.Unmarshal(env.Body, &q); err != nil {
		return nil, ErrMalformed.Withf("the status query does not parse: %v", err)
	}
	if q.Issuer != n.cfg.Region {
		return nil, ErrRegionUnknown.Withf("this is region %s, not %s", n.cfg.Region, q.Issuer)
	}
	now := n.now()
	if d := now.Sub(q.At); d > MaxSkew || d < -MaxSkew {
		return nil, ErrStale.Withf("the status query was made at %s", q.At.UTC().Format(time.RFC3339))
	}
	h, err := hex.DecodeString(q.Handle)
	if err != nil || len(h) != 8 {
		return nil, ErrMalformed.Withf("the handle is not 16 hex digits")
	}
	c, v := n.colors.Color(n.handles.Num([8]byte(h)))
	if !c.Valid() {
		c = rules.Green // never evaluated: no fact against them
	}
	ans := StatusAnswer{Issuer: n.cfg.Region, Handle: q.Handle, Nonce: q.Nonce, Known: true, Color: c.String(), Version: v, At: now.UTC()}
	return mustJSON(Sign(n.key, n.cfg.Region, PurposeStatusAnswer, mustJSON(ans))), nil
}

// Upload sends this region's trust list and revoked care codes to the hub,
// signed, unless the hub already took the same content from this node.
func (n *Node) Upload(ctx context.Context, trustList []byte, revoked [][8]byte) error {
	hashes := make([]string, len(revoked))
	for i, cti := range revoked {
		h := RevokedHash(n.cfg.Region, cti)
		hashes[i] = hex.EncodeToString(h[:])
	}
	slices.Sort(hashes)
	content := mustJSON(struct {
		T json.RawMessage
		R []string
		U string
	}{trustList, hashes, n.cfg.StatusURL})
	n.uploadMu.Lock()
	defer n.uploadMu.Unlock()
	if bytes.Equal(content, n.uploaded) {
		return nil
	}
	now := n.now().UTC()
	seq := max(now.UnixMilli(), n.uploadSeq+1)
	p := Package{Region: n.cfg.Region, Seq: seq, IssuedAt: now, StatusURL: n.cfg.StatusURL, TrustList: trustList, Revoked: hashes}
	env := mustJSON(Sign(n.key, n.cfg.Region, PurposePackage, mustJSON(p)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Hub+PathTrustList, bytes.NewReader(env))
	if err != nil {
		return fmt.Errorf("federation: upload: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("federation: upload to the hub: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("federation: upload: the hub answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	n.uploaded, n.uploadSeq = content, seq
	n.lastUpMs.Store(now.UnixMilli())
	return nil
}

// Info is what the console shows of the federation.
type Info struct {
	Hub        string
	LastPull   time.Time // zero: never
	LastUpload time.Time
	LastError  string
	Seq        int64
	IssuedAt   time.Time
	Regions    []RegionInfo
	Deadline   time.Duration
}

// RegionInfo is one region of the bundle held.
type RegionInfo struct {
	Code      string
	Own       bool
	Uploaded  bool
	IssuedAt  time.Time
	Keys      []KeyInfo
	Revoked   int
	StatusURL string
}

// KeyInfo is one code-signing key of a region.
type KeyInfo struct {
	KID string
	Alg string
}

// Info reads the node's state.
func (n *Node) Info() Info {
	s := n.snap.Load()
	in := Info{Hub: n.cfg.Hub, Deadline: n.cfg.Deadline}
	if ms := n.lastPullMs.Load(); ms > 0 {
		in.LastPull = db.Time(ms)
	}
	if ms := n.lastUpMs.Load(); ms > 0 {
		in.LastUpload = db.Time(ms)
	}
	if e := n.lastErr.Load(); e != nil {
		in.LastError = *e
	}
	if s.bundle == nil {
		return in
	}
	in.Seq, in.IssuedAt = s.bundle.Seq, s.bundle.IssuedAt
	for _, code := range s.bundle.Codes() {
		r := s.bundle.Regions[code]
		ri := RegionInfo{Code: code, Own: code == n.cfg.Region, Uploaded: r.Trust != nil, IssuedAt: r.IssuedAt,
			Revoked: len(r.Revoked), StatusURL: r.StatusURL}
		for kid, k := range r.Trust {
			ri.Keys = append(ri.Keys, KeyInfo{KID: kidText(kid), Alg: k.Alg.String()})
		}
		slices.SortFunc(ri.Keys, func(a, b KeyInfo) int { return strings.Compare(a.KID, b.KID) })
		in.Regions = append(in.Regions, ri)
	}
	return in
}
