-- Brute-force defence (postgres): failed secrets counted per subject, shared by every instance.

-- One row per throttled subject. kind says what the subject is: 'password' (a normalised
-- username, whether or not such an account exists), 'factor' (an account's second-factor
-- codes, by user id), 'client' (a client's secret or assertion, by client id) or 'address'
-- (a source address; an IPv6 one by its /64). subject is the SHA-256 of the subject, so a
-- username typed by mistake (sometimes a password) is never kept as typed.
--
-- failures counts attempts charged since the last success, including attempts still being
-- checked; last_at is when the last one was charged. The delay before the next attempt is
-- computed from both; a row whose last_at is older than the forget period counts as none
-- and is purged.
CREATE TABLE throttle_counters (
    kind      TEXT NOT NULL,
    subject   BYTEA NOT NULL,
    failures  BIGINT NOT NULL,
    last_at   BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX throttle_counters_last_at ON throttle_counters (last_at);

-- users.factor_failures (0005) counted wrong codes towards a permanent lock at a hundred;
-- the delays above replace it, and the column is no longer counted.
