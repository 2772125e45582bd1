-- Devices and the audit trail's device, session and risk columns (postgres).

-- A device is a browser as its long-lived signed device cookie names it; `device_id` is the
-- public id derived from the cookie, never the cookie itself. One row per person and device:
-- the same browser is a different device record for each person who signs in on it.
CREATE TABLE devices (
    user_id        TEXT NOT NULL REFERENCES users(id),
    device_id      TEXT NOT NULL,
    user_agent     TEXT,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    last_ip        TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- Every session opened from a device, by its public `sid`. Kept after the session expires,
-- until the device is ended or the person deleted, because refresh tokens outlive the session
-- they were issued through and ending a device must still find them.
CREATE TABLE device_sessions (
    sid            TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    device_id      TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX device_sessions_device ON device_sessions(user_id, device_id);

ALTER TABLE audit_events ADD COLUMN device_id TEXT;
ALTER TABLE audit_events ADD COLUMN session_id TEXT;
ALTER TABLE audit_events ADD COLUMN risk_score BIGINT;
ALTER TABLE audit_events ADD COLUMN risk_reasons TEXT;
