-- Verification events per checkpoint (a place number) and hour (its start,
-- unix ms), counted up to the hour held by the counter verification_hours:
-- the province dashboard adds the events since (the last hour or so) to
-- these instead of counting a day's events, 667,000 at 10M residents, at
-- every read. The verification write path (the group commit) does not
-- touch this table: a worker folds sealed hours in.
CREATE TABLE verification_hours (
    place BIGINT NOT NULL,
    hour  BIGINT NOT NULL,
    n     BIGINT NOT NULL,
    PRIMARY KEY (place, hour)
);
