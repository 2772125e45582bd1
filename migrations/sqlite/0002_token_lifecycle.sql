-- Token lifecycle (SQLite): refresh tokens, client metadata for new grants, client
-- authentication by private_key_jwt, logout, and signing-key activation times.

ALTER TABLE clients ADD COLUMN grant_types TEXT NOT NULL DEFAULT 'authorization_code';
ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN refresh_token_ttl INTEGER NOT NULL DEFAULT 2592000;
ALTER TABLE clients ADD COLUMN refresh_token_idle_ttl INTEGER NOT NULL DEFAULT 1209600;

-- The public, non-secret id of a session (`sid`, OIDC Front- and Back-Channel Logout).
ALTER TABLE sessions ADD COLUMN sid TEXT;
ALTER TABLE authorization_codes ADD COLUMN sid TEXT;

CREATE TABLE refresh_tokens (
    token_hash     BLOB PRIMARY KEY,
    family_id      TEXT NOT NULL,             -- every rotation of one grant shares it
    client_id      TEXT NOT NULL REFERENCES clients(id),
    user_id        TEXT REFERENCES users(id),
    scope          TEXT NOT NULL,
    auth_time      INTEGER NOT NULL,
    amr            TEXT NOT NULL,
    sid            TEXT,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,          -- absolute end of the family
    idle_expires_at INTEGER NOT NULL,
    used_at        INTEGER,                   -- set when rotated; a second use is theft
    revoked_at     INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

ALTER TABLE access_tokens ADD COLUMN refresh_family TEXT;
CREATE INDEX access_tokens_family ON access_tokens(refresh_family);
CREATE INDEX access_tokens_user ON access_tokens(user_id);

-- RFC 7523 §3: a client assertion's jti may be used once.
CREATE TABLE client_assertion_jtis (
    client_id      TEXT NOT NULL,
    jti            TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- Back-channel logout notifications waiting for delivery.
CREATE TABLE logout_deliveries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      TEXT NOT NULL,
    logout_token   TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at   INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX logout_deliveries_due ON logout_deliveries(delivered_at, next_attempt_at);

-- A key is published when created and signs from `activates_at` on.
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
