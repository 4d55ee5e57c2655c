-- Negative results posted as facts rather than reported on a tube (the
-- untested residents' counts add them): the window's few, through their own
-- index. Without it, a province's count read every fact or every resident.
-- The predicate is written as the query writes it, so that both engines
-- prove the query keeps to the index's rows.
CREATE INDEX facts_posted_results ON facts (at, person_num)
    WHERE kind = 'nat.result' AND (idem_key IS NULL OR idem_key NOT LIKE 'nat:%');
