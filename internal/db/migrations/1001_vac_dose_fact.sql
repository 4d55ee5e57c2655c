-- A dose is stored first and its vaccine.dose fact recorded after; a dose
-- whose fact a failure left behind (the status engine unreachable, the node
-- stopped between the two steps) is found here and recorded by a worker.
-- Doses stored before this column existed had their facts recorded.
ALTER TABLE vac_doses ADD COLUMN fact_recorded BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX vac_doses_pending ON vac_doses (created_at) WHERE fact_recorded = FALSE;
