-- Presence: venue check-ins and verification events at checkpoints
-- (PostgreSQL). Both time-series tables are range-partitioned by day on at
-- (unix ms, UTC days); the service creates each day's partition ahead of
-- time and retention drops whole days. The default partition only catches
-- rows outside every day created so far (a skewed clock) so an insert never
-- fails; creating a day moves its rows out of it.
CREATE TABLE places (
    num        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,   -- 'venue' or 'checkpoint'
    ref        TEXT NOT NULL,   -- venues.id or checkpoints.id
    created_at BIGINT NOT NULL,
    UNIQUE (kind, ref)
);

CREATE TABLE checkins (
    place  BIGINT NOT NULL,
    at     BIGINT NOT NULL,
    person BIGINT NOT NULL
) PARTITION BY RANGE (at);
-- Both indexes cover the tracing queries (index-only scans); BRIN on at
-- keeps the purge's time slices cheap on an append-ordered table.
CREATE INDEX checkins_place ON checkins (place, at, person);
CREATE INDEX checkins_person ON checkins (person, at, place);
CREATE INDEX checkins_at ON checkins USING brin (at);
CREATE TABLE checkins_default PARTITION OF checkins DEFAULT;

CREATE TABLE verifications (
    at      BIGINT NOT NULL,
    place   BIGINT NOT NULL,
    person  BIGINT NOT NULL,
    key_id  TEXT NOT NULL,
    valid   BOOLEAN NOT NULL,
    reason  TEXT NOT NULL,
    color   BIGINT NOT NULL,
    kind    TEXT NOT NULL
) PARTITION BY RANGE (at);
CREATE INDEX verifications_place ON verifications (place, at, person);
CREATE INDEX verifications_person ON verifications (person, at, place);
CREATE INDEX verifications_at ON verifications USING brin (at);
CREATE TABLE verifications_default PARTITION OF verifications DEFAULT;
