-- Signed heads of the audit log: at intervals the chain's tip (the last
-- entry's seq and hash) is signed with the region's code-signing key, with
-- the counts of codes issued and verifications so far, so that a rewrite of
-- the log (a truncated tail, an edited entry with the chain recomputed)
-- contradicts a head signed before it. Heads are published and exported to
-- files operators keep; a rewrite that also deletes heads here is caught by
-- those copies. The signature covers the text of audit.Head.Message.
-- verified_to is the end (unix ms) of the time the verifications count covers.
CREATE TABLE audit_heads (
    seq           BIGINT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    log_seq       BIGINT NOT NULL,
    log_hash      TEXT NOT NULL,
    at            BIGINT NOT NULL,
    codes_issued  BIGINT NOT NULL,
    verifications BIGINT NOT NULL,
    verified_to   BIGINT NOT NULL,
    kid           TEXT NOT NULL,
    alg           TEXT NOT NULL,
    signature     BYTEA NOT NULL
);
