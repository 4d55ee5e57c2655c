-- Indexes the operators' lists need at province size: the audit entries of
-- one subject, newest first; a town's text messages, newest first (a narrow
-- scope is read through it, a wide one in id order: db.Browse).
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX sms_outbox_region ON sms_outbox (region_code, id);
