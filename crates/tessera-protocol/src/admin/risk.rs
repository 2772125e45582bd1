//! `GET /admin/v1/risk-policy`: how logins are scored and what a score decides.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The risk policy in force on the instance that answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RiskPolicy {
    /// Each signal's weight, 0 (off) to 100; a login's score is the sum of the weights of the
    /// signals that fired, at most 100.
    pub weights: RiskWeights,
    /// A score above this needs a second factor; a person without one is refused.
    pub mfa_above: i64,
    /// A score above this is refused, with a `risk.alert` event.
    pub refuse_above: i64,
    /// The fastest believable travel between two logins, km/h.
    pub travel_speed_kmh: i64,
    /// Successful logins needed before `unusual_hour` is scored.
    pub usual_hours_min_logins: i64,
    /// Failures on the account, or from the address, that fire `recent_failures`.
    pub recent_failures_min: i64,
    /// How recent, seconds, the last of those failures must be.
    pub recent_failures_window: i64,
    /// Days a network or country is remembered after the last successful login from it;
    /// after that, a login from it is `new_network` or `new_country` again.
    pub history_days: i64,
    /// Whether the GeoIP database that `new_country` and `impossible_travel` need is loaded.
    pub geoip: GeoIpStatus,
}

/// What each signal adds to a login's score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RiskWeights {
    pub new_device: i64,
    pub new_network: i64,
    pub new_country: i64,
    pub impossible_travel: i64,
    pub unusual_hour: i64,
    pub recent_failures: i64,
}

/// The GeoIP database's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GeoIpStatus {
    pub status: GeoIpState,
    /// With `on`: the database's own name for its kind, e.g. `GeoLite2-City`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_type: Option<String>,
    /// With `off`: why, and which signals cannot fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GeoIpState {
    On,
    Off,
}
