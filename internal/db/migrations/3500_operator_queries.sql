-- Operator queries at province size. A scope's failed or waiting texts
-- through their state and region: the keys of a town's failed texts without
-- reading its delivered ones. The samples of a window with their person and
-- tube, which the untested residents' counts start from (rather than from
-- every resident in scope), read from the index alone. A town's persons by
-- number from the region index alone: persons.num is not SQLite's rowid, so
-- the index on region_code sent each of a town's persons to its table row.
CREATE INDEX sms_outbox_state ON sms_outbox (state, region_code, id);
CREATE INDEX nat_samples_sampled ON nat_samples (sampled_at, person_num, barcode);
DROP INDEX persons_region;
CREATE INDEX persons_region ON persons (region_code, num);
