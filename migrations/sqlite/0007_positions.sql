-- The doctor's phone reports his position (#15): how precise the last fix is, and whether he has
-- paused sharing it (the board says so; dispatch treats his last fix as uncertain).
ALTER TABLE doctors ADD COLUMN position_accuracy_m REAL;
ALTER TABLE doctors ADD COLUMN sharing_paused_at TEXT;
