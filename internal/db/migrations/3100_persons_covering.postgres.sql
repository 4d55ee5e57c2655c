-- Finding persons in bulk (publishing a risk area over a city: a million
-- phones to persons, then the persons' regions) reads only num and one other
-- column: with it in the index, a lookup can end there (an index-only scan)
-- instead of visiting the row.
DROP INDEX persons_phone;
CREATE INDEX persons_phone ON persons (phone_hash) INCLUDE (num);
CREATE INDEX persons_num_region ON persons (num) INCLUDE (region_code);
