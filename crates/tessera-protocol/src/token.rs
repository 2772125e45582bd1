//! The token endpoint's request and response (RFC 6749 §3.2, §4.1.3, §4.4.2, §5.1, §6;
//! OIDC Core §3.1.3, §12).

use serde::Serialize;

use crate::params::Params;
use crate::scope::Scope;
use crate::{ErrorCode, OAuthError};

/// A token request, by grant type.
#[derive(Debug)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3.
    AuthorizationCode {
        code: String,
        redirect_uri: String,
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6. `scope` may only narrow what the refresh token was granted.
    RefreshToken {
        refresh_token: String,
        scope: Option<Scope>,
    },
    /// RFC 6749 §4.4.2.
    ClientCredentials { scope: Option<Scope> },
}

impl TokenRequest {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        match params.require("grant_type")? {
            "authorization_code" => Ok(Self::AuthorizationCode {
                code: params.require("code")?.to_string(),
                redirect_uri: params.require("redirect_uri")?.to_string(),
                code_verifier: params.get("code_verifier").map(str::to_string),
            }),
            "refresh_token" => Ok(Self::RefreshToken {
                refresh_token: params.require("refresh_token")?.to_string(),
                scope: params.get("scope").map(Scope::parse).transpose()?,
            }),
            "client_credentials" => Ok(Self::ClientCredentials {
                scope: params.get("scope").map(Scope::parse).transpose()?,
            }),
            _ => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "this grant type is not supported",
            )),
        }
    }
}

/// A successful token response (RFC 6749 §5.1; OIDC Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

#[cfg(test)]
mod tests;
