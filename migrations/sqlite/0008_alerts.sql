-- The doctor's phone rings on a new visit and he acknowledges it (#15): when he saw it and for
-- which assignment (seen_by is the doctor who saw it; a visit given to another doctor, or given
-- again, is unseen until that doctor sees it: the view compares with doctor_id and assigned_at).
ALTER TABLE visits ADD COLUMN seen_at TEXT;
ALTER TABLE visits ADD COLUMN seen_by INTEGER REFERENCES users (id);

-- Status changes a phone made offline are replayed with an Idempotency-Key: a replay of one that
-- already reached the hub (its answer lost) is answered with the visit as it is, not applied twice.
CREATE TABLE transition_keys (
    actor_id    INTEGER NOT NULL REFERENCES users (id),
    request_key TEXT NOT NULL,
    visit_id    INTEGER NOT NULL REFERENCES visits (id),
    action      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (actor_id, request_key)
);
