-- WebAuthn (W3C Web Authentication Level 2): passkeys and security keys (sqlite).

-- The user handle of each person who registered a credential (WebAuthn §5.4.3, user.id):
-- random, so that an authenticator stores nothing that names the person or their `sub`.
-- A UUID because that is the form webauthn-rs takes.
CREATE TABLE webauthn_handles (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    handle          TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL
);

-- Registered credentials, several per person. `passkey` is the webauthn-rs credential as
-- JSON: the public key and what the library checks at each assertion, nothing secret.
-- sign_count is the last signature counter accepted (WebAuthn §6.1.1); a later assertion
-- must show a greater one unless both are 0. backup_eligible and backed_up are the BE and
-- BS flags of the last authenticator data (WebAuthn Level 3 §6.1).
CREATE TABLE webauthn_credentials (
    credential_id   BLOB PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    passkey         TEXT NOT NULL,
    sign_count      INTEGER NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backed_up       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id);

-- Ceremonies in progress: the challenge and what webauthn-rs must remember about it, kept on
-- the server under the key of what started it (an interaction's hash, or a key the account
-- page chooses) and the ceremony's purpose. Taken, and so deleted, by the one response that
-- finishes it; an interaction's ceremony expires with the interaction.
CREATE TABLE webauthn_ceremonies (
    owner_key       BLOB NOT NULL,
    purpose         TEXT NOT NULL,
    user_id         TEXT REFERENCES users(id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (owner_key, purpose)
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);
