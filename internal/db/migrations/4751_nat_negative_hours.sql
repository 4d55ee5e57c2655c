-- The tested residents per region and hour of their latest negative sample
-- (nat_tested.last_negative): n rows of nat_tested have their last_negative
-- in the hour that starts at hour (unix ms, a multiple of 3,600,000). A
-- province's count of the residents tested negative in a window reads the
-- window's whole hours here, a row per region and hour, and only the rows
-- of nat_tested in the partial hours at its edges: at 10M residents with 1M
-- tested in 48 h, 1M index entries became some tens of thousands. Kept by the
-- testing service in the transactions that change last_negative (the
-- recount of a resident's times, the retention purge); a region and hour
-- with none has no row.
CREATE TABLE nat_negative_hours (
    region_code TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (region_code, hour)
);
-- The window's hours, with what the count sums, so no table row is read;
-- the purge deletes by the hours.
CREATE INDEX nat_negative_hours_hour ON nat_negative_hours (hour, region_code, n);

INSERT INTO nat_negative_hours (region_code, hour, n)
SELECT region_code, last_negative / 3600000 * 3600000, COUNT(*)
FROM nat_tested WHERE last_negative IS NOT NULL
GROUP BY region_code, last_negative / 3600000 * 3600000;
