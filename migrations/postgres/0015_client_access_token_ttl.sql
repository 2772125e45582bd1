-- Per-client access-token lifetime, set through the admin API (seconds). NULL keeps the
-- provider's `access_token_ttl` setting, so existing clients do not change.
ALTER TABLE clients ADD COLUMN access_token_ttl BIGINT;
