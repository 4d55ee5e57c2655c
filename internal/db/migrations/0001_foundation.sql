-- Foundation: counters, persons, accounts, dependents, operators, sessions,
-- one-time codes, API keys, units, venues, checkpoints, the SMS outbox, the
-- audit log and the population table. Times are unix milliseconds (UTC).

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- A person is one identity number. num is dense (the status cache is an
-- array indexed by it); id is the public handle, a keyed permutation of num.
-- Name, ID number and phone are AES-GCM sealed; *_hash are keyed blind
-- indexes (HMAC) for exact lookups.
CREATE TABLE persons (
    num         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    id_type     TEXT NOT NULL,
    id_hash     BYTEA NOT NULL UNIQUE,
    id_enc      BYTEA NOT NULL,
    name_hash   BYTEA NOT NULL,
    name_enc    BYTEA NOT NULL,
    phone_hash  BYTEA,
    phone_enc   BYTEA,
    region_code TEXT NOT NULL,
    birth_year  BIGINT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX persons_region ON persons (region_code);
CREATE INDEX persons_name ON persons (name_hash);
CREATE INDEX persons_phone ON persons (phone_hash);

-- An account is a phone that has logged in; registering links it to its person.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    phone_hash  BYTEA NOT NULL UNIQUE,
    phone_enc   BYTEA NOT NULL,
    person_num  BIGINT UNIQUE REFERENCES persons (num),
    created_at  BIGINT NOT NULL
);

-- Dependents (代办): persons an account manages, e.g. elderly parents, children.
CREATE TABLE dependents (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    relation    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, person_num)
);
CREATE INDEX dependents_person ON dependents (person_num);

CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    region_code   TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);

-- Sessions are bearer tokens; only their SHA-256 is stored.
CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- One pending one-time code per phone, plus the counters that rate-limit it.
CREATE TABLE otps (
    phone_hash  BYTEA PRIMARY KEY,
    code_hash   BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    day_count   BIGINT NOT NULL
);

-- API keys for checkpoints and integrators; only the SHA-256 is stored.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    key_hash    BYTEA NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    region_code TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE units (
    id          TEXT PRIMARY KEY,
    uscc        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region_code TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);

CREATE TABLE venues (
    id          TEXT PRIMARY KEY,
    unit_id     TEXT REFERENCES units (id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    address     TEXT NOT NULL,
    region_code TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX venues_region ON venues (region_code);

-- Every token a venue has had; rotating keeps the old rows (revoked), so
-- check-ins made with any of them stay attached to the venue.
CREATE TABLE venue_tokens (
    token       TEXT PRIMARY KEY,
    venue_id    TEXT NOT NULL REFERENCES venues (id),
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX venue_tokens_venue ON venue_tokens (venue_id);

CREATE TABLE checkpoints (
    id          TEXT PRIMARY KEY,
    seq         BIGINT,
    name        TEXT NOT NULL,
    region_code TEXT NOT NULL,
    address     TEXT NOT NULL,
    built       BOOLEAN NOT NULL,
    enabled     BOOLEAN NOT NULL,
    api_key_id  TEXT REFERENCES api_keys (id),
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX checkpoints_region ON checkpoints (region_code);

-- Messages of the default SMS provider. The phone is sealed; to_hash filters.
CREATE TABLE sms_outbox (
    id          BIGINT PRIMARY KEY,
    to_hash     BYTEA NOT NULL,
    to_enc      BYTEA NOT NULL,
    region_code TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX sms_outbox_to ON sms_outbox (to_hash, id);

-- Append-only: each entry's hash covers its fields and the previous hash.
-- audit_head is the single row that serialises appends and remembers the tip,
-- so a deleted last entry is detected too.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    region_code TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_region ON audit_log (region_code, seq);
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Resident population per region, for the coverage task table.
CREATE TABLE populations (
    region_code      TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    population       BIGINT NOT NULL,
    published_target BIGINT,
    source           TEXT NOT NULL
);

-- Regions a deployment knows that GB/T 2260 lacks (Ningguo's 天湖街道).
CREATE TABLE local_regions (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT NOT NULL
);
