-- private_key_jwt and logout (sqlite).

-- How the client authenticates at the token endpoint (RFC 7591 §2,
-- token_endpoint_auth_method). Existing clients keep what their secret implies.
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic';
UPDATE clients SET token_endpoint_auth_method = 'none' WHERE secret_hash IS NULL;

-- The clients that were given codes in a session, so that logout can notify each of them
-- (OIDC Back-Channel Logout §2.7). Kept as long as the session may live.
CREATE TABLE session_clients (
    sid            TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX session_clients_expiry ON session_clients(expires_at);
