//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Enforces, in order: the parameters parse (§2); an `id_token_hint` is an ID token that
//! Tessera signed, expired or not (§2), and names the same client as any `client_id`
//! (§2); a `post_logout_redirect_uri` is used only for an identified client and only when
//! it equals one of that client's registered URIs exactly (§3), otherwise no redirect
//! happens at all; the session is ended only when the request is known to come from the
//! person: a hint for the current session, or a confirmation form carrying a CSRF token
//! bound to the session (§2 recommends asking; without it any site could log people out).
//! Ending the session deletes it, queues the back-channel notifications and writes the
//! audit event in one transaction.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tessera_protocol::logout::EndSessionRequest;
use tessera_protocol::params::Params;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Client, Outcome, Session, User};
use url::Url;

use crate::authorize::audit_context;
use crate::keys::Alg;
use crate::refusal::{reason, refusal_event};
use crate::secret::digest;
use crate::{Provider, ProviderError, RequestContext};

/// What the confirmation page shows and posts back.
#[derive(Debug)]
pub struct LogoutView {
    pub csrf: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Where the browser goes after a logout request.
#[derive(Debug)]
pub enum LogoutNext {
    /// Ask the person to confirm.
    Confirm(LogoutView),
    /// The session is over (or there was none): go to this registered URI.
    Redirect(String),
    /// The session is over (or there was none): show Tessera's signed-out page.
    SignedOut,
    /// The request cannot be trusted: show an error, never redirect.
    ErrorPage(OAuthError),
}

/// The verified content of an `id_token_hint`.
pub(crate) struct IdTokenHint {
    pub client_id: String,
    pub subject: String,
    pub sid: Option<String>,
}

impl Provider {
    /// Handles a request to the end-session endpoint. `confirmation` is the CSRF token of
    /// a submitted confirmation form (POST only); `session_id` the browser's cookie.
    ///
    /// A session ended is a `logout` event, written with the change; a refused request is a
    /// `logout` failure, and so is a confirmation form whose CSRF token does not match (the
    /// person is then asked again). Asking the person to confirm, and a request without a
    /// session, change nothing and are not recorded.
    pub async fn end_session(
        &self,
        params: &Params,
        session_id: Option<&str>,
        confirmation: Option<&str>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<LogoutNext, ProviderError> {
        let next = self
            .end_session_steps(params, session_id, confirmation, now, ctx)
            .await?;
        if let LogoutNext::ErrorPage(err) = &next {
            self.inner
                .store
                .record(&AuditEvent {
                    occurred_at: now,
                    event_type: "logout",
                    detail: json!({ "error": err.code.as_str() }),
                    ..audit_context(ctx)
                })
                .await?;
        }
        Ok(next)
    }

    /// The steps of [`Provider::end_session`].
    async fn end_session_steps(
        &self,
        params: &Params,
        session_id: Option<&str>,
        confirmation: Option<&str>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<LogoutNext, ProviderError> {
        // Step 1: the parameters (§2).
        let request = match EndSessionRequest::parse(params) {
            Ok(request) => request,
            Err(err) => return Ok(LogoutNext::ErrorPage(err)),
        };

        // Step 2: the hint was issued by Tessera; its expiry does not matter (§2).
        let hint = match request
            .id_token_hint
            .as_deref()
            .map(|t| self.verify_hint(t, now))
        {
            None => None,
            Some(Some(hint)) => Some(hint),
            Some(None) => return Ok(LogoutNext::ErrorPage(bad_hint())),
        };

        // Step 3: the client, named by the hint's audience or by client_id; when both are
        // given they must agree (§2).
        let client = match self.logout_client(&request, hint.as_ref()).await? {
            Ok(client) => client,
            Err(err) => return Ok(LogoutNext::ErrorPage(err)),
        };

        // Step 4: the redirect URI, exactly as registered by that client (§3).
        let redirect = match registered_redirect(&request, client.as_ref()) {
            Ok(redirect) => redirect,
            Err(err) => return Ok(LogoutNext::ErrorPage(err)),
        };
        let state = request.state.as_deref();

        // Step 5: the session to end; without one there is nothing left to do.
        let (Some(session_id), Some((session, user))) =
            (session_id, self.live_session(session_id, now).await?)
        else {
            return Ok(signed_out(redirect.as_deref(), state));
        };

        // Step 6: the person's intent. A hint for this very session shows that the client
        // the person uses sent them; otherwise they confirm on Tessera's own page.
        let hinted = hint
            .as_ref()
            .is_some_and(|hint| hint_matches(hint, &session, &user));
        let confirmed = confirmation.is_some_and(|csrf| logout_csrf_matches(session_id, csrf));
        if !hinted && !confirmed {
            if confirmation.is_some() {
                self.record_forged_confirmation(&user, client.as_ref(), now, ctx)
                    .await?;
            }
            return Ok(LogoutNext::Confirm(LogoutView {
                csrf: logout_csrf(session_id),
                client_id: client.as_ref().map(|c| c.id.clone()),
                client_name: client.as_ref().map(|c| c.name.clone()),
                post_logout_redirect_uri: redirect,
                state: request.state,
            }));
        }

        // Step 7: end the session.
        self.end_browser_session(session_id, &session, &user, client.as_ref(), now, ctx)
            .await?;
        Ok(signed_out(redirect.as_deref(), state))
    }

    /// Records a confirmation whose CSRF token is not this session's (forged by another
    /// site, or from a page shown to an earlier session) as one `logout` failure of the
    /// session's person: the session stays, and the person is asked again.
    async fn record_forged_confirmation(
        &self,
        user: &User,
        client: Option<&Client>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), ProviderError> {
        let mut event = refusal_event(ctx, now, "logout", reason::CSRF);
        event.user_id = Some(user.id.clone());
        event.client_id = client.map(|c| c.id.clone());
        self.inner.store.record(&event).await?;
        Ok(())
    }

    /// An ID token signed by one of Tessera's keys, with Tessera as issuer.
    pub(crate) fn verify_hint(&self, token: &str, now: i64) -> Option<IdTokenHint> {
        let claims = Alg::ALL
            .iter()
            .find_map(|alg| self.inner.keys.verify_at(token, *alg, "JWT", now))?;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };

        if text("iss").as_deref() != Some(self.inner.settings.issuer.as_str()) {
            return None;
        }

        Some(IdTokenHint {
            client_id: text("aud")?,
            subject: text("sub")?,
            sid: text("sid"),
        })
    }

    async fn logout_client(
        &self,
        request: &EndSessionRequest,
        hint: Option<&IdTokenHint>,
    ) -> Result<Result<Option<Client>, OAuthError>, ProviderError> {
        if let (Some(hint), Some(client_id)) = (hint, &request.client_id) {
            if hint.client_id != client_id.as_str() {
                return Ok(Err(OAuthError::invalid_request(
                    "client_id does not match the id_token_hint",
                )));
            }
        }

        let client_id = hint
            .map(|hint| hint.client_id.as_str())
            .or(request.client_id.as_ref().map(|id| id.as_str()));
        let Some(client_id) = client_id else {
            return Ok(Ok(None));
        };
        match self.inner.store.client(client_id).await? {
            Some(client) => Ok(Ok(Some(client))),
            None => Ok(Err(OAuthError::invalid_request("unknown client_id"))),
        }
    }

    /// Deletes the session, queues a logout token for each client it served that asked
    /// for back-channel notifications, and records the logout, all in one transaction.
    async fn end_browser_session(
        &self,
        session_id: &str,
        session: &Session,
        user: &User,
        initiator: Option<&Client>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(), ProviderError> {
        let sids = session.sid.iter().cloned().collect();
        let notices = self.logout_notices(&user.id, sids, now).await?;

        let mut tx = self.inner.store.begin().await?;
        tx.delete_session(&digest(session_id)).await?;
        notices.queue(&mut tx, now).await?;
        tx.record(&AuditEvent {
            occurred_at: now,
            event_type: "logout",
            outcome: Outcome::Success,
            user_id: Some(user.id.clone()),
            client_id: initiator.map(|c| c.id.clone()),
            detail: json!({
                "backchannel_notifications": notices.len(),
                "sid": session.sid,
            }),
            ..audit_context(ctx)
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn bad_hint() -> OAuthError {
    OAuthError::invalid_request("id_token_hint is not an ID token issued by this provider")
}

/// The hint names the person of the current session, and that session when it has a sid.
fn hint_matches(hint: &IdTokenHint, session: &Session, user: &User) -> bool {
    if hint.subject != user.id {
        return false;
    }
    match (&hint.sid, &session.sid) {
        (Some(hinted), Some(current)) => hinted == current,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// §3: a post-logout redirect needs an identified client and an exactly registered URI.
fn registered_redirect(
    request: &EndSessionRequest,
    client: Option<&Client>,
) -> Result<Option<String>, OAuthError> {
    let Some(uri) = &request.post_logout_redirect_uri else {
        return Ok(None);
    };

    let Some(client) = client else {
        return Err(OAuthError::invalid_request(
            "post_logout_redirect_uri needs id_token_hint or client_id",
        ));
    };

    if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
        return Err(OAuthError::invalid_request(
            "post_logout_redirect_uri is not registered for this client",
        ));
    }

    Ok(Some(uri.clone()))
}

/// The end of a logout: the registered URI with `state` (§3), or Tessera's own page.
fn signed_out(redirect: Option<&str>, state: Option<&str>) -> LogoutNext {
    let Some(uri) = redirect else {
        return LogoutNext::SignedOut;
    };
    match Url::parse(uri) {
        Ok(mut url) => {
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", state);
            }
            LogoutNext::Redirect(url.to_string())
        }
        // Registered URIs were parsed at registration; if one no longer parses, stay here.
        Err(_) => LogoutNext::SignedOut,
    }
}

/// The CSRF token of the logout confirmation: an HMAC keyed by the session's secret id,
/// which only the browser holding the cookie has.
fn logout_csrf(session_id: &str) -> String {
    use base64::Engine;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(session_id.as_bytes()) else {
        // HMAC takes keys of any length; this arm only avoids a panic path.
        return String::new();
    };
    mac.update(b"tessera logout csrf v1");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn logout_csrf_matches(session_id: &str, submitted: &str) -> bool {
    let expected = logout_csrf(session_id);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}
