package codeformat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// TrustList is a set of trusted public keys by key id.
type TrustList map[KeyID]PublicKey

// Key implements Keys.
func (t TrustList) Key(kid KeyID) (PublicKey, bool) {
	k, ok := t[kid]
	return k, ok
}

// Add checks that pub is usable (a supported key of the stated algorithm, a
// non-empty issuer) and adds it, refusing a second key with the same id.
func (t TrustList) Add(pub PublicKey) error {
	alg, err := AlgFor(pub.Key)
	if err != nil {
		return err
	}
	switch {
	case alg != pub.Alg:
		return fmt.Errorf("code: key %x is %v, not %v", pub.KID[:], alg, pub.Alg)
	case pub.Issuer == "":
		return fmt.Errorf("code: key %x has no issuer", pub.KID[:])
	case !pub.NotBefore.IsZero() && !pub.NotAfter.IsZero() && pub.NotAfter.Before(pub.NotBefore):
		return fmt.Errorf("code: key %x ends before it starts", pub.KID[:])
	}
	if _, dup := t[pub.KID]; dup {
		return fmt.Errorf("code: duplicate key id %x", pub.KID[:])
	}
	t[pub.KID] = pub
	return nil
}

// jsonKey is one entry of the trust-list JSON document (docs/CODE-FORMAT.md).
type jsonKey struct {
	KID       string     `json:"kid"`        // base64url, no padding
	Alg       Alg        `json:"alg"`        // "EdDSA" | "ES256" | "SM2"
	PublicKey []byte     `json:"public_key"` // SubjectPublicKeyInfo DER, standard base64
	Issuer    string     `json:"issuer"`
	NotBefore *time.Time `json:"not_before,omitempty"` // RFC 3339
	NotAfter  *time.Time `json:"not_after,omitempty"`
}

type jsonTrustList struct {
	Keys []jsonKey `json:"keys"`
}

// MarshalJSON writes {"keys":[...]} sorted by key id, so the same list
// always gives the same document.
func (t TrustList) MarshalJSON() ([]byte, error) {
	doc := jsonTrustList{Keys: make([]jsonKey, 0, len(t))}
	for _, k := range t {
		der, err := MarshalPublicKey(k.Key)
		if err != nil {
			return nil, err
		}
		jk := jsonKey{
			KID:       base64.RawURLEncoding.EncodeToString(k.KID[:]),
			Alg:       k.Alg,
			PublicKey: der,
			Issuer:    k.Issuer,
		}
		if !k.NotBefore.IsZero() {
			nb := k.NotBefore.UTC()
			jk.NotBefore = &nb
		}
		if !k.NotAfter.IsZero() {
			na := k.NotAfter.UTC()
			jk.NotAfter = &na
		}
		doc.Keys = append(doc.Keys, jk)
	}
	slices.SortFunc(doc.Keys, func(a, b jsonKey) int {
		return bytes.Compare(mustKID(a.KID), mustKID(b.KID))
	})
	return json.Marshal(doc)
}

func mustKID(s string) []byte {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return b
}

// UnmarshalJSON reads {"keys":[...]}, replacing the list's contents. Every
// entry is checked as by Add.
func (t *TrustList) UnmarshalJSON(b []byte) error {
	var doc jsonTrustList
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	list := make(TrustList, len(doc.Keys))
	for i, jk := range doc.Keys {
		kid, err := base64.RawURLEncoding.DecodeString(jk.KID)
		if err != nil || len(kid) != len(KeyID{}) {
			return fmt.Errorf("code: trust list key %d: kid is not 8 bytes of base64url", i)
		}
		pub, _, err := ParsePublicKey(jk.PublicKey)
		if err != nil {
			return fmt.Errorf("code: trust list key %d: %w", i, err)
		}
		k := PublicKey{KID: KeyID(kid), Alg: jk.Alg, Key: pub, Issuer: jk.Issuer}
		if jk.NotBefore != nil {
			k.NotBefore = *jk.NotBefore
		}
		if jk.NotAfter != nil {
			k.NotAfter = *jk.NotAfter
		}
		if err := list.Add(k); err != nil {
			return fmt.Errorf("code: trust list key %d: %w", i, err)
		}
	}
	*t = list
	return nil
}
