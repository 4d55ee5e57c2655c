-- Employers (用人单位): the staff roster an employer imports, each line
-- linked to a person once the staff member is scanned with their staff
-- number or consents on their own page with the line's join code; and the
-- gate events of 凭码上岗: every scan at the gate of a staff member, admitted
-- (attendance) or refused with the reason (yellow, red, fever). The
-- employer sees a staff member's colour per day from these events, never
-- facts or reasons behind a colour. Times are unix milliseconds (UTC);
-- day is the local day (YYYY-MM-DD) of the event.
CREATE TABLE employer_staff (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    staff_no    TEXT NOT NULL,
    name        TEXT NOT NULL,
    department  TEXT NOT NULL,
    join_code   TEXT NOT NULL UNIQUE,
    person_num  BIGINT REFERENCES persons (num),
    linked_at   BIGINT,
    linked_how  TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, staff_no)
);
CREATE UNIQUE INDEX employer_staff_person ON employer_staff (org_id, person_num) WHERE person_num IS NOT NULL;
CREATE INDEX employer_staff_person_num ON employer_staff (person_num) WHERE person_num IS NOT NULL;

CREATE TABLE employer_gate (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES orgs (id),
    staff_id  TEXT NOT NULL REFERENCES employer_staff (id),
    day       TEXT NOT NULL,
    at        BIGINT NOT NULL,
    color     TEXT NOT NULL,
    admitted  BOOLEAN NOT NULL,
    reason    TEXT NOT NULL,
    by_actor  TEXT NOT NULL
);
CREATE INDEX employer_gate_day ON employer_gate (org_id, day);
CREATE INDEX employer_gate_staff ON employer_gate (staff_id, day);
CREATE INDEX employer_gate_at ON employer_gate (at);
