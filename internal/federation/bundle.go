package federation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// Package is what a region uploads, signed with its federation key: its
// trust list, its revoked care codes and where the hub reaches it for status.
type Package struct {
	Region string `json:"region"`
	// Seq only grows (the uploader's clock in unix milliseconds): the hub
	// refuses a package not newer than the one it holds, so a replayed
	// upload cannot roll a region's keys back.
	Seq       int64           `json:"seq"`
	IssuedAt  time.Time       `json:"issued_at"`
	StatusURL string          `json:"status_url"`
	TrustList json.RawMessage `json:"trust_list"`
	// Revoked are the region's revoked care codes, each the first 8 bytes
	// (hex) of RevokedHash: a receiver can test a code it holds, not list
	// the codes.
	Revoked []string `json:"revoked"`
}

// RevokedHash is the truncated hash under which a revoked care code travels.
func RevokedHash(region string, cti [8]byte) [8]byte {
	h := sha256.New()
	h.Write([]byte("healthcode-federation-v1 revoked\x00"))
	h.Write([]byte(region))
	h.Write([]byte{0})
	h.Write(cti[:])
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

// BundleBody is what the hub signs: every enrolled region with its
// federation key and, once uploaded, its package as the region signed it.
type BundleBody struct {
	Seq      int64          `json:"seq"`
	IssuedAt time.Time      `json:"issued_at"`
	Regions  []BundleRegion `json:"regions"`
}

// BundleRegion is one region of a bundle.
type BundleRegion struct {
	Region        string  `json:"region"`
	FederationKey []byte  `json:"federation_key"` // SubjectPublicKeyInfo DER
	Package       *Signed `json:"package"`        // null until the region uploads
}

// Region is a region of a verified bundle.
type Region struct {
	Code          string
	FederationKey ed25519.PublicKey
	// The rest is zero until the region uploaded a package.
	Seq       int64
	IssuedAt  time.Time
	StatusURL string
	Trust     codeformat.TrustList
	Revoked   map[[8]byte]struct{}
}

// Bundle is a bundle verified end to end.
type Bundle struct {
	Seq      int64
	IssuedAt time.Time
	Regions  map[string]*Region
}

// Codes lists the regions in order.
func (b *Bundle) Codes() []string {
	out := make([]string, 0, len(b.Regions))
	for c := range b.Regions {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// DecodeBundle verifies a bundle as served: the hub's signature over the
// whole under hubKey, then each region's package under that region's
// federation key, then that every key of a region's trust list is for that
// region (a region cannot vouch for another's codes). It never panics.
func DecodeBundle(raw []byte, hubKey ed25519.PublicKey) (*Bundle, error) {
	env, err := ParseSigned(raw)
	if err != nil {
		return nil, err
	}
	if env.Signer != HubSigner {
		return nil, ErrMalformed.Withf("the bundle is signed by %q, not the hub", env.Signer)
	}
	if err := env.Verify(hubKey, PurposeBundle); err != nil {
		return nil, err
	}
	var body BundleBody
	if err := json.Unmarshal(env.Body, &body); err != nil {
		return nil, ErrMalformed.Withf("the bundle body does not parse: %v", err)
	}
	b := &Bundle{Seq: body.Seq, IssuedAt: body.IssuedAt, Regions: make(map[string]*Region, len(body.Regions))}
	for _, br := range body.Regions {
		if err := CheckRegion(br.Region); err != nil {
			return nil, err
		}
		if _, dup := b.Regions[br.Region]; dup {
			return nil, ErrMalformed.Withf("region %s appears twice in the bundle", br.Region)
		}
		pub, err := parsePublicDER(br.FederationKey)
		if err != nil {
			return nil, err
		}
		r := &Region{Code: br.Region, FederationKey: pub}
		if br.Package != nil {
			if br.Package.Signer != br.Region {
				return nil, ErrNotRegionOwner.Withf("the package of %s is signed by %q", br.Region, br.Package.Signer)
			}
			if err := br.Package.Verify(pub, PurposePackage); err != nil {
				return nil, err
			}
			p, err := parsePackage(br.Package.Body)
			if err != nil {
				return nil, err
			}
			if p.Region != br.Region {
				return nil, ErrNotRegionOwner.Withf("the package filed under %s is for %s", br.Region, p.Region)
			}
			r.Seq, r.IssuedAt, r.StatusURL, r.Trust, r.Revoked = p.Seq, p.IssuedAt, p.StatusURL, p.trust, p.revoked
		}
		b.Regions[br.Region] = r
	}
	return b, nil
}

type parsedPackage struct {
	Package
	trust   codeformat.TrustList
	revoked map[[8]byte]struct{}
}

// parsePackage reads a package body and checks its trust list and
// revocations.
func parsePackage(body []byte) (*parsedPackage, error) {
	var p parsedPackage
	if err := json.Unmarshal(body, &p.Package); err != nil {
		return nil, ErrMalformed.Withf("the package does not parse: %v", err)
	}
	if err := CheckRegion(p.Region); err != nil {
		return nil, err
	}
	if len(p.TrustList) == 0 {
		return nil, ErrBadTrustList.Withf("the package of %s has no trust list", p.Region)
	}
	if err := p.trust.UnmarshalJSON(p.TrustList); err != nil {
		return nil, ErrBadTrustList.Withf("the trust list of %s: %v", p.Region, err)
	}
	for _, k := range p.trust {
		if k.Issuer != p.Region {
			return nil, ErrBadTrustList.Withf("the trust list of %s holds a key of %s", p.Region, k.Issuer)
		}
	}
	p.revoked = make(map[[8]byte]struct{}, len(p.Revoked))
	for _, h := range p.Revoked {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 8 {
			return nil, ErrMalformed.Withf("a revoked care code of %s is not 16 hex digits", p.Region)
		}
		p.revoked[[8]byte(b)] = struct{}{}
	}
	return &p, nil
}
