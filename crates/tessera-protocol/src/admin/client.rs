//! `/admin/v1/clients`: registering apps (RFC 6749 §2), changing and removing them, and
//! rotating their secrets. The names of the registration fields are those of RFC 7591 §2
//! and of the OIDC registration metadata where one exists (`redirect_uris`, `grant_types`,
//! `id_token_signed_response_alg`, `jwks`, ...), so a reader of the specs finds them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The default and the largest page of `GET /clients` (`limit`).
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

/// The longest grace period a rotated secret may keep: 30 days, seconds.
pub const MAX_GRACE_PERIOD: i64 = 30 * 24 * 3600;

/// Whether the client can keep a secret (RFC 6749 §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    /// A server-side app: authenticates with a secret, or with `private_key_jwt` when it
    /// registers keys (`jwks` or `jwks_uri`).
    Confidential,
    /// A native or browser app: has no credentials (`token_endpoint_auth_method` `none`).
    Public,
}

/// Whether logins for the client need a second factor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientMfa {
    Required,
    Optional,
    /// The provider's `mfa_default` setting decides.
    #[default]
    Default,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_string()]
}

fn default_scope() -> String {
    "openid".to_string()
}

fn default_alg() -> String {
    "RS256".to_string()
}

/// The body of `POST /clients`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRegistration {
    pub name: String,
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// Exact strings (RFC 6749 §3.1.2): `https`, `http` on a loopback host, or a private-use
    /// scheme in reverse-DNS form (RFC 8252 §7); no fragment, no wildcard.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `authorization_code`, `refresh_token`, `client_credentials`. Default:
    /// `["authorization_code"]`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// The scopes the client may ask for, space-separated (RFC 6749 §3.3). Default: `openid`.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Absolute lifetime of a refresh-token family, seconds. Default: 30 days.
    #[serde(default)]
    pub refresh_token_ttl: Option<i64>,
    /// How long a refresh token may go unused, seconds. Default: 14 days.
    #[serde(default)]
    pub refresh_token_idle_ttl: Option<i64>,
    /// Lifetime of access tokens, seconds. Default: the provider's `access_token_ttl`.
    #[serde(default)]
    pub access_token_ttl: Option<i64>,
    /// `RS256` or `ES256`. Default: `RS256`.
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    #[serde(default)]
    pub mfa: ClientMfa,
    /// First-party clients skip the consent page.
    #[serde(default)]
    pub first_party: bool,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// A JWK set of public keys (RFC 7517 §5): registers the client for `private_key_jwt`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its JWK set; registers it for `private_key_jwt`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
}

/// A member of a merge patch (RFC 7396 §2): absent (`None`), `null` (`Some(None)`: remove,
/// that is, go back to the default), or a value.
fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The body of `PATCH /clients/{id}`, a JSON merge patch (RFC 7396): members left out stay
/// as they are; `null` puts an optional member back to its default. The client's type and
/// how it authenticates cannot change: register a new client instead.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub redirect_uris: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub post_logout_redirect_uris: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub grant_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub scope: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub refresh_token_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub refresh_token_idle_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub access_token_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub id_token_signed_response_alg: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ClientMfa>)]
    pub mfa: Option<Option<ClientMfa>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub first_party: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub backchannel_logout_uri: Option<Option<String>>,
    /// Replaces the keys of a `private_key_jwt` client.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Option<serde_json::Value>>,
    /// Replaces where a `private_key_jwt` client publishes its keys.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub jwks_uri: Option<Option<String>>,
}

/// Whether an earlier secret still works after a rotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretRotation {
    /// The secret a rotation replaced is still accepted.
    pub previous_secret_valid: bool,
    /// Until when (Unix seconds, exclusive); `null` when no previous secret is valid.
    pub previous_secret_expires_at: Option<i64>,
}

/// A registered client as the admin API shows it: never a secret, nor its digest.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// `client_secret_basic` (either secret method), `private_key_jwt` or `none`.
    pub token_endpoint_auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scope: String,
    pub refresh_token_ttl: i64,
    pub refresh_token_idle_ttl: i64,
    /// `null`: the provider's `access_token_ttl`.
    pub access_token_ttl: Option<i64>,
    pub id_token_signed_response_alg: String,
    pub mfa: ClientMfa,
    pub first_party: bool,
    pub backchannel_logout_uri: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub secret_rotation: SecretRotation,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    /// The row version; the `ETag` is this number in quotes.
    pub version: i64,
}

/// A client together with a secret shown this once: the answer to a registration and to a
/// rotation. Tessera keeps only a digest of the secret.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientWithSecret {
    pub client: ClientView,
    /// `null` for clients without a secret (public and `private_key_jwt` clients).
    pub client_secret: Option<String>,
}

impl fmt::Debug for ClientWithSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientWithSecret")
            .field("client", &self.client)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// One page of `GET /clients`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientList {
    pub items: Vec<ClientView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// The query of `GET /clients`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientListQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200. Default: 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Only clients whose name or id contains this text, regardless of case.
    pub q: Option<String>,
}

/// The body of `POST /clients/{id}/secret`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRotationRequest {
    /// How long the replaced secret stays valid, seconds: 0 (ends it now) to 2592000 (30
    /// days).
    #[schema(minimum = 0, maximum = 2592000)]
    pub grace_period_seconds: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_tells_absent_from_null() {
        let patch: ClientPatch = serde_json::from_str(r#"{"name":"App","jwks_uri":null}"#).unwrap();
        assert_eq!(patch.name, Some(Some("App".to_string())));
        assert_eq!(patch.jwks_uri, Some(None));
        assert_eq!(patch.backchannel_logout_uri, None);
    }

    #[test]
    fn a_registration_refuses_server_owned_fields() {
        let body = r#"{"name":"App","type":"public","client_id":"mine"}"#;
        assert!(serde_json::from_str::<ClientRegistration>(body).is_err());
    }

    #[test]
    fn a_shown_secret_is_not_in_debug_output() {
        let shown = ClientWithSecret {
            client: serde_json::from_value(serde_json::json!({
                "client_id": "c", "name": "n", "type": "confidential",
                "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": [],
                "post_logout_redirect_uris": [], "grant_types": [], "scope": "",
                "refresh_token_ttl": 1, "refresh_token_idle_ttl": 1, "access_token_ttl": null,
                "id_token_signed_response_alg": "RS256", "mfa": "default",
                "first_party": false, "backchannel_logout_uri": null, "jwks": null,
                "jwks_uri": null, "created_at": 0, "updated_at": null, "version": 1,
                "secret_rotation": { "previous_secret_valid": false,
                                     "previous_secret_expires_at": null }
            }))
            .unwrap(),
            client_secret: Some("s3cr3t-value".to_string()),
        };
        assert!(!format!("{shown:?}").contains("s3cr3t-value"));
    }
}
