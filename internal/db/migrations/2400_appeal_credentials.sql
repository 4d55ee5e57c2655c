-- Outside evidence attached to an appeal: credentials (another region's code
-- or test certificate, an EU DCC, a SMART Health Card) as they verified when
-- the appeal was filed (JSON list; the credential's text is not kept).
ALTER TABLE appeals ADD COLUMN credentials TEXT NOT NULL DEFAULT '[]';
