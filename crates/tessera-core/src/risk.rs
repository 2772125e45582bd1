//! Risk scoring of logins, and what the score decides.
//!
//! A login is scored once its person is known by a right secret (a password, or a passkey
//! alone), before any session exists. Each signal that fires adds its configured weight;
//! the score is their sum, at most 100, and it decides ([`RiskSettings::decide`]):
//! - at most `mfa_above`: the login goes on as it would have;
//! - above it: a second factor is owed, whatever the client's policy. A person who has one
//!   gives it (as they always do); a person without one is refused with a message saying
//!   why, and is never enrolled on the spot, since whoever holds the password may be the
//!   attacker (NIST SP 800-63B §6.1.2.1: an authenticator is bound only in an authenticated
//!   session, and this one is not trusted);
//! - above `refuse_above`: the attempt is refused, with the page's one message for a failed
//!   login, and a `risk.alert` event is written beside the failed login's.
//!
//! The signals ([`Signal`]) compare the login with the person's past successful ones; see
//! [`evaluate`] for each rule. Without a past there is nothing to compare with: a person's
//! first login since scoring began fires none of the history signals (only recent failures
//! count) and becomes their baseline. Only successful logins teach, and only after their
//! second factor when one was owed, in the transaction that opens the session
//! ([`Provider::learn_login`](crate::Provider)), so that an attacker stopped at the second
//! factor or refused teaches nothing. A network or country unused for `history_days` is
//! forgotten by the janitor ([`crate::maintenance`]): the next login from it is new again.
//!
//! The assessment travels with the login: on the interaction from the password step to the
//! second factor, then on the session, the codes it issues and the refresh-token families
//! they start, and into the ID token as the `urn:tessera:risk` claim when the request asked
//! for that scope ([`RISK_SCOPE`]). A session used for single sign-on from another network
//! than its login's is scored again: one that looks stolen serves nothing, and a request it
//! does serve is recorded with the new score
//! ([`Provider::session_risk_holds`](crate::Provider)).

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tessera_store::{LoginLesson, RiskHistory, StoredPlace, HOURS};

mod assess;
pub mod geoip;

pub(crate) use assess::{mark, refusal, SessionRisk};

pub use tessera_protocol::claims::RISK_SCOPE;

/// One reason a login looks risky. The names are what audit events and the claim carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The person never logged in from this browser (its device cookie).
    NewDevice,
    /// The person never logged in from this address prefix (IPv4 /24, IPv6 /48).
    NewNetwork,
    /// The person never logged in from this country (GeoIP).
    NewCountry,
    /// Getting here from the last login's place would have taken a speed above the limit.
    ImpossibleTravel,
    /// A login outside the hours of the day the person logs in at.
    UnusualHour,
    /// Failed attempts on the account or from the address, lately.
    RecentFailures,
}

impl Signal {
    pub const ALL: [Signal; 6] = [
        Signal::NewDevice,
        Signal::NewNetwork,
        Signal::NewCountry,
        Signal::ImpossibleTravel,
        Signal::UnusualHour,
        Signal::RecentFailures,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewDevice => "new_device",
            Self::NewNetwork => "new_network",
            Self::NewCountry => "new_country",
            Self::ImpossibleTravel => "impossible_travel",
            Self::UnusualHour => "unusual_hour",
            Self::RecentFailures => "recent_failures",
        }
    }

    /// Whether the signal needs a GeoIP database.
    pub fn needs_geoip(self) -> bool {
        matches!(self, Self::NewCountry | Self::ImpossibleTravel)
    }
}

/// What a score decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskDecision {
    /// The login goes on as it would have.
    Allow,
    /// A second factor is owed; a person without one is refused.
    Mfa,
    /// The attempt is refused and an alert is raised.
    Refuse,
}

impl RiskDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Mfa => "mfa",
            Self::Refuse => "refuse",
        }
    }
}

/// The weight of each signal, 0 to 100; 0 turns a signal off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskWeights {
    pub new_device: i64,
    pub new_network: i64,
    pub new_country: i64,
    pub impossible_travel: i64,
    pub unusual_hour: i64,
    pub recent_failures: i64,
}

impl RiskWeights {
    pub fn of(&self, signal: Signal) -> i64 {
        match signal {
            Signal::NewDevice => self.new_device,
            Signal::NewNetwork => self.new_network,
            Signal::NewCountry => self.new_country,
            Signal::ImpossibleTravel => self.impossible_travel,
            Signal::UnusualHour => self.unusual_hour,
            Signal::RecentFailures => self.recent_failures,
        }
    }
}

/// The risk policy; every default is the binary's configuration's, which says why.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskSettings {
    pub weights: RiskWeights,
    /// A score above this owes a second factor. Default 40.
    pub mfa_above: i64,
    /// A score above this is refused. Default 80; 100 refuses nothing.
    pub refuse_above: i64,
    /// The fastest believable travel between two logins, km/h. Default 1000.
    pub travel_speed_kmh: i64,
    /// Successful logins the hour-of-day history needs before `unusual_hour` is scored.
    /// Default 10.
    pub usual_hours_min_logins: i64,
    /// Failed attempts (on the account, or from the address) that fire `recent_failures`.
    /// Default 3.
    pub recent_failures_min: i64,
    /// How recent, seconds, the last of those failures must be. Default 3600.
    pub recent_failures_window: i64,
    /// Days a network or country is remembered after the last successful login from it;
    /// then the janitor forgets it, and the next login from it is new again. Default 400.
    pub history_days: i64,
    /// A MaxMind-format database (GeoIP2 or GeoLite2 City) for countries and places.
    /// Default none: `new_country` and `impossible_travel` are off.
    pub geoip_database: Option<PathBuf>,
}

impl Default for RiskSettings {
    fn default() -> Self {
        Self {
            weights: RiskWeights {
                new_device: 20,
                new_network: 15,
                new_country: 25,
                impossible_travel: 50,
                unusual_hour: 10,
                recent_failures: 20,
            },
            mfa_above: 40,
            refuse_above: 80,
            travel_speed_kmh: 1000,
            usual_hours_min_logins: 10,
            recent_failures_min: 3,
            recent_failures_window: 3600,
            history_days: 400,
            geoip_database: None,
        }
    }
}

/// The highest score; the sum of the weights is cut to it.
pub const MAX_SCORE: i64 = 100;

impl RiskSettings {
    /// What `score` decides: "above" is strictly above, so a threshold of 100 never fires.
    pub fn decide(&self, score: i64) -> RiskDecision {
        if score > self.refuse_above {
            return RiskDecision::Refuse;
        }
        if score > self.mfa_above {
            return RiskDecision::Mfa;
        }
        RiskDecision::Allow
    }

    /// The last sighting at or before which a network or country is forgotten at `now`: one
    /// last seen exactly `history_days` ago is no longer remembered.
    pub fn history_cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(self.history_days.saturating_mul(DAY))
    }
}

/// Seconds in a day.
const DAY: i64 = 24 * 3600;

/// A place on Earth, from the GeoIP database.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub latitude: f64,
    pub longitude: f64,
    /// The database's radius around the point within which the address likely is, km.
    pub accuracy_km: f64,
}

/// Micro-degrees: the stored unit of latitude and longitude.
const MICRO: f64 = 1_000_000.0;

impl Place {
    fn from_stored(stored: StoredPlace) -> Self {
        // Micro-degrees of a latitude or longitude are within ±1.8e8, exact in an f64.
        Self {
            latitude: stored.latitude_e6 as f64 / MICRO,
            longitude: stored.longitude_e6 as f64 / MICRO,
            accuracy_km: stored.accuracy_km as f64,
        }
    }

    fn to_stored(self) -> StoredPlace {
        // `as` saturates, and GeoIP coordinates are within ±180 degrees anyway.
        StoredPlace {
            latitude_e6: (self.latitude * MICRO).round() as i64,
            longitude_e6: (self.longitude * MICRO).round() as i64,
            accuracy_km: self.accuracy_km.round() as i64,
        }
    }
}

/// The mean radius of the Earth, km (IUGG): the great-circle distances below assume a
/// sphere, off by at most half a percent, far less than GeoIP's own error.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The great-circle distance between two places, km (the haversine formula).
pub fn distance_km(from: &Place, to: &Place) -> f64 {
    let (lat1, lat2) = (from.latitude.to_radians(), to.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (to.longitude - from.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Whether going from `from` at `from_at` to `to` at `now` needed more than `speed_kmh`.
///
/// Each place is only known within its accuracy radius, so the distance that must have been
/// travelled is the distance between the points less both radii; a country-level location
/// (the centre of a large country, with a radius of hundreds of kilometres) then never
/// makes a person who stayed home look like a traveller. Two logins within the same second
/// count as one second apart.
pub fn impossible_travel(from: &Place, from_at: i64, to: &Place, now: i64, speed_kmh: i64) -> bool {
    let slack = from.accuracy_km + to.accuracy_km;
    let travelled = distance_km(from, to) - slack;
    if travelled <= 0.0 {
        return false;
    }
    let hours = now.saturating_sub(from_at).max(1) as f64 / 3600.0;
    travelled / hours > speed_kmh as f64
}

/// The hour of the day (UTC, 0 to 23) of a Unix time.
pub fn hour_of(now: i64) -> usize {
    // rem_euclid is within 0..86400, so the hour is within 0..24.
    usize::try_from(now.rem_euclid(86_400) / 3600).unwrap_or(0)
}

/// Whether `hour` is outside the person's usual hours: nobody's history says much before
/// `min_logins` logins, and a login counts as usual when an earlier one fell within an hour
/// of it either side (23:00 and 01:00 are neighbours of midnight), so that a person who
/// logs in at 08:55 one day and 09:05 the next is not flagged.
pub fn unusual_hour(hours: &[i64; HOURS], hour: usize, min_logins: i64) -> bool {
    if hours.iter().sum::<i64>() < min_logins {
        return false;
    }
    let near = [hour + HOURS - 1, hour, hour + 1].map(|h| hours[h % HOURS]);
    near.iter().all(|&logins| logins == 0)
}

/// The prefix a login's address is remembered by: an IPv4 address by its /24, an IPv6
/// address by its /48 (an IPv4-mapped IPv6 address is the IPv4 address it maps).
///
/// Why these: a /24 is the smallest IPv4 block routed on the Internet, so one household,
/// office or mobile gateway stays inside it while its address is reassigned, and a
/// neighbour's /24 is already another network. An IPv6 site is given a /48 (RFC 6177,
/// RIPE-690 recommend /48 or /56 per customer); inside it the /64 and the host part change
/// all the time (privacy addresses, RFC 8981), so anything longer would flag a person at
/// home as new every day.
pub fn network_of(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => match ipnet::Ipv4Net::new(v4, 24) {
            Ok(net) => net.trunc().to_string(),
            // A prefix of 24 is always valid for IPv4.
            Err(_) => v4.to_string(),
        },
        IpAddr::V6(v6) => match ipnet::Ipv6Net::new(v6, 48) {
            Ok(net) => net.trunc().to_string(),
            // A prefix of 48 is always valid for IPv6.
            Err(_) => v6.to_string(),
        },
    }
}

/// What was learned about a login when it was scored, and is learned from it if it succeeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// The hour of the day (UTC); 0, the default, is left out of the stored form.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hour: usize,
}

fn is_zero(hour: &usize) -> bool {
    *hour == 0
}

/// Everything the scoring of one login reads, gathered beforehand (see
/// [`Provider::assess_login`](crate::Provider)), so that [`evaluate`] is a pure function.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The person's past successful logins; `None` before the first one (no baseline).
    pub history: Option<RiskHistory>,
    /// Whether the person used this browser's device before.
    pub device_known: bool,
    /// Whether they logged in from this network before; `None` when the address is unknown.
    pub network_known: Option<bool>,
    /// Whether they logged in from this country before; `None` without GeoIP, or when the
    /// database does not know the address: an unknown country is not a new one.
    pub country_known: Option<bool>,
    /// Where the login comes from, when GeoIP knows.
    pub place: Option<Place>,
    /// Failed attempts on the account, or from the address (the larger), within the window.
    pub recent_failures: i64,
}

/// A login's score, why, and what it decides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub score: i64,
    pub reasons: Vec<Signal>,
    pub decision: RiskDecision,
    /// What the login looked like, for learning; not part of the claim, and never stored
    /// beyond the interaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observation>,
}

/// Scores a login from `facts` at `now`. Each signal is its own rule:
/// - without a history (the person's first login since scoring began), only
///   `recent_failures` is scored: a first device, network or country is not new against
///   nothing, and there is no last place to have travelled from;
/// - `new_device`: the browser's device was never used by the person;
/// - `new_network`: the address prefix ([`network_of`]) was never theirs;
/// - `new_country`: the GeoIP country was never theirs;
/// - `impossible_travel`: see [`impossible_travel`], from the last successful login whose
///   address had a location;
/// - `unusual_hour`: see [`unusual_hour`];
/// - `recent_failures`: at least `recent_failures_min` failures.
///
/// A signal whose weight is 0 is off: it neither counts nor appears among the reasons.
pub fn evaluate(facts: &Facts, settings: &RiskSettings, now: i64) -> (i64, Vec<Signal>) {
    let mut fired = Vec::new();

    if let Some(history) = &facts.history {
        if !facts.device_known {
            fired.push(Signal::NewDevice);
        }

        if facts.network_known == Some(false) {
            fired.push(Signal::NewNetwork);
        }

        if facts.country_known == Some(false) {
            fired.push(Signal::NewCountry);
        }

        let travelled = match (history.last_place, &facts.place) {
            (Some((last, at)), Some(here)) => impossible_travel(
                &Place::from_stored(last),
                at,
                here,
                now,
                settings.travel_speed_kmh,
            ),
            _ => false,
        };
        if travelled {
            fired.push(Signal::ImpossibleTravel);
        }

        if unusual_hour(
            &history.hours,
            hour_of(now),
            settings.usual_hours_min_logins,
        ) {
            fired.push(Signal::UnusualHour);
        }
    }

    if facts.recent_failures >= settings.recent_failures_min.max(1) {
        fired.push(Signal::RecentFailures);
    }

    fired.retain(|signal| settings.weights.of(*signal) > 0);
    let sum: i64 = fired.iter().map(|s| settings.weights.of(*s)).sum();
    (sum.min(MAX_SCORE), fired)
}

impl Assessment {
    /// Scores `facts` and decides.
    pub fn of(facts: &Facts, settings: &RiskSettings, observed: Observation, now: i64) -> Self {
        let (score, reasons) = evaluate(facts, settings, now);
        Self {
            score,
            reasons,
            decision: settings.decide(score),
            observed: Some(observed),
        }
    }

    /// The reason names as a JSON array, for audit events.
    pub fn reasons_json(&self) -> String {
        serde_json::to_string(&self.reasons).unwrap_or_else(|_| "[]".to_string())
    }

    /// The stored form of the whole assessment, kept on the interaction.
    pub(crate) fn to_stored(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    /// The stored form a session, its codes and refresh tokens keep: score, reasons and
    /// decision for the claim, and of what was observed only the network, against which a
    /// later use of the session is compared ([`Provider::session_risk_holds`]); the place and
    /// country stay with the interaction.
    ///
    /// [`Provider::session_risk_holds`]: crate::Provider
    pub(crate) fn session_stored(&self) -> Option<String> {
        let network = self.observed.as_ref().and_then(|o| o.network.clone());
        let kept = Self {
            observed: network.map(|network| Observation {
                network: Some(network),
                ..Observation::default()
            }),
            ..self.clone()
        };
        serde_json::to_string(&kept).ok()
    }

    /// The network of the login this assessment scored, when its address was known.
    pub(crate) fn network(&self) -> Option<&str> {
        self.observed.as_ref()?.network.as_deref()
    }

    /// Reads a stored assessment; `None` when absent or unreadable (it is then as if the
    /// login had not been scored).
    pub(crate) fn from_stored(stored: Option<&str>) -> Option<Self> {
        stored.and_then(|text| serde_json::from_str(text).ok())
    }

    /// What a successful login teaches, in the store's terms.
    pub(crate) fn lesson(&self) -> Option<LoginLesson<'_>> {
        let observed = self.observed.as_ref()?;
        Some(LoginLesson {
            network: observed.network.as_deref(),
            country: observed.country.as_deref(),
            place: observed.place.map(Place::to_stored),
            hour: i64::try_from(observed.hour).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests;
