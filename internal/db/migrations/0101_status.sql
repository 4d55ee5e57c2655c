-- The status engine (docs/STATUS.md): rule-set versions, each person's
-- current decision, the change log other nodes tail, the notification queue,
-- recompute jobs and appeals. Times are unix milliseconds (UTC).

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

-- One row per person who has ever had a fact or a decision other than plain
-- green. A person without a row is green, with no rule. version is the seq of
-- the person's last change-log entry (0: never changed).
CREATE TABLE status (
    person_num    BIGINT PRIMARY KEY,
    region_code   TEXT NOT NULL,
    color         BIGINT NOT NULL,
    rule_id       TEXT NOT NULL,
    reason_zh     TEXT NOT NULL,
    reason_en     TEXT NOT NULL,
    advice_zh     TEXT NOT NULL,
    advice_en     TEXT NOT NULL,
    next_eval_at  BIGINT,
    version       BIGINT NOT NULL,
    rules_version BIGINT NOT NULL,
    evaluated_at  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX status_due ON status (next_eval_at) WHERE next_eval_at IS NOT NULL;
CREATE INDEX status_region ON status (region_code, color);

-- Every change of colour or deciding rule. seq comes from the
-- "status_changes" counter, whose row stays locked until the writing
-- transaction ends, so seqs become visible in order and without gaps.
CREATE TABLE status_changes (
    seq           BIGINT PRIMARY KEY,
    person_num    BIGINT NOT NULL,
    region_code   TEXT NOT NULL,
    old_color     BIGINT NOT NULL,
    new_color     BIGINT NOT NULL,
    old_rule      TEXT NOT NULL,
    rule_id       TEXT NOT NULL,
    reason_zh     TEXT NOT NULL,
    reason_en     TEXT NOT NULL,
    rules_version BIGINT NOT NULL,
    cause         TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX status_changes_person ON status_changes (person_num, seq);

-- Colour-change SMS, queued in the transaction of the change. delivered
-- lists keyed hashes of the phones already sent to, so a retry after a
-- partial failure does not text anyone twice.
CREATE TABLE notifications (
    seq         BIGINT PRIMARY KEY,
    person_num  BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    old_color   BIGINT NOT NULL,
    new_color   BIGINT NOT NULL,
    reason_zh   TEXT NOT NULL,
    advice_zh   TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    next_at     BIGINT NOT NULL,
    delivered   TEXT NOT NULL,
    last_error  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE state = 'pending';

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
