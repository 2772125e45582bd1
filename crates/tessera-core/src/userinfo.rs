//! The userinfo endpoint (OIDC Core §5.3) and the bearer-token check (RFC 6750).
//!
//! Enforces: the token is one of our access tokens (RFC 9068 §4, in [`crate::bearer`]); it
//! has not been revoked; it carries the `openid` scope; claims are released by scope (OIDC
//! Core §5.4). Every request is one `userinfo` audit event, the token never in it: a
//! success names the person and the client; a refusal says why, and names them too when
//! the token's signature vouched for its claims.

use serde_json::{json, Map, Value};
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Outcome};

use crate::authorize::audit_context;
use crate::{Provider, ProviderError, RequestContext};

fn invalid_token() -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidToken,
        "the access token is invalid, expired or revoked",
    )
}

/// How a request presented its access token (RFC 6750 §2).
#[derive(Debug)]
pub enum Presented {
    Token(String),
    /// No credentials at all: RFC 6750 §3.1 has the answer carry no error code.
    Missing,
    /// The token could not be read from the request (a malformed header, say).
    Malformed(OAuthError),
}

/// Why a userinfo request was refused: `None` when it carried no credentials at all.
pub type Refused = Option<OAuthError>;

impl Provider {
    /// Returns the claims for the person the access token speaks for.
    pub async fn userinfo(
        &self,
        presented: Presented,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<Map<String, Value>, Refused>, ProviderError> {
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "userinfo",
            ..audit_context(ctx)
        };
        let answer = match presented {
            Presented::Token(token) => self.userinfo_claims(&token, now, &mut event).await?,
            Presented::Missing => {
                event.detail = json!({ "reason": "no_token" });
                Err(None)
            }
            Presented::Malformed(err) => {
                event.detail = json!({ "reason": "malformed_request" });
                Err(Some(err))
            }
        };
        if answer.is_ok() {
            event.outcome = Outcome::Success;
        }
        self.inner.store.record_read(&event).await?;
        Ok(answer)
    }

    /// The claims `access_token` releases; says in `event` whose they are, or why not.
    async fn userinfo_claims(
        &self,
        access_token: &str,
        now: i64,
        event: &mut AuditEvent,
    ) -> Result<Result<Map<String, Value>, Refused>, ProviderError> {
        let Some(claims) = self.bearer_claims(access_token, now) else {
            event.detail = json!({ "reason": "invalid_token" });
            return Ok(Err(Some(invalid_token())));
        };
        event.client_id = Some(claims.client_id.clone());
        event.user_id = Some(claims.sub.clone()).filter(|sub| *sub != claims.client_id);

        let scope: Vec<&str> = claims.scopes().collect();
        if !scope.contains(&"openid") {
            event.detail = json!({ "reason": "insufficient_scope" });
            return Ok(Err(Some(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token lacks the openid scope",
            ))));
        }

        // Revoked or unknown tokens, and disabled users, fail here, in one round trip.
        let Some(user) = self
            .inner
            .store
            .user_for_access_token(&claims.jti, &claims.sub, now)
            .await?
        else {
            event.detail = json!({ "reason": "revoked_unknown_or_user_disabled" });
            return Ok(Err(Some(invalid_token())));
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
        event.detail = json!({});
        Ok(Ok(out))
    }
}
