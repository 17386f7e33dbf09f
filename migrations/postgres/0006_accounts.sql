-- Accounts that hold against a hostile user (#14): delegations the doctor accepted, sliding
-- sessions one can list and revoke, a second factor (TOTP).

-- A delegation takes effect once the doctor accepts it; one he creates himself is accepted at
-- once. Delegations granted before this migration by the doctor himself, or by the system
-- (NULL: the CLI, the demo), stay in force; those an admin granted wait for the doctor.
ALTER TABLE delegations ADD COLUMN accepted_at TEXT;
UPDATE delegations SET accepted_at = created_at WHERE granted_by IS NULL OR granted_by = doctor_id;

-- Sliding sessions: the last time the session was used (idle timeout), and what it was opened
-- from, so that a person can recognise and revoke her sessions.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
-- Set when the account must enrol a second factor before anything else (admins, when the
-- association requires it).
ALTER TABLE sessions ADD COLUMN restricted_at TEXT;
UPDATE sessions SET last_seen_at = created_at;

-- The second factor: a TOTP secret (RFC 6238, base32), in force once confirmed by a first code;
-- the last time step used, so that a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN password_changed_at TEXT;
