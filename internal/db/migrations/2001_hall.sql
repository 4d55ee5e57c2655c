-- Service halls (政务服务大厅): the hall's policy for yellow codes, queue
-- tickets taken by showing the code, and sign-ins at hall terminals.
-- Times are unix milliseconds (UTC); day is yyyymmdd in the deployment's
-- zone.

-- yellow: window (served at the designated window) or refuse.
CREATE TABLE hall_policies (
    org_id      TEXT PRIMARY KEY REFERENCES orgs (id),
    yellow      TEXT NOT NULL,
    window_name TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);

-- The last number given per hall, day and line (a service, or the
-- designated window).
CREATE TABLE hall_counters (
    org_id TEXT NOT NULL,
    day    BIGINT NOT NULL,
    line   TEXT NOT NULL,
    last   BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, line)
);

-- Queue tickets. person_num is NULL for another region's resident served
-- through the federation (issuer names their region). state: waiting,
-- done. rating 1-5, once, by the resident after the service.
CREATE TABLE hall_tickets (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    day         BIGINT NOT NULL,
    service     TEXT NOT NULL,
    line        TEXT NOT NULL,
    number      BIGINT NOT NULL,
    person_num  BIGINT REFERENCES persons (num),
    issuer      TEXT NOT NULL,
    masked_name TEXT NOT NULL,
    color       TEXT NOT NULL,
    routed      BOOLEAN NOT NULL,
    booked      BOOLEAN NOT NULL,
    state       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    done_at     BIGINT,
    rating      BIGINT,
    comment     TEXT,
    rated_at    BIGINT,
    recorded_by TEXT NOT NULL,
    CHECK (rating IS NULL OR rating BETWEEN 1 AND 5)
);
CREATE INDEX hall_tickets_org ON hall_tickets (org_id, day, at);
CREATE INDEX hall_tickets_person ON hall_tickets (person_num, at);
CREATE INDEX hall_tickets_at ON hall_tickets (at);

-- Sign-ins at a terminal: the terminal asks, the resident consents on
-- their phone, the terminal receives the identity once (the hand-off is
-- audited as a person read). state: pending, consented, declined,
-- delivered.
CREATE TABLE hall_logins (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    terminal     TEXT NOT NULL,
    state        TEXT NOT NULL,
    person_num   BIGINT REFERENCES persons (num),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    decided_at   BIGINT,
    delivered_at BIGINT
);
CREATE INDEX hall_logins_created ON hall_logins (created_at);
