-- Each tested resident's latest sampling times, kept by the testing service
-- in the transactions that add samples and report or correct results, so the
-- untested residents (应检未检) of a region are counted from one index entry
-- per resident tested in the window and a page of them is checked by primary
-- key, rather than from the window's samples, each looked up in its tube and
-- its person. last_negative: the latest sample whose tube is negative;
-- last_pending: the latest whose tube awaits its result. region_code is the
-- person's, which a person keeps for life. A resident with neither has no row.
CREATE TABLE nat_tested (
    person_num    BIGINT PRIMARY KEY REFERENCES persons (num),
    region_code   TEXT NOT NULL,
    last_negative BIGINT,
    last_pending  BIGINT
);
-- A province's counts read the window's range of the times; a town's, its
-- range of region codes. Both carry what the counts need, so no table row is
-- read; the purge deletes by the times.
CREATE INDEX nat_tested_negative ON nat_tested (last_negative, region_code);
CREATE INDEX nat_tested_pending ON nat_tested (last_pending, region_code, last_negative);
CREATE INDEX nat_tested_region ON nat_tested (region_code, last_negative, last_pending);

INSERT INTO nat_tested (person_num, region_code, last_negative, last_pending)
SELECT s.person_num, p.region_code,
    MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END),
    MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END)
FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode JOIN persons p ON p.num = s.person_num
GROUP BY s.person_num, p.region_code
HAVING MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END) IS NOT NULL
    OR MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END) IS NOT NULL;
