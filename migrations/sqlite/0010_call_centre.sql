-- The call centre's whole day (#16): every call is kept, whatever its outcome. A call that ends
-- without a home visit (advice, a teleconsultation, the centre, the 15, a caller who hung up, an
-- address out of the sectors with the fallback chosen) has no visit, and may have no patient,
-- address, motive or urgency. Who decided the outcome and when; the sector the address lies in.
--
-- SQLite cannot drop NOT NULL: the table is rebuilt inside the migration's transaction (sqlx
-- runs SQLite migrations in one, so `PRAGMA foreign_keys = OFF` would be ignored). The rows are
-- kept aside, the table dropped and created anew under its own name, then refilled: with the
-- foreign keys deferred, the visits that point at calls are orphans only until their call is
-- back, and the check at commit finds none.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE calls_before AS SELECT * FROM calls;
DROP TABLE calls;
CREATE TABLE calls (
    id              INTEGER PRIMARY KEY,
    received_at     TEXT NOT NULL,
    received_by     INTEGER NOT NULL REFERENCES users (id),
    source          TEXT NOT NULL CHECK (source IN ('patient', 'relative', 'samu_15', 'institution', 'other')),
    caller_name     TEXT,
    caller_phone    TEXT,
    institution_id  INTEGER REFERENCES institutions (id),
    patient_id      INTEGER REFERENCES patients (id),
    address_line    TEXT,
    postcode        TEXT,
    city            TEXT,
    address_details TEXT,
    lat             REAL,
    lon             REAL,
    motive          TEXT,
    urgency         INTEGER CHECK (urgency BETWEEN 1 AND 3),
    notes           TEXT,
    outcome         TEXT NOT NULL DEFAULT 'home_visit'
                    CHECK (outcome IN ('home_visit', 'advice', 'teleconsultation', 'centre', 'samu_15', 'hung_up')),
    outcome_by      INTEGER REFERENCES users (id),
    outcome_at      TEXT,
    -- covered / out_of_sector / unknown (no position, or no sectors set).
    coverage        TEXT NOT NULL DEFAULT 'unknown' CHECK (coverage IN ('covered', 'out_of_sector', 'unknown')),
    sector_id       INTEGER REFERENCES sectors (id),
    CHECK (outcome <> 'home_visit' OR (patient_id IS NOT NULL AND address_line IS NOT NULL
           AND city IS NOT NULL AND motive IS NOT NULL AND urgency IS NOT NULL))
);
INSERT INTO calls (id, received_at, received_by, source, caller_name, caller_phone, institution_id,
    patient_id, address_line, postcode, city, address_details, lat, lon, motive, urgency, notes,
    outcome, outcome_by, outcome_at)
SELECT id, received_at, received_by, source, caller_name, caller_phone, institution_id,
    patient_id, address_line, postcode, city, address_details, lat, lon, motive, urgency, notes,
    'home_visit', received_by, received_at
FROM calls_before;
DROP TABLE calls_before;
CREATE INDEX calls_received ON calls (received_at);
CREATE INDEX calls_patient ON calls (patient_id);
