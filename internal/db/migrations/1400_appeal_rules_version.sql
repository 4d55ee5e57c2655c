-- The rule-set version that decided the colour an appeal is filed against,
-- so that the reviewer reads that rule's reason as the resident saw it even
-- after a new set is activated. 0: filed before this step (read the active set).
ALTER TABLE appeals ADD COLUMN rules_version BIGINT NOT NULL DEFAULT 0;
