-- Isolation (集中隔离/居家隔离): sites with rooms, stays (admission to
-- discharge or release), temperature readings twice a day, and transfers
-- of positives to a designated hospital or site with their trail. Times
-- are unix milliseconds (UTC); day is yyyymmdd in the deployment's zone.

CREATE TABLE iso_sites (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    region_code TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX iso_sites_region ON iso_sites (region_code);

-- occupied counts the open stays in the room: the conditional update that
-- raises it keeps a room within its capacity under concurrent admissions.
CREATE TABLE iso_rooms (
    id       TEXT PRIMARY KEY,
    site_id  TEXT NOT NULL REFERENCES iso_sites (id),
    number   TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    occupied BIGINT NOT NULL,
    UNIQUE (site_id, number)
);

-- A stay is open until ended_at; one open stay per person.
CREATE TABLE iso_stays (
    id          TEXT PRIMARY KEY,
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    masked_name TEXT NOT NULL,
    site_id     TEXT NOT NULL REFERENCES iso_sites (id),
    room_id     TEXT REFERENCES iso_rooms (id),
    region_code TEXT NOT NULL,
    reason      TEXT NOT NULL,
    method      TEXT NOT NULL,
    admitted_at BIGINT NOT NULL,
    until_at    BIGINT NOT NULL,
    admitted_by TEXT NOT NULL,
    ended_at    BIGINT,
    end_kind    TEXT,
    end_note    TEXT,
    ended_by    TEXT
);
CREATE UNIQUE INDEX iso_stays_open ON iso_stays (person_num) WHERE ended_at IS NULL;
CREATE INDEX iso_stays_site ON iso_stays (site_id, admitted_at);
CREATE INDEX iso_stays_region ON iso_stays (region_code, admitted_at);

-- Temperatures in tenths of a degree; slot is am or pm.
CREATE TABLE iso_readings (
    stay_id     TEXT NOT NULL REFERENCES iso_stays (id),
    day         BIGINT NOT NULL,
    slot        TEXT NOT NULL,
    tenths      BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    by_actor    TEXT NOT NULL,
    PRIMARY KEY (stay_id, day, slot)
);

-- Transfers of positives (转运): dispatched, picked up, arrived.
CREATE TABLE iso_transfers (
    id           TEXT PRIMARY KEY,
    person_num   BIGINT NOT NULL REFERENCES persons (num),
    masked_name  TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    origin       TEXT NOT NULL,
    dest_site_id TEXT NOT NULL REFERENCES iso_sites (id),
    vehicle      TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX iso_transfers_region ON iso_transfers (region_code, created_at);

CREATE TABLE iso_transfer_steps (
    transfer_id TEXT NOT NULL REFERENCES iso_transfers (id),
    step        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    by_actor    TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (transfer_id, step)
);
