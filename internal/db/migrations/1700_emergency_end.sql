-- The end of the emergency (`healthcode wind-down`): one row once it has
-- ended. Issuing codes refuses from then on; the row outlives the personal
-- data, so every node and every restart knows. Times are unix ms (UTC).
CREATE TABLE emergency_end (
    id          BIGINT PRIMARY KEY,
    ended_at    BIGINT NOT NULL,
    ended_by    TEXT NOT NULL,
    region_code TEXT NOT NULL
);
