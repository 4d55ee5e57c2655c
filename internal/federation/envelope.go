// Package federation lets regions recognise each other's codes (互认) through
// a hub, on the model of the EU DCC gateway: each region signs its trust list
// with a federation key the hub enrolled out of band; the hub checks that the
// uploader owns the region, keeps the package as signed, and serves every
// region's package with its own signature inside a bundle the hub signs;
// nodes verify the bundle end to end and then other regions' codes offline by
// signature. Status queries go node → hub → issuing region, signed at every
// hop, under a deadline; the node falls back to the colour in the code.
//
// Federation keys are Ed25519, derived from the deployment's master key, and
// separate from the code-signing keys (which may be Ed25519, P-256 or SM2).
package federation

import (
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/secret"
)

// HubSigner is the Signer name of what the hub signs.
const HubSigner = "hub"

// Purposes separate what a signature is for, so that a signature over one
// kind of message can never be replayed as another.
const (
	PurposePackage       = "package"
	PurposeBundle        = "bundle"
	PurposeStatusRequest = "status-request"
	PurposeStatusAnswer  = "status-answer"
)

// Signed is the envelope of every federation message: the body exactly as
// signed, who signed it (a region code or "hub") and the Ed25519 signature.
type Signed struct {
	Signer string `json:"signer"`
	Body   []byte `json:"body"` // base64 in JSON
	Sig    []byte `json:"sig"`
}

func tbs(purpose string, body []byte) []byte {
	b := make([]byte, 0, len(purpose)+len(body)+32)
	b = append(b, "healthcode-federation-v1\x00"...)
	b = append(b, purpose...)
	b = append(b, 0)
	return append(b, body...)
}

// Sign makes the envelope of body for purpose.
func Sign(key ed25519.PrivateKey, signer, purpose string, body []byte) Signed {
	return Signed{Signer: signer, Body: body, Sig: ed25519.Sign(key, tbs(purpose, body))}
}

// Verify checks the envelope's signature for purpose under pub.
func (s *Signed) Verify(pub ed25519.PublicKey, purpose string) error {
	if len(s.Sig) == 0 {
		return ErrUnsigned
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, tbs(purpose, s.Body), s.Sig) {
		return ErrBadSignature.Withf("the signature of %q does not verify under its federation key", s.Signer)
	}
	return nil
}

// ParseSigned reads an envelope; an envelope without a body or a signer is
// malformed, one without a signature unsigned.
func ParseSigned(b []byte) (Signed, error) {
	var s Signed
	if err := json.Unmarshal(b, &s); err != nil {
		return s, ErrMalformed.Withf("the envelope is not JSON of {signer, body, sig}: %v", err)
	}
	if s.Signer == "" || len(s.Body) == 0 {
		return s, ErrMalformed.Withf("the envelope has no signer or no body")
	}
	if len(s.Sig) == 0 {
		return s, ErrUnsigned
	}
	return s, nil
}

// Key is the deployment's federation key, derived from its master key so
// that every node of the deployment (and every restart) holds the same one.
func Key(ring *secret.Keyring) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(ring.Derive("federation/ed25519", ed25519.SeedSize))
}

// MarshalPublicPEM is the public key as the PEM the hub enrols.
func MarshalPublicPEM(pub ed25519.PublicKey) []byte {
	der, _ := codeformat.MarshalPublicKey(pub) // an Ed25519 key always marshals
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicPEM reads an Ed25519 public key in PEM (or bare DER).
func ParsePublicPEM(b []byte) (ed25519.PublicKey, error) {
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		der = blk.Bytes
	}
	return parsePublicDER(der)
}

func parsePublicDER(der []byte) (ed25519.PublicKey, error) {
	pub, _, err := codeformat.ParsePublicKey(der)
	if err != nil {
		return nil, ErrBadKey.Withf("the federation key does not parse: %v", err)
	}
	k, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, ErrBadKey.Withf("the federation key is %T, not Ed25519", pub)
	}
	return k, nil
}

var regionCode = regexp.MustCompile(`^[0-9]{6}$`)

// CheckRegion refuses anything but a six-digit region code.
func CheckRegion(code string) error {
	if !regionCode.MatchString(code) {
		return ErrBadRegion.Withf("region %q is not six digits", code)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("federation: marshal %T: %v", v, err))
	}
	return b
}
