-- Vaccination: sites (open data), vaccine products and their schedules,
-- daily slots with a capacity, residents' appointments, and the doses
-- given (scanned at the site or imported from earlier records). Times are
-- unix milliseconds (UTC). Persons are named by number only.

CREATE TABLE vac_sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    phone       TEXT NOT NULL,
    hours       TEXT NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    lng         DOUBLE PRECISION NOT NULL,
    region_code TEXT NOT NULL,
    open        BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX vac_sites_region_name ON vac_sites (region_code, name);

-- A product and its primary series: how many doses, and the least number
-- of days between two of them.
CREATE TABLE vac_products (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    maker         TEXT NOT NULL,
    doses         BIGINT NOT NULL,
    interval_days BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);

-- booked counts the open appointments of the slot. The booking is one
-- conditional UPDATE (booked < capacity); the CHECK holds it on every node
-- whatever a later change of the code does.
CREATE TABLE vac_slots (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES vac_sites (id),
    product_id  TEXT NOT NULL REFERENCES vac_products (id),
    region_code TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    capacity    BIGINT NOT NULL,
    booked      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    CHECK (capacity > 0 AND booked >= 0 AND booked <= capacity)
);
CREATE INDEX vac_slots_site ON vac_slots (site_id, starts_at);
CREATE INDEX vac_slots_start ON vac_slots (starts_at);

-- state: booked, cancelled, done (the dose was given). One open
-- appointment per person and dose number.
CREATE TABLE vac_appointments (
    id           TEXT PRIMARY KEY,
    slot_id      TEXT NOT NULL REFERENCES vac_slots (id),
    person_num   BIGINT NOT NULL REFERENCES persons (num),
    dose         BIGINT NOT NULL,
    state        TEXT NOT NULL,
    booked_by    TEXT NOT NULL,
    starts_at    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT,
    reminded_at  BIGINT
);
CREATE UNIQUE INDEX vac_appointments_open ON vac_appointments (person_num, dose) WHERE state = 'booked';
CREATE INDEX vac_appointments_slot ON vac_appointments (slot_id);
CREATE INDEX vac_appointments_due ON vac_appointments (starts_at) WHERE state = 'booked' AND reminded_at IS NULL;

-- A dose given. region_code is the site's (doses by town); source is scan
-- or import.
CREATE TABLE vac_doses (
    id             TEXT PRIMARY KEY,
    person_num     BIGINT NOT NULL REFERENCES persons (num),
    product_id     TEXT NOT NULL REFERENCES vac_products (id),
    dose           BIGINT NOT NULL,
    lot            TEXT NOT NULL,
    site_id        TEXT NOT NULL REFERENCES vac_sites (id),
    region_code    TEXT NOT NULL,
    given_at       BIGINT NOT NULL,
    recorded_by    TEXT NOT NULL,
    source         TEXT NOT NULL,
    appointment_id TEXT,
    created_at     BIGINT NOT NULL,
    UNIQUE (person_num, dose)
);
CREATE INDEX vac_doses_given ON vac_doses (given_at);
CREATE INDEX vac_doses_region ON vac_doses (region_code, given_at);
