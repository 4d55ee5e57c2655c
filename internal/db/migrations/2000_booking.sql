-- Time slots with a capacity that residents book at a scenic spot (分时预约)
-- or a service hall (网上预约), and the bookings. Times are unix
-- milliseconds (UTC); day is yyyymmdd in the deployment's zone.
--
-- booked counts the open bookings (booked or entered) of the slot: a place
-- is taken by one conditional UPDATE (booked < capacity) in the
-- transaction that stores the booking; the CHECK holds it on every node.
CREATE TABLE bk_slots (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    day         BIGINT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    capacity    BIGINT NOT NULL,
    booked      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    CHECK (capacity > 0 AND booked >= 0 AND booked <= capacity AND ends_at > starts_at)
);
CREATE INDEX bk_slots_org ON bk_slots (org_id, starts_at);

-- state: booked, entered (scanned in at the gate or the hall), cancelled.
-- One open booking per person and slot.
CREATE TABLE bk_bookings (
    id          TEXT PRIMARY KEY,
    slot_id     TEXT NOT NULL REFERENCES bk_slots (id),
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    state       TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    booked_by   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    entered_at  BIGINT,
    entered_by  TEXT,
    closed_at   BIGINT
);
CREATE UNIQUE INDEX bk_bookings_open ON bk_bookings (slot_id, person_num) WHERE state <> 'cancelled';
CREATE INDEX bk_bookings_person ON bk_bookings (person_num, starts_at);
CREATE INDEX bk_bookings_org ON bk_bookings (org_id, person_num, starts_at);
CREATE INDEX bk_bookings_start ON bk_bookings (starts_at);
