-- Presence: venue check-ins and verification events at checkpoints (SQLite).
-- A place is a venue or a checkpoint under a dense number, so the two
-- time-series tables store three integers per check-in instead of text ids.
-- Rotating a venue's token changes nothing here: rows name the venue.
CREATE TABLE places (
    num        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,   -- 'venue' or 'checkpoint'
    ref        TEXT NOT NULL,   -- venues.id or checkpoints.id
    created_at BIGINT NOT NULL,
    UNIQUE (kind, ref)
);

-- Clustered on (place, at): the tracing scan "who was at this place around
-- this time" and the hourly counts read one contiguous key range. The person
-- index carries the place (the primary key's columns), so walking a case's
-- history never touches the table. The at index serves the batched purge.
CREATE TABLE checkins (
    place  BIGINT NOT NULL,
    at     BIGINT NOT NULL,
    person BIGINT NOT NULL,
    PRIMARY KEY (place, at, person)
) WITHOUT ROWID;
CREATE INDEX checkins_person ON checkins (person, at);
CREATE INDEX checkins_at ON checkins (at);

-- One row per scan at a checkpoint (or ID-number lookup). place is 0 for an
-- integrator key without a checkpoint; person is 0 when the code could not
-- be attributed. color is rules.Color (0 when not valid).
CREATE TABLE verifications (
    at      BIGINT NOT NULL,
    place   BIGINT NOT NULL,
    person  BIGINT NOT NULL,
    key_id  TEXT NOT NULL,
    valid   BOOLEAN NOT NULL,
    reason  TEXT NOT NULL,
    color   BIGINT NOT NULL,
    kind    TEXT NOT NULL
);
CREATE INDEX verifications_place ON verifications (place, at, person);
CREATE INDEX verifications_person ON verifications (person, at, place);
CREATE INDEX verifications_at ON verifications (at);
