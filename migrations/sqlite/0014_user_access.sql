-- The admin API's view of a person's sessions and refresh tokens (sqlite).

-- Sessions are named to admins by their public `sid`, which every session has had since
-- 0004; a session that an older version started and that has not expired yet gets one now,
-- so that none is beyond an admin's reach. 16 random bytes in hex, as new ones are.
UPDATE sessions SET sid = lower(hex(randomblob(16))) WHERE sid IS NULL;
CREATE UNIQUE INDEX sessions_sid ON sessions(sid);

-- Ending one session revokes the refresh tokens issued through it.
CREATE INDEX refresh_tokens_sid ON refresh_tokens(sid);
