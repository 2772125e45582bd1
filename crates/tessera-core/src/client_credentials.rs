//! The client credentials grant (RFC 6749 §4.4), for services acting on their own behalf.
//!
//! Enforces, each in its own step: the client is confidential (§4.4: "MUST only be used by
//! confidential clients"); it is registered for this grant; the scope lies within what it
//! was granted, and names no person-related OpenID scope, since no person is involved
//! (§3.3: refused with `invalid_scope`). No ID token and no refresh token are issued
//! (§4.4.3); the access token's `sub` is the client id (RFC 9068 §2.2).

use serde_json::json;
use tessera_protocol::scope::Scope;
use tessera_protocol::token::TokenResponse;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Client, Outcome};

use crate::authorize::audit_context;
use crate::refresh::OFFLINE_ACCESS;
use crate::token::AccessGrant;
use crate::{Provider, ProviderError, RequestContext};

/// Scopes that speak for a person, meaningless without one.
const PERSON_SCOPES: [&str; 4] = ["openid", "profile", "email", OFFLINE_ACCESS];

fn invalid_scope(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidScope, description)
}

impl Provider {
    pub(crate) async fn client_credentials(
        &self,
        client: &Client,
        requested: Option<Scope>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<TokenResponse, OAuthError>, ProviderError> {
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "token.client_credentials",
            client_id: Some(client.id.clone()),
            ..audit_context(ctx)
        };

        let scope = match check_client_credentials(client, requested) {
            Ok(scope) => scope,
            Err((reason, err)) => {
                event.detail = json!({ "reason": reason });
                self.inner.store.record(&event).await?;
                return Ok(Err(err));
            }
        };

        let scope = scope.to_string();
        let grant = AccessGrant {
            user_id: None,
            scope: &scope,
            auth_time: None,
            amr: None,
        };
        let (access_token, record) = self.sign_access_token(client, &grant, now)?;
        event.outcome = Outcome::Success;
        event.detail = json!({ "scope": scope });
        self.inner
            .store
            .insert_access_token_with_event(&record, &event)
            .await?;
        let exp = record.expires_at;
        Ok(Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: exp - now,
            scope,
            refresh_token: None,
            id_token: None,
        }))
    }
}

/// The rules of RFC 6749 §4.4, one check each; returns the scope to grant, or the reason
/// for the audit trail and the error for the client.
fn check_client_credentials(
    client: &Client,
    requested: Option<Scope>,
) -> Result<Scope, (&'static str, OAuthError)> {
    if client.is_public() {
        return Err((
            "public_client",
            OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "a public client cannot use the client_credentials grant",
            ),
        ));
    }

    if !client.allows_grant("client_credentials") {
        return Err((
            "grant_not_registered",
            OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the client is not registered for the client_credentials grant",
            ),
        ));
    }

    // RFC 6749 §3.3: without `scope`, the default is everything the client may request
    // that does not speak for a person.
    let allowed = Scope::parse(&client.allowed_scope).unwrap_or_default();
    let scope = match requested {
        Some(scope) => scope,
        None => {
            let service: Vec<&str> = allowed
                .iter()
                .filter(|s| !PERSON_SCOPES.contains(s))
                .collect();
            Scope::parse(&service.join(" ")).unwrap_or_default()
        }
    };

    if scope.iter().any(|s| PERSON_SCOPES.contains(&s)) {
        return Err((
            "person_scope",
            invalid_scope("OpenID scopes need an end-user; this grant has none"),
        ));
    }

    if !scope.is_subset(&allowed) {
        return Err((
            "scope_not_allowed",
            invalid_scope("the client may not request one of these scopes"),
        ));
    }

    // RFC 6749 §3.3: with no scope to grant (none requested, and no default beyond the
    // person scopes), fail rather than issue a token that authorises nothing.
    if scope.iter().next().is_none() {
        return Err(("no_scope", invalid_scope("no scope to grant: request one")));
    }

    Ok(scope)
}

#[cfg(test)]
mod tests;
