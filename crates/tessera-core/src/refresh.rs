//! The refresh token grant (RFC 6749 §6; OIDC Core §12; RFC 9700 §4.14).
//!
//! Enforces, each in its own step: the token is spent atomically, so of two uses only one
//! wins; a token of another client is refused and left alone (RFC 6749 §6: "the refresh
//! token ... was issued to the authenticated client"); a spent token is theft, refused, and
//! its whole family is revoked, access tokens included (RFC 9700 §4.14.2); expired (absolute
//! or idle) and revoked tokens are refused; the scope may narrow but never widen (RFC 6749
//! §6); the person is still active. The new refresh token keeps the original scope and the
//! family's absolute end; the new ID token keeps `sub` and `auth_time` and has no `nonce`
//! (OIDC Core §12.2).
//!
//! A refresh token is honoured for the client it was issued to, whether it came from
//! `offline_access` or from the client's `refresh_token` grant registration: the check
//! happened when it was issued.

use serde_json::json;
use tessera_protocol::scope::Scope;
use tessera_protocol::token::TokenResponse;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Client, Outcome, RefreshClaim, RefreshTokenRecord, Tx};

use crate::authorize::audit_context;
use crate::risk::{mark, Assessment};
use crate::secret::{digest, RandomSecret};
use crate::token::Grant;
use crate::{Provider, ProviderError, RequestContext};

/// The scope that asks for a refresh token (OIDC Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Whether a code grant with `scope` gets a refresh token: it asked for offline access
/// (allowed for the client, and consented to, or the client is first-party: the rules of
/// [`crate::authorize`] already ran), or the client is registered for the grant.
pub(crate) fn offers_refresh(client: &Client, scope: &str) -> bool {
    let offline = scope.split(' ').any(|s| s == OFFLINE_ACCESS);
    offline || client.allows_grant("refresh_token")
}

/// A fresh family id; not a secret, never a credential.
pub(crate) fn new_family_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn invalid_grant() -> OAuthError {
    OAuthError::invalid_grant("the refresh token is invalid, expired or revoked")
}

/// RFC 6749 §6: the scope may narrow, never widen (step 2); and what the client may
/// request today still bounds the new tokens (step 3). Without `scope`, the grant's own.
fn check_scope(
    requested: Option<Scope>,
    granted: &str,
    client: &Client,
) -> Result<Scope, (&'static str, OAuthError)> {
    let granted = Scope::parse(granted).unwrap_or_default();
    let scope = requested.unwrap_or_else(|| granted.clone());

    if !scope.is_subset(&granted) {
        return Err((
            "scope_widened",
            OAuthError::new(
                ErrorCode::InvalidScope,
                "the scope exceeds what the refresh token was granted",
            ),
        ));
    }

    let allowed = Scope::parse(&client.allowed_scope).unwrap_or_default();
    if !scope.is_subset(&allowed) {
        return Err((
            "scope_no_longer_allowed",
            OAuthError::new(
                ErrorCode::InvalidScope,
                "the client may no longer request one of these scopes",
            ),
        ));
    }

    Ok(scope)
}

impl Provider {
    /// Claims the token for `client`; on failure, says why in `event` (revoking the family
    /// of a reused token, RFC 9700 §4.14.2) and returns `None`.
    async fn spend(
        &self,
        tx: &mut Tx,
        client: &Client,
        refresh_token: &str,
        now: i64,
        event: &mut AuditEvent,
    ) -> Result<Option<RefreshTokenRecord>, ProviderError> {
        let claim = tx
            .claim_refresh_token(&digest(refresh_token), &client.id, now)
            .await?;
        event.detail = match claim {
            RefreshClaim::Claimed(token) => return Ok(Some(token)),
            RefreshClaim::Replayed { family_id, user_id } => {
                let revoked = tx.revoke_refresh_family(&family_id, now).await?;
                event.user_id = Some(user_id);
                json!({
                    "reason": "refresh_token_reused",
                    "family": family_id,
                    "revoked_refresh_tokens": revoked.refresh_tokens,
                    "revoked_access_tokens": revoked.access_tokens,
                })
            }
            RefreshClaim::Foreign => json!({ "reason": "refresh_token_of_another_client" }),
            RefreshClaim::Unknown => {
                json!({ "reason": "unknown_expired_or_revoked_refresh_token" })
            }
        };
        Ok(None)
    }

    /// Stores a new refresh token of `family` ending no later than `family_expires_at`.
    pub(crate) async fn issue_refresh_token(
        &self,
        tx: &mut Tx,
        client: &Client,
        grant: &Grant<'_>,
        family: &str,
        family_expires_at: i64,
        now: i64,
    ) -> Result<RandomSecret, ProviderError> {
        let token = RandomSecret::generate();
        let record = RefreshTokenRecord {
            family_id: family.to_string(),
            client_id: client.id.clone(),
            user_id: grant.user_id.to_string(),
            scope: grant.scope.to_string(),
            auth_time: grant.auth_time,
            amr: grant.amr.to_string(),
            sid: grant.sid.map(str::to_string),
            issued_at: now,
            expires_at: family_expires_at,
            idle_expires_at: (now + client.refresh_token_idle_ttl).min(family_expires_at),
            risk: grant.risk.map(str::to_string),
        };
        tx.insert_refresh_token(&token.digest(), &record).await?;
        Ok(token)
    }

    /// RFC 6749 §6: exchanges a refresh token for new tokens, rotating it.
    pub(crate) async fn refresh(
        &self,
        client: &Client,
        refresh_token: &str,
        requested: Option<Scope>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<TokenResponse, OAuthError>, ProviderError> {
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "token.refresh_token",
            client_id: Some(client.id.clone()),
            ..audit_context(ctx)
        };
        let mut tx = self.inner.store.begin().await?;

        // Step 1: spend the token, atomically, for this client only.
        let Some(token) = self
            .spend(&mut tx, client, refresh_token, now, &mut event)
            .await?
        else {
            return self.refuse(tx, &event, invalid_grant()).await;
        };
        event.user_id = Some(token.user_id.clone());
        event.session_id = token.sid.clone();
        // The refresh carries the score of the login that started the family (issue 6).
        mark(
            &mut event,
            Assessment::from_stored(token.risk.as_deref()).as_ref(),
        );

        // Steps 2 and 3: the scope. A refused scope leaves the token unspent: the claim is
        // rolled back and only the event is kept.
        let scope = match check_scope(requested, &token.scope, client) {
            Ok(scope) => scope,
            Err((reason, err)) => {
                tx.rollback().await?;
                event.detail = json!({ "reason": reason });
                self.inner.store.record(&event).await?;
                return Ok(Err(err));
            }
        };

        // Step 4: the person must still be active.
        let active = tx
            .user_by_id(&token.user_id)
            .await?
            .is_some_and(|user| !user.disabled);
        if !active {
            event.detail = json!({ "reason": "user_disabled" });
            return self
                .refuse(
                    tx,
                    &event,
                    OAuthError::invalid_grant("the end-user is no longer active"),
                )
                .await;
        }

        // Step 5: the successor keeps the grant's scope and the family's absolute end.
        let successor = Grant {
            user_id: &token.user_id,
            scope: &token.scope,
            auth_time: token.auth_time,
            amr: &token.amr,
            sid: token.sid.as_deref(),
            nonce: None,
            // The family keeps the assessment of the login that started it: refreshed ID
            // tokens carry the same claim, describing that login, not the refresh.
            risk: token.risk.as_deref(),
        };
        let rotated = self
            .issue_refresh_token(
                &mut tx,
                client,
                &successor,
                &token.family_id,
                token.expires_at,
                now,
            )
            .await?;

        // Step 6: new access and ID tokens for the (possibly narrowed) scope.
        let scope = scope.to_string();
        let issued = Grant {
            scope: &scope,
            ..successor
        };
        let mut response = self
            .mint(&mut tx, client, &issued, None, Some(&token.family_id), now)
            .await?;
        response.refresh_token = Some(rotated.expose().to_string());

        event.outcome = Outcome::Success;
        event.detail = json!({ "scope": scope, "family": token.family_id });
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(Ok(response))
    }
}

#[cfg(test)]
mod tests;
