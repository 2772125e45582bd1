-- An unconfirmed TOTP secret belongs to the interaction that drew it: only that browser is
-- shown it again and may confirm it, so that someone else who knows the password and starts
-- an enrolment of their own never sees the secret the person will confirm.
ALTER TABLE totp_factors ADD COLUMN enrolling_interaction BLOB;
