-- Dispatch: the prepared road network, the auto-dispatch setting and its proposals.

CREATE TABLE road_networks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The file it was prepared from (name only).
    source       TEXT NOT NULL,
    nodes        BIGINT NOT NULL,
    edges        BIGINT NOT NULL,
    -- The contracted network (dispatch/roads.rs, RoadNetwork::to_bytes).
    data         BYTEA NOT NULL,
    imported_at  TEXT NOT NULL
);

CREATE TABLE dispatch_settings (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    mode           TEXT NOT NULL CHECK (mode IN ('off', 'propose', 'apply')),
    -- The account auto-dispatch acts as (created when first switched on; cannot log in).
    robot_user_id  BIGINT REFERENCES users (id),
    updated_at     TEXT NOT NULL
);

-- What auto-dispatch proposes for a visit waiting for a doctor (mode 'propose').
ALTER TABLE visits ADD COLUMN proposed_doctor_id BIGINT REFERENCES doctors (user_id);
ALTER TABLE visits ADD COLUMN proposed_eta_min DOUBLE PRECISION;
ALTER TABLE visits ADD COLUMN proposed_at TEXT;
