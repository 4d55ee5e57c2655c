-- Finding persons in bulk (publishing a risk area over a city: a million
-- phones to persons, then the persons' regions) reads only num and one other
-- column. persons.num is not the rowid, so an index on the other column alone
-- sends every lookup on to the table row, a random page of a table far larger
-- than the page cache; with num in the index the lookup ends there.
DROP INDEX persons_phone;
CREATE INDEX persons_phone ON persons (phone_hash, num);
CREATE INDEX persons_num_region ON persons (num, region_code);
