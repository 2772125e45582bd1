-- Step-up authentication (sqlite).

-- The session (SHA-256 of its id) whose person owes a second factor in this interaction,
-- without giving the password again: the step may finish only while the browser still
-- presents that live session, and it replaces that session with a new one.
ALTER TABLE interactions ADD COLUMN step_up_session BLOB;
