-- The status engine (docs/STATUS.md): facts, each person's decision, the
-- change log other nodes tail and the notification queue. Times are unix
-- milliseconds (UTC).

-- Facts: the append-only record of what is known about each person (see
-- docs/FACTS.md). Ids come from the "facts" counter. On SQLite the table is
-- clustered by person, so reading one person's facts (or a range of persons,
-- during a recompute) reads neighbouring pages instead of one page per fact.
CREATE TABLE facts (
    person_num  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    until_at    BIGINT,
    attrs       TEXT NOT NULL,
    source      TEXT NOT NULL,
    idem_key    TEXT,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (person_num, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX facts_id ON facts (id);
CREATE UNIQUE INDEX facts_key ON facts (person_num, idem_key);

-- Each person's facts packed in one value (see internal/status/pack.go), in
-- recording order, written in the same transaction as the facts themselves.
-- Evaluation reads one row per person instead of one per fact: a recompute
-- of everyone is dominated by reading facts. facts stays the record (the
-- timeline, appeals' evidence); packs can be rebuilt from it. On SQLite the
-- integer key is the rowid, so the table is stored in person order.
CREATE TABLE fact_packs (
    person_num INTEGER PRIMARY KEY,
    last_id    BIGINT NOT NULL,
    data       BLOB NOT NULL
);

-- On SQLite the integer keys below are rowids: range scans by person (a
-- recompute) and by seq (the tail) read the table in order, with no index
-- lookup per row.

-- One row per person whose decision was ever other than plain green (and on
-- PostgreSQL every person Record wrote facts for: it inserts the row to lock
-- it). A person without a row is green, with no rule. version is the seq of
-- the person's last change-log entry (0: never changed).
CREATE TABLE status (
    person_num    INTEGER PRIMARY KEY,
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
    seq           INTEGER PRIMARY KEY,
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
    seq         INTEGER PRIMARY KEY,
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
