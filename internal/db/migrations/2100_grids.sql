-- Grids (网格) below the town: a community (社区/村, the town's code and 3
-- digits) and its grids (3 more digits), about 50 households each. A grid's
-- code starts with its town's, so an operator scoped to the town (a code
-- prefix) sees its grids and a grid worker scoped to a grid sees only it.
CREATE TABLE grids (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    community_code TEXT NOT NULL,
    community_name TEXT NOT NULL,
    town_code      TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX grids_community ON grids (community_code);

-- A household is the unit a grid worker visits: the key the population
-- list gives it (a door plate number), unique within its grid.
CREATE TABLE households (
    id         TEXT PRIMARY KEY,  -- grid code, '/', the list's household key
    grid_code  TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX households_grid ON households (grid_code);

-- The imported (registered) population: each person in one household of
-- one grid. Registering through the app does not put anyone here; the
-- population list does, so coverage counts people who never registered.
CREATE TABLE grid_members (
    person_num   BIGINT PRIMARY KEY,
    grid_code    TEXT NOT NULL,
    household_id TEXT NOT NULL,
    imported_at  BIGINT NOT NULL
);
CREATE INDEX grid_members_grid ON grid_members (grid_code, person_num);

-- An import of a list (residents, cases, contacts, arrivals): its progress
-- while it runs and its per-line report (the first errors, JSON) after.
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,    -- police, health, transport, telecom, census
    region_code TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    encoding    TEXT NOT NULL,
    status      TEXT NOT NULL,    -- running, done, failed
    lines       BIGINT NOT NULL,
    good        BIGINT NOT NULL,
    bad         BIGINT NOT NULL,
    created     BIGINT NOT NULL,  -- persons registered, facts recorded
    errors      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX imports_region ON imports (region_code, created_at);
