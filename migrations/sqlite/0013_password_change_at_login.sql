-- A password an administrator set with "must change" (admin API, PUT /users/{id}/password)
-- is replaced at the person's next login, after the password step and before anything else.
-- Until then the interaction remembers whose password was verified; no session exists and
-- no second-factor step is open for them.
ALTER TABLE interactions ADD COLUMN password_change_user_id TEXT;
