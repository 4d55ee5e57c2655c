-- A tracing run records facts for every companion, wherever they live, but
-- shows an operator only the companions in their scope and counts the rest:
-- region_counts is the report's lines per companion's home region, as a
-- JSON object ({"341881001": 12, ...}), written when the report is.
ALTER TABLE tracing_runs ADD COLUMN region_counts TEXT NOT NULL DEFAULT '{}';
