-- wrk script: a client credentials token request (RFC 6749 §4.4) with HTTP Basic.
-- The credentials come from the environment rather than -H, so they stay out of `ps`.
local basic = os.getenv("BENCH_BASIC_CREDENTIALS")
if basic == nil or basic == "" then
  error("BENCH_BASIC_CREDENTIALS is not set")
end
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. basic
