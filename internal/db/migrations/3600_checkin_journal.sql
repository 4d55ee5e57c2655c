-- How far the check-in journal has been moved into checkins and
-- verifications: the file (generation) and the offset after the last frame
-- whose rows are in the tables, written in the same transaction as those
-- rows. One row. A single SQLite node answers check-ins and scans once
-- they are appended to its journal; after a crash the frames beyond this
-- position are moved before serving. Unused on PostgreSQL, where the nodes
-- commit to the tables directly.
CREATE TABLE checkin_journal (
    id  INTEGER PRIMARY KEY,
    gen BIGINT NOT NULL,
    off BIGINT NOT NULL
);
