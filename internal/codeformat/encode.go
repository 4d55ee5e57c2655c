package codeformat

// Encode turns claims into a code: CBOR claims, COSE_Sign1 signed by s
// (with the region MAC when macKey is not empty), zlib, base45, Prefix.
func Encode(c Claims, s *Signer, macKey []byte) (string, error) {
	payload, err := MarshalClaims(c)
	if err != nil {
		return "", err
	}
	cose, err := SignCOSE(payload, s, macKey)
	if err != nil {
		return "", err
	}
	z := Compress(cose)
	out := make([]byte, 0, len(Prefix)+base45EncodedLen(len(z)))
	out = append(out, Prefix...)
	return string(appendBase45(out, z)), nil
}
