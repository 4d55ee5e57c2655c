package api

import "time"

// AuditHeadsResponse is GET /audit/heads and POST /admin/audit/heads: signed
// heads of the audit log and the keys that signed them, in the trust list's
// form. The handler writes the bytes audit.MarshalHeads makes (the same
// document `healthcode audit heads` exports and `audit verify --heads`
// reads); this type is their contract.
type AuditHeadsResponse struct {
	Keys  []TrustedKey `json:"keys"`
	Heads []AuditHead  `json:"heads"`
}

// AuditHeadRequest is POST /admin/audit/heads: an empty object; the
// request is written to the audit log, so the head covers who asked.
type AuditHeadRequest struct{}

// AuditHead is a signed head of the audit log.
type AuditHead struct {
	Seq           int64     `json:"seq" doc:"1, 2, ... in the order the heads were signed"`
	Issuer        string    `json:"issuer" doc:"the region whose key signed"`
	LogSeq        int64     `json:"log_seq" doc:"the last entry of the log when signed (0: empty)"`
	LogHash       string    `json:"log_hash" doc:"that entry's hash, hex"`
	At            time.Time `json:"at"`
	CodesIssued   int64     `json:"codes_issued" doc:"dynamic codes shown and care codes issued so far"`
	Verifications int64     `json:"verifications" doc:"verifications recorded before verified_to"`
	VerifiedTo    time.Time `json:"verified_to"`
	KID           string    `json:"kid" doc:"the key that signed, as in the trust list"`
	Alg           string    `json:"alg" doc:"EdDSA, ES256 or SM2"`
	Signature     []byte    `json:"signature" doc:"raw signature (64 bytes) over the head's text (docs/SECURITY.md)"`
}
