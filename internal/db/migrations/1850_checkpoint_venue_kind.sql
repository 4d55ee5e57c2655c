-- The kind of venue a checkpoint stands at (a museum's gate, a mall's door),
-- set by an operator, so the entry policy of that kind holds at verification
-- too. '' : no kind, no policy.
ALTER TABLE checkpoints ADD COLUMN venue_kind TEXT NOT NULL DEFAULT '';
