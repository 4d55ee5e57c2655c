-- Tracing runs and their reports (the follow-up tasks they create are in 0302).

-- A run is queued by an operator and executed by whichever node claims it;
-- lease_until lets another node take over a run whose node died.
CREATE TABLE tracing_runs (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL,    -- the scope of the operator who started it
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    params      TEXT NOT NULL,    -- JSON: cases or venue window, lookback, windows
    status      TEXT NOT NULL,    -- queued, running, done, failed
    total       BIGINT NOT NULL,  -- cases (or venue windows) to walk
    done        BIGINT NOT NULL,
    companions  BIGINT NOT NULL,
    facts       BIGINT NOT NULL,  -- contact.companion facts newly recorded
    tasks       BIGINT NOT NULL,  -- follow-up tasks newly opened
    error       TEXT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    lease_until BIGINT,
    node        TEXT
);
CREATE INDEX tracing_runs_status ON tracing_runs (status, created_at);
CREATE INDEX tracing_runs_region ON tracing_runs (region_code, created_at);

-- The report: one line per (companion, case) with the latest encounter,
-- stored in chunks of consecutive lines (first_seq .. first_seq+lines-1),
-- each encoded as in internal/tracing/report.go. A report is only ever read
-- in order, a page at a time, and a run can find hundreds of thousands of
-- companions: a row per chunk rather than per line makes saving it cheap.
CREATE TABLE tracing_reports (
    run_id    TEXT NOT NULL REFERENCES tracing_runs (id),
    first_seq BIGINT NOT NULL,
    lines     BIGINT NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (run_id, first_seq)
);
