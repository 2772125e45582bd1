-- wrk script: sends the benchmark's access token with every request.
-- The token is read from the environment rather than given with -H, so it stays out of `ps`.
local token = os.getenv("BENCH_ACCESS_TOKEN")
if token == nil or token == "" then
  error("BENCH_ACCESS_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
