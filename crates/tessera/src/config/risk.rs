//! The `[risk]` section: how logins are scored and what a score decides (see
//! `tessera_core::risk`). In the environment, `TESSERA_RISK__MFA_ABOVE=50` or
//! `TESSERA_RISK__WEIGHTS__NEW_DEVICE=10` set one value.
//!
//! Why the defaults are what they are. Each signal's weight says how much it alone suggests
//! that someone else holds the password, and the thresholds (40 for a second factor, 80 for
//! a refusal) are set so that:
//! - a new laptop (20), even used first in a café or a hotel (20 + 15 = 35), lets its owner
//!   in as before: people change devices and networks all the time;
//! - the same abroad (35 + 25 = 60) asks for a second factor; a new device after several
//!   failed passwords (20 + 20 = 40) still passes, and any further signal tips it over;
//! - impossible travel (50) asks for a second factor on its own, since a VPN or a mobile
//!   network can place an address far from its owner; together with a country never seen
//!   (50 + 25 = 75) and a network never seen (75 + 15 = 90), the classic use of a stolen
//!   password from abroad, it is refused;
//! - an unusual hour (10) only ever tips a score that other signals raised.

use std::path::PathBuf;

use anyhow::bail;
use serde::{Deserialize, Serialize};
use tessera_core::risk::{RiskSettings, RiskWeights};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// A MaxMind-format database (GeoIP2 or GeoLite2 City) to find an address's country and
    /// place. Without one, `new_country` and `impossible_travel` are off, the log says so
    /// at start, and so does `GET /admin/v1/risk-policy`. Default: none.
    pub geoip_database: Option<PathBuf>,
    /// A score above this needs a second factor, whatever the client's policy; a person
    /// without one is refused (never enrolled on a risky login). 0 to 100; 100 turns it
    /// off. Default 40.
    pub mfa_above: i64,
    /// A score above this is refused, and a `risk.alert` event is written. `mfa_above` to
    /// 100; 100 turns it off. Default 80.
    pub refuse_above: i64,
    /// The fastest believable travel between two logins, km/h; faster is
    /// `impossible_travel`. 100 to 100000. Default 1000 (an airliner, with some margin).
    pub travel_speed_kmh: i64,
    /// Successful logins the hour-of-day history needs before `unusual_hour` is scored.
    /// 1 to 10000. Default 10.
    pub usual_hours_min_logins: i64,
    /// Failed attempts on the account, or from the address, that fire `recent_failures`.
    /// 1 to 1000. Default 3.
    pub recent_failures_min: i64,
    /// How recent, seconds, the last of those failures must be. 60 to 604800. Default 3600.
    pub recent_failures_window: i64,
    /// Days a network or country is remembered after the last successful login from it;
    /// then it is forgotten, and a login from it fires `new_network` or `new_country` again.
    /// 30 to 3650. Default 400: the device cookie's life (RFC 6265bis §5.5 caps a cookie at
    /// 400 days), so that a place is remembered as long as the browser used there can be.
    pub history_days: i64,
    /// Each signal's weight.
    pub weights: WeightsConfig,
}

/// `[risk.weights]`: what each signal adds to the score, 0 (off) to 100.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightsConfig {
    /// The browser (its device cookie) was never used by the person. Default 20.
    pub new_device: i64,
    /// The address's prefix (IPv4 /24, IPv6 /48) was never the person's. Default 15.
    pub new_network: i64,
    /// The GeoIP country was never the person's (needs `geoip_database`). Default 25.
    pub new_country: i64,
    /// Faster than `travel_speed_kmh` from the place of the last successful login whose
    /// address had one (needs `geoip_database`, City edition). Default 50.
    pub impossible_travel: i64,
    /// No earlier login within an hour of this time of day (UTC). Default 10.
    pub unusual_hour: i64,
    /// At least `recent_failures_min` failures within `recent_failures_window`.
    /// Default 20.
    pub recent_failures: i64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        let core = RiskSettings::default();
        Self {
            geoip_database: None,
            mfa_above: core.mfa_above,
            refuse_above: core.refuse_above,
            travel_speed_kmh: core.travel_speed_kmh,
            usual_hours_min_logins: core.usual_hours_min_logins,
            recent_failures_min: core.recent_failures_min,
            recent_failures_window: core.recent_failures_window,
            history_days: core.history_days,
            weights: WeightsConfig::from(core.weights),
        }
    }
}

impl Default for WeightsConfig {
    fn default() -> Self {
        Self::from(RiskSettings::default().weights)
    }
}

impl From<RiskWeights> for WeightsConfig {
    fn from(weights: RiskWeights) -> Self {
        Self {
            new_device: weights.new_device,
            new_network: weights.new_network,
            new_country: weights.new_country,
            impossible_travel: weights.impossible_travel,
            unusual_hour: weights.unusual_hour,
            recent_failures: weights.recent_failures,
        }
    }
}

impl RiskConfig {
    /// Every value within its range, and the GeoIP file present when one is named.
    pub fn validate(&self) -> anyhow::Result<()> {
        let w = &self.weights;
        let ranges = [
            ("risk.weights.new_device", w.new_device, 0, 100),
            ("risk.weights.new_network", w.new_network, 0, 100),
            ("risk.weights.new_country", w.new_country, 0, 100),
            (
                "risk.weights.impossible_travel",
                w.impossible_travel,
                0,
                100,
            ),
            ("risk.weights.unusual_hour", w.unusual_hour, 0, 100),
            ("risk.weights.recent_failures", w.recent_failures, 0, 100),
            ("risk.mfa_above", self.mfa_above, 0, 100),
            ("risk.refuse_above", self.refuse_above, self.mfa_above, 100),
            ("risk.travel_speed_kmh", self.travel_speed_kmh, 100, 100_000),
            (
                "risk.usual_hours_min_logins",
                self.usual_hours_min_logins,
                1,
                10_000,
            ),
            (
                "risk.recent_failures_min",
                self.recent_failures_min,
                1,
                1000,
            ),
            (
                "risk.recent_failures_window",
                self.recent_failures_window,
                60,
                604_800,
            ),
            ("risk.history_days", self.history_days, 30, 3650),
        ];
        for (name, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                bail!("invalid setting `{name}` ({value}): expected {min} to {max}");
            }
        }
        if let Some(path) = &self.geoip_database {
            if !path.is_file() {
                bail!(
                    "invalid setting `risk.geoip_database`: {} is not a file",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// The domain's settings.
    pub fn settings(&self) -> RiskSettings {
        let w = &self.weights;
        RiskSettings {
            weights: RiskWeights {
                new_device: w.new_device,
                new_network: w.new_network,
                new_country: w.new_country,
                impossible_travel: w.impossible_travel,
                unusual_hour: w.unusual_hour,
                recent_failures: w.recent_failures,
            },
            mfa_above: self.mfa_above,
            refuse_above: self.refuse_above,
            travel_speed_kmh: self.travel_speed_kmh,
            usual_hours_min_logins: self.usual_hours_min_logins,
            recent_failures_min: self.recent_failures_min,
            recent_failures_window: self.recent_failures_window,
            history_days: self.history_days,
            geoip_database: self.geoip_database.clone(),
        }
    }
}
