-- The admin REST API (sqlite).

-- Admin rights come from roles (built into Tessera, see tessera-core's admin::Role); a
-- person holds a role only through a row here. Nobody holds one by default.
CREATE TABLE user_roles (
    user_id        TEXT NOT NULL REFERENCES users(id),
    role           TEXT NOT NULL,
    granted_at     BIGINT NOT NULL,
    granted_by     TEXT,                       -- the admin (user or client id), NULL from the CLI
    PRIMARY KEY (user_id, role)
);

-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): the first answer to a
-- creation, replayed to a retry of the same request by the same caller. The body may hold a
-- secret shown once (a client secret), so it is kept only sealed with the key-encryption
-- key, and only for a day.
CREATE TABLE idempotency_keys (
    principal      TEXT NOT NULL,              -- who asked: "user:<id>" or "client:<id>"
    idem_key       TEXT NOT NULL,
    request_hash   BLOB NOT NULL,             -- SHA-256 of method, path and body
    status         BIGINT NOT NULL,
    location       TEXT,
    etag           TEXT,
    response       BLOB NOT NULL,             -- AES-256-GCM sealed body
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);

-- Optimistic concurrency (ETag / If-Match): every change to a row bumps its version.
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN updated_at BIGINT;

-- A deleted person keeps a tombstone row, so that their `sub` is never given to anyone
-- else (OIDC Core §2); everything else about them is erased.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
-- Set by an admin's password reset: the next login must choose a new password.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

-- Secret rotation: the previous secret stays valid until the grace period the admin chose.
ALTER TABLE clients ADD COLUMN previous_secret_hash BLOB;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at BIGINT;
