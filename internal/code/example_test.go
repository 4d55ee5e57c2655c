package code_test

import (
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/code"
)

func Example() {
	// The issuing region: a signing key, its trust-list entry, a MAC key.
	key, _ := code.GenerateKey(code.AlgEdDSA)
	signer, _ := code.NewSigner(key)
	trust := code.TrustList{}
	_ = trust.Add(code.PublicKey{KID: signer.KeyID(), Alg: signer.Alg(), Key: signer.Public(), Issuer: "341881"})
	macKey := []byte("32 random bytes, region-internal")

	now := time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)
	s, err := code.Encode(code.Claims{
		Issuer: "341881", IssuedAt: now, Expires: now.Add(3 * time.Minute),
		ID: code.NewID(), Handle: [8]byte{1, 2, 3, 4, 5, 6, 7, 8},
		Color: code.ColorGreen, MaskedName: "张*离", Kind: code.KindDynamic, StatusVersion: 1,
	}, signer, macKey)
	if err != nil {
		panic(err)
	}

	// A node of the same region checks the MAC; anyone else the signature.
	online := code.NewVerifier(trust, code.Options{MACKeys: map[string][]byte{"341881": macKey}})
	offline := code.NewVerifier(trust, code.Options{})
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
