-- The gateway: organisations (hospitals, pharmacies, platforms ...), the
-- limits and daily use of their API keys, their unit accounts, and the
-- pharmacy scenario (drug classes the authority edits, purchases).
-- Times are unix milliseconds (UTC).

-- num is dense: subject references carry it instead of the 20-character id.
-- One legal entity (uscc) may be registered once per kind (a hospital and
-- its fever clinic share a code).
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    num         BIGINT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    uscc        TEXT NOT NULL,
    region_code TEXT NOT NULL,
    address     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    UNIQUE (uscc, kind)
);
CREATE INDEX orgs_region ON orgs (region_code);

-- An organisation's keys are API keys of kind 'org' with the organisation
-- on them; 0 means no limit. rotated_at is the last time the secret changed.
ALTER TABLE api_keys ADD COLUMN org_id TEXT REFERENCES orgs (id);
ALTER TABLE api_keys ADD COLUMN daily_quota BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN rate_per_minute BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN rotated_at BIGINT;
CREATE INDEX api_keys_org ON api_keys (org_id);

-- Requests per key and day (yyyymmdd in the deployment's zone). Each node
-- counts in memory and adds its counts here every few seconds.
CREATE TABLE api_key_usage (
    key_id TEXT NOT NULL,
    day    BIGINT NOT NULL,
    uses   BIGINT NOT NULL,
    PRIMARY KEY (key_id, day)
);

-- People of an organisation who sign in to its pages (单位账号). admin
-- accounts may also manage the organisation's keys. region_code is the
-- organisation's, so a session resolves without reading orgs.
CREATE TABLE unit_accounts (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    admin         BOOLEAN NOT NULL,
    region_code   TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX unit_accounts_org ON unit_accounts (org_id);

-- Watched drug classes (两抗一退 and cough medicine), edited by the
-- authority; a class is retired (active = FALSE), never deleted, so old
-- purchases keep their name.
CREATE TABLE drug_classes (
    code       TEXT PRIMARY KEY,
    name_zh    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    position   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
INSERT INTO drug_classes (code, name_zh, name_en, active, position, updated_at, updated_by) VALUES
    ('antipyretic', '退热药', 'antipyretics', TRUE, 1, 0, 'system'),
    ('antiviral', '抗病毒药', 'antivirals', TRUE, 2, 0, 'system'),
    ('antibiotic', '抗菌药（抗生素）', 'antibiotics', TRUE, 3, 0, 'system'),
    ('cough', '止咳药', 'cough medicine', TRUE, 4, 0, 'system');

-- A purchase of a watched drug registered by a pharmacy. The buyer's name
-- is kept masked only (what the pharmacy saw); person_num links to the
-- person, whose fact pharmacy.purchase is recorded by the status engine
-- (fact_recorded turns true once it is; a worker records those left behind).
CREATE TABLE pharmacy_purchases (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    org_region    TEXT NOT NULL,
    person_num    BIGINT NOT NULL REFERENCES persons (num),
    person_region TEXT NOT NULL,
    masked_name   TEXT NOT NULL,
    drug_class    TEXT NOT NULL REFERENCES drug_classes (code),
    items         TEXT NOT NULL,
    at            BIGINT NOT NULL,
    recorded_by   TEXT NOT NULL,
    fact_recorded BOOLEAN NOT NULL
);
CREATE INDEX pharmacy_purchases_org ON pharmacy_purchases (org_id, at);
CREATE INDEX pharmacy_purchases_region ON pharmacy_purchases (org_region, at);
CREATE INDEX pharmacy_purchases_pending ON pharmacy_purchases (at) WHERE fact_recorded = FALSE;
