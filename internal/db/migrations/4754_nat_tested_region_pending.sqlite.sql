-- A region's tested residents ordered by their pending sample, so that
-- SQLite counts a province's residents awaiting a result a region code at a
-- time, seeking to each code's window of pending samples, rather than reading
-- every tested resident of the province (1M index entries at 10M residents)
-- or sorting the window's pending by region. The counts that read a range of
-- codes read the same entries in either order. PostgreSQL, which hashes the
-- groups of the window's range of times, keeps the order of migration 3800.
DROP INDEX nat_tested_region;
CREATE INDEX nat_tested_region ON nat_tested (region_code, last_pending, last_negative);
