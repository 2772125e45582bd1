//! The authorization endpoint (RFC 6749 §4.1.1–4.1.2; OIDC Core §3.1.2).
//!
//! Enforces, in order: the client and redirect URI are trusted before any redirect
//! (RFC 6749 §4.1.2.1); the request is valid for that client; the person is authenticated
//! recently enough (`prompt=login`, `max_age`); the login reached the class the request
//! needs (`acr_values`, the client's MFA policy), or the person steps up to it
//! ([`crate::step_up`]); they consented to the scopes (`prompt=consent`, remembered
//! consent, first-party clients); `prompt=none` never shows a page. Only then is a
//! single-use code issued, bound to the client, redirect URI, PKCE challenge and nonce.
//!
//! This file owns the endpoint's steps and the interaction they open; issuing the code and
//! answering at the redirection URI are in `authorize/issue.rs`, the request's audit event
//! in `authorize/events.rs`.

use tessera_protocol::authorize::{AuthorizationRequest, ClientAndRedirect, ClientPolicy};
use tessera_protocol::params::Params;
use tessera_protocol::scope::Scope;
use tessera_protocol::types::{opaque, ClientId, RedirectUri};
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Client, Interaction, Session, Tx, User};

use crate::acr::acr_of;
use crate::purpose::Purpose;
use crate::refusal::{reason, refusal_event};
use crate::risk::{mark, Assessment, SessionRisk};
use crate::secret::{digest, RandomSecret};
use crate::step_up::{is_stale, StepUp};
use crate::{Provider, ProviderError, RequestContext};
use events::{begun_event, Refusal, AUTHORIZATION_REQUEST};
pub(crate) use issue::Issue;

mod events;
mod issue;

/// Where the browser goes next.
#[derive(Debug)]
pub enum Next {
    /// Show an error page: the client or redirect URI is not trusted, or the interaction is
    /// gone. Never redirect in this case.
    ErrorPage(OAuthError),
    /// Send the browser to the client's redirection URI, with a code or an error.
    Redirect(String),
    /// Show the login page. A new interaction cookie is included when one was created.
    Login(Option<RandomSecret>),
    /// Show the consent page.
    Consent(Option<RandomSecret>),
    /// Go to the account page: an account interaction's login is complete.
    Account,
    /// Show the second-factor step of a step-up: the person's session is live but weaker
    /// than the request needs.
    SecondFactor(Option<RandomSecret>),
}

/// What the flow needs to decide, for one request.
pub(crate) enum Decision {
    Login,
    /// The session is live and recent enough, but its class is below what the request
    /// needs, and its person has a second factor: they give it, not the password again.
    StepUp,
    /// As for `StepUp`, but the person has no second factor yet: they log in with the
    /// password again and enrol one ([`crate::step_up`] says why).
    Enrol,
    Consent,
    Issue,
}

/// The live session a request came with, once single sign-on has judged it.
#[derive(Default)]
pub(crate) struct Presented {
    /// The session and its person, when one may serve the request.
    pub session: Option<(Session, User)>,
    /// This request's own assessment, when the session was scored again for it.
    pub rescored: Option<Assessment>,
}

/// The browser's cookies, as presented; each is only a handle to a server-side record.
#[derive(Debug, Default)]
pub struct BrowserState<'a> {
    pub session_id: Option<&'a str>,
    pub interaction_id: Option<&'a str>,
}

impl Provider {
    /// Handles a request to the authorization endpoint, GET query or POST form alike.
    ///
    /// Every request is one audit event: a code issued (`authorization.code_issued`, in the
    /// transaction that stores the code), a login or consent begun (`authorization.request`,
    /// in the transaction that opens the interaction), or a refusal (`authorization.request`
    /// failure, on its own).
    pub async fn authorize(
        &self,
        raw: &[u8],
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Next, ProviderError> {
        match self.authorization_request(raw, browser, now, ctx).await? {
            Ok(next) => Ok(next),
            Err(refusal) => {
                self.inner.store.record(&refusal.event(now, ctx)).await?;
                Ok(refusal.next)
            }
        }
    }

    /// The steps of [`Provider::authorize`]; a refusal is returned for the caller to record.
    async fn authorization_request(
        &self,
        raw: &[u8],
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<Next, Refusal>, ProviderError> {
        // Step 1: nothing can be trusted until the parameters parse.
        let params = match Params::parse_keeping_repeats(raw) {
            Ok(params) => params,
            Err(err) => return Ok(Err(Refusal::page(err, None))),
        };

        // Step 2: the client and its redirect URI (RFC 6749 §4.1.2.1: never redirect to an
        // unverified URI).
        let (client, redirect_uri) = match self.trusted_client(&params).await? {
            Ok(found) => found,
            Err((err, client_id)) => return Ok(Err(Refusal::page(err, client_id))),
        };
        let refuse = |err: OAuthError, state: Option<&str>, to: &RedirectUri| {
            let location = self.error_redirect(to, &err, state);
            Ok(Err(Refusal::redirect(location, &err, &client.id)))
        };

        // Step 3: the client may use this grant at all (RFC 6749 §4.1.2.1,
        // `unauthorized_client`); errors from here on go back to the client.
        if !client.allows_grant("authorization_code") {
            let err = OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the client is not registered for the authorization code grant",
            );
            let state = params.get("state").filter(|s| opaque("state", s).is_ok());
            return refuse(err, state, &redirect_uri);
        }

        // Step 4: every other parameter.
        let allowed = Scope::parse(&client.allowed_scope).unwrap_or_default();
        let policy = ClientPolicy {
            is_public: client.is_public(),
            allowed_scope: &allowed,
        };
        let request = match AuthorizationRequest::validate(
            &params,
            ClientId::new(client.id.clone()),
            redirect_uri.clone(),
            &policy,
        ) {
            Ok(request) => request,
            Err(err) => {
                // A state that failed validation is not echoed: it may be the problem.
                let state = params.get("state").filter(|s| opaque("state", s).is_ok());
                return refuse(err, state, &redirect_uri);
            }
        };
        let state = request.state.as_ref().map(|s| s.as_str());

        // Step 5: who is logged in, and whether that is enough.
        let mut session = self.live_session(browser.session_id, now).await?;

        // OIDC Core §3.1.2.1 `id_token_hint`: the client names the person it expects. A
        // hint Tessera did not issue to this client is refused; a session of anyone else
        // does not count, so `prompt=none` answers `login_required` rather than speak for
        // another person.
        if let Some(hint) = &request.id_token_hint {
            let invalid = |description| {
                let err = OAuthError::invalid_request(description);
                refuse(err, state, &request.redirect_uri)
            };
            let Some(hint) = self.verify_hint(hint, now) else {
                return invalid("id_token_hint is not a valid ID token");
            };
            if hint.client_id != client.id {
                return invalid("id_token_hint was issued to another client");
            }
            if session
                .as_ref()
                .is_some_and(|(_, user)| user.id != hint.subject)
            {
                session = None;
            }
        }

        // A session used from another network than its login's is scored again (see `risk`).
        let presented = self.single_sign_on(session, &client.id, ctx, now).await?;
        let session = presented.session.as_ref();
        let decision = decide(&request, &client, session, false, self, now).await?;

        // Step 6: prompt=none must answer without showing a page (OIDC Core §3.1.2.6). A
        // live session that needs a second factor is not a missing login: the person is
        // known and must interact, so that is `interaction_required`.
        if request.prompt.none {
            let code = match decision {
                Decision::Login => Some(ErrorCode::LoginRequired),
                Decision::StepUp | Decision::Enrol => Some(ErrorCode::InteractionRequired),
                Decision::Consent => Some(ErrorCode::ConsentRequired),
                Decision::Issue => None,
            };
            if let Some(code) = code {
                let err = OAuthError::new(code, "the end-user must interact with the provider");
                return refuse(err, state, &request.redirect_uri);
            }
        }

        self.proceed(decision, request, presented, browser, now, ctx)
            .await
            .map(Ok)
    }

    /// Step 5's single sign-on check. A session used from another network than its login's
    /// is scored again: one that looks stolen serves nothing, and the person logs in afresh;
    /// one that may serve carries this new assessment to the request's event (see `risk`).
    async fn single_sign_on(
        &self,
        session: Option<(Session, User)>,
        client_id: &str,
        ctx: &RequestContext,
        now: i64,
    ) -> Result<Presented, ProviderError> {
        let Some((live, user)) = session else {
            return Ok(Presented::default());
        };
        match self
            .session_risk_holds(&live, &user, client_id, ctx, now)
            .await?
        {
            SessionRisk::Holds { rescored } => Ok(Presented {
                session: Some((live, user)),
                rescored,
            }),
            SessionRisk::Refused => Ok(Presented::default()),
        }
    }

    /// Where a valid request goes once decided: a code, or the interaction that a login,
    /// step-up or consent continues, opened with the request's event.
    async fn proceed(
        &self,
        decision: Decision,
        request: AuthorizationRequest,
        presented: Presented,
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Next, ProviderError> {
        type Page = fn(Option<RandomSecret>) -> Next;
        let Presented { session, rescored } = presented;
        let (step, step_up, page): (_, _, Page) = match (decision, session, browser.session_id) {
            (Decision::Issue, Some((session, user)), _) => {
                let issue = Issue {
                    rescored,
                    ..Issue::new(&request, &user, &session)
                };
                return self.issue_code(issue, now, ctx).await;
            }
            (Decision::StepUp, Some((session, _)), Some(session_id)) => (
                "second_factor",
                Some(StepUp::of(session_id, &session)),
                Next::SecondFactor,
            ),
            (Decision::Consent, _, _) => ("consent", None, Next::Consent),
            _ => ("login", None, Next::Login),
        };
        let mut event = begun_event(&request, step, now, ctx);
        // It carries a score only when it was scored itself (single sign-on from another
        // network); the login's reaches the event of the code the interaction issues.
        mark(&mut event, rescored.as_ref());
        let purpose = Purpose::Authorization(request);
        let id = self
            .open_interaction(&purpose, step_up.as_ref(), Some(&event), now)
            .await?;
        Ok(page(Some(id)))
    }

    /// Continues an interaction after a login.
    pub async fn resume(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Next, ProviderError> {
        let Some((interaction_id, interaction, purpose)) = self.interaction(browser, now).await?
        else {
            let gone = reason::INTERACTION_GONE;
            self.record_refusal(ctx, now, AUTHORIZATION_REQUEST, gone)
                .await?;
            return Ok(Next::ErrorPage(interaction_gone()));
        };
        let request = match purpose {
            Purpose::Authorization(request) => request,
            // An account interaction ends at the account page, never in a code.
            Purpose::Account(_) => {
                let authenticated = interaction.authenticated_at.is_some();
                return self
                    .finish_account_login(&interaction_id, authenticated, browser, now)
                    .await;
            }
        };
        let Some(client) = self.inner.store.client(request.client_id.as_str()).await? else {
            // The client was deleted while its person was signing in.
            let gone = reason::INTERACTION_GONE;
            let mut event = refusal_event(ctx, now, AUTHORIZATION_REQUEST, gone);
            event.client_id = Some(request.client_id.to_string());
            self.inner.store.record(&event).await?;
            return Ok(Next::ErrorPage(interaction_gone()));
        };
        let session = self.live_session(browser.session_id, now).await?;
        let fresh = interaction.authenticated_at.is_some();
        match (
            decide(&request, &client, session.as_ref(), fresh, self, now).await?,
            session,
            browser.session_id,
        ) {
            (Decision::Issue, Some((session, user)), _) => {
                let issue = Issue {
                    finished_interaction: Some(interaction_id),
                    ..Issue::new(&request, &user, &session)
                };
                self.issue_code(issue, now, ctx).await
            }
            (Decision::StepUp, Some((session, _)), Some(session_id)) => {
                let step_up = StepUp::of(session_id, &session);
                self.begin_step_up(&interaction_id, &step_up).await?;
                Ok(Next::SecondFactor(None))
            }
            (Decision::Consent, _, _) => Ok(Next::Consent(None)),
            _ => Ok(Next::Login(None)),
        }
    }

    /// Looks up the client and checks the redirect URI against its registered list. A
    /// refusal names the client when it exists, for the audit trail.
    async fn trusted_client(
        &self,
        params: &Params,
    ) -> Result<Result<(Client, RedirectUri), (OAuthError, Option<String>)>, ProviderError> {
        let ids = match ClientAndRedirect::from_params(params) {
            Ok(ids) => ids,
            Err(err) => return Ok(Err((err, None))),
        };
        let Some(client) = self.inner.store.client(ids.client_id).await? else {
            let err = OAuthError::invalid_request("unknown client_id");
            return Ok(Err((err, None)));
        };

        // RFC 9700 §4.1.1 / RFC 6749 §3.1.2.3: simple string comparison, nothing looser.
        let registered = client
            .redirect_uris
            .iter()
            .find(|uri| uri.as_str() == ids.redirect_uri);
        let Some(registered) = registered else {
            let err = OAuthError::invalid_request("redirect_uri is not registered for this client");
            return Ok(Err((err, Some(client.id))));
        };
        let redirect_uri = RedirectUri::from_registered(registered.clone());
        Ok(Ok((client, redirect_uri)))
    }

    /// The session behind a cookie, with its user, if both are live.
    pub(crate) async fn live_session(
        &self,
        session_id: Option<&str>,
        now: i64,
    ) -> Result<Option<(Session, User)>, ProviderError> {
        let Some(session_id) = session_id else {
            return Ok(None);
        };
        let Some(session) = self.inner.store.session(&digest(session_id), now).await? else {
            return Ok(None);
        };
        match self.inner.store.user_by_id(&session.user_id).await? {
            Some(user) if !user.disabled => Ok(Some((session, user))),
            _ => Ok(None),
        }
    }

    /// The interaction behind a cookie and what it is for.
    pub(crate) async fn interaction(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Option<([u8; 32], Interaction, Purpose)>, ProviderError> {
        let Some(id) = browser.interaction_id else {
            return Ok(None);
        };
        let id_hash = digest(id);
        let Some(interaction) = self.inner.store.interaction(&id_hash, now).await? else {
            return Ok(None);
        };
        let purpose = Purpose::from_stored(&interaction.purpose, &interaction.request)?;
        Ok(Some((id_hash, interaction, purpose)))
    }

    /// Opens an interaction for `purpose` and returns the id its cookie carries; with
    /// `step_up`, one whose first step is the second factor of that session's person.
    /// `event`, the audit event of the request that opens it, commits with it.
    pub(crate) async fn open_interaction(
        &self,
        purpose: &Purpose,
        step_up: Option<&StepUp>,
        event: Option<&AuditEvent>,
        now: i64,
    ) -> Result<RandomSecret, ProviderError> {
        let id = RandomSecret::generate();
        let mut tx = self.inner.store.begin().await?;
        self.insert_interaction(&mut tx, &id, purpose, step_up, now)
            .await?;
        if let Some(event) = event {
            tx.record(event).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a new interaction for `purpose` with the id `id`, within `tx`.
    pub(crate) async fn insert_interaction(
        &self,
        tx: &mut Tx,
        id: &RandomSecret,
        purpose: &Purpose,
        step_up: Option<&StepUp>,
        now: i64,
    ) -> Result<(), ProviderError> {
        let (name, request) = purpose.to_stored()?;
        let interaction = Interaction {
            purpose: name.to_string(),
            request,
            authenticated_at: None,
            expires_at: now + self.inner.settings.interaction_ttl,
            pending_user_id: step_up.map(|s| s.user_id.clone()),
            password_verified_at: step_up.map(|s| s.authenticated_at),
            step_up_session: step_up.map(|s| s.session_hash.to_vec()),
            risk: None,
        };
        tx.insert_interaction(&id.digest(), &interaction, now)
            .await?;
        Ok(())
    }
}

/// Decides what the request still needs. `fresh` is true when the person authenticated
/// within this very interaction, which satisfies `prompt=login` and `max_age`.
///
/// The order matters: a session too old for the request is a full login (password and
/// every factor the person has) before any question of its class, so a step-up never
/// refreshes a stale password.
pub(crate) async fn decide(
    request: &AuthorizationRequest,
    client: &Client,
    session: Option<&(Session, User)>,
    fresh: bool,
    provider: &Provider,
    now: i64,
) -> Result<Decision, ProviderError> {
    let Some((session, user)) = session else {
        return Ok(Decision::Login);
    };

    // OIDC Core §3.1.2.1: prompt=login asks for re-authentication.
    if request.prompt.login && !fresh {
        return Ok(Decision::Login);
    }

    // OIDC Core §3.1.2.1: max_age bounds the time since the last active authentication.
    if is_stale(request.max_age, session.auth_time, now) && !fresh {
        return Ok(Decision::Login);
    }

    // OIDC Core §3.1.2.1 `acr_values`, and a client that requires a second factor: a
    // session below the class the request needs steps up before any code is issued.
    if acr_of(&session.amr) < provider.required_acr(request, client) {
        return Ok(if provider.has_second_factor(&user.id).await? {
            Decision::StepUp
        } else {
            Decision::Enrol
        });
    }

    // OIDC Core §3.1.2.1: prompt=consent asks for consent, even from first-party clients.
    if request.prompt.consent {
        return Ok(Decision::Consent);
    }

    if client.first_party {
        return Ok(Decision::Issue);
    }

    // OIDC Core §3.1.2.4: consent is asked when not yet given for every requested scope.
    let granted = provider.inner.store.consent(&user.id, &client.id).await?;
    let covered = granted
        .and_then(|c| Scope::parse(&c.scope).ok())
        .is_some_and(|granted| request.scope.is_subset(&granted));
    Ok(if covered {
        Decision::Issue
    } else {
        Decision::Consent
    })
}

/// The error shown when an interaction expired or never existed.
pub(crate) fn interaction_gone() -> OAuthError {
    OAuthError::invalid_request(
        "This sign-in attempt has expired or was already completed. Return to the application and start again.",
    )
}

/// Fields of an audit event that come from the request.
pub(crate) fn audit_context(ctx: &RequestContext) -> AuditEvent {
    AuditEvent {
        source_ip: ctx.source_ip.clone(),
        user_agent: ctx.user_agent.clone(),
        request_id: ctx.request_id.clone(),
        device_id: ctx.device_id.clone(),
        ..AuditEvent::default()
    }
}
