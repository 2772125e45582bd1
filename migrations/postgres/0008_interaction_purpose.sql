-- Why an interaction exists (postgres): 'authorization' (an app's authorization request, kept in
-- `request`, the only kind that can end in a code) or 'account' (the person's own account
-- page: a login, a re-authentication or an authenticator setup that returns to /account).
-- Rows written before this migration are all authorization requests.
ALTER TABLE interactions ADD COLUMN purpose TEXT NOT NULL DEFAULT 'authorization';
