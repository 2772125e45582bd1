//! The introspection response (RFC 7662 §2.2).
//!
//! An inactive token is answered with `{"active":false}` and nothing else, whatever the
//! reason: expired, revoked, malformed, unknown, or not the caller's to inspect (§2.2:
//! "the authorization server MAY respond with ... no additional information").

use serde::Serialize;

/// The JSON object of RFC 7662 §2.2; every member but `active` is left out when inactive.
#[derive(Debug, Default, Serialize)]
pub struct IntrospectionResponse {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl IntrospectionResponse {
    pub fn inactive() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests;
