-- Follow-up of every change to red or yellow: the task carries the reason
-- and advice of the change, a deadline after which it escalates to the
-- town, and the visit's outcome. followup_changes (a counter) is the last
-- status change seq the follower has turned into tasks.
ALTER TABLE followup_tasks ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE followup_tasks ADD COLUMN advice TEXT NOT NULL DEFAULT '';
ALTER TABLE followup_tasks ADD COLUMN color BIGINT NOT NULL DEFAULT 0;
ALTER TABLE followup_tasks ADD COLUMN due_at BIGINT;
ALTER TABLE followup_tasks ADD COLUMN escalated_at BIGINT;
ALTER TABLE followup_tasks ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
CREATE INDEX followup_tasks_due ON followup_tasks (due_at) WHERE escalated_at IS NULL AND status <> 'visited';
-- A deployment that upgrades follows the changes from now on, not its history.
INSERT INTO counters (name, value) SELECT 'followup_changes', COALESCE(MAX(seq), 0) FROM status_changes;
