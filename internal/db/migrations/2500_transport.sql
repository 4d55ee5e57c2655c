-- Transport (公交、出租车扫码乘车): a bus operator's or taxi company's
-- vehicles, each a venue of kind vehicle whose venue code passengers scan
-- to ride (a check-in, traced with the vehicle window). Times are unix
-- milliseconds (UTC).
CREATE TABLE transport_vehicles (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    venue_id   TEXT NOT NULL UNIQUE REFERENCES venues (id),
    kind       TEXT NOT NULL, -- bus, taxi
    plate      TEXT NOT NULL,
    route      TEXT NOT NULL, -- a bus's line; '' for a taxi
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (org_id, plate)
);
