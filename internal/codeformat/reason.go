package codeformat

// Reason says why a code is not valid. The values are stable snake_case
// strings: APIs return them and clients switch on them.
type Reason string

// The reasons, in the order the verifier reports them. Decoding stops at the
// first of the structural ones (bad_prefix to bad_cose); the rest are all
// reported together.
const (
	ReasonBadPrefix    Reason = "bad_prefix"    // not starting with Prefix
	ReasonBadBase45    Reason = "bad_base45"    // not base45, or longer than MaxCodeLen
	ReasonBadZlib      Reason = "bad_zlib"      // not a zlib stream, bad checksum, trailing data, or inflating past MaxCOSESize
	ReasonBadCBOR      Reason = "bad_cbor"      // not well-formed or not valid CBOR (indefinite lengths, duplicate keys, bad UTF-8, too deep)
	ReasonBadCOSE      Reason = "bad_cose"      // well-formed CBOR but not a COSE_Sign1 with our headers and claims
	ReasonUnknownKey   Reason = "unknown_key"   // no trusted key with this kid for this issuer at this issue time
	ReasonAlgMismatch  Reason = "alg_mismatch"  // header alg differs from the trusted key's
	ReasonBadSignature Reason = "bad_signature" // neither the region MAC nor the signature verifies
	ReasonExpired      Reason = "expired"       // at or after expiry plus the clock-skew allowance
	ReasonNotYetValid  Reason = "not_yet_valid" // before issued-at minus the clock-skew allowance
	ReasonRevoked      Reason = "revoked"       // the caller's revocation check matched
	ReasonWrongKind    Reason = "wrong_kind"    // a kind this verifier does not accept
)

// Reasons lists every reason in report order.
var Reasons = []Reason{
	ReasonBadPrefix, ReasonBadBase45, ReasonBadZlib, ReasonBadCBOR, ReasonBadCOSE,
	ReasonUnknownKey, ReasonAlgMismatch, ReasonBadSignature,
	ReasonExpired, ReasonNotYetValid, ReasonRevoked, ReasonWrongKind,
}

// Error is a decoding failure with its reason.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "code: " + string(e.Reason)
	}
	return "code: " + string(e.Reason) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
