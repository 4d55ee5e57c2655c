// Package codeformat encodes, decodes and verifies the signed health code that a
// QR symbol carries, with no database and no network.
//
// The pipeline is the EU Digital COVID Certificate's with a prefix of our
// own: CWT claims in CBOR, signed as a tagged COSE_Sign1 (Ed25519, ECDSA
// P-256 or SM2/SM3), zlib, base45, "JKM1:". The unprotected header may also
// carry a 16-byte region MAC over the same signed bytes: the issuing
// region's own nodes check that instead of the signature, which costs
// about as much as a whole HTTP request. docs/CODE-FORMAT.md is the
// specification; testdata/codes holds the conformance vectors.
//
// The same pipeline and keys also sign certificates of negative
// nucleic-acid tests (KindCertificate); verifiers accept them only when
// asked to (Options.Kinds).
//
// Verification is the hottest path of the platform. Decode and Verify work
// in pooled buffers, read the few CBOR shapes of the format by hand after a
// well-formedness check, and allocate only the strings of the result.
package codeformat
