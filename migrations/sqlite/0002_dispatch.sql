-- Dispatch: the prepared road network, the auto-dispatch setting and its proposals.

CREATE TABLE road_networks (
    id           INTEGER PRIMARY KEY,
    -- The file it was prepared from (name only).
    source       TEXT NOT NULL,
    nodes        INTEGER NOT NULL,
    edges        INTEGER NOT NULL,
    -- The contracted network (dispatch/roads.rs, RoadNetwork::to_bytes).
    data         BLOB NOT NULL,
    imported_at  TEXT NOT NULL
);

CREATE TABLE dispatch_settings (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    mode           TEXT NOT NULL CHECK (mode IN ('off', 'propose', 'apply')),
    -- The account auto-dispatch acts as (created when first switched on; cannot log in).
    robot_user_id  INTEGER REFERENCES users (id),
    updated_at     TEXT NOT NULL
);

-- What auto-dispatch proposes for a visit waiting for a doctor (mode 'propose').
ALTER TABLE visits ADD COLUMN proposed_doctor_id INTEGER REFERENCES doctors (user_id);
ALTER TABLE visits ADD COLUMN proposed_eta_min REAL;
ALTER TABLE visits ADD COLUMN proposed_at TEXT;
