-- Risk history retention (postgres): the janitor forgets the networks and countries a person has
-- not logged in from for `risk.history_days`, in batches chosen by their last sighting.
CREATE INDEX risk_networks_last_seen ON risk_networks(last_seen_at);
CREATE INDEX risk_countries_last_seen ON risk_countries(last_seen_at);
