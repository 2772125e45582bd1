//! The discovery document (OIDC Discovery 1.0 §3), built from what the code supports.

use tessera_protocol::acr::Acr;
use tessera_protocol::authorize::Prompt;
use tessera_protocol::discovery::ProviderMetadata;
use tessera_protocol::types::Issuer;

use tessera_protocol::claims::RISK_SCOPE;
use tessera_protocol::client_assertion::SIGNING_ALGS;

use crate::keys::Alg;

/// Paths of the endpoints below the issuer; the HTTP router uses the same constants.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const JWKS: &str = "/jwks";
    /// OIDC RP-Initiated Logout §2.
    pub const END_SESSION: &str = "/logout";
    pub const REVOCATION: &str = "/revoke";
    pub const INTROSPECTION: &str = "/introspect";
}

/// Claims that userinfo and ID tokens can return (see [`crate::userinfo`]).
pub const CLAIMS_SUPPORTED: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "amr",
    "acr",
    "azp",
    "sid",
    "name",
    "preferred_username",
    "email",
];

pub fn metadata(issuer: &Issuer) -> String {
    let endpoint = |path: &str| issuer.endpoint(&[path.trim_start_matches('/')]);
    let mut claims: Vec<&'static str> = CLAIMS_SUPPORTED.to_vec();
    claims.extend(["email_verified", "updated_at", RISK_SCOPE]);
    let doc = ProviderMetadata {
        issuer: issuer.as_str().to_string(),
        authorization_endpoint: endpoint(paths::AUTHORIZE),
        token_endpoint: endpoint(paths::TOKEN),
        userinfo_endpoint: endpoint(paths::USERINFO),
        jwks_uri: endpoint(paths::JWKS),
        revocation_endpoint: endpoint(paths::REVOCATION),
        // RFC 7009 §2.1: public clients may revoke their own tokens by naming themselves.
        revocation_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        revocation_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS.to_vec(),
        introspection_endpoint: endpoint(paths::INTROSPECTION),
        // RFC 7662 §2.1: introspection needs real client authentication.
        introspection_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        introspection_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS.to_vec(),
        scopes_supported: vec!["openid", "profile", "email", "offline_access", RISK_SCOPE],
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        grant_types_supported: vec!["authorization_code", "refresh_token", "client_credentials"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: Alg::ALL.iter().map(|a| a.as_str()).collect(),
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        token_endpoint_auth_signing_alg_values_supported: SIGNING_ALGS.to_vec(),
        code_challenge_methods_supported: vec!["S256"],
        claims_supported: claims,
        acr_values_supported: Acr::REACHED.iter().map(|acr| acr.as_str()).collect(),
        prompt_values_supported: Prompt::SUPPORTED.to_vec(),
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        authorization_response_iss_parameter_supported: true,
        end_session_endpoint: endpoint(paths::END_SESSION),
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}
