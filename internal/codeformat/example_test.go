package codeformat_test

import (
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
)

func Example() {
	// The issuing region: a signing key, its trust-list entry, a MAC key.
	key, _ := codeformat.GenerateKey(codeformat.AlgEdDSA)
	signer, _ := codeformat.NewSigner(key)
	trust := codeformat.TrustList{}
	_ = trust.Add(codeformat.PublicKey{KID: signer.KeyID(), Alg: signer.Alg(), Key: signer.Public(), Issuer: "341881"})
	macKey := []byte("32 random bytes, region-internal")

	now := time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)
	s, err := codeformat.Encode(codeformat.Claims{
		Issuer: "341881", IssuedAt: now, Expires: now.Add(3 * time.Minute),
		ID: codeformat.NewID(), Handle: [8]byte{1, 2, 3, 4, 5, 6, 7, 8},
		Color: codeformat.ColorGreen, MaskedName: "张*离", Kind: codeformat.KindDynamic, StatusVersion: 1,
	}, signer, macKey)
	if err != nil {
		panic(err)
	}

	// A node of the same region checks the MAC; anyone else the signature.
	online := codeformat.NewVerifier(trust, codeformat.Options{MACKeys: map[string][]byte{"341881": macKey}})
	offline := codeformat.NewVerifier(trust, codeformat.Options{})
	r := online.Verify(s, now.Add(time.Minute))
	fmt.Println(r.Valid, r.ByMAC, r.Claims.Color, r.Claims.MaskedName)
	r = offline.Verify(s, now.Add(time.Minute))
	fmt.Println(r.Valid, r.ByMAC)
	r = offline.Verify(s, now.Add(time.Hour))
	fmt.Println(r.Valid, r.Reasons)
	// Output:
	// true true green 张*离
	// true false
	// false [expired]
}
