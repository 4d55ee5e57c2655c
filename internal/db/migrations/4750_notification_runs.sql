-- A long run of colour changes with the same texts, consecutive in the
-- change log (a risk area published over a city: a million of them), is
-- queued as one row rather than a notification each: writing a
-- notification per person cost publishing a tenth of its time, and the
-- texts cannot go out faster than the SMS gateway takes them anyway. The
-- sender turns a run into notifications a slice at a time from next_seq,
-- copying them from the change log, and deletes it when it reaches
-- last_seq.
CREATE TABLE notification_runs (
    first_seq  BIGINT PRIMARY KEY,
    last_seq   BIGINT NOT NULL,
    next_seq   BIGINT NOT NULL,
    reason_zh  TEXT NOT NULL,
    advice_zh  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
