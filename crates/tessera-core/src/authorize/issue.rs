//! Issuing a code, and the answers at the client's redirection URI (RFC 6749 §4.1.2 and
//! §4.1.2.1, with `iss` from RFC 9207 §2).
//!
//! Owns the last step of every authorization request that ends in a code, wherever it ends
//! (the endpoint itself, `/resume`, an approved consent): the interaction it finishes
//! finishes exactly once; the code is bound to the client, redirect URI, PKCE challenge,
//! nonce and the session's login; the request is one audit event, written in the
//! transaction that stores the code. An error sent back to the client is built here too.

use serde_json::json;
use tessera_protocol::authorize::AuthorizationRequest;
use tessera_protocol::types::RedirectUri;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, AuthorizationCode, Outcome, Session, Tx, User};
use url::Url;

use super::events::AUTHORIZATION_REQUEST;
use super::{audit_context, interaction_gone, Next};
use crate::risk::{mark, Assessment};
use crate::secret::RandomSecret;
use crate::{Provider, ProviderError, RequestContext, Settings};

/// A code to issue: for which request, person and session, and how the request is recorded.
pub(crate) struct Issue<'a> {
    pub request: &'a AuthorizationRequest,
    pub user: &'a User,
    pub session: &'a Session,
    /// The interaction the request finishes, if it finishes one.
    pub finished_interaction: Option<[u8; 32]>,
    /// The person's consent, when that is the request: recorded in place of
    /// `authorization.code_issued`.
    pub decision: Option<AuditEvent>,
    /// The request's own assessment, when the session was scored again for it; otherwise
    /// its event carries the score of the session's login.
    pub rescored: Option<Assessment>,
}

impl<'a> Issue<'a> {
    /// A code for `request`, from `session`, finishing no interaction.
    pub(crate) fn new(
        request: &'a AuthorizationRequest,
        user: &'a User,
        session: &'a Session,
    ) -> Self {
        Self {
            request,
            user,
            session,
            finished_interaction: None,
            decision: None,
            rescored: None,
        }
    }
}

impl Provider {
    /// Issues a code and returns the redirect carrying it (RFC 6749 §4.1.2; RFC 9207).
    pub(crate) async fn issue_code(
        &self,
        issue: Issue<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Next, ProviderError> {
        let tx = self.inner.store.begin().await?;
        self.issue_code_in(tx, issue, now, ctx).await
    }

    /// Issues a code within `tx`, after whatever the caller wrote there, and commits.
    ///
    /// An interaction finishes exactly once: when `finished_interaction` is already gone
    /// (a form submitted twice, or in parallel), nothing is issued and `tx` rolls back.
    ///
    /// One request is one audit event: `decision`, when the request is the person's
    /// consent, is recorded in place of `authorization.code_issued`.
    pub(crate) async fn issue_code_in(
        &self,
        mut tx: Tx,
        issue: Issue<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Next, ProviderError> {
        let Issue {
            request,
            user,
            session,
            finished_interaction,
            decision,
            rescored,
        } = issue;
        if let Some(id_hash) = finished_interaction {
            if !tx.delete_interaction(&id_hash).await? {
                let event_type = decision
                    .as_ref()
                    .map_or(AUTHORIZATION_REQUEST, |d| d.event_type);
                let who = (user.id.as_str(), request.client_id.as_str());
                self.record_finished_elsewhere(tx, ctx, now, event_type, who)
                    .await?;
                return Ok(Next::ErrorPage(interaction_gone()));
            }
        }

        // Admin scopes go only to a person whose roles grant them (see `admin`).
        let scope = self.person_scope(&mut tx, &user.id, &request.scope).await?;

        let code = RandomSecret::generate();
        let record = AuthorizationCode {
            client_id: request.client_id.to_string(),
            user_id: user.id.clone(),
            redirect_uri: request.redirect_uri.to_string(),
            scope: scope.to_string(),
            nonce: request.nonce.as_ref().map(ToString::to_string),
            code_challenge: request
                .code_challenge
                .as_ref()
                .map(|c| c.as_str().to_string()),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            sid: session.sid.clone(),
            expires_at: now + Settings::CODE_TTL,
            risk: session.risk.clone(),
        };
        tx.insert_code(&code.digest(), &record, now).await?;
        // Back-Channel Logout §2.7: logout notifies every client the session served.
        if let Some(sid) = &session.sid {
            tx.remember_session_client(sid, &record.client_id, session.expires_at)
                .await?;
        }
        let mut event = decision.unwrap_or_else(|| AuditEvent {
            occurred_at: now,
            event_type: "authorization.code_issued",
            outcome: Outcome::Success,
            user_id: Some(user.id.clone()),
            client_id: Some(request.client_id.to_string()),
            detail: json!({ "scope": record.scope }),
            ..audit_context(ctx)
        });
        // The code is the session's: its sid, and the score of the login that opened it,
        // unless this request was scored on its own (single sign-on from another network).
        event.session_id = session.sid.clone();
        let login = Assessment::from_stored(session.risk.as_deref());
        mark(&mut event, rescored.as_ref().or(login.as_ref()));
        tx.record(&event).await?;
        tx.commit().await?;

        let mut pairs = vec![("code", code.expose())];
        if let Some(state) = &request.state {
            pairs.push(("state", state.as_str()));
        }
        pairs.push(("iss", self.inner.settings.issuer.as_str()));
        Ok(Next::Redirect(with_query(&request.redirect_uri, &pairs)))
    }

    /// An error response at the client's redirection URI, with `iss` (RFC 9207 §2).
    pub(crate) fn error_redirect(
        &self,
        redirect_uri: &RedirectUri,
        err: &OAuthError,
        state: Option<&str>,
    ) -> String {
        let mut pairs = vec![
            ("error", err.code.as_str()),
            ("error_description", &*err.description),
        ];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", self.inner.settings.issuer.as_str()));
        with_query(redirect_uri, &pairs)
    }
}

/// Appends query parameters to a registered redirect URI, keeping its own query.
fn with_query(redirect_uri: &RedirectUri, pairs: &[(&str, &str)]) -> String {
    match Url::parse(redirect_uri.as_str()) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        // Registered URIs were parsed at registration; keep the registered text if not.
        Err(_) => redirect_uri.to_string(),
    }
}
