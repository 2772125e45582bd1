//! Tessera's domain: what an OpenID Provider decides, independent of HTTP.
//!
//! Handlers in the server crate parse a request, call one function here with the time of
//! the request, and map the result to a response. Every function takes "now" as an
//! argument, so expiry rules are tested with a fixed clock.

pub mod account;
pub mod accounts;
pub mod acr;
pub mod admin;
pub mod audit;
pub mod authorize;
pub mod backchannel;
mod bearer;
pub mod client_assertion;
pub mod client_auth;
pub mod client_credentials;
pub mod client_keys;
pub mod context;
pub mod device;
pub mod devices;
pub mod discovery;
pub mod interaction;
pub mod introspection;
pub mod keys;
pub mod logout;
pub mod maintenance;
pub mod mfa;
pub mod outbound;
pub mod password;
pub mod password_change;
pub mod password_policy;
pub mod provider;
pub mod published;
pub mod purpose;
pub mod recovery;
pub mod refresh;
pub mod refusal;
pub mod revocation;
pub mod risk;
pub mod second_factor;
pub mod secret;
pub mod settings;
pub mod step_up;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod userinfo;
pub mod username;
pub mod webauthn;

pub use context::RequestContext;
pub use provider::{Provider, ProviderError};
pub use settings::Settings;

/// Seconds since the Unix epoch, read once per request by the HTTP layer.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
