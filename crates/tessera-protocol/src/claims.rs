//! Claims of the tokens Tessera issues.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// ID token claims (OIDC Core §2, §3.1.3.6).
#[derive(Debug, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub at_hash: String,
    pub amr: Vec<String>,
    /// The authentication context class the login actually reached (OIDC Core §2), on every
    /// ID token, whatever `acr_values` asked for: the relying party decides what it accepts.
    pub acr: String,
    /// The session's public id (OIDC Back-Channel Logout §2.4, Front-Channel Logout §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// OIDC Core §2: required when the ID token has a single audience different from the
    /// authorized party; Tessera always sets it to the client, so a relying party need
    /// never guess.
    pub azp: String,
    /// Tessera's risk assessment of the login, only when the request asked for
    /// [`RISK_SCOPE`].
    #[serde(
        rename = "urn:tessera:risk",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub risk: Option<RiskClaim>,
}

/// The scope that asks for the [`RiskClaim`] in ID tokens, and the claim's name: a URN of
/// Tessera's own namespace, as OIDC Core §5.1.2 asks of claims that are not registered, so
/// that it cannot collide with anyone else's.
pub const RISK_SCOPE: &str = "urn:tessera:risk";

/// How risky the login behind an ID token looked, and what that decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskClaim {
    /// 0 to 100: the sum of the weights of the signals that fired.
    pub score: i64,
    /// The signals that fired, e.g. `new_device`, `new_network`.
    pub reasons: Vec<String>,
    /// `allow`, or `mfa` when the score made a second factor necessary.
    pub decision: String,
}

/// JWT access token claims (RFC 9068 §2.2).
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// Absent from tokens that speak for no person (client credentials, RFC 9068 §2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// How the person authenticated (RFC 9068 §2.2.3.1 allows `amr` in access tokens): the
    /// admin API reads it to demand a second factor. Absent when no person is involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the hash of the access token, with the
/// hash function of the ID token's `alg`. Both RS256 and ES256 use SHA-256.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests;
