//! Token revocation (RFC 7009).
//!
//! Enforces, each in its own step: the client authenticates (§2.1; public clients name
//! themselves, as at the token endpoint); the token is found whatever the hint says (§2.1:
//! the server "MUST extend its search across all of its supported token types"); a client
//! revokes only tokens issued to it. Revoking a refresh token revokes its family and every
//! access token issued from it (§2.1: "SHOULD also invalidate all access tokens based on the
//! same authorization grant"); revoking an access token revokes that token alone.
//!
//! Unknown, expired and already revoked tokens answer 200 (§2.2). So does another client's
//! token, with nothing revoked: §2.1 has the server refuse it, but an error there would tell
//! the presenter that the string is a live token of someone else, which an unknown token
//! never reveals. The refusal is recorded in the audit trail instead.

use serde_json::{json, Map, Value};
use tessera_protocol::params::Params;
use tessera_protocol::revocation::PresentedToken;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Outcome, StoredAccessToken, StoredRefreshToken};

use crate::authorize::audit_context;
use crate::keys::Alg;
use crate::secret::digest;
use crate::token::ACCESS_TOKEN_TYP;
use crate::{Provider, ProviderError, RequestContext};

/// A token presented to revocation or introspection, as found.
pub(crate) enum Found {
    /// One of our access tokens: a valid signature, and its `jti` on record.
    Access {
        claims: Map<String, Value>,
        stored: StoredAccessToken,
    },
    Refresh(StoredRefreshToken),
    /// Malformed, forged, or not on record.
    Unknown,
}

impl Found {
    /// The client the token was issued to.
    pub(crate) fn client_id(&self) -> Option<&str> {
        match self {
            Self::Access { stored, .. } => Some(&stored.record.client_id),
            Self::Refresh(stored) => Some(&stored.record.client_id),
            Self::Unknown => None,
        }
    }
}

impl Provider {
    /// Finds a presented token by its shape: a JWT is an access token, anything else is
    /// looked up as a refresh token. Expiry and revocation are the caller's to judge.
    pub(crate) async fn find_token(&self, token: &str, now: i64) -> Result<Found, ProviderError> {
        if token.contains('.') {
            let Some(claims) = self
                .inner
                .keys
                .verify_at(token, Alg::Es256, ACCESS_TOKEN_TYP, now)
            else {
                return Ok(Found::Unknown);
            };
            if claims.get("iss").and_then(Value::as_str)
                != Some(self.inner.settings.issuer.as_str())
            {
                return Ok(Found::Unknown);
            }
            let Some(jti) = claims.get("jti").and_then(Value::as_str) else {
                return Ok(Found::Unknown);
            };
            return Ok(match self.inner.store.access_token(jti).await? {
                Some(stored) => Found::Access { claims, stored },
                None => Found::Unknown,
            });
        }
        Ok(
            match self.inner.store.refresh_token(&digest(token)).await? {
                Some(stored) => Found::Refresh(stored),
                None => Found::Unknown,
            },
        )
    }

    /// RFC 7009 §2: revokes a token of the authenticated client; `Ok(())` means 200.
    pub async fn revoke(
        &self,
        authorization: Option<&str>,
        mut params: Params,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<(), OAuthError>, ProviderError> {
        let client = match self
            .authenticate_client(
                authorization,
                &mut params,
                now,
                ctx,
                "revocation.client_authentication",
            )
            .await?
        {
            Ok(client) => client,
            Err(err) => return Ok(Err(err)),
        };
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "token.revocation",
            client_id: Some(client.id.clone()),
            ..audit_context(ctx)
        };

        let presented = match PresentedToken::parse(&params) {
            Ok(presented) => presented,
            Err(err) => {
                event.detail = json!({ "reason": "malformed_request" });
                self.inner.store.record(&event).await?;
                return Ok(Err(err));
            }
        };

        let found = self.find_token(&presented.token, now).await?;

        // §2.2: an unknown token is no error.
        let Some(owner) = found.client_id() else {
            event.detail = json!({ "reason": "unknown_token" });
            self.inner.store.record(&event).await?;
            return Ok(Ok(()));
        };

        // A client revokes only its own tokens; see the module documentation for why the
        // answer is still 200.
        if owner != client.id {
            event.detail = json!({ "reason": "token_of_another_client" });
            self.inner.store.record(&event).await?;
            return Ok(Ok(()));
        }

        let mut tx = self.inner.store.begin().await?;
        match &found {
            Found::Access { stored, .. } => {
                let live = tx.revoke_access_token(&stored.record.jti, now).await?;
                event.user_id = stored.record.user_id.clone();
                event.detail = json!({
                    "token_type": "access_token",
                    "jti": stored.record.jti,
                    "was_live": live,
                });
            }
            Found::Refresh(stored) => {
                let family = &stored.record.family_id;
                let revoked = tx.revoke_refresh_family(family, now).await?;
                event.user_id = Some(stored.record.user_id.clone());
                event.detail = json!({
                    "token_type": "refresh_token",
                    "family": family,
                    "revoked_refresh_tokens": revoked.refresh_tokens,
                    "revoked_access_tokens": revoked.access_tokens,
                });
            }
            Found::Unknown => {}
        }
        event.outcome = Outcome::Success;
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}
