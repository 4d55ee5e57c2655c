-- The hospital scenario (三卡合一: the code as the patient's card, for
-- registration and the queue). Times are unix milliseconds (UTC); day is
-- yyyymmdd in the deployment's zone.

-- Identity hand-offs: a hospital received a scanned patient's name, ID
-- and phone. ref is the scan's subject reference: one hand-off per scan.
-- The personal data is not kept here; the audit log has the lookup.
CREATE TABLE hospital_handoffs (
    ref         TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    purpose     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX hospital_handoffs_org ON hospital_handoffs (org_id, at);

-- The last queue number given per hospital, day and department.
CREATE TABLE hospital_queue_counters (
    org_id     TEXT NOT NULL,
    day        BIGINT NOT NULL,
    department TEXT NOT NULL,
    last       BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, department)
);

-- Queue numbers, one per scan (ref). routed: the patient asked for
-- another department and was sent to the fever clinic (yellow code).
CREATE TABLE hospital_tickets (
    id          TEXT PRIMARY KEY,
    ref         TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    day         BIGINT NOT NULL,
    department  TEXT NOT NULL,
    asked       TEXT NOT NULL,
    number      BIGINT NOT NULL,
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    masked_name TEXT NOT NULL,
    color       TEXT NOT NULL,
    routed      BOOLEAN NOT NULL,
    at          BIGINT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX hospital_tickets_org ON hospital_tickets (org_id, day, at);
