//! OpenID Provider metadata (OIDC Discovery 1.0 §3; RFC 8414 §2).
//!
//! Everything listed here is something Tessera really does: a value goes into this
//! document only together with the code that implements it.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    /// RFC 8414 §2 and RFC 7009 §2.
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 8414 §2 and RFC 7662 §2.
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// OIDC Discovery §3: the algorithms accepted for `private_key_jwt` assertions.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    /// OIDC Discovery §3: the classes `acr_values` may name and ID tokens' `acr` reports.
    pub acr_values_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    /// RFC 9207 §3: the `iss` parameter is sent in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
    /// OIDC RP-Initiated Logout §2.1.
    pub end_session_endpoint: String,
    /// OIDC Back-Channel Logout §2.1: logout tokens are posted to registered clients...
    pub backchannel_logout_supported: bool,
    /// ...and carry the session's `sid`, as do ID tokens.
    pub backchannel_logout_session_supported: bool,
}
