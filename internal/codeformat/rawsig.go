package codeformat

// VerifyRaw checks a raw signature (as Signer.Sign makes) over msg with the
// key, for documents other than codes that the region's key signs (the
// audit log's signed heads). It never panics.
func (k PublicKey) VerifyRaw(msg, sig []byte) bool {
	return verifySignature(k.Alg, k.Key, msg, sig)
}
