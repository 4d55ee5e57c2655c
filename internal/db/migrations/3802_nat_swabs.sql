-- Swabs taken per day, per region of the tube (its site's) and per the
-- tube's current result ('' awaiting it), kept by the testing service in the
-- transactions that add samples, report or correct results and purge them,
-- so the dashboard's two weeks read a row per region, day and result rather
-- than every sample of the fortnight and its tube. day is the unix ms of the
-- local midnight that starts it (the deployment's time zone); a dashboard in
-- another zone counts from the samples.
CREATE TABLE nat_swabs (
    region_code TEXT NOT NULL,
    day         BIGINT NOT NULL,
    result      TEXT NOT NULL,
    swabs       BIGINT NOT NULL,
    PRIMARY KEY (region_code, day, result)
);
CREATE INDEX nat_swabs_day ON nat_swabs (day, region_code, result, swabs);

-- The samples so far, by the days of Asia/Shanghai (UTC+8 all year), the
-- zone the service keeps unless configured otherwise.
INSERT INTO nat_swabs (region_code, day, result, swabs)
SELECT t.region_code, ((s.sampled_at + 28800000) / 86400000) * 86400000 - 28800000, COALESCE(t.result, ''), COUNT(*)
FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
GROUP BY t.region_code, ((s.sampled_at + 28800000) / 86400000) * 86400000 - 28800000, COALESCE(t.result, '');
