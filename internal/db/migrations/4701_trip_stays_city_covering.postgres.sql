-- Publishing a risk area reads every stay of the city in the window before
-- anything can be stored (a million at a city's size): with the phone and
-- the first sighting in the city's index, that read can be an index-only
-- scan instead of visiting each stay's row. A carrier feed still writes one
-- entry of this index a stay, a larger one.
DROP INDEX trip_stays_city;
CREATE INDEX trip_stays_city ON trip_stays (city_code, last_seen) INCLUDE (first_seen, phone_hash);
