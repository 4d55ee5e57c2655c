-- The purges of one-time codes and sessions read only the rows they delete:
-- one-time codes of earlier days (a row per phone that asked, kept for the
-- day's send count), sessions by when they began (the retention cutoff;
-- sessions_expiry serves the purge of expired ones). Without these both
-- purges scanned the whole table, which a registration surge fills with a row
-- per phone and a session per login, and on SQLite held the one writer
-- meanwhile.
CREATE INDEX otps_day ON otps (day);
CREATE INDEX sessions_created ON sessions (created_at);
