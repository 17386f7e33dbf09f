-- Closing a visit: the report a doctor validates, the ECG recordings, the directories the report
-- draws on (ICD-10 codes, practitioners with their secure messaging address), and the outbox of
-- letters to treating physicians.

-- ICD-10 (CIM-10) codes offered when choosing a diagnosis.
CREATE TABLE icd10_codes (
    code    TEXT PRIMARY KEY,
    label   TEXT NOT NULL,
    -- Lowercase, accent-free code and label, for search.
    search  TEXT NOT NULL
);

-- The practitioners directory (RPPS "Annuaire santé" extract): one row per practice site.
CREATE TABLE practitioners (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- "Identification nationale PP": 8 + RPPS, or 0 + ADELI.
    national_id   TEXT NOT NULL,
    -- 11 digits, when the national identifier is an RPPS one.
    rpps          TEXT,
    civility      TEXT,
    family_name   TEXT NOT NULL,
    given_name    TEXT NOT NULL,
    profession    TEXT NOT NULL,
    specialty     TEXT,
    site_name     TEXT,
    address_line  TEXT,
    postcode      TEXT,
    city          TEXT,
    phone         TEXT,
    -- Secure messaging (MSSanté) address.
    mssante       TEXT,
    -- Lowercase, accent-free family name then given name, for prefix search.
    name_key      TEXT COLLATE "C" NOT NULL,
    -- Lowercase, accent-free city.
    city_key      TEXT NOT NULL
);
CREATE INDEX practitioners_name ON practitioners (name_key);
CREATE INDEX practitioners_national ON practitioners (national_id);

CREATE TABLE practitioner_imports (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('rpps', 'mssante')),
    rows_read      BIGINT NOT NULL,
    rows_kept      BIGINT NOT NULL,
    imported_at    TEXT NOT NULL
);

-- The report of a visit: drafted (by the doctor, or an assistant for him), then validated by the
-- doctor. Observations are a JSON document (domain/report.rs).
CREATE TABLE visit_reports (
    visit_id       BIGINT PRIMARY KEY REFERENCES visits (id),
    observations   TEXT NOT NULL,
    -- The assistant who drafted it for the doctor, if any.
    drafted_by     BIGINT REFERENCES users (id),
    updated_by     BIGINT NOT NULL REFERENCES users (id),
    updated_at     TEXT NOT NULL,
    validated_by   BIGINT REFERENCES users (id),
    validated_at   TEXT,
    version        BIGINT NOT NULL DEFAULT 1
);

-- An ECG recorded during a visit: what Chevet read of it, and the original files (ecg_files).
CREATE TABLE ecg_recordings (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id        BIGINT NOT NULL REFERENCES visits (id),
    format          TEXT NOT NULL,
    -- The main file's name (a WFDB record: its .hea).
    file_name       TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    -- JSON array of lead names; empty for a document kept as is (PDF).
    leads           TEXT NOT NULL,
    sampling_hz     DOUBLE PRECISION,
    duration_s      DOUBLE PRECISION,
    heart_rate_bpm  DOUBLE PRECISION,
    -- As the device wrote it (local time, no offset).
    acquired_at     TEXT,
    device          TEXT,
    uploaded_by     BIGINT NOT NULL REFERENCES users (id),
    on_behalf_of    BIGINT REFERENCES users (id),
    created_at      TEXT NOT NULL,
    removed_at      TEXT
);
CREATE INDEX ecg_recordings_visit ON ecg_recordings (visit_id);

CREATE TABLE ecg_files (
    recording_id  BIGINT NOT NULL REFERENCES ecg_recordings (id),
    name          TEXT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (recording_id, name)
);

-- The letter to the treating physician, made when the report is validated, and its delivery over
-- secure messaging (the outbox: src/letters/outbox.rs).
CREATE TABLE letters (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id           BIGINT NOT NULL UNIQUE REFERENCES visits (id),
    document_id        TEXT NOT NULL UNIQUE,
    -- The Message-ID every attempt carries, so a receiver can drop a duplicate.
    message_id         TEXT NOT NULL UNIQUE,
    -- NULL: no treating physician known yet.
    recipient_name     TEXT,
    recipient_rpps     TEXT,
    -- NULL: no secure messaging address known yet (status 'held').
    recipient_mssante  TEXT,
    status             TEXT NOT NULL CHECK (status IN ('held', 'queued', 'sending', 'sent', 'failed')),
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    TEXT,
    -- While 'sending': the worker's claim expires then (a crashed worker's letter is retried).
    claimed_until      TEXT,
    last_error         TEXT,
    -- The four forms, made when the recipient is known (NULL while 'held').
    pdf                BYTEA,
    cda                TEXT,
    fhir               TEXT,
    xdm                BYTEA,
    created_by         BIGINT NOT NULL REFERENCES users (id),
    created_at         TEXT NOT NULL,
    sent_at            TEXT
);
CREATE INDEX letters_due ON letters (status, next_attempt_at);

-- Who signs the letters: the association's letterhead and each doctor's secure messaging address.
ALTER TABLE association ADD COLUMN address_line TEXT;
ALTER TABLE association ADD COLUMN postcode TEXT;
ALTER TABLE association ADD COLUMN city TEXT;
ALTER TABLE association ADD COLUMN phone TEXT;
-- The association's own MSSanté mailbox: the sender when a doctor has none.
ALTER TABLE association ADD COLUMN mssante TEXT;
ALTER TABLE doctors ADD COLUMN mssante TEXT;
