-- Hub foundation: association, sectors, accounts, doctors, shifts, institutions, patients,
-- calls and visits, audit trail and event log. Times are RFC 3339 UTC text (see store/ts.rs).

CREATE TABLE association (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE sectors (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- GeoJSON geometry (Polygon or MultiPolygon), WGS84.
    boundary    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE institutions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('ehpad')),
    name          TEXT NOT NULL,
    finess        TEXT NOT NULL UNIQUE,
    address_line  TEXT NOT NULL,
    postcode      TEXT NOT NULL,
    city          TEXT NOT NULL,
    lat           DOUBLE PRECISION NOT NULL,
    lon           DOUBLE PRECISION NOT NULL,
    phone         TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE nurse_networks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    phone       TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'doctor', 'assistant', 'ehpad_nurse', 'partner_nurse')),
    institution_id  BIGINT REFERENCES institutions (id),
    network_id      BIGINT REFERENCES nurse_networks (id),
    disabled_at     TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((role = 'ehpad_nurse') = (institution_id IS NOT NULL)),
    CHECK ((role = 'partner_nurse') = (network_id IS NOT NULL))
);

CREATE TABLE doctors (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id),
    rpps         TEXT NOT NULL UNIQUE,
    phone        TEXT,
    -- JSON array of skills: ["ecg", "pediatric"].
    skills       TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL DEFAULT 'off_duty' CHECK (status IN ('off_duty', 'available', 'en_route', 'on_site', 'at_centre')),
    status_at    TEXT NOT NULL,
    lat          DOUBLE PRECISION,
    lon          DOUBLE PRECISION,
    position_at  TEXT
);

CREATE TABLE delegations (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doctor_id     BIGINT NOT NULL REFERENCES doctors (user_id),
    assistant_id  BIGINT NOT NULL REFERENCES users (id),
    granted_by    BIGINT REFERENCES users (id),
    created_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    BIGINT REFERENCES users (id)
);
CREATE UNIQUE INDEX delegations_active ON delegations (doctor_id, assistant_id) WHERE revoked_at IS NULL;
CREATE INDEX delegations_assistant ON delegations (assistant_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE shifts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doctor_id   BIGINT NOT NULL REFERENCES doctors (user_id),
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    sector_id   BIGINT REFERENCES sectors (id),
    created_at  TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX shifts_time ON shifts (ends_at, starts_at);

CREATE TABLE patients (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Identity as the INS (Identifiant National de Santé) carries it.
    birth_name          TEXT NOT NULL,
    used_name           TEXT,
    first_names         TEXT NOT NULL,
    birth_date          TEXT,
    sex                 TEXT NOT NULL DEFAULT 'U' CHECK (sex IN ('F', 'M', 'U')),
    birth_place_code    TEXT,
    nir                 TEXT,
    address_line        TEXT,
    postcode            TEXT,
    city                TEXT,
    lat                 DOUBLE PRECISION,
    lon                 DOUBLE PRECISION,
    phone               TEXT,
    treating_physician_name     TEXT,
    treating_physician_rpps     TEXT,
    treating_physician_mssante  TEXT,
    -- Resident of this institution (EHPAD), if any.
    institution_id      BIGINT REFERENCES institutions (id),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX patients_institution ON patients (institution_id);
CREATE INDEX patients_name ON patients (birth_name);

CREATE TABLE calls (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at     TEXT NOT NULL,
    received_by     BIGINT NOT NULL REFERENCES users (id),
    source          TEXT NOT NULL CHECK (source IN ('patient', 'relative', 'samu_15', 'institution', 'other')),
    caller_name     TEXT,
    caller_phone    TEXT,
    institution_id  BIGINT REFERENCES institutions (id),
    patient_id      BIGINT NOT NULL REFERENCES patients (id),
    address_line    TEXT NOT NULL,
    postcode        TEXT,
    city            TEXT NOT NULL,
    address_details TEXT,
    lat             DOUBLE PRECISION,
    lon             DOUBLE PRECISION,
    motive          TEXT NOT NULL,
    urgency         BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    notes           TEXT
);

CREATE TABLE visits (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id         BIGINT NOT NULL UNIQUE REFERENCES calls (id),
    patient_id      BIGINT NOT NULL REFERENCES patients (id),
    institution_id  BIGINT REFERENCES institutions (id),
    doctor_id       BIGINT REFERENCES doctors (user_id),
    status          TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'en_route', 'on_site', 'closed', 'cancelled', 'redirected_15')),
    urgency         BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    created_at      TEXT NOT NULL,
    assigned_at     TEXT,
    en_route_at     TEXT,
    on_site_at      TEXT,
    closed_at       TEXT,
    cancelled_at    TEXT,
    redirected_at   TEXT,
    updated_at      TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX visits_status ON visits (status);
CREATE INDEX visits_doctor ON visits (doctor_id, status);
CREATE INDEX visits_institution ON visits (institution_id);
CREATE INDEX visits_patient ON visits (patient_id);

CREATE TABLE visit_transitions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id      BIGINT NOT NULL REFERENCES visits (id),
    from_status   TEXT,
    to_status     TEXT NOT NULL,
    doctor_id     BIGINT REFERENCES doctors (user_id),
    at            TEXT NOT NULL,
    actor_id      BIGINT NOT NULL REFERENCES users (id),
    on_behalf_of  BIGINT REFERENCES users (id),
    reason        TEXT
);
CREATE INDEX visit_transitions_visit ON visit_transitions (visit_id);

CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            TEXT NOT NULL,
    -- NULL: the system (command line, demo seeding).
    actor_id      BIGINT REFERENCES users (id),
    on_behalf_of  BIGINT REFERENCES users (id),
    action        TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     BIGINT NOT NULL,
    -- JSON object describing what changed.
    changes       TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_log (entity_type, entity_id);
CREATE INDEX audit_actor ON audit_log (actor_id);

CREATE TABLE events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    doctor_id       BIGINT,
    institution_id  BIGINT,
    network_id      BIGINT
);
