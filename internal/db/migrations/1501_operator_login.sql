-- Logins by password (operators, unit accounts) back off after repeated
-- failures, per username and per client address, in the database so that
-- every node holds the same lock. key: 'user:NAME', 'unit:NAME' or 'addr:'
-- and a keyed hash of the client address. failures counts the failed
-- attempts since the last success or a quiet day; until_at is when the
-- current lock ends (unix milliseconds, UTC; 0: none); last_at the last
-- failure, for purging.
CREATE TABLE login_backoff (
    key       TEXT PRIMARY KEY,
    failures  BIGINT NOT NULL,
    until_at  BIGINT NOT NULL,
    last_at   BIGINT NOT NULL
);
CREATE INDEX login_backoff_last ON login_backoff (last_at);

-- The client addresses (keyed hashes) an operator has logged in from: the
-- right password from one of them is accepted while the username is locked
-- by someone else's guesses.
CREATE TABLE operator_addresses (
    operator_id TEXT NOT NULL REFERENCES operators (id),
    addr_hash   BYTEA NOT NULL,
    last_at     BIGINT NOT NULL,
    PRIMARY KEY (operator_id, addr_hash)
);

-- An operator's second factor (TOTP, RFC 6238): the secret sealed with the
-- master key, whether it is confirmed (totp_on; a secret shown but not yet
-- confirmed by a code waits with totp_on false), and the last step whose
-- code was used, so that a code is good once.
ALTER TABLE operators ADD COLUMN totp_secret BYTEA;
ALTER TABLE operators ADD COLUMN totp_on BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE operators ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- A TOTP secret shown to its operator and not yet confirmed by a code.
CREATE TABLE operator_totp_pending (
    operator_id TEXT PRIMARY KEY REFERENCES operators (id),
    secret      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
