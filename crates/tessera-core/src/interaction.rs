//! The hosted login and consent steps of an interaction.
//!
//! Enforces: every form carries the interaction's CSRF token; an unknown username and a
//! wrong password produce the same answer after the same work (a dummy hash is verified
//! for unknown users); a login replaces any earlier session with a new id, so a session id
//! planted before login is worthless afterwards (session fixation); each attempt, good or
//! bad, is an audit event, and a successful one commits with the session it creates; each
//! password is charged to the throttle before it is checked, and refused unchecked while a
//! delay holds ([`crate::throttle`]); a right password is scored for risk before anything
//! else, and a risky login is refused or owes a second factor ([`crate::risk`]).
//!
//! The same steps serve an app's authorization request and the account page (see
//! [`crate::purpose`]); only consent is an app's alone.

use std::borrow::Cow;

use secrecy::SecretString;
use serde_json::json;
use tessera_protocol::authorize::AuthorizationRequest;
use tessera_protocol::scope::Scope;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Outcome, Session, User};

use crate::authorize::{audit_context, decide, interaction_gone, BrowserState, Decision, Next};
use crate::mfa::AMR_PASSWORD;
use crate::purpose::{Purpose, ACCOUNT_AUDIENCE};
use crate::refusal::{reason, refusal_event};
use crate::risk::{mark, refusal, Assessment, RiskRefusal, NEEDS_FACTOR};
use crate::second_factor::FactorStep;
use crate::secret::{csrf_matches, csrf_token, digest, RandomSecret};
use crate::step_up::StepUp;
use crate::throttle::{Charge, Subject, Throttled};
use crate::username::username_key;
use crate::{Provider, ProviderError, RequestContext};

/// What the login page shows.
#[derive(Debug)]
pub struct LoginView {
    pub csrf: String,
    /// Who the login is for: the client's name, or [`ACCOUNT_AUDIENCE`].
    pub client_name: String,
    pub username: String,
    pub error: Option<Cow<'static, str>>,
    /// Set when the attempt was refused by the throttle: seconds until the next is taken.
    pub retry_after: Option<i64>,
    /// Whether to offer signing in with a passkey (WebAuthn is offered).
    pub passkey: bool,
    /// Why the last passkey attempt failed, shown beside the passkey button.
    pub passkey_error: Option<&'static str>,
}

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

/// A submitted login form.
pub struct LoginForm {
    pub csrf: String,
    pub username: String,
    pub password: SecretString,
}

#[derive(Debug)]
pub enum LoginResult {
    /// Show the login page again with this view (it carries the error message).
    Retry(LoginView),
    /// Logged in: set this new session cookie and continue the interaction.
    LoggedIn(RandomSecret),
    /// The password was right and a second factor is owed: go to that step.
    SecondFactor(FactorStep),
    /// The password was right but an administrator requires a new one: go to that form.
    ChangePassword,
    ErrorPage(OAuthError),
}

/// The one message for every failed login, whatever failed.
pub const LOGIN_FAILED: &str = "Incorrect username or password.";

/// Why the login page is shown again.
enum Retry {
    /// The username or the password was wrong, or the account is disabled.
    Failed,
    /// The attempt was refused unchecked while a delay holds.
    Throttled(Throttled),
    /// The password was right, but the login's risk refused it.
    Risk(RiskRefusal),
}

/// A right password the risk let through: whose, in which interaction, the second factor it
/// owes, and its assessment.
struct Admitted<'a> {
    interaction_hash: &'a [u8],
    user_id: &'a str,
    owed: Option<FactorStep>,
    assessment: &'a Assessment,
}

/// A login whose session opens: in which interaction, whose, and how risky it looked.
pub(crate) struct Opened<'a> {
    pub interaction_hash: &'a [u8],
    pub user_id: &'a str,
    /// The login's assessment; `None` when it was not scored.
    pub assessment: Option<&'a Assessment>,
}

pub(crate) fn csrf_refused() -> OAuthError {
    OAuthError::invalid_request("The form has expired. Return to the application and start again.")
}

impl Provider {
    pub async fn login_page(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Result<LoginView, OAuthError>, ProviderError> {
        let (Some(id), Some((_, _, purpose))) = (
            browser.interaction_id,
            self.interaction(browser, now).await?,
        ) else {
            return Ok(Err(interaction_gone()));
        };
        Ok(Ok(LoginView {
            csrf: csrf_token(id),
            client_name: self.audience_name(&purpose).await?,
            username: purpose.login_hint().unwrap_or_default(),
            error: None,
            retry_after: None,
            passkey: self.webauthn_offered(),
            passkey_error: None,
        }))
    }

    pub async fn login(
        &self,
        browser: &BrowserState<'_>,
        form: LoginForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<LoginResult, ProviderError> {
        let (Some(id), Some((interaction_hash, _, purpose))) = (
            browser.interaction_id,
            self.interaction(browser, now).await?,
        ) else {
            self.record_refusal(ctx, now, "login.password", reason::INTERACTION_GONE)
                .await?;
            return Ok(LoginResult::ErrorPage(interaction_gone()));
        };
        if !csrf_matches(id, &form.csrf) {
            let mut event = refusal_event(ctx, now, "login.password", reason::CSRF);
            event.client_id = purpose.client_id().map(str::to_string);
            self.inner.store.record(&event).await?;
            return Ok(LoginResult::ErrorPage(csrf_refused()));
        }

        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "login.password",
            client_id: purpose.client_id().map(str::to_string),
            ..audit_context(ctx)
        };

        // NIST SP 800-63B §5.2.2: the attempt is charged before the password is checked, and
        // refused unchecked while a delay holds, for unknown usernames alike.
        let charge = match self
            .take_attempt(Subject::Password(&form.username), ctx, now)
            .await?
        {
            Ok(charge) => charge,
            Err(throttled) => {
                event.detail = throttled.detail();
                self.inner.store.record(&event).await?;
                return self
                    .retry(id, &purpose, &form.username, Retry::Throttled(throttled))
                    .await;
            }
        };

        let typed = form.username.clone();
        let user = match self.check_password(form, &mut event).await? {
            Some(user) => user,
            None => return self.retry(id, &purpose, &typed, Retry::Failed).await,
        };

        event.user_id = Some(user.id.clone());

        // The person is known: the login is scored (see `risk`), and a risky one goes no
        // further. A refused attempt keeps its throttle charge, as a failure.
        let assessment = self
            .assess_login(&user.id, charge.prior(), ctx, now)
            .await?;
        self.count_decision(&assessment);
        let owed = self.second_factor_owed(&user, &purpose).await?;
        if let Some(refused) = refusal(&assessment, owed == Some(FactorStep::Verify)) {
            self.record_risk_refusal(event, &assessment, refused, None)
                .await?;
            return self.retry(id, &purpose, &typed, Retry::Risk(refused)).await;
        }
        event.outcome = Outcome::Success;
        mark(&mut event, Some(&assessment));
        let admitted = Admitted {
            interaction_hash: &interaction_hash,
            user_id: &user.id,
            owed,
            assessment: &assessment,
        };
        self.admit(browser, &admitted, event, charge, now, ctx)
            .await
    }

    /// The next step of a login whose password was right and whose risk let it through, with
    /// `event` (its success) and `charge` (settled as one) in the same transaction: a new
    /// password an administrator requires, the second factor, or the session.
    async fn admit(
        &self,
        browser: &BrowserState<'_>,
        admitted: &Admitted<'_>,
        mut event: AuditEvent,
        charge: Charge,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<LoginResult, ProviderError> {
        let (hash, user_id) = (admitted.interaction_hash, admitted.user_id);
        let risk = admitted.assessment.to_stored();

        // An administrator required a new password: it is chosen before anything else, and
        // the password just given opens nothing until then.
        if self.inner.store.must_change_password(user_id).await? {
            event.detail = json!({ "password_change": "required" });
            let mut tx = self.inner.store.begin().await?;
            if let Some(old) = browser.session_id {
                tx.delete_session(&digest(old)).await?;
            }
            tx.set_interaction_password_change(hash, user_id, now)
                .await?;
            tx.set_interaction_risk(hash, risk.as_deref()).await?;
            charge.succeeded(&mut tx).await?;
            tx.record(&event).await?;
            tx.commit().await?;
            return Ok(LoginResult::ChangePassword);
        }

        // A second factor is owed when the person has one, or an app's request needs two
        // (the client's policy, `acr_values`): the password then creates no session, only a
        // pending step on the interaction row, which keeps the assessment for that step.
        if let Some(step) = admitted.owed {
            event.detail = json!({ "second_factor": step.as_str() });
            let mut tx = self.inner.store.begin().await?;
            if let Some(old) = browser.session_id {
                tx.delete_session(&digest(old)).await?;
            }
            tx.set_interaction_pending(hash, user_id, now).await?;
            tx.set_interaction_risk(hash, risk.as_deref()).await?;
            charge.succeeded(&mut tx).await?;
            tx.record(&event).await?;
            tx.commit().await?;
            return Ok(LoginResult::SecondFactor(step));
        }

        let mut tx = self.inner.store.begin().await?;
        let opened = Opened {
            interaction_hash: hash,
            user_id,
            assessment: Some(admitted.assessment),
        };
        let (session_id, sid) = self
            .open_password_session(&mut tx, browser, &opened, now, ctx)
            .await?;
        event.session_id = Some(sid);
        charge.succeeded(&mut tx).await?;
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(LoginResult::LoggedIn(session_id))
    }

    /// The session a login by password alone opens, within `tx`: new, replacing the
    /// browser's earlier one (session fixation), linked to the device it came from, and the
    /// person's last login is now; it keeps the login's risk assessment, and the person's
    /// history learns from it. Returns the session's cookie value and its public `sid`.
    pub(crate) async fn open_password_session(
        &self,
        tx: &mut tessera_store::Tx,
        browser: &BrowserState<'_>,
        opened: &Opened<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(RandomSecret, String), ProviderError> {
        let sid = uuid::Uuid::new_v4().simple().to_string();
        let session_id = RandomSecret::generate();
        let session = Session {
            user_id: opened.user_id.to_string(),
            auth_time: now,
            amr: AMR_PASSWORD.to_string(),
            sid: Some(sid.clone()),
            expires_at: now + self.inner.settings.session_ttl,
            risk: opened.assessment.and_then(Assessment::session_stored),
        };
        if let Some(old) = browser.session_id {
            tx.delete_session(&digest(old)).await?;
        }
        tx.insert_session(&session_id.digest(), &session, now)
            .await?;
        self.note_device(tx, ctx, &session, now).await?;
        tx.record_login(opened.user_id, now).await?;
        self.learn_login(tx, opened.user_id, opened.assessment, now)
            .await?;
        tx.mark_interaction_authenticated(opened.interaction_hash, now)
            .await?;
        Ok((session_id, sid))
    }

    /// The account whose password `form` gives, or `None` after recording why not: the
    /// audit trail names the account that was tried when it exists, and why it failed, but
    /// never the password; the person sees one message whatever failed. A dummy hash is
    /// verified for an unknown username, so both take the same time.
    async fn check_password(
        &self,
        form: LoginForm,
        event: &mut AuditEvent,
    ) -> Result<Option<User>, ProviderError> {
        let user = match username_key(&form.username) {
            Ok(key) => self.inner.store.user_by_username_key(&key).await?,
            Err(_) => None,
        };
        let tried = user.as_ref().map(|u| (u.id.clone(), u.disabled));
        let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let password_ok = self
            .inner
            .passwords
            .verify(form.password, stored_hash)
            .await;
        let user = user.filter(|u| password_ok && !u.disabled);
        if user.is_some() {
            return Ok(user);
        }

        let reason = match &tried {
            None => "unknown_user",
            Some((_, true)) => "account_disabled",
            Some((_, false)) => "bad_password",
        };
        event.user_id = tried.map(|(id, _)| id);
        event.detail = json!({ "reason": reason });
        self.inner.store.record(event).await?;
        Ok(None)
    }

    /// The login page again after a refused attempt, with the username as typed (control
    /// characters dropped, 256 characters at most) and the one message for `retry`.
    async fn retry(
        &self,
        interaction_id: &str,
        purpose: &Purpose,
        typed: &str,
        retry: Retry,
    ) -> Result<LoginResult, ProviderError> {
        let (error, retry_after) = match retry {
            // A refusal above `refuse_above` reads as any failed login: whoever typed the
            // password learns neither that it was right nor why it was refused; the alert
            // tells the administrators.
            Retry::Failed | Retry::Risk(RiskRefusal::Refused) => {
                (Cow::Borrowed(LOGIN_FAILED), None)
            }
            Retry::Risk(RiskRefusal::NeedsFactor) => (Cow::Borrowed(NEEDS_FACTOR), None),
            Retry::Throttled(throttled) => {
                (Cow::Owned(throttled.message()), Some(throttled.retry_after))
            }
        };
        Ok(LoginResult::Retry(LoginView {
            csrf: csrf_token(interaction_id),
            client_name: self.audience_name(purpose).await?,
            username: typed
                .chars()
                .filter(|c| !c.is_control())
                .take(256)
                .collect(),
            error: Some(error),
            retry_after,
            passkey: self.webauthn_offered(),
            passkey_error: None,
        }))
    }

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
        self.issue_code_in(
            tx,
            &request,
            &user,
            &session,
            Some(interaction_hash),
            Some(event),
            now,
            ctx,
        )
        .await
    }

    /// Who a login is for, in the pages' words: the client's name, or the account page.
    pub(crate) async fn audience_name(&self, purpose: &Purpose) -> Result<String, ProviderError> {
        match purpose.client_id() {
            Some(client_id) => self.client_name(client_id).await,
            None => Ok(ACCOUNT_AUDIENCE.to_string()),
        }
    }

    pub(crate) async fn client_name(&self, client_id: &str) -> Result<String, ProviderError> {
        Ok(self
            .inner
            .store
            .client(client_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default())
    }
}
