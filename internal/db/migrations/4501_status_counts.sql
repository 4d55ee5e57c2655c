-- Persons per residential region and colour (yellow and red: green is the
-- registered less these), counted up to the change of status_changes whose
-- seq the counter status_counts holds: the colour dashboard adds the changes
-- since (a minute's) instead of counting a province's status rows at every
-- read. Every change of a colour is logged with its old and new colour, and
-- a person keeps their region, so the counts folded from the log stay right.
CREATE TABLE status_counts (
    region_code TEXT NOT NULL,
    color       BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (region_code, color)
);
