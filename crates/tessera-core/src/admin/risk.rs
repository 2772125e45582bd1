//! The risk policy through the admin API (scope `admin:audit:read`): what an auditor needs
//! to read the scores in the trail.

use tessera_protocol::admin::risk::{GeoIpState, GeoIpStatus, RiskPolicy, RiskWeights};

use crate::Provider;

/// The audit action of a read.
pub const READ: &str = "admin.risk_policy.read";

/// Why the GeoIP signals are off, in the admin API's words.
pub const GEOIP_OFF: &str = "no GeoIP database is configured (risk.geoip_database): \
     new_country and impossible_travel are off";

impl Provider {
    /// The policy this instance scores logins with.
    pub fn admin_risk_policy(&self) -> RiskPolicy {
        let settings = &self.inner.settings.risk;
        let w = &settings.weights;
        let geoip = match self.geoip() {
            Some(geoip) => GeoIpStatus {
                status: GeoIpState::On,
                database_type: Some(geoip.database_type().to_string()),
                reason: None,
            },
            None => GeoIpStatus {
                status: GeoIpState::Off,
                database_type: None,
                reason: Some(GEOIP_OFF.to_string()),
            },
        };
        RiskPolicy {
            weights: RiskWeights {
                new_device: w.new_device,
                new_network: w.new_network,
                new_country: w.new_country,
                impossible_travel: w.impossible_travel,
                unusual_hour: w.unusual_hour,
                recent_failures: w.recent_failures,
            },
            mfa_above: settings.mfa_above,
            refuse_above: settings.refuse_above,
            travel_speed_kmh: settings.travel_speed_kmh,
            usual_hours_min_logins: settings.usual_hours_min_logins,
            recent_failures_min: settings.recent_failures_min,
            recent_failures_window: settings.recent_failures_window,
            history_days: settings.history_days,
            geoip,
        }
    }
}
