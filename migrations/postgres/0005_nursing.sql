-- Partner nurse bookings (#7), both ends of the link between two hubs.
--
-- The association's end: the nurse networks it books with, and its bookings with their outbox
-- state (`step`, attempts, claim). The network's end: the associations allowed to book
-- (`partner_clients`), each nurse's coverage, the appointments received with their callback
-- outbox state, and the Idempotency-Key of every request a client made.

-- Networks this association books with, over their partner API.
CREATE TABLE partner_networks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- The FHIR base of the network's partner API, e.g. https://host/api/partner/v1.
    base_url     TEXT NOT NULL,
    -- The key the network gave this association (sent as a Bearer token).
    api_key      TEXT NOT NULL,
    -- JSON array of act codes.
    acts         TEXT NOT NULL DEFAULT '[]',
    -- JSON area (postcodes, or a centre and radius); NULL: anywhere.
    area         TEXT,
    -- Lower is tried first.
    priority     BIGINT NOT NULL DEFAULT 100,
    disabled_at  TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE nurse_bookings (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Public id, sent to networks as the ServiceRequest identifier and used in callback URLs.
    uuid             TEXT NOT NULL UNIQUE,
    visit_id         BIGINT NOT NULL REFERENCES visits (id),
    -- The prescriber: the visit's doctor.
    doctor_id        BIGINT NOT NULL REFERENCES users (id),
    -- The Idempotency-Key of the request that made it: a second request with it gets this booking.
    request_key      TEXT NOT NULL,
    requested_by     BIGINT NOT NULL REFERENCES users (id),
    on_behalf_of     BIGINT REFERENCES users (id),
    act              TEXT NOT NULL,
    window_start     TEXT NOT NULL,
    window_end       TEXT NOT NULL,
    notes            TEXT,
    callback_phone   TEXT,
    -- The FHIR ServiceRequest sent, made once: every retry sends the same bytes.
    service_request  TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('requested', 'accepted', 'proposed', 'declined', 'done', 'cancelled')),
    -- What the link must do next: 'hold', 'book' (confirm the hold), 'watch' (poll for news),
    -- 'respond' (our answer to a proposed time), 'cancel'; NULL once settled.
    step             TEXT CHECK (step IN ('hold', 'book', 'watch', 'respond', 'cancel')),
    -- Why we cancel: 'doctor' (asked by a person) or 'no_answer' (moving to the next network).
    cancel_reason    TEXT,
    proposal_answer  TEXT CHECK (proposal_answer IN ('accept', 'refuse')),
    network_id       BIGINT REFERENCES partner_networks (id),
    -- Bumped at every new hold (next network, expired hold): part of each Idempotency-Key.
    round            BIGINT NOT NULL DEFAULT 0,
    remote_id        TEXT,
    remote_version   BIGINT NOT NULL DEFAULT 0,
    -- The secret the network presents when it calls back about this booking.
    callback_token   TEXT NOT NULL,
    -- JSON array of {id, name, outcome}: the networks that did not take it.
    tried            TEXT NOT NULL DEFAULT '[]',
    nurse_name       TEXT,
    expected_at      TEXT,
    proposed_at      TEXT,
    step_since       TEXT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    claimed_until    TEXT,
    last_error       TEXT,
    -- Bumped at every change: writers update only the version they read.
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (visit_id, request_key)
);
CREATE INDEX nurse_bookings_due ON nurse_bookings (step, next_attempt_at);
CREATE INDEX nurse_bookings_visit ON nurse_bookings (visit_id);

-- Callbacks received, by their Idempotency-Key: the same callback twice is applied once.
CREATE TABLE nurse_booking_callbacks (
    booking_id       BIGINT NOT NULL REFERENCES nurse_bookings (id),
    idempotency_key  TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    PRIMARY KEY (booking_id, idempotency_key)
);

-- The associations allowed to book with a network hosted here.
CREATE TABLE partner_clients (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    network_id  BIGINT NOT NULL REFERENCES nurse_networks (id),
    -- SHA-256 of the API key (the key itself is shown once).
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- What each partner nurse does and where; NULL on_duty_since: not taking requests.
CREATE TABLE nurse_coverage (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id),
    acts           TEXT NOT NULL DEFAULT '[]',
    area           TEXT,
    on_duty_since  TEXT,
    updated_at     TEXT NOT NULL
);

CREATE TABLE partner_appointments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid             TEXT NOT NULL UNIQUE,
    client_id        BIGINT NOT NULL REFERENCES partner_clients (id),
    network_id       BIGINT NOT NULL REFERENCES nurse_networks (id),
    -- The Idempotency-Key of the hold: one appointment per key and client, whatever the races.
    hold_key         TEXT NOT NULL,
    -- The client's ServiceRequest identifier (its booking).
    request_id       TEXT NOT NULL,
    service_request  TEXT NOT NULL,
    act              TEXT NOT NULL,
    window_start     TEXT NOT NULL,
    window_end       TEXT NOT NULL,
    postcode         TEXT,
    city             TEXT NOT NULL,
    lat              DOUBLE PRECISION,
    lon              DOUBLE PRECISION,
    -- JSON: {name, birth_date, phone, address} and {name, rpps, phone}.
    patient          TEXT NOT NULL,
    prescriber       TEXT NOT NULL,
    notes            TEXT,
    status           TEXT NOT NULL CHECK (status IN ('held', 'offered', 'accepted', 'proposed', 'declined', 'done', 'cancelled', 'expired')),
    hold_expires_at  TEXT NOT NULL,
    nurse_id         BIGINT REFERENCES users (id),
    expected_at      TEXT,
    proposed_at      TEXT,
    cancel_reason    TEXT,
    -- Bumped at every change; the client applies a state only if newer than what it has.
    version          BIGINT NOT NULL DEFAULT 1,
    callback_url     TEXT,
    callback_token   TEXT,
    -- The callback outbox: the last version the client acknowledged, and the next attempt.
    notified_version BIGINT NOT NULL DEFAULT 1,
    notify_attempts  BIGINT NOT NULL DEFAULT 0,
    notify_next_at   TEXT,
    notify_claimed_until TEXT,
    notify_error     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (client_id, hold_key)
);
CREATE INDEX partner_appointments_status ON partner_appointments (network_id, status);

-- Nurses who said they cannot take an offered appointment.
CREATE TABLE partner_offer_declines (
    appointment_id  BIGINT NOT NULL REFERENCES partner_appointments (id),
    nurse_id        BIGINT NOT NULL REFERENCES users (id),
    at              TEXT NOT NULL,
    PRIMARY KEY (appointment_id, nurse_id)
);

-- Every request a client made, by its Idempotency-Key, with the answer it got: a retry gets the
-- same answer, and the same key with another body is refused.
CREATE TABLE partner_requests (
    client_id        BIGINT NOT NULL REFERENCES partner_clients (id),
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    status_code      BIGINT NOT NULL,
    response         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);
