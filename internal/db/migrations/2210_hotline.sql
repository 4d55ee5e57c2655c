-- The 12345 hotline's tickets about health codes: routed to the person's
-- region (or the caller's, when they cannot register), with a deadline,
-- linked to the person's appeal or to a correction of their record (the
-- fields and the values before and after, masked; the record itself is
-- corrected in persons, sealed). Times are unix milliseconds (UTC).
CREATE TABLE hotline_tickets (
    id             TEXT PRIMARY KEY,
    category       TEXT NOT NULL,
    person_num     BIGINT REFERENCES persons (num),
    masked_name    TEXT NOT NULL,
    region_code    TEXT NOT NULL,
    summary        TEXT NOT NULL,
    state          TEXT NOT NULL,
    opened_at      BIGINT NOT NULL,
    deadline_at    BIGINT NOT NULL,
    opened_by      TEXT NOT NULL,
    appeal_id      TEXT,
    corrected_at   BIGINT,
    corrected_by   TEXT,
    correction     TEXT,
    closed_at      BIGINT,
    closed_by      TEXT,
    resolution     TEXT
);
CREATE INDEX hotline_tickets_region ON hotline_tickets (region_code, state, deadline_at);
CREATE INDEX hotline_tickets_person ON hotline_tickets (person_num);
