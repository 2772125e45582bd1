//! The revocation request (RFC 7009 §2.1).

use crate::params::Params;
use crate::OAuthError;

/// Which kind of token the client says it is revoking or introspecting (RFC 7009 §2.1,
/// RFC 7662 §2.1). Only a hint: the server searches every kind it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    AccessToken,
    RefreshToken,
}

impl TokenTypeHint {
    /// RFC 7009 §2.1: "An invalid token type hint value is ignored by the authorization
    /// server", so an unknown value reads as no hint.
    pub fn parse(params: &Params) -> Option<Self> {
        match params.get("token_type_hint")? {
            "access_token" => Some(Self::AccessToken),
            "refresh_token" => Some(Self::RefreshToken),
            _ => None,
        }
    }
}

/// A token presented for revocation or introspection.
#[derive(Debug)]
pub struct PresentedToken {
    /// The token itself. Never logged and never echoed.
    pub token: String,
    pub hint: Option<TokenTypeHint>,
}

impl PresentedToken {
    /// RFC 7009 §2.1 and RFC 7662 §2.1: `token` is required; `token_type_hint` optional.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            token: params.require("token")?.to_string(),
            hint: TokenTypeHint::parse(params),
        })
    }
}

#[cfg(test)]
mod tests;
