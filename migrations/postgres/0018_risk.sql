-- Risk scoring (postgres): what a person's successful logins taught, and the assessment each
-- login carries to the tokens issued from it.

-- One row per person who has logged in since risk scoring began: the baseline. Without it,
-- no signal that compares with the past (device, network, country, travel, hour) is scored.
-- The place and time of the last successful login whose address had a location feed the
-- impossible-travel signal: millionths of a degree (integers: both engines store them
-- exactly) and the GeoIP database's accuracy radius; NULL until a login had a location.
CREATE TABLE risk_profiles (
    user_id              TEXT PRIMARY KEY REFERENCES users(id),
    first_login_at       BIGINT NOT NULL,
    last_place_at        BIGINT,
    last_latitude_e6     BIGINT,
    last_longitude_e6    BIGINT,
    last_accuracy_km     BIGINT
);

-- Successful logins per hour of the day (UTC, 0 to 23): the person's usual hours.
CREATE TABLE risk_login_hours (
    user_id   TEXT NOT NULL REFERENCES users(id),
    hour      BIGINT NOT NULL,
    logins    BIGINT NOT NULL,
    PRIMARY KEY (user_id, hour)
);

-- Address prefixes (IPv4 /24, IPv6 /48, as text such as 192.0.2.0/24) a person logged in from.
CREATE TABLE risk_networks (
    user_id       TEXT NOT NULL REFERENCES users(id),
    network       TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, network)
);

-- Countries (ISO 3166-1 alpha-2, from the GeoIP database) a person logged in from.
CREATE TABLE risk_countries (
    user_id       TEXT NOT NULL REFERENCES users(id),
    country       TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, country)
);

-- The assessment of a login (JSON: score, reasons, decision), from the password step to the
-- second factor (with what was observed, for learning once the login succeeds), then on the
-- session, the codes it issues and the refresh-token families they start, for the
-- urn:tessera:risk claim. NULL for rows written before scoring, or by a step-up.
ALTER TABLE interactions ADD COLUMN risk TEXT;
ALTER TABLE sessions ADD COLUMN risk TEXT;
ALTER TABLE authorization_codes ADD COLUMN risk TEXT;
ALTER TABLE refresh_tokens ADD COLUMN risk TEXT;
