-- The venues list, newest first, for a province or a city: walked in this
-- order, it reads a page of venues instead of sorting every venue of the
-- scope (100,000 at 10M residents, 68-95 ms on PostgreSQL; Anhui has
-- 780,000 units). A town's list stays on venues_region and sorts its few.
CREATE INDEX venues_created ON venues (created_at DESC, id);
