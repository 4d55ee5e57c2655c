-- Cold-chain traceability (冷链食品追溯). A batch of imported frozen food
-- is registered by its importer and carries a batch code printed on the
-- goods; cc_stock is what each holder holds of it (received, passed on,
-- sold), cc_moves its chain (the import, transfers between holders, sales),
-- cc_handlings the workers whose health code a holder scanned with the
-- batch code (masked name only; person_num links to the person).
-- Inspections are nucleic-acid samples of goods or packaging and
-- disinfections; a positive one opens tasks for the holders (seal,
-- disinfect) and records cold_chain.exposure for every handler found
-- (cc_exposures, facts_recorded once the status engine has them).
-- Times are unix milliseconds (UTC).
CREATE TABLE cc_batches (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    importer_id    TEXT NOT NULL REFERENCES orgs (id),
    region         TEXT NOT NULL,
    product        TEXT NOT NULL,
    origin_country TEXT NOT NULL,
    port           TEXT NOT NULL,
    declaration    TEXT NOT NULL,
    quantity       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    positive_at    BIGINT
);
CREATE INDEX cc_batches_region ON cc_batches (region, created_at);

CREATE TABLE cc_stock (
    batch_id    TEXT NOT NULL REFERENCES cc_batches (id),
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    org_region  TEXT NOT NULL,
    received    BIGINT NOT NULL,
    held        BIGINT NOT NULL,
    sold        BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (batch_id, org_id)
);
CREATE INDEX cc_stock_org ON cc_stock (org_id, received_at);
CREATE INDEX cc_stock_region ON cc_stock (org_region);

CREATE TABLE cc_moves (
    id        TEXT PRIMARY KEY,
    batch_id  TEXT NOT NULL REFERENCES cc_batches (id),
    kind      TEXT NOT NULL,
    from_org  TEXT,
    to_org    TEXT,
    quantity  BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    by_actor  TEXT NOT NULL
);
CREATE INDEX cc_moves_batch ON cc_moves (batch_id, at);

CREATE TABLE cc_handlings (
    id          TEXT PRIMARY KEY,
    batch_id    TEXT NOT NULL REFERENCES cc_batches (id),
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    masked_name TEXT NOT NULL,
    at          BIGINT NOT NULL,
    by_actor    TEXT NOT NULL
);
CREATE INDEX cc_handlings_batch ON cc_handlings (batch_id, person_num, at);

CREATE TABLE cc_inspections (
    id             TEXT PRIMARY KEY,
    batch_id       TEXT NOT NULL REFERENCES cc_batches (id),
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    kind           TEXT NOT NULL,
    result         TEXT NOT NULL,
    certificate    TEXT NOT NULL,
    sampled_at     BIGINT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    recorded_by    TEXT NOT NULL,
    facts_recorded BOOLEAN NOT NULL
);
CREATE INDEX cc_inspections_batch ON cc_inspections (batch_id, sampled_at);
CREATE INDEX cc_inspections_pending ON cc_inspections (recorded_at) WHERE facts_recorded = FALSE;

CREATE TABLE cc_exposures (
    inspection_id TEXT NOT NULL REFERENCES cc_inspections (id),
    person_num    BIGINT NOT NULL REFERENCES persons (num),
    org_id        TEXT NOT NULL,
    masked_name   TEXT NOT NULL,
    handled_at    BIGINT NOT NULL,
    PRIMARY KEY (inspection_id, person_num)
);

CREATE TABLE cc_tasks (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL REFERENCES cc_inspections (id),
    batch_id      TEXT NOT NULL REFERENCES cc_batches (id),
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    kind          TEXT NOT NULL,
    quantity      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    done_at       BIGINT,
    done_by       TEXT
);
CREATE INDEX cc_tasks_org ON cc_tasks (org_id, done_at);
CREATE INDEX cc_tasks_inspection ON cc_tasks (inspection_id);
