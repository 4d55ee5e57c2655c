-- nat_negative_hours as a table without rowid: its primary key (region_code,
-- hour) holds the counts, so that a province's count, summing a code at a
-- time the window's hours of each region, reads each hour's count where it
-- finds the hour, not by a lookup of its rowid in the table.
CREATE TABLE nat_negative_hours_new (
    region_code TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (region_code, hour)
) WITHOUT ROWID;
INSERT INTO nat_negative_hours_new (region_code, hour, n) SELECT region_code, hour, n FROM nat_negative_hours;
DROP TABLE nat_negative_hours;
ALTER TABLE nat_negative_hours_new RENAME TO nat_negative_hours;
CREATE INDEX nat_negative_hours_hour ON nat_negative_hours (hour, region_code, n);
