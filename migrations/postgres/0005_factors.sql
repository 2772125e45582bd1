-- Second factors and the server-side login state machine (postgres).

-- One TOTP authenticator per person (RFC 6238). The secret is sealed with the
-- key-encryption key, its user id as associated data. It counts only once confirmed by a
-- valid code. last_step is the last accepted time step: a code of that step or an older one
-- is refused, so each code works once.
CREATE TABLE totp_factors (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed  BYTEA NOT NULL,
    last_step      BIGINT NOT NULL DEFAULT -1,
    confirmed_at   BIGINT,
    created_at     BIGINT NOT NULL
);

-- Single-use recovery codes, stored as SHA-256: they are random, 60 bits each.
CREATE TABLE recovery_codes (
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash      BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    used_at        BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Wrong second-factor codes since the last right one, per account: the throttle.
ALTER TABLE users ADD COLUMN factor_failures BIGINT NOT NULL DEFAULT 0;

-- Whether the client demands a second factor: 'required', 'optional', or 'default' (the
-- global setting mfa_default decides).
ALTER TABLE clients ADD COLUMN mfa TEXT NOT NULL DEFAULT 'default';

-- The person whose password was verified in this interaction, waiting for their second
-- factor. No session exists until the factor is verified.
ALTER TABLE interactions ADD COLUMN pending_user_id TEXT;
ALTER TABLE interactions ADD COLUMN password_verified_at BIGINT;
-- Wrong second-factor codes within this interaction: at five the interaction ends.
ALTER TABLE interactions ADD COLUMN factor_failures BIGINT NOT NULL DEFAULT 0;
