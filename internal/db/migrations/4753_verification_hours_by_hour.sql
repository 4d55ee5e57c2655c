-- The kept verification hours of many checkpoints (a province's dashboard:
-- 2,000 checkpoints at 10M residents) read by the hours' range, every
-- checkpoint's hour beside the others': by checkpoint, each read 24 rows
-- spread over 24 pages, as the fold writes an hour of every checkpoint at
-- once (85 ms for 2,000 on PostgreSQL against 6 ms this way). n is in the
-- key so that the read never visits the table.
CREATE INDEX verification_hours_hour ON verification_hours (hour, place, n);
