-- Nucleic-acid testing: sampling sites (open data), tubes and the samples
-- bound to them, hand-overs to labs, lab results with their corrections,
-- follow-up tasks (single-tube retest, resample) and alerts of positives.
-- Times are unix milliseconds (UTC). No personal data is stored here: a
-- sample names a person by number only.

-- Sampling sites are public: name, address, phone and hours are published as
-- open data, so they are not sealed. Coordinates are WGS 84 (RFC 7946).
CREATE TABLE nat_sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    phone       TEXT NOT NULL,
    hours       TEXT NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    lng         DOUBLE PRECISION NOT NULL,
    region_code TEXT NOT NULL,
    open        BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- A re-imported list updates the site of the same name in the same region.
CREATE UNIQUE INDEX nat_sites_region_name ON nat_sites (region_code, name);

CREATE TABLE nat_transfers (
    id          TEXT PRIMARY KEY,
    lab         TEXT NOT NULL,
    region_code TEXT NOT NULL,
    tubes       BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);

-- A tube is opened at a site, filled up to its capacity, sealed, handed to a
-- lab and given a result. region_code is the site's: it scopes who may touch
-- the tube. result is the lab's word for the tube (negative, positive,
-- invalid); result_version counts reports (1 the first, 2.. corrections).
CREATE TABLE nat_tubes (
    barcode        TEXT PRIMARY KEY,
    capacity       BIGINT NOT NULL,
    site_id        TEXT NOT NULL REFERENCES nat_sites (id),
    region_code    TEXT NOT NULL,
    samples        BIGINT NOT NULL,
    opened_at      BIGINT NOT NULL,
    opened_by      TEXT NOT NULL,
    sealed_at      BIGINT,
    sealed_by      TEXT,
    transfer_id    TEXT REFERENCES nat_transfers (id),
    result         TEXT,
    result_version BIGINT NOT NULL,
    result_at      BIGINT
);
CREATE INDEX nat_tubes_site ON nat_tubes (site_id, opened_at);
CREATE INDEX nat_tubes_transfer ON nat_tubes (transfer_id);

-- One swab of one person in one tube; id is what the resident sees.
CREATE TABLE nat_samples (
    id          TEXT PRIMARY KEY,
    barcode     TEXT NOT NULL REFERENCES nat_tubes (barcode),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    position    BIGINT NOT NULL,
    sampled_at  BIGINT NOT NULL,
    method      TEXT NOT NULL,
    bound_by    TEXT NOT NULL,
    UNIQUE (barcode, person_num)
);
CREATE INDEX nat_samples_person ON nat_samples (person_num, sampled_at);

-- Every result report of a tube, corrections included. facts_recorded is
-- false between the commit of a report and the status engine's receipt of
-- its facts; a worker retries the ones left behind.
CREATE TABLE nat_results (
    barcode        TEXT NOT NULL REFERENCES nat_tubes (barcode),
    version        BIGINT NOT NULL,
    result         TEXT NOT NULL,
    lab            TEXT NOT NULL,
    source         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    reported_at    BIGINT NOT NULL,
    reported_by    TEXT NOT NULL,
    facts_recorded BOOLEAN NOT NULL,
    PRIMARY KEY (barcode, version)
);
CREATE INDEX nat_results_pending ON nat_results (reported_at) WHERE facts_recorded = FALSE;

CREATE TABLE nat_uploads (
    id          TEXT PRIMARY KEY,
    lab         TEXT NOT NULL,
    lines       BIGINT NOT NULL,
    accepted    BIGINT NOT NULL,
    refused     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);

-- Follow-up of a person: a single-tube retest after a positive mixed tube,
-- a resample after an invalid one. Closed by the person's next sample (a
-- single tube for a retest) or when a correction withdraws the result.
-- region_code is the person's, for the grid workers' scoped lists.
CREATE TABLE nat_tasks (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    person_num     BIGINT NOT NULL REFERENCES persons (num),
    region_code    TEXT NOT NULL,
    barcode        TEXT NOT NULL,
    result_version BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    closed_at      BIGINT,
    closed_reason  TEXT,
    closed_sample  TEXT
);
CREATE INDEX nat_tasks_person ON nat_tasks (person_num) WHERE closed_at IS NULL;
CREATE INDEX nat_tasks_region ON nat_tasks (region_code, created_at);
CREATE INDEX nat_tasks_tube ON nat_tasks (barcode);

-- A single-tube positive, for the health officers of the person's region.
CREATE TABLE nat_alerts (
    id             TEXT PRIMARY KEY,
    person_num     BIGINT NOT NULL REFERENCES persons (num),
    region_code    TEXT NOT NULL,
    barcode        TEXT NOT NULL,
    result_version BIGINT NOT NULL,
    site_id        TEXT NOT NULL,
    sampled_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    acked_at       BIGINT,
    acked_by       TEXT,
    retracted_at   BIGINT
);
CREATE INDEX nat_alerts_region ON nat_alerts (region_code, created_at);
CREATE INDEX nat_alerts_tube ON nat_alerts (barcode);
