-- The status engine's rule-set versions, recompute jobs and appeals (see
-- docs/STATUS.md). Times are unix milliseconds (UTC).

-- Rule sets are immutable once stored; rules_active is the single row that
-- names the active version (status writers read it FOR SHARE on PostgreSQL,
-- so an activation waits for evaluations under the old version to commit).
CREATE TABLE rule_sets (
    version     BIGINT PRIMARY KEY,
    body        TEXT NOT NULL,
    rules       BIGINT NOT NULL,
    examples    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE TABLE rules_active (
    id           BIGINT PRIMARY KEY,
    version      BIGINT NOT NULL REFERENCES rule_sets (version),
    activated_at BIGINT NOT NULL,
    activated_by TEXT NOT NULL
);
CREATE TABLE rule_activations (
    seq          BIGINT PRIMARY KEY,
    version      BIGINT NOT NULL REFERENCES rule_sets (version),
    activated_at BIGINT NOT NULL,
    activated_by TEXT NOT NULL,
    job_id       BIGINT
);

-- The background recompute after an activation. cursor_num is the next
-- person number to evaluate; a node owns the job while lease_until is ahead.
CREATE TABLE recompute_jobs (
    id            BIGINT PRIMARY KEY,
    rules_version BIGINT NOT NULL,
    state         TEXT NOT NULL,
    cursor_num    BIGINT NOT NULL,
    total         BIGINT NOT NULL,
    done          BIGINT NOT NULL,
    changed       BIGINT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    owner         TEXT NOT NULL,
    lease_until   BIGINT NOT NULL
);
CREATE INDEX recompute_jobs_state ON recompute_jobs (state);

CREATE TABLE appeals (
    id           TEXT PRIMARY KEY,
    person_num   BIGINT NOT NULL,
    region_code  TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    color        BIGINT NOT NULL,
    rule_id      TEXT NOT NULL,
    state        TEXT NOT NULL,
    auto         BOOLEAN NOT NULL,
    note         TEXT NOT NULL,
    until_at     BIGINT,
    decided_by   TEXT NOT NULL,
    decided_at   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX appeals_queue ON appeals (region_code, state, created_at);
CREATE INDEX appeals_person ON appeals (person_num, state);
CREATE INDEX appeals_account ON appeals (account_id, created_at);
