-- Schools (学校): classes, their pupils (each a person, a dependent of a
-- parent, enrolled by the parent with the class's join code or by the
-- school after scanning the pupil's code), the morning and noon checks
-- (晨午检: temperature and symptoms, reported by a parent from their phone
-- or taken at the gate or in class; one per pupil, day and check, the last
-- report wins), and the entries at the gate (有码认码、有单认单: a health
-- code, a printed care code or a test certificate, admitted or refused
-- with the reason). Times are unix milliseconds (UTC); day is the local
-- day (YYYY-MM-DD); temperature is in tenths of a degree.
CREATE TABLE school_classes (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    join_code  TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE school_pupils (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    class_id    TEXT NOT NULL REFERENCES school_classes (id),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    masked_name TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    enrolled_by TEXT NOT NULL,
    UNIQUE (org_id, person_num)
);
CREATE INDEX school_pupils_class ON school_pupils (class_id);
CREATE INDEX school_pupils_person ON school_pupils (person_num);

CREATE TABLE school_checks (
    pupil_id    TEXT NOT NULL REFERENCES school_pupils (id),
    day         TEXT NOT NULL,
    slot        TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    class_id    TEXT NOT NULL,
    temperature BIGINT NOT NULL,
    symptoms    TEXT NOT NULL,
    source      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    by_actor    TEXT NOT NULL,
    PRIMARY KEY (pupil_id, day, slot)
);
CREATE INDEX school_checks_day ON school_checks (org_id, day, slot);
CREATE INDEX school_checks_at ON school_checks (at);

CREATE TABLE school_entries (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES orgs (id),
    pupil_id  TEXT NOT NULL REFERENCES school_pupils (id),
    day       TEXT NOT NULL,
    at        BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    admitted  BOOLEAN NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX school_entries_day ON school_entries (org_id, day);
CREATE INDEX school_entries_at ON school_entries (at);
