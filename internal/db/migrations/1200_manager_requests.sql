-- Requests to manage a person who already has a manager (代办): someone who
-- knows a dependent's name and identity number must not become one more
-- manager on their own say. A manager consents, or a service desk verifies
-- the requester in person (that is a dependents row written by an operator,
-- audited), and every manager is told of every new one.
-- state: pending, approved, refused, desk (settled by a desk verification).
-- decided_by is the actor (resident:ACCOUNT or operator:ID); times are unix
-- milliseconds (UTC), 0 while pending.
CREATE TABLE manager_requests (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    person_num  BIGINT NOT NULL REFERENCES persons (num),
    relation    TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    decided_at  BIGINT NOT NULL DEFAULT 0,
    decided_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX manager_requests_person ON manager_requests (person_num, state);
CREATE INDEX manager_requests_account ON manager_requests (account_id, state);
