-- Limits on one-time codes that must hold across nodes: fixed-window
-- counters. key names what is counted: 'addr:' and a keyed hash of a client
-- address (codes to any phones from it), 'minute' (all codes), 'day' (the
-- day's budget of login-code messages). The window ends at until_at (unix
-- milliseconds, UTC, aligned so that every node agrees); n is the codes
-- sent in it. A row past its window is reset by the next code or purged.
CREATE TABLE otp_counters (
    key       TEXT PRIMARY KEY,
    until_at  BIGINT NOT NULL,
    n         BIGINT NOT NULL
);
CREATE INDEX otp_counters_until ON otp_counters (until_at);
