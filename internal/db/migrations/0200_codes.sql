-- Signed codes: the region's signing keys and the care codes (爱心码) issued
-- for people without phones. Times are unix milliseconds (UTC).

-- A signing key signs the codes of one issuer (region) from not_before until
-- not_after (NULL: until the next rotation). A retired key stays published in
-- the trust list until publish_until, when every code it signed has expired.
-- kid is the 8-byte key id in base64url; public_key is SubjectPublicKeyInfo
-- DER; private_enc is the PKCS #8 DER sealed with the master keyring (AAD
-- binds the kid), wiped once the key has stopped signing.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    public_key    BYTEA NOT NULL,
    private_enc   BYTEA,
    not_before    BIGINT NOT NULL,
    not_after     BIGINT,
    publish_until BIGINT,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);
-- One open-ended key per issuer: two nodes generating the first key at once,
-- or two rotations at once, cannot both win.
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (issuer) WHERE not_after IS NULL;

-- A care code is printed, lives days and can be revoked; id is the hex of the
-- code's cti. The code text is sealed (it is a bearer credential for days) and
-- kept so that it can be printed again.
CREATE TABLE care_codes (
    id          TEXT PRIMARY KEY,
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    kid         TEXT NOT NULL,
    code_enc    BYTEA NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    issued_by   TEXT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);
CREATE INDEX care_codes_person ON care_codes (person_num, issued_at);
CREATE INDEX care_codes_revoked ON care_codes (expires_at) WHERE revoked_at IS NOT NULL;
