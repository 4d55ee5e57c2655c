-- Federation (互认): a hub keeps the regions it enrolled and the trust-list
-- package each last uploaded; a node keeps the last bundle it pulled from its
-- hub and its colour-mapping policy. Times are unix milliseconds (UTC).

-- Hub: a region enrolled out of band with its federation public key
-- (SubjectPublicKeyInfo DER). Only that key may upload the region's package.
CREATE TABLE fed_regions (
    region      TEXT PRIMARY KEY,
    public_key  BYTEA NOT NULL,
    enrolled_at BIGINT NOT NULL,
    enrolled_by TEXT NOT NULL
);

-- Hub: the package a region last uploaded, stored exactly as signed (body and
-- signature), so receivers verify it end to end. seq only grows.
CREATE TABLE fed_packages (
    region      TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    sig         BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL
);

-- Node: the last bundle pulled (as served, hub signature and all), so that a
-- restart while the hub is down still recognises other regions' codes.
CREATE TABLE fed_bundle (
    id        BIGINT PRIMARY KEY,
    seq       BIGINT NOT NULL,
    etag      TEXT NOT NULL,
    raw       BYTEA NOT NULL,
    pulled_at BIGINT NOT NULL
);

-- Node: how a foreign colour reads here (粤康码 ↔ 穗康码). foreign_region '*'
-- is every region without a row of its own.
CREATE TABLE fed_color_policy (
    foreign_region TEXT NOT NULL,
    foreign_color  TEXT NOT NULL,
    local_color    TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL,
    PRIMARY KEY (foreign_region, foreign_color)
);
