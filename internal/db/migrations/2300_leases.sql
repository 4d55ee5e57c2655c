-- Leases of the background work that must run on one node at a time
-- (scheduler, purges, colour-change notices, signing the audit head). name is the work, holder the node that holds it, expires_at (unix
-- milliseconds, UTC) when another node may take it if the holder has not
-- renewed it by then. A node that stops cleanly deletes its rows; one that
-- dies leaves them to expire.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    taken_at    BIGINT NOT NULL
);
