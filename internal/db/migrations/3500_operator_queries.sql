-- Operator queries at province size: a scope's failed or waiting texts
-- through their state and region (the keys of a town's failed texts without
-- reading its delivered ones); the samples of a window, which the untested
-- residents' counts start from rather than from every resident in scope.
CREATE INDEX sms_outbox_state ON sms_outbox (state, region_code, id);
CREATE INDEX nat_samples_sampled ON nat_samples (sampled_at);
