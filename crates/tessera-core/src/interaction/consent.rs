//! The consent step of an app's interaction (OIDC Core §3.1.2.4).
//!
//! Enforces: the login state machine is checked again when the page or the form arrives, so
//! consent, and the code an approval issues, are never reached by skipping a login that
//! `prompt=login` or `max_age` demanded, or a step-up that became due (OIDC Core §3.1.2.1);
//! the form carries the interaction's CSRF token; one decision finishes the interaction,
//! once; an approval remembers the scopes granted in the transaction that issues the code,
//! and a denial answers `access_denied` at the client. Each decision is one audit event,
//! `consent`.

use serde_json::json;
use tessera_protocol::authorize::AuthorizationRequest;
use tessera_protocol::scope::Scope;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Outcome, Session, User};

use super::csrf_refused;
use crate::authorize::{
    audit_context, decide, interaction_gone, BrowserState, Decision, Issue, Next,
};
use crate::purpose::Purpose;
use crate::refusal::reason;
use crate::secret::{csrf_matches, csrf_token};
use crate::step_up::StepUp;
use crate::{Provider, ProviderError, RequestContext};

/// What the consent page shows.
#[derive(Debug)]
pub struct ConsentView {
    pub csrf: String,
    pub client_name: String,
    pub username: String,
    pub scopes: Vec<String>,
}

/// Where an interaction stands when the consent step is asked for.
// One short-lived value per request; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum ConsentStep {
    /// Expired, never existed, or already finished.
    Gone,
    /// No live session, or one that `prompt=login` or `max_age` does not accept, or one
    /// whose person must enrol a second factor.
    NeedsLogin,
    /// A live session below the class the request needs; the interaction is now its
    /// step-up.
    NeedsStepUp,
    Ready {
        interaction_hash: [u8; 32],
        request: AuthorizationRequest,
        session: Session,
        user: User,
    },
}

impl ConsentStep {
    /// Where the browser goes when the interaction is not ready for consent.
    fn elsewhere(&self) -> Next {
        match self {
            Self::NeedsLogin => Next::Login(None),
            Self::NeedsStepUp => Next::SecondFactor(None),
            Self::Gone | Self::Ready { .. } => Next::ErrorPage(interaction_gone()),
        }
    }
}

impl Provider {
    /// The consent page, or where the browser must go instead when the interaction is not
    /// at its consent step.
    pub async fn consent_page(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Result<ConsentView, Next>, ProviderError> {
        let (request, user) = match self.consent_step(browser, now).await? {
            ConsentStep::Ready { request, user, .. } => (request, user),
            other => return Ok(Err(other.elsewhere())),
        };
        Ok(Ok(ConsentView {
            csrf: browser.interaction_id.map(csrf_token).unwrap_or_default(),
            client_name: self.client_name(request.client_id.as_str()).await?,
            username: user.username,
            scopes: request.scope.iter().map(str::to_string).collect(),
        }))
    }

    /// Where an interaction stands when a consent page or form arrives. The login state
    /// machine is re-checked here, so a browser cannot reach consent, and a code, by
    /// skipping a login that `prompt=login` or `max_age` demanded (OIDC Core §3.1.2.1).
    async fn consent_step(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<ConsentStep, ProviderError> {
        let Some((interaction_hash, interaction, purpose)) = self.interaction(browser, now).await?
        else {
            return Ok(ConsentStep::Gone);
        };
        // Consent exists only for an app's request: an account interaction has nothing to
        // consent to and no code to issue.
        let Purpose::Authorization(request) = purpose else {
            return Ok(ConsentStep::Gone);
        };
        let Some(client) = self.inner.store.client(request.client_id.as_str()).await? else {
            return Ok(ConsentStep::Gone);
        };
        let Some(live) = self.live_session(browser.session_id, now).await? else {
            return Ok(ConsentStep::NeedsLogin);
        };
        let fresh = interaction.authenticated_at.is_some();
        match decide(&request, &client, Some(&live), fresh, self, now).await? {
            Decision::Login | Decision::Enrol => return Ok(ConsentStep::NeedsLogin),
            Decision::StepUp => {
                // A live session implies its cookie; without one there is nothing to bind.
                let Some(session_id) = browser.session_id else {
                    return Ok(ConsentStep::NeedsLogin);
                };
                let step_up = StepUp::of(session_id, &live.0);
                self.begin_step_up(&interaction_hash, &step_up).await?;
                return Ok(ConsentStep::NeedsStepUp);
            }
            Decision::Consent | Decision::Issue => {}
        }
        let (session, user) = live;
        Ok(ConsentStep::Ready {
            interaction_hash,
            request,
            session,
            user,
        })
    }

    /// Records the person's decision and finishes the interaction. An approval issues the
    /// code in the same transaction, and the request stays one audit event: `consent`.
    pub async fn consent(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        approved: bool,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Next, ProviderError> {
        let Some(id) = browser.interaction_id else {
            self.record_refusal(ctx, now, "consent", reason::INTERACTION_GONE)
                .await?;
            return Ok(Next::ErrorPage(interaction_gone()));
        };
        if !csrf_matches(id, csrf) {
            self.record_refusal(ctx, now, "consent", reason::CSRF)
                .await?;
            return Ok(Next::ErrorPage(csrf_refused()));
        }
        let (interaction_hash, request, session, user) =
            match self.consent_step(browser, now).await? {
                ConsentStep::Ready {
                    interaction_hash,
                    request,
                    session,
                    user,
                } => (interaction_hash, request, session, user),
                ConsentStep::Gone => {
                    self.record_refusal(ctx, now, "consent", reason::INTERACTION_GONE)
                        .await?;
                    return Ok(Next::ErrorPage(interaction_gone()));
                }
                other => {
                    // A decision posted before the login (or step-up) it needs is still an
                    // attempt: recorded, though the browser is only sent on to that step.
                    self.record_refusal(ctx, now, "consent", reason::OUT_OF_ORDER)
                        .await?;
                    return Ok(other.elsewhere());
                }
            };

        let event = AuditEvent {
            occurred_at: now,
            event_type: "consent",
            outcome: if approved {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            user_id: Some(user.id.clone()),
            client_id: Some(request.client_id.to_string()),
            detail: json!({ "scope": request.scope.to_string(), "approved": approved }),
            ..audit_context(ctx)
        };
        // Read before the transaction opens: a request holding a transaction must not wait
        // for a second pooled connection (see `Tx::user_by_id`).
        let previous = self
            .inner
            .store
            .consent(&user.id, request.client_id.as_str())
            .await?;
        let mut tx = self.inner.store.begin().await?;

        if !approved {
            // Only the first of several submissions of one form finishes the interaction.
            if !tx.delete_interaction(&interaction_hash).await? {
                let who = (user.id.as_str(), request.client_id.as_str());
                self.record_finished_elsewhere(tx, ctx, now, "consent", who)
                    .await?;
                return Ok(Next::ErrorPage(interaction_gone()));
            }
            tx.record(&event).await?;
            tx.commit().await?;
            let err = OAuthError::new(ErrorCode::AccessDenied, "the end-user denied the request");
            let state = request.state.as_ref().map(|s| s.as_str());
            return Ok(Next::Redirect(self.error_redirect(
                &request.redirect_uri,
                &err,
                state,
            )));
        }

        // Remember the union of everything approved for this client, in the transaction
        // that issues the code, so neither exists without the other.
        let previous = previous
            .and_then(|c| Scope::parse(&c.scope).ok())
            .unwrap_or_default();
        let granted = previous.union(&request.scope);
        tx.upsert_consent(
            &user.id,
            request.client_id.as_str(),
            &granted.to_string(),
            now,
        )
        .await?;
        let issue = Issue {
            finished_interaction: Some(interaction_hash),
            decision: Some(event),
            ..Issue::new(&request, &user, &session)
        };
        self.issue_code_in(tx, issue, now, ctx).await
    }
}
