-- Fever-clinic visits (发热门诊) registered through the gateway after a
-- scan, and their follow-up until closed. The patient's name is kept
-- masked only (what the clinic saw); person_num links to the person, whose
-- fact clinic.fever is recorded by the status engine (fact_recorded turns
-- true once it is). A visit closed with a test result records a nat.result
-- too (test_recorded, likewise); a worker records facts left behind.
-- Times are unix milliseconds (UTC); temperature is in tenths of a degree.
CREATE TABLE clinic_visits (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    org_region    TEXT NOT NULL,
    person_num    BIGINT NOT NULL REFERENCES persons (num),
    person_region TEXT NOT NULL,
    masked_name   TEXT NOT NULL,
    at            BIGINT NOT NULL,
    temperature   BIGINT NOT NULL,
    symptoms      TEXT NOT NULL,
    diagnosis     TEXT NOT NULL,
    doctor        TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    fact_recorded BOOLEAN NOT NULL,
    closed_at     BIGINT,
    outcome       TEXT,
    sampled_at    BIGINT,
    close_note    TEXT,
    closed_by     TEXT,
    test_recorded BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX clinic_visits_org ON clinic_visits (org_id, at);
CREATE INDEX clinic_visits_org_closed ON clinic_visits (org_id, closed_at);
CREATE INDEX clinic_visits_region ON clinic_visits (org_region, at);
CREATE INDEX clinic_visits_pending ON clinic_visits (at) WHERE fact_recorded = FALSE OR test_recorded = FALSE;
