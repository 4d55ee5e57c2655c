-- Venue entry policies: a venue, or every venue of a kind, may refuse
-- yellow, red, starred (trip card) or untested people. A venue's own policy
-- wins over its kind's.
CREATE TABLE venue_policies (
    scope          TEXT NOT NULL,   -- 'venue' or 'kind'
    ref            TEXT NOT NULL,   -- venues.id or a venue kind
    refuse_yellow  BOOLEAN NOT NULL,
    refuse_red     BOOLEAN NOT NULL,
    refuse_starred BOOLEAN NOT NULL,
    test_hours     BIGINT NOT NULL, -- 0: no test required
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL,
    PRIMARY KEY (scope, ref)
);

-- Refused entries per place, hour and reason: counts, never who.
CREATE TABLE venue_refusals (
    place  BIGINT NOT NULL,
    hour   BIGINT NOT NULL,
    reason TEXT NOT NULL,
    count  BIGINT NOT NULL,
    PRIMARY KEY (place, hour, reason)
);
