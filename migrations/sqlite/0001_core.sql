-- Tessera core schema (SQLite). Times are Unix seconds (UTC); booleans are 0/1 integers.
-- Secrets (authorization codes, session and interaction ids, client secrets) are stored
-- only as SHA-256 digests; private keys only encrypted with the key-encryption key.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,          -- also the OIDC `sub`; random, never reused
    username       TEXT NOT NULL,             -- as the person typed it
    username_key   TEXT NOT NULL UNIQUE,      -- RFC 8265 UsernameCaseMapped form
    email          TEXT,
    email_verified INTEGER NOT NULL DEFAULT 0,
    display_name   TEXT,
    password_hash  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    secret_hash    BLOB,                      -- NULL for public clients
    redirect_uris  TEXT NOT NULL,             -- JSON array of exact strings
    allowed_scope  TEXT NOT NULL,
    id_token_alg   TEXT NOT NULL,
    first_party    INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL,
    private_key    BLOB NOT NULL,             -- AES-256-GCM(nonce || ciphertext) of the DER key
    public_jwk     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    retired_at     INTEGER
);

CREATE TABLE sessions (
    id_hash        BLOB PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    auth_time      INTEGER NOT NULL,
    amr            TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE interactions (
    id_hash        BLOB PRIMARY KEY,
    request        TEXT NOT NULL,             -- the validated authorization request, JSON
    authenticated_at INTEGER,                 -- set when a login completed within it
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash      BLOB PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      INTEGER NOT NULL,
    amr            TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    redeemed_at    INTEGER
);

CREATE TABLE access_tokens (
    jti            TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients(id),
    user_id        TEXT REFERENCES users(id),
    scope          TEXT NOT NULL,
    code_hash      BLOB,                      -- the code it was issued for, to revoke on replay
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX access_tokens_code ON access_tokens(code_hash);

CREATE TABLE consents (
    user_id        TEXT NOT NULL REFERENCES users(id),
    client_id      TEXT NOT NULL REFERENCES clients(id),
    scope          TEXT NOT NULL,
    granted_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at    INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    user_id        TEXT,
    client_id      TEXT,
    source_ip      TEXT,
    user_agent     TEXT,
    request_id     TEXT,
    detail         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_user ON audit_events(user_id, occurred_at);
CREATE INDEX audit_events_client ON audit_events(client_id, occurred_at);
