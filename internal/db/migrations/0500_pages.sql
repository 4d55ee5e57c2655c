-- Pages: how many codes the resident pages showed, per hour and region of
-- the holder, for the dashboard. Each node counts in memory and adds its
-- counts here every few seconds. hour is the unix ms of the hour's start.
CREATE TABLE code_shows (
    hour        BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    shows       BIGINT NOT NULL,
    PRIMARY KEY (hour, region_code)
);
