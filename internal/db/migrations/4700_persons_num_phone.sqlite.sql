-- Publishing a risk area over a city most of whose persons stayed there
-- matches the carrier's stays against every person in number order
-- (person.PhonesFrom): with the phone in the index by number, that walk
-- reads the index alone, in order, where a lookup per phone would descend
-- the phone index a million times. The regions' reads still end there too.
DROP INDEX persons_num_region;
CREATE INDEX persons_num_region ON persons (num, region_code, phone_hash);
