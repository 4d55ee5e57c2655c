-- Facts: the append-only record of what is known about each person (see
-- docs/FACTS.md). Ids come from the "facts" counter.
CREATE TABLE facts (
    person_num  BIGINT NOT NULL,
    id          BIGINT NOT NULL PRIMARY KEY,
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    until_at    BIGINT,
    attrs       TEXT NOT NULL,
    source      TEXT NOT NULL,
    idem_key    TEXT,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX facts_person ON facts (person_num, id);
CREATE UNIQUE INDEX facts_key ON facts (person_num, idem_key);
