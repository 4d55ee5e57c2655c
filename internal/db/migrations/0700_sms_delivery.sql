-- Text messages are queued in the outbox and handed to the SMS provider by a
-- background worker, so a gateway that is down or slow loses nothing.
-- state: queued (waiting for the gateway), sent (the gateway took it),
-- delivered (the carrier reports it reached the phone), failed (the carrier
-- refused it, or it expired before the gateway took it).
-- provider names who carries it ('outbox' keeps it for operators to read).
-- Messages stored before this step were held by the outbox: delivered.
-- Times are unix milliseconds (UTC); 0 is "not yet".
ALTER TABLE sms_outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'delivered';
ALTER TABLE sms_outbox ADD COLUMN provider TEXT NOT NULL DEFAULT 'outbox';
ALTER TABLE sms_outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN next_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN done_at BIGINT NOT NULL DEFAULT 0;
-- report is the last delivery report's type (Kannel's DLR values: 1
-- delivered, 2 not delivered, 4 buffered, 8 accepted by the carrier, 16
-- refused by the carrier).
ALTER TABLE sms_outbox ADD COLUMN report BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sms_outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';

-- The worker's queue: only what still waits for the gateway.
CREATE INDEX sms_outbox_queue ON sms_outbox (next_at) WHERE state = 'queued';
