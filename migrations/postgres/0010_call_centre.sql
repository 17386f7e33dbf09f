-- The call centre's whole day (#16): every call is kept, whatever its outcome. A call that ends
-- without a home visit (advice, a teleconsultation, the centre, the 15, a caller who hung up, an
-- address out of the sectors with the fallback chosen) has no visit, and may have no patient,
-- address, motive or urgency. Who decided the outcome and when; the sector the address lies in.
ALTER TABLE calls ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE calls ALTER COLUMN address_line DROP NOT NULL;
ALTER TABLE calls ALTER COLUMN city DROP NOT NULL;
ALTER TABLE calls ALTER COLUMN motive DROP NOT NULL;
ALTER TABLE calls ALTER COLUMN urgency DROP NOT NULL;
ALTER TABLE calls ADD COLUMN outcome TEXT NOT NULL DEFAULT 'home_visit'
    CHECK (outcome IN ('home_visit', 'advice', 'teleconsultation', 'centre', 'samu_15', 'hung_up'));
ALTER TABLE calls ADD COLUMN outcome_by BIGINT REFERENCES users (id);
ALTER TABLE calls ADD COLUMN outcome_at TEXT;
-- covered / out_of_sector / unknown (no position, or no sectors set).
ALTER TABLE calls ADD COLUMN coverage TEXT NOT NULL DEFAULT 'unknown'
    CHECK (coverage IN ('covered', 'out_of_sector', 'unknown'));
ALTER TABLE calls ADD COLUMN sector_id BIGINT REFERENCES sectors (id);
ALTER TABLE calls ADD CONSTRAINT calls_visit_complete CHECK (outcome <> 'home_visit' OR (patient_id IS NOT NULL
    AND address_line IS NOT NULL AND city IS NOT NULL AND motive IS NOT NULL AND urgency IS NOT NULL));
UPDATE calls SET outcome_by = received_by, outcome_at = received_at;
CREATE INDEX calls_received ON calls (received_at);
CREATE INDEX calls_patient ON calls (patient_id);
