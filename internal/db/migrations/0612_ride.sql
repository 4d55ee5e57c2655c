-- Handles residents share with ride-hailing platforms and taxi companies,
-- so that a platform can check a driver's or passenger's colour (and
-- nothing else) by the handle. A handle is random and made for one
-- platform: it tells nothing about the person, and one platform's handle
-- is unknown to every other. One handle per person and platform is in use
-- (withdrawn_at NULL); a withdrawn one stays, withdrawn, so it never
-- answers again. Times are unix milliseconds (UTC).
CREATE TABLE ride_handles (
    handle       TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    person_num   BIGINT NOT NULL REFERENCES persons (num),
    granted_at   BIGINT NOT NULL,
    granted_by   TEXT NOT NULL,
    withdrawn_at BIGINT
);
CREATE UNIQUE INDEX ride_handles_in_use ON ride_handles (person_num, org_id) WHERE withdrawn_at IS NULL;
