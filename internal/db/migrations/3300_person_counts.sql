-- Registered persons per residential region, counted up to the person number
-- held by the counter person_counts: the coverage table and the dashboards
-- add the persons registered since (a range of the primary key) instead of
-- counting millions of rows at every read. A person keeps their region for
-- life and goes only with the wind-down (which empties this table too), so a
-- count once folded stays right.
CREATE TABLE person_counts (
    region_code TEXT PRIMARY KEY,
    n           BIGINT NOT NULL
);
