//! Logout requests and logout tokens (OIDC RP-Initiated Logout 1.0; OIDC Back-Channel
//! Logout 1.0).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::params::Params;
use crate::types::{opaque, ClientId};
use crate::OAuthError;

/// The `typ` header of a logout token (Back-Channel Logout §2.4).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";

/// The one event a logout token carries (Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A request to the end-session endpoint (RP-Initiated Logout §2), GET query or POST form.
/// Nothing here is trusted yet: the hint's signature and the URI's registration are
/// checked by the domain.
#[derive(Debug, Default)]
pub struct EndSessionRequest {
    /// An ID token Tessera issued, expired or not (§2: the OP need not care about expiry).
    pub id_token_hint: Option<String>,
    pub client_id: Option<ClientId>,
    pub post_logout_redirect_uri: Option<String>,
    /// Returned unchanged on the redirect after logout (§3).
    pub state: Option<String>,
}

impl EndSessionRequest {
    /// Reads the parameters of §2; `ui_locales` and `logout_hint` are accepted and ignored.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let state = params
            .get("state")
            .map(|state| opaque("state", state))
            .transpose()?;
        Ok(Self {
            id_token_hint: params.get("id_token_hint").map(str::to_string),
            client_id: params.get("client_id").map(ClientId::new),
            post_logout_redirect_uri: params.get("post_logout_redirect_uri").map(str::to_string),
            state,
        })
    }
}

/// The claims of a logout token (Back-Channel Logout §2.4). It has no `nonce`, which is
/// what keeps it from ever being accepted as an ID token.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sid: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: Value,
}

impl LogoutTokenClaims {
    pub fn events() -> Value {
        let mut events = serde_json::Map::new();
        events.insert(
            BACKCHANNEL_LOGOUT_EVENT.to_string(),
            Value::Object(serde_json::Map::new()),
        );
        Value::Object(events)
    }
}
