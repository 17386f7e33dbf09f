-- Addresses: Base Adresse Nationale files imported with `chevet import addresses`, shared by every
-- hub of the association; each hub builds its in-memory search index (src/address.rs) from them.

-- One row per imported file. Re-importing a département replaces its addresses.
CREATE TABLE address_imports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The file it came from (name only).
    file         TEXT NOT NULL,
    -- The départements it covers, comma-separated (`38`, `2A`, `974`).
    departments  TEXT NOT NULL,
    addresses    BIGINT NOT NULL,
    -- Addresses of earlier imports of these départements that it replaced.
    replaced     BIGINT NOT NULL,
    imported_at  TEXT NOT NULL
);

CREATE TABLE addresses (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    import_id    BIGINT NOT NULL REFERENCES address_imports (id),
    -- From the commune code: `38`, `2A`, `974`.
    department   TEXT NOT NULL,
    -- The BAN identifier, when the file has one.
    ban_id       TEXT,
    housenumber  BIGINT NOT NULL,
    -- Repetition index, lowercase: '' (none), 'bis', 'ter', 'a', ...
    rep          TEXT NOT NULL,
    street       TEXT NOT NULL,
    -- Five digits, or '' when BAN has none.
    postcode     TEXT NOT NULL,
    -- INSEE code of the commune.
    citycode     TEXT NOT NULL,
    city         TEXT NOT NULL,
    -- The former commune, for a commune nouvelle.
    old_city     TEXT,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL
);
CREATE INDEX addresses_department ON addresses (department);
