-- Entry (入境): trust material for foreign health credentials, and the
-- inbound travellers border staff registered with one.
-- Times are unix milliseconds (UTC).

-- One row per imported item: a DCC signer certificate (material: base64
-- DER; issuer: its country), an SHC issuer's JWKS (issuer: the iss URL;
-- material: the JWKS JSON) or an SHC revocation list (material: its JSON).
-- fingerprint is the SHA-256 of the material for certificates, and
-- format/kind/issuer/kid for the others, so importing twice is harmless and
-- a newer JWKS or list replaces the older.
CREATE TABLE entry_trust (
    fingerprint TEXT PRIMARY KEY,
    format      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    country     TEXT NOT NULL,
    kid         TEXT NOT NULL,
    material    TEXT NOT NULL,
    not_after   BIGINT,
    added_at    BIGINT NOT NULL,
    added_by    TEXT NOT NULL
);

-- credential_id is the DCC's certificate identifier or a hash of the card:
-- the credential itself (names, dates of birth) is not kept.
CREATE TABLE arrivals (
    id              TEXT PRIMARY KEY,
    person_num      BIGINT NOT NULL REFERENCES persons (num),
    region_code     TEXT NOT NULL,
    origin          TEXT NOT NULL,
    port            TEXT NOT NULL,
    transport       TEXT NOT NULL,
    arrived_at      BIGINT NOT NULL,
    arrival_day     TEXT NOT NULL,
    format          TEXT NOT NULL,
    credential_kind TEXT NOT NULL,
    credential_id   TEXT NOT NULL,
    issuer_country  TEXT NOT NULL,
    care_code_id    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    UNIQUE (person_num, credential_id, arrival_day)
);
CREATE INDEX arrivals_region ON arrivals (region_code, arrived_at);
