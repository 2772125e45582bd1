//! `/admin/v1/keys`: the provider's signing keys, public parts only, and their rotation.
//!
//! A key's life (upcoming, active, retired, removed) follows OIDC Core §10.1.1: a new key is
//! published in JWKS before it signs, and an old one stays published while tokens it signed
//! may still be checked. Times are seconds since the epoch (RFC 7519 §2 NumericDate).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The JWS algorithms Tessera signs with (RFC 7518 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum KeyAlgorithm {
    RS256,
    ES256,
}

impl KeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }
}

/// Where a key is in its life at the time of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// In JWKS, not yet signing.
    Upcoming,
    /// The key that signs for its algorithm.
    Active,
    /// In JWKS so that what it signed can still be checked; signs nothing.
    Retired,
    /// Out of JWKS, verifies nothing; deleted at the next maintenance run.
    Removed,
}

/// A signing key as the admin API shows it: never its private half.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SigningKey {
    /// The `kid` tokens carry in their JOSE header (RFC 7515 §4.1.4).
    pub kid: String,
    pub alg: KeyAlgorithm,
    pub status: KeyStatus,
    /// The public key as published in JWKS (RFC 7517 §4).
    #[schema(value_type = Object)]
    pub public_jwk: serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
    /// When it starts (or started) to sign.
    pub activates_at: i64,
    /// When it stops (or stopped) signing, once a successor is scheduled.
    pub retires_at: Option<i64>,
    /// When it leaves JWKS and stops verifying, once retired.
    pub leaves_jwks_at: Option<i64>,
}

/// Every stored key, by algorithm and oldest first. A provider holds a handful of keys (each
/// is deleted once its retention passes), so the list is never cut into pages and
/// `next_cursor` is always null; it is there so that every list has one shape.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyList {
    pub items: Vec<SigningKey>,
    pub next_cursor: Option<String>,
}

/// `POST /admin/v1/keys/rotate`: a new key for one algorithm, or for each.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeys {
    /// The algorithm to rotate; both when absent.
    #[serde(default)]
    pub alg: Option<KeyAlgorithm>,
    /// Sign with the new key at once instead of publishing it ahead (the server's
    /// `key_publish_ahead`). Relying parties holding a cached JWKS reject its tokens until
    /// they fetch JWKS again, and other instances accept them only after their next key
    /// reload: for a key that was exposed. Default false.
    #[serde(default)]
    pub danger_activate_immediately: Option<bool>,
}

/// The keys a rotation created.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedKeys {
    pub items: Vec<SigningKey>,
}
