-- (SQLite: INTEGER PRIMARY KEY is the rowid itself.)
-- Follow-up tasks for the grid worker of a person's residential region.
-- A person has at most one unvisited task of a kind, however many runs or
-- cases find them. A run opens up to hundreds of thousands at once, so the
-- id is the row's own key (numbered by the tasks counter in creation order)
-- rather than a random text id with an index of its own.
CREATE TABLE followup_tasks (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,    -- 'companion'
    person_num  BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    case_num    BIGINT NOT NULL,
    exposure_at BIGINT NOT NULL,
    status      TEXT NOT NULL,    -- open, assigned, visited
    operator_id TEXT,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    assigned_at BIGINT,
    assigned_by TEXT,
    visited_at  BIGINT,
    visited_by  TEXT
);
CREATE UNIQUE INDEX followup_tasks_open ON followup_tasks (person_num, kind) WHERE status <> 'visited';
CREATE INDEX followup_tasks_region ON followup_tasks (region_code, id);
