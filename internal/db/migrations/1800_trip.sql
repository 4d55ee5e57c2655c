-- Risk areas (风险地区) and the carrier's trip data (通信行程卡).
-- An area is a region, or a named place inside one (a compound, a
-- building); city_code is the city that contains it, which is what the
-- trip card stars. Withdrawn areas stay on record.
CREATE TABLE risk_areas (
    id           TEXT PRIMARY KEY,
    region_code  TEXT NOT NULL,
    city_code    TEXT NOT NULL,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL,
    from_at      BIGINT NOT NULL,
    until_at     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    withdrawn_at BIGINT,
    withdrawn_by TEXT
);
CREATE INDEX risk_areas_city ON risk_areas (city_code, until_at);
CREATE INDEX risk_areas_until ON risk_areas (until_at);

-- One stay of a phone in a city as the carrier saw it. The phone is the
-- blind index of the number (the same key persons and accounts use), so the
-- trip card finds a login's stays without the number being stored.
CREATE TABLE trip_stays (
    phone_hash  BYTEA NOT NULL,
    city_code   TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    source      TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX trip_stays_phone ON trip_stays (phone_hash, last_seen);
CREATE INDEX trip_stays_city ON trip_stays (city_code, last_seen);
CREATE INDEX trip_stays_last ON trip_stays (last_seen);
