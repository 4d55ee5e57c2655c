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
