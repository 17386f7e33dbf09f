-- Web Push (#15): a doctor's phone rings on a new visit even with the app closed. A browser's
-- subscription (RFC 8030 endpoint and the keys to encrypt for it, RFC 8291) belongs to the account
-- logged in on it; a browser subscribing again under another account moves it.
CREATE TABLE push_subscriptions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    endpoint    TEXT NOT NULL UNIQUE,
    -- The browser's P-256 public key (65 bytes, uncompressed) and auth secret (16 bytes),
    -- base64url as the browser gives them.
    p256dh      TEXT NOT NULL,
    auth        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    last_ok_at  TEXT
);

-- What is owed to each subscription: one row per visit to ring about, sent by the hub's worker
-- (claimed, so that two hubs never send it twice), dropped once the push service took it or the
-- ring is too late to matter.
CREATE TABLE push_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    visit_id        BIGINT NOT NULL REFERENCES visits (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_until   TEXT,
    last_error      TEXT
);
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at);
