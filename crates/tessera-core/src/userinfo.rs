//! The userinfo endpoint (OIDC Core §5.3) and the bearer-token check (RFC 6750).
//!
//! Enforces: the token is one of our access tokens (RFC 9068 §4, in [`crate::bearer`]); it
//! has not been revoked; it carries the `openid` scope; claims are released by scope (OIDC
//! Core §5.4).

use serde_json::{Map, Value};
use tessera_protocol::{ErrorCode, OAuthError};

use crate::{Provider, ProviderError};

fn invalid_token() -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidToken,
        "the access token is invalid, expired or revoked",
    )
}

impl Provider {
    /// Returns the claims for the person the access token speaks for.
    pub async fn userinfo(
        &self,
        access_token: &str,
        now: i64,
    ) -> Result<Result<Map<String, Value>, OAuthError>, ProviderError> {
        let Some(claims) = self.bearer_claims(access_token, now) else {
            return Ok(Err(invalid_token()));
        };

        let scope: Vec<&str> = claims.scopes().collect();
        if !scope.contains(&"openid") {
            return Ok(Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token lacks the openid scope",
            )));
        }

        // Revoked or unknown tokens, and disabled users, fail here, in one round trip.
        let Some(user) = self
            .inner
            .store
            .user_for_access_token(&claims.jti, &claims.sub, now)
            .await?
        else {
            return Ok(Err(invalid_token()));
        };

        let mut out = Map::new();
        out.insert("sub".into(), Value::from(user.id.clone()));
        if scope.contains(&"profile") {
            out.insert(
                "preferred_username".into(),
                Value::from(user.username.clone()),
            );
            if let Some(name) = &user.display_name {
                out.insert("name".into(), Value::from(name.clone()));
            }
            out.insert("updated_at".into(), Value::from(user.updated_at));
        }
        if scope.contains(&"email") {
            if let Some(email) = &user.email {
                out.insert("email".into(), Value::from(email.clone()));
                out.insert("email_verified".into(), Value::from(user.email_verified));
            }
        }
        Ok(Ok(out))
    }
}
