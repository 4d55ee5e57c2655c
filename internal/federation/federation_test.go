package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
)

const (
	regionA = "341802"
	regionB = "341881"
)

type testRegion struct {
	code   string
	fedKey ed25519.PrivateKey
	signer *codeformat.Signer
}

func newTestRegion(t testing.TB, code string, alg codeformat.Alg) *testRegion {
	t.Helper()
	_, fk, _ := ed25519.GenerateKey(rand.Reader)
	k, err := codeformat.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := codeformat.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return &testRegion{code: code, fedKey: fk, signer: s}
}

func (r *testRegion) pkg(t testing.TB, seq int64, revoked ...[8]byte) *Signed {
	t.Helper()
	tl := codeformat.TrustList{}
	if err := tl.Add(codeformat.PublicKey{KID: r.signer.KeyID(), Alg: r.signer.Alg(), Key: r.signer.Public(), Issuer: r.code}); err != nil {
		t.Fatal(err)
	}
	tj, _ := tl.MarshalJSON()
	hs := []string{}
	for _, cti := range revoked {
		h := RevokedHash(r.code, cti)
		hs = append(hs, hexOf(h[:]))
	}
	p := Package{Region: r.code, Seq: seq, IssuedAt: time.Now().UTC(), StatusURL: "http://127.0.0.1:1" + PathStatus, TrustList: tj, Revoked: hs}
	s := Sign(r.fedKey, r.code, PurposePackage, mustJSON(p))
	return &s
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func bundleOf(t testing.TB, hub ed25519.PrivateKey, seq int64, regions ...*testRegion) []byte {
	t.Helper()
	body := BundleBody{Seq: seq, IssuedAt: time.Now().UTC()}
	for _, r := range regions {
		der, _ := MarshalPublicDER(r.fedKey.Public().(ed25519.PublicKey))
		body.Regions = append(body.Regions, BundleRegion{Region: r.code, FederationKey: der, Package: r.pkg(t, seq)})
	}
	return mustJSON(Sign(hub, HubSigner, PurposeBundle, mustJSON(body)))
}

func (r *testRegion) code_(t testing.TB, kind codeformat.Kind) (string, codeformat.Claims) {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	c := codeformat.Claims{Issuer: r.code, IssuedAt: now, Expires: now.Add(3 * time.Minute), ID: codeformat.NewID(),
		Handle: codeformat.NewID(), MaskedName: "李*", Kind: kind, StatusVersion: 1}
	if kind == codeformat.KindDynamic {
		c.Color = codeformat.ColorGreen
	}
	s, err := codeformat.Encode(c, r.signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func nodeWith(t testing.TB, own string, raw []byte, hub ed25519.PublicKey) *Node {
	t.Helper()
	b, err := DecodeBundle(raw, hub)
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{cfg: NodeConfig{Region: own, HubKey: hub}}
	n.install(b, "")
	return n
}

// Other regions' codes verify by signature under keys from the bundle, in
// each of the three algorithms; a region's keys verify only its own codes.
func TestForeignCodesVerifyInEveryAlgorithm(t *testing.T) {
	_, hub, _ := ed25519.GenerateKey(rand.Reader)
	for _, alg := range []codeformat.Alg{codeformat.AlgEdDSA, codeformat.AlgES256, codeformat.AlgSM2} {
		t.Run(alg.String(), func(t *testing.T) {
			a, b := newTestRegion(t, regionA, alg), newTestRegion(t, regionB, codeformat.AlgEdDSA)
			n := nodeWith(t, regionB, bundleOf(t, hub, 1, a, b), hub.Public().(ed25519.PublicKey))
			v := codeformat.NewVerifier(n, codeformat.Options{})
			code, _ := a.code_(t, codeformat.KindDynamic)
			if r := v.Verify(code, time.Now()); !r.Valid || r.Claims.Issuer != regionA {
				t.Fatalf("A's %v code at B: %+v", alg, r)
			}
			// B's own keys are never taken from the hub.
			own, _ := b.code_(t, codeformat.KindDynamic)
			if r := v.Verify(own, time.Now()); r.Valid || r.Reasons[0] != codeformat.ReasonUnknownKey {
				t.Fatalf("B's own code through the bundle: %+v", r)
			}
		})
	}
}

// A region's revoked care code travels as a truncated hash and is refused.
func TestRevokedCareCodesTravel(t *testing.T) {
	_, hub, _ := ed25519.GenerateKey(rand.Reader)
	a := newTestRegion(t, regionA, codeformat.AlgEdDSA)
	code, c := a.code_(t, codeformat.KindCare)
	der, _ := MarshalPublicDER(a.fedKey.Public().(ed25519.PublicKey))
	body := BundleBody{Seq: 1, Regions: []BundleRegion{{Region: regionA, FederationKey: der, Package: a.pkg(t, 1, c.ID)}}}
	raw := mustJSON(Sign(hub, HubSigner, PurposeBundle, mustJSON(body)))
	n := nodeWith(t, regionB, raw, hub.Public().(ed25519.PublicKey))
	v := codeformat.NewVerifier(n, codeformat.Options{Revoked: func(c *codeformat.Claims) bool { return n.Revoked(c.Issuer, c.ID) }})
	if r := v.Verify(code, time.Now()); r.Valid || r.Reasons[0] != codeformat.ReasonRevoked {
		t.Fatalf("a revoked care code of A: %+v", r)
	}
}

// A bundle is believed only end to end: the hub's signature, each region's
// own, and every key for its own region.
func TestDecodeBundleRefuses(t *testing.T) {
	_, hub, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	hubPub := hub.Public().(ed25519.PublicKey)
	a, b := newTestRegion(t, regionA, codeformat.AlgEdDSA), newTestRegion(t, regionB, codeformat.AlgSM2)
	derA, _ := MarshalPublicDER(a.fedKey.Public().(ed25519.PublicKey))
	sign := func(body BundleBody) []byte { return mustJSON(Sign(hub, HubSigner, PurposeBundle, mustJSON(body))) }
	// A's package filed under B (the hub swapped them, or was fooled).
	swapped := BundleBody{Seq: 1, Regions: []BundleRegion{{Region: regionB, FederationKey: derA, Package: a.pkg(t, 1)}}}
	// A signs a trust list holding B's key.
	tl := codeformat.TrustList{}
	tl.Add(codeformat.PublicKey{KID: b.signer.KeyID(), Alg: b.signer.Alg(), Key: b.signer.Public(), Issuer: regionB})
	tj, _ := tl.MarshalJSON()
	hijack := Sign(a.fedKey, regionA, PurposePackage, mustJSON(Package{Region: regionA, Seq: 1, TrustList: tj}))
	forged := BundleBody{Seq: 1, Regions: []BundleRegion{{Region: regionA, FederationKey: derA, Package: &hijack}}}
	good := bundleOf(t, hub, 1, a, b)
	for _, c := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"not JSON", []byte("{"), ErrMalformed},
		{"unsigned", mustJSON(Signed{Signer: HubSigner, Body: []byte("{}")}), ErrUnsigned},
		{"signed by another hub", mustJSON(Sign(other, HubSigner, PurposeBundle, []byte(`{"seq":1}`))), ErrBadSignature},
		{"signed by a region", mustJSON(Sign(hub, regionA, PurposeBundle, []byte(`{"seq":1}`))), ErrMalformed},
		{"a package under another region", sign(swapped), ErrNotRegionOwner},
		{"a region vouching for another's key", sign(forged), ErrBadTrustList},
		{"a package signature for another purpose", func() []byte {
			p := Sign(a.fedKey, regionA, PurposeStatusAnswer, a.pkg(t, 1).Body)
			return sign(BundleBody{Seq: 1, Regions: []BundleRegion{{Region: regionA, FederationKey: derA, Package: &p}}})
		}(), ErrBadSignature},
	} {
		if _, err := DecodeBundle(c.raw, hubPub); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := DecodeBundle(good, hubPub); err != nil {
		t.Fatalf("a good bundle: %v", err)
	}
}

// FuzzDecodeBundle: whatever arrives from the network, DecodeBundle returns
// a bundle or an error, never panics, and a bundle it returns holds only
// keys of the region each is filed under.
func FuzzDecodeBundle(f *testing.F) {
	_, hub, _ := ed25519.GenerateKey(rand.Reader)
	hubPub := hub.Public().(ed25519.PublicKey)
	a, b := newTestRegion(f, regionA, codeformat.AlgES256), newTestRegion(f, regionB, codeformat.AlgSM2)
	good := bundleOf(f, hub, 1, a, b)
	f.Add(good)
	f.Add([]byte(`{"signer":"hub","body":"e30=","sig":"AA=="}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	var env Signed
	json.Unmarshal(good, &env)
	f.Add(env.Body)
	f.Fuzz(func(t *testing.T, raw []byte) {
		bd, err := DecodeBundle(raw, hubPub)
		if err != nil {
			return
		}
		for code, r := range bd.Regions {
			for _, k := range r.Trust {
				if k.Issuer != code {
					t.Fatalf("region %s holds a key of %s", code, k.Issuer)
				}
			}
		}
		// The fuzzer cannot forge the hub's signature, so only inner
		// changes that keep the signed body are possible: also fuzz the body
		// re-signed, below.
		_ = bd
	})
}

// FuzzDecodeSignedBody fuzzes what is inside a correctly signed bundle: the
// hub's signature proves who sent it, not that it is well formed.
func FuzzDecodeSignedBody(f *testing.F) {
	_, hub, _ := ed25519.GenerateKey(rand.Reader)
	hubPub := hub.Public().(ed25519.PublicKey)
	a := newTestRegion(f, regionA, codeformat.AlgEdDSA)
	var env Signed
	json.Unmarshal(bundleOf(f, hub, 1, a), &env)
	f.Add(env.Body)
	f.Add([]byte(`{"seq":1,"regions":[{"region":"341802","federation_key":"AA==","package":null}]}`))
	f.Add([]byte(`{"regions":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		raw := mustJSON(Sign(hub, HubSigner, PurposeBundle, body))
		bd, err := DecodeBundle(raw, hubPub)
		if err != nil {
			return
		}
		for code, r := range bd.Regions {
			for _, k := range r.Trust {
				if k.Issuer != code {
					t.Fatalf("region %s holds a key of %s", code, k.Issuer)
				}
			}
		}
	})
}

// BenchmarkForeignVerify measures a foreign code verified by signature
// under a key from the bundle (decode, key lookup through the node, the
// signature, times) against the raw signature check of its algorithm alone.
// The ratio of the two ns/op is the figure docs/PERFORMANCE.md records.
func BenchmarkForeignVerify(b *testing.B) {
	_, hub, _ := ed25519.GenerateKey(rand.Reader)
	for _, alg := range []codeformat.Alg{codeformat.AlgEdDSA, codeformat.AlgES256, codeformat.AlgSM2} {
		a, own := newTestRegion(b, regionA, alg), newTestRegion(b, regionB, codeformat.AlgEdDSA)
		n := nodeWith(b, regionB, bundleOf(b, hub, 1, a, own), hub.Public().(ed25519.PublicKey))
		v := codeformat.NewVerifier(n, codeformat.Options{})
		code, _ := a.code_(b, codeformat.KindDynamic)
		msg := []byte("a message the size of a code's signed structure, some hundred bytes of CBOR and headers ........")
		sig, err := a.signer.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		at := time.Now()
		b.Run(alg.String()+"/raw", func(b *testing.B) {
			for b.Loop() {
				if !codeformat.VerifySignature(alg, a.signer.Public(), msg, sig) {
					b.Fatal("raw signature")
				}
			}
		})
		b.Run(alg.String()+"/foreign", func(b *testing.B) {
			for b.Loop() {
				if !v.Verify(code, at).Valid {
					b.Fatal("foreign code")
				}
			}
		})
		// Interleaved, so that a machine whose load drifts during the run
		// slows both alike: rate_ratio is foreign verifications per second
		// over raw signature checks per second.
		b.Run(alg.String()+"/interleaved", func(b *testing.B) {
			var raw, foreign time.Duration
			for b.Loop() {
				t0 := time.Now()
				codeformat.VerifySignature(alg, a.signer.Public(), msg, sig)
				t1 := time.Now()
				v.Verify(code, at)
				raw, foreign = raw+t1.Sub(t0), foreign+time.Since(t1)
			}
			b.ReportMetric(float64(raw)/float64(foreign), "rate_ratio")
		})
	}
}

// A hub that does not answer (here a 503, as a proxy in front of a stopped
// hub gives) costs one query per HubBackoff: scans in between fall back at
// once, without a request; after the backoff one query tries again.
func TestStatusBacksOffWhileTheHubIsDown(t *testing.T) {
	var hits atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	_, hubKey, _ := ed25519.GenerateKey(rand.Reader)
	a := newTestRegion(t, regionA, codeformat.AlgEdDSA)
	n := nodeWith(t, regionB, bundleOf(t, hubKey, 1, a), hubKey.Public().(ed25519.PublicKey))
	_, n.key, _ = ed25519.GenerateKey(rand.Reader)
	n.cfg.Hub, n.cfg.Deadline, n.cfg.Client = hs.URL, time.Second, hs.Client()
	now := time.Now()
	n.now = func() time.Time { return now }
	for i, want := range []int32{1, 1, 1} {
		if _, ok := n.status(context.Background(), regionA, [8]byte{1}); ok {
			t.Fatalf("scan %d: a live colour from a hub that is down", i)
		}
		if got := hits.Load(); got != want {
			t.Fatalf("scan %d: %d queries reached the hub, want %d", i, got, want)
		}
	}
	now = now.Add(HubBackoff)
	n.status(context.Background(), regionA, [8]byte{1})
	if got := hits.Load(); got != 2 {
		t.Fatalf("after the backoff: %d queries, want 2", got)
	}
}
