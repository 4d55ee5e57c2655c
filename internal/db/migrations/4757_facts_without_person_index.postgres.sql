-- facts_key (person_num, idem_key) already leads with the person, so a
-- person's facts are found through it; facts_person (person_num, id) only
-- saved sorting them by id, a few rows a person. Every fact paid for the
-- second entry: a risk area's million facts wrote a million more index
-- entries (about 7% of their insert, docs/PERFORMANCE.md). SQLite never
-- had it.
DROP INDEX facts_person;
