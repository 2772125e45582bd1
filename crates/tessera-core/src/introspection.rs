//! Token introspection (RFC 7662).
//!
//! Enforces, each in its own step: the caller authenticates as a confidential client (§2.1:
//! "the endpoint MUST also require some form of authorization"; a public client proves
//! nothing, so it is refused like a wrong secret); the token is one of ours; the caller may
//! see it; it is unexpired, unrevoked, and its person is still active. Any failure after
//! authentication answers `{"active":false}` and nothing else (§2.2), the reason going only
//! to the audit trail.
//!
//! Who may see a token (§2.2 leaves it to the server): the client it was issued to, or a
//! client named in its `aud`. Tessera's access tokens are issued for Tessera itself, so
//! until resource indicators (RFC 8707) put resource servers into `aud`, this is the
//! issuing client alone. Refresh tokens are only ever visible to their own client.

use serde_json::{json, Value};
use tessera_protocol::introspection::IntrospectionResponse;
use tessera_protocol::params::Params;
use tessera_protocol::revocation::PresentedToken;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Outcome};

use crate::authorize::audit_context;
use crate::revocation::Found;
use crate::{Provider, ProviderError, RequestContext};

impl Provider {
    /// RFC 7662 §2: what the authenticated client may know about a token.
    pub async fn introspect(
        &self,
        authorization: Option<&str>,
        mut params: Params,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<IntrospectionResponse, OAuthError>, ProviderError> {
        let client = match self
            .authenticate_client(
                authorization,
                &mut params,
                now,
                ctx,
                "introspection.client_authentication",
            )
            .await?
        {
            Ok(client) => client,
            Err(err) => return Ok(Err(err)),
        };
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "token.introspection",
            client_id: Some(client.id.clone()),
            ..audit_context(ctx)
        };

        if client.is_public() {
            event.event_type = "introspection.client_authentication";
            event.detail = json!({ "reason": "public_client" });
            self.inner.store.record_read(&event).await?;
            return Ok(Err(OAuthError::invalid_client()));
        }

        let presented = match PresentedToken::parse(&params) {
            Ok(presented) => presented,
            Err(err) => {
                event.detail = json!({ "reason": "malformed_request" });
                self.inner.store.record_read(&event).await?;
                return Ok(Err(err));
            }
        };

        let found = self.find_token(&presented.token, now).await?;
        let answer = match self.judge(&found, &client.id, now).await? {
            Ok(answer) => {
                event.outcome = Outcome::Success;
                event.user_id = answer.sub.clone().filter(|sub| *sub != client.id);
                event.detail = json!({ "active": true });
                answer
            }
            Err(reason) => {
                event.detail = json!({ "active": false, "reason": reason });
                IntrospectionResponse::inactive()
            }
        };
        self.inner.store.record_read(&event).await?;
        Ok(Ok(answer))
    }

    /// The active answer for `found`, or why it is inactive for `caller`.
    async fn judge(
        &self,
        found: &Found,
        caller: &str,
        now: i64,
    ) -> Result<Result<IntrospectionResponse, &'static str>, ProviderError> {
        let issuer = self.inner.settings.issuer.as_str();
        match found {
            Found::Unknown => Ok(Err("unknown_token")),
            Found::Access { claims, stored } => {
                let aud = claims.get("aud").and_then(Value::as_str);
                let visible = stored.record.client_id == caller || aud == Some(caller);
                if !visible {
                    return Ok(Err("token_of_another_client"));
                }

                if stored.revoked_at.is_some() {
                    return Ok(Err("revoked"));
                }

                if stored.record.expires_at <= now {
                    return Ok(Err("expired"));
                }

                if let Some(user_id) = &stored.record.user_id {
                    if !self.user_is_active(user_id).await? {
                        return Ok(Err("user_disabled"));
                    }
                }

                Ok(Ok(IntrospectionResponse {
                    active: true,
                    scope: Some(stored.record.scope.clone()),
                    client_id: Some(stored.record.client_id.clone()),
                    token_type: Some("Bearer"),
                    exp: Some(stored.record.expires_at),
                    iat: Some(stored.record.issued_at),
                    sub: claims
                        .get("sub")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    aud: aud.map(str::to_string),
                    iss: Some(issuer.to_string()),
                    jti: Some(stored.record.jti.clone()),
                }))
            }
            Found::Refresh(stored) => {
                if stored.record.client_id != caller {
                    return Ok(Err("token_of_another_client"));
                }

                if !stored.is_live(now) {
                    return Ok(Err("spent_expired_or_revoked"));
                }

                if !self.user_is_active(&stored.record.user_id).await? {
                    return Ok(Err("user_disabled"));
                }

                // A refresh token has no token_type in the sense of RFC 6749 §5.1, no `jti`
                // and no audience: those members are left out.
                let record = &stored.record;
                Ok(Ok(IntrospectionResponse {
                    active: true,
                    scope: Some(record.scope.clone()),
                    client_id: Some(record.client_id.clone()),
                    exp: Some(record.expires_at.min(record.idle_expires_at)),
                    iat: Some(record.issued_at),
                    sub: Some(record.user_id.clone()),
                    iss: Some(issuer.to_string()),
                    ..IntrospectionResponse::default()
                }))
            }
        }
    }

    async fn user_is_active(&self, user_id: &str) -> Result<bool, ProviderError> {
        let user = self.inner.store.user_by_id(user_id).await?;
        Ok(user.is_some_and(|user| !user.disabled))
    }
}
