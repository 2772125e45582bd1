//! The second-factor step of a login, and enrolment into it.
//!
//! Enforces: the step exists only on the server, on the interaction row, after the
//! password was verified within that interaction; no session exists until the factor is
//! verified, so no later URL (`/resume`, `/consent`) and no replayed password form gets
//! past it; every form carries the interaction's CSRF token; a TOTP code or a recovery code
//! is accepted once (the store's conditional UPDATEs); every wrong code says the same
//! "Incorrect code." whichever factors the person has, and counts against the interaction
//! (five end it); every code is charged to the account's and the address's throttle
//! counters before it is checked, and refused unchecked while their delay holds
//! ([`crate::throttle`]), so guessing slows down without locking the owner out for good;
//! enrolment confirms a TOTP authenticator only with a valid code, then shows ten recovery
//! codes once. Each attempt is an audit event. A step-up
//! ([`crate::step_up`]) reaches this step from a live session instead of a password, under
//! that module's guards.
//!
//! The account page reuses this step to set up an authenticator: it opens an account
//! interaction whose password step its fresh session stands for (see [`crate::account`]).
//!
//! A WebAuthn credential counts as a factor too; its assertions and registrations (in
//! [`crate::webauthn`]) take their attempts and count their failures against the
//! interaction through the same [`Provider::begin_attempt`] and [`Provider::count_failure`]
//! as codes do. They are not throttled: a signature cannot be guessed, so the owner's key
//! signs them in while a delay holds for codes.

use std::borrow::Cow;

use serde_json::json;
use tessera_protocol::acr::Acr;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Outcome, Session, TotpFactor, Tx, User};

use crate::acr::acr_of;
use crate::authorize::{audit_context, interaction_gone, BrowserState, Next};
use crate::backchannel::LogoutNotices;
use crate::mfa::{combined_amr, AMR_PASSWORD_RECOVERY, AMR_PASSWORD_TOTP};
use crate::purpose::Purpose;
use crate::recovery::{self, RecoveryCode};
use crate::risk::{mark, Assessment};
use crate::secret::{csrf_token, digest, RandomSecret};
use crate::step_up::take_upgraded_session;
use crate::throttle::{Charge, Throttled};
use crate::totp::{self, TotpSecret};
use crate::{Provider, ProviderError, RequestContext};

/// The one message for every wrong code, whatever was wrong and whatever factors exist.
pub const INCORRECT_CODE: &str = "Incorrect code.";

/// Which second-factor step a login goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorStep {
    /// The person has an authenticator: enter a code from it, or a recovery code.
    Verify,
    /// The client requires a factor the person does not have yet: set one up.
    Enrol,
}

impl FactorStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Enrol => "enrol",
        }
    }
}

/// The code page: a TOTP code or a recovery code, or the person's passkey.
#[derive(Debug)]
pub struct FactorView {
    pub csrf: String,
    /// Who the login is for: the client's name, or the account page.
    pub client_name: String,
    pub error: Option<Cow<'static, str>>,
    /// Set when the code was refused by the throttle: seconds until the next is taken.
    pub retry_after: Option<i64>,
    /// Whether to offer the person's passkey or security key (they have one, and WebAuthn
    /// is offered at all).
    pub passkey: bool,
    /// Why the last passkey attempt failed, shown beside the passkey button.
    pub passkey_error: Option<&'static str>,
}

/// The enrolment page. It holds the secret (in the URI and the QR code), so it has no
/// `Debug`.
pub struct EnrolView {
    pub csrf: String,
    /// Who the login is for: the client's name, or the account page.
    pub client_name: String,
    /// Whether the client demands the authenticator; false when the person chose to add one.
    pub required: bool,
    pub account: String,
    pub otpauth_uri: zeroize::Zeroizing<String>,
    /// An SVG element drawing the QR code of `otpauth_uri`; generated here, never input.
    pub qr_svg: zeroize::Zeroizing<String>,
    pub error: Option<Cow<'static, str>>,
    /// Set when the code was refused by the throttle: seconds until the next is taken.
    pub retry_after: Option<i64>,
    /// Whether registering a passkey or security key is offered beside the authenticator.
    pub passkey: bool,
    pub passkey_error: Option<&'static str>,
}

/// What a request to the second-factor step leads to.
pub enum FactorOutcome {
    Verify(FactorView),
    Enrol(EnrolView),
    /// The factor was verified: set this session cookie; show these recovery codes once
    /// (only after an enrolment), then continue the interaction.
    LoggedIn {
        session: RandomSecret,
        recovery_codes: Vec<RecoveryCode>,
    },
    Elsewhere(Next),
}

/// A submitted code form.
pub struct FactorForm {
    pub csrf: String,
    pub code: zeroize::Zeroizing<String>,
}

/// An interaction whose password step is done and whose second factor is owed.
pub(crate) struct Pending {
    pub interaction_hash: [u8; 32],
    /// The interaction's CSRF token, for the pages shown again.
    pub csrf: String,
    pub expires_at: i64,
    pub purpose: Purpose,
    pub user: User,
    pub totp: Option<TotpFactor>,
    /// Whether the person has a WebAuthn credential.
    pub has_key: bool,
    /// Second-factor attempts taken in this interaction, this one included.
    pub attempts: i64,
    /// For a step-up, the hash of the session it upgrades.
    pub step_up: Option<Vec<u8>>,
    /// The throttle's charge for a code, settled when the step completes; none for a key.
    pub charge: Option<Charge>,
    /// The risk assessment of the password step; `None` for a step-up, which is not scored.
    pub risk: Option<Assessment>,
}

impl Pending {
    /// Whether the person has a factor to verify: a confirmed authenticator or a key.
    pub fn has_factor(&self) -> bool {
        self.has_key || self.totp.as_ref().is_some_and(|f| f.confirmed_at.is_some())
    }
}

/// What a verified factor adds to the login.
pub(crate) struct Verified {
    /// The `amr` of a password login with this factor (RFC 8176 values, space-separated).
    pub amr: String,
    /// The factor's own success (`login.totp`, `login.recovery_code`, `login.webauthn`): the
    /// request's one event, an enrolment's included.
    pub factor: AuditEvent,
    /// Whether the person's other sessions end (after an enrolment).
    pub end_other_sessions: bool,
}

/// The interaction's last attempt was used: it ends.
fn too_many_codes() -> OAuthError {
    OAuthError::new(
        ErrorCode::AccessDenied,
        "Too many incorrect codes. Return to the application and start again.",
    )
}

impl Provider {
    /// Which second-factor step, if any, a person who just gave the right password owes:
    /// the code when they have an authenticator; enrolment when an app's request needs two
    /// factors (`acr_values`, or the client's policy) and they have none yet. An account
    /// login never enrols: it asks for the factor the person has, if any.
    pub(crate) async fn second_factor_owed(
        &self,
        user: &User,
        purpose: &Purpose,
    ) -> Result<Option<FactorStep>, ProviderError> {
        let factor = self.inner.store.totp_factor(&user.id).await?;
        if factor.is_some_and(|f| f.confirmed_at.is_some()) {
            return Ok(Some(FactorStep::Verify));
        }
        // A key counts whether or not WebAuthn is offered now: a person whose only factor is
        // a key is then asked for a recovery code, never let in with the password alone.
        if self.inner.store.has_webauthn_credential(&user.id).await? {
            return Ok(Some(FactorStep::Verify));
        }
        let Purpose::Authorization(request) = purpose else {
            return Ok(None);
        };
        let required = self.required_acr_of(request).await?;
        Ok((required >= Acr::MultiFactor).then_some(FactorStep::Enrol))
    }

    /// The interaction's pending second factor, or where the browser goes instead.
    pub(crate) async fn pending(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Result<Pending, Next>, ProviderError> {
        let (Some(id), Some((interaction_hash, interaction, purpose))) = (
            browser.interaction_id,
            self.interaction(browser, now).await?,
        ) else {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        };

        // The guard against skipping the password: the step exists only once a password
        // was verified within this very interaction (or, for an authenticator set up from
        // the account page, by the fresh session that opened it).
        let (Some(user_id), Some(_)) = (
            interaction.pending_user_id,
            interaction.password_verified_at,
        ) else {
            return Ok(Err(Next::Login(None)));
        };

        let user = match self.inner.store.user_by_id(&user_id).await? {
            Some(user) if !user.disabled => user,
            _ => return Ok(Err(Next::ErrorPage(interaction_gone()))),
        };

        // A step-up, or an authenticator added from the account page, stands on a session
        // instead of a password: its guards, every time.
        if let Some(bound) = &interaction.step_up_session {
            let holds = match &purpose {
                Purpose::Authorization(request) => {
                    self.step_up_holds(bound, &user.id, request, browser, now)
                        .await?
                }
                Purpose::Account(_) => {
                    self.account_enrolment_holds(bound, &user.id, browser, now)
                        .await?
                }
            };
            if let Err(next) = holds {
                return Ok(Err(next));
            }
        }

        let totp = self.inner.store.totp_factor(&user.id).await?;
        let has_key = self.inner.store.has_webauthn_credential(&user.id).await?;
        Ok(Ok(Pending {
            interaction_hash,
            csrf: csrf_token(id),
            expires_at: interaction.expires_at,
            purpose,
            user,
            totp,
            has_key,
            attempts: 0,
            step_up: interaction.step_up_session,
            charge: None,
            risk: Assessment::from_stored(interaction.risk.as_deref()),
        }))
    }

    /// The second-factor page: a code form, or enrolment when the person has no factor.
    pub async fn factor_page(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<FactorOutcome, ProviderError> {
        let pending = match self.pending(browser, now).await? {
            Ok(pending) => pending,
            Err(next) => return Ok(FactorOutcome::Elsewhere(next)),
        };
        self.show(&pending, Notice::None, now).await
    }

    /// The page of the step the person is at, with `notice` on it.
    pub(crate) async fn show(
        &self,
        pending: &Pending,
        notice: Notice,
        now: i64,
    ) -> Result<FactorOutcome, ProviderError> {
        let client_name = self.audience_name(&pending.purpose).await?;
        let csrf = pending.csrf.clone();
        if pending.has_factor() {
            let (error, passkey_error) = notice.split();
            return Ok(FactorOutcome::Verify(FactorView {
                csrf,
                client_name,
                error,
                retry_after: notice.retry_after(),
                passkey: pending.has_key && self.webauthn_offered(),
                passkey_error,
            }));
        }

        self.show_enrolment(pending, csrf, client_name, notice, now)
            .await
    }

    /// A submitted code: verifies it, or enrols with it, and on success logs the person in.
    pub async fn submit_factor(
        &self,
        browser: &BrowserState<'_>,
        form: FactorForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let pending = match self
            .begin_attempt(browser, &form.csrf, true, now, ctx)
            .await?
        {
            Ok(pending) => pending,
            Err(outcome) => return Ok(outcome),
        };

        if pending.has_factor() {
            let confirmed = pending.totp.as_ref().filter(|f| f.confirmed_at.is_some());
            return self
                .verify(&pending, confirmed, &form, browser, now, ctx)
                .await;
        }
        match &pending.totp {
            Some(factor) => self.enrol(&pending, factor, &form, browser, now, ctx).await,
            None => self.show(&pending, Notice::None, now).await,
        }
    }

    /// A code from the authenticator, or a recovery code, for a person who has a factor. A
    /// code shaped like a TOTP code is wrong when the person has no authenticator, with the
    /// same answer as any wrong code.
    async fn verify(
        &self,
        pending: &Pending,
        factor: Option<&TotpFactor>,
        form: &FactorForm,
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let user_id = pending.user.id.as_str();
        let mut tx = self.inner.store.begin().await?;

        if totp::is_totp_shaped(&form.code) {
            let step = match factor {
                Some(factor) => {
                    let secret = TotpSecret::open(&factor.secret_sealed, &self.inner.kek, user_id)?;
                    totp::matching_step(&secret, &form.code, now)
                }
                None => None,
            };
            // RFC 6238 §5.2: the step must be later than the last accepted one.
            let accepted = match step {
                Some(step) => tx.accept_totp_step(user_id, step).await?,
                None => false,
            };
            if !accepted {
                let reason = if step.is_some() {
                    "replayed"
                } else {
                    "wrong_code"
                };
                let event = self.factor_event(pending, "login.totp", now, ctx, reason);
                return self.wrong_code(tx, pending, event, now).await;
            }
            let verified = Verified {
                amr: AMR_PASSWORD_TOTP.to_string(),
                factor: self.factor_event(pending, "login.totp", now, ctx, ""),
                end_other_sessions: false,
            };
            return self
                .complete(tx, pending, verified, browser, now, ctx)
                .await;
        }

        // Each use of a recovery code is an audit event, right or wrong.
        let spent = match recovery::stored_form(&form.code) {
            Some(code_hash) => tx.use_recovery_code(user_id, &code_hash, now).await?,
            None => false,
        };
        if !spent {
            let event = self.factor_event(pending, "login.recovery_code", now, ctx, "wrong_code");
            return self.wrong_code(tx, pending, event, now).await;
        }
        let verified = Verified {
            amr: AMR_PASSWORD_RECOVERY.to_string(),
            factor: self.factor_event(pending, "login.recovery_code", now, ctx, ""),
            end_other_sessions: false,
        };
        self.complete(tx, pending, verified, browser, now, ctx)
            .await
    }

    /// The factor was verified: the session is created now, and only now.
    pub(crate) async fn complete(
        &self,
        mut tx: Tx,
        pending: &Pending,
        verified: Verified,
        browser: &BrowserState<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let user_id = pending.user.id.as_str();
        // Back-Channel Logout §2.7: the apps served by the sessions an enrolment ends hear
        // of it; a step-up's own session lives on in its successor, under the same sid.
        let notices = if verified.end_other_sessions {
            let sids = self
                .inner
                .store
                .session_sids(user_id, pending.step_up.as_deref())
                .await?;
            self.logout_notices(user_id, sids, now).await?
        } else {
            LogoutNotices::default()
        };
        // Of two submissions of one form, only the first finishes the step.
        if !tx
            .finish_second_factor(&pending.interaction_hash, user_id, now)
            .await?
        {
            tx.rollback().await?;
            return Ok(FactorOutcome::Elsewhere(
                Next::ErrorPage(interaction_gone()),
            ));
        }
        // The right code clears the account's counter and refunds the address's charge.
        if let Some(charge) = &pending.charge {
            charge.succeeded(&mut tx).await?;
        }

        // A step-up replaces the session it upgrades, taken within this transaction: a
        // logout that won the race leaves nothing to upgrade.
        let upgraded = match &pending.step_up {
            Some(bound) => {
                let Some(old) = take_upgraded_session(&mut tx, bound, user_id, now).await? else {
                    tx.rollback().await?;
                    return Ok(FactorOutcome::Elsewhere(Next::Login(None)));
                };
                Some(old)
            }
            None => None,
        };
        if verified.end_other_sessions {
            tx.delete_user_sessions(user_id).await?;
            notices.queue(&mut tx, now).await?;
        }

        let session_id = RandomSecret::generate();
        let mut session = self.successor(user_id, &verified.amr, upgraded.as_ref(), now);
        if let Some(assessment) = &pending.risk {
            session.risk = assessment.session_stored();
        }
        if let Some(old) = browser.session_id {
            tx.delete_session(&digest(old)).await?;
        }
        tx.insert_session(&session_id.digest(), &session, now)
            .await?;
        self.note_device(&mut tx, ctx, &session, now).await?;
        tx.record_login(user_id, now).await?;
        // Only now, with the factor given, does the login teach what it looked like.
        self.learn_login(&mut tx, user_id, pending.risk.as_ref(), now)
            .await?;
        let app_step_up =
            upgraded.is_some() && matches!(pending.purpose, Purpose::Authorization(_));
        tx.record(&login_event(verified, &session, app_step_up))
            .await?;
        tx.commit().await?;
        Ok(FactorOutcome::LoggedIn {
            session: session_id,
            recovery_codes: Vec::new(),
        })
    }

    /// The session a verified factor opens: new in every case, with `auth_time` now. After
    /// a step-up it has the methods of both logins and keeps the upgraded session's public
    /// `sid`, so back-channel logout still reaches the clients that session served
    /// (Back-Channel Logout §2.7), and its risk assessment, since a step-up is not a login
    /// of its own; its secret id is never reused.
    fn successor(&self, user_id: &str, amr: &str, upgraded: Option<&Session>, now: i64) -> Session {
        let (amr, sid, risk) = match upgraded {
            Some(old) => (
                combined_amr(&old.amr, amr),
                old.sid.clone(),
                old.risk.clone(),
            ),
            None => (amr.to_string(), None, None),
        };
        Session {
            user_id: user_id.to_string(),
            auth_time: now,
            amr,
            sid: sid.or_else(|| Some(uuid::Uuid::new_v4().simple().to_string())),
            expires_at: now + self.inner.settings.session_ttl,
            risk,
        }
    }

    /// An audit event about this step; an empty `failure` means success.
    pub(crate) fn factor_event(
        &self,
        pending: &Pending,
        event_type: &'static str,
        now: i64,
        ctx: &RequestContext,
        failure: &'static str,
    ) -> AuditEvent {
        let mut event = AuditEvent {
            occurred_at: now,
            event_type,
            outcome: if failure.is_empty() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            user_id: Some(pending.user.id.clone()),
            client_id: pending.purpose.client_id().map(str::to_string),
            detail: if failure.is_empty() {
                json!({})
            } else {
                json!({ "reason": failure })
            },
            ..audit_context(ctx)
        };
        // The factor step of a scored login carries the password step's score.
        mark(&mut event, pending.risk.as_ref());
        event
    }
}

/// The one event a verified factor records, naming the session it opened. A step-up for an
/// app is `login.step_up`, which names the factor it was given with (and keeps that factor's
/// detail, such as a key's id) in place of the factor's own.
fn login_event(verified: Verified, session: &Session, app_step_up: bool) -> AuditEvent {
    let mut factor = verified.factor;
    if app_step_up {
        let mut detail = factor.detail.as_object().cloned().unwrap_or_default();
        detail.insert("factor".to_string(), json!(factor.event_type));
        detail.insert("amr".to_string(), json!(session.amr));
        detail.insert("acr".to_string(), json!(acr_of(&session.amr).as_str()));
        factor.event_type = "login.step_up";
        factor.detail = detail.into();
    }
    factor.session_id = session.sid.clone();
    factor
}

/// A message for the page shown again: beside the code form, or beside the passkey button.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Notice {
    None,
    Code(&'static str),
    Passkey(&'static str),
    /// The code was refused unchecked while the throttle's delay holds.
    Throttled(Throttled),
}

impl Notice {
    /// The message beside the code form, and the one beside the passkey button.
    fn split(self) -> (Option<Cow<'static, str>>, Option<&'static str>) {
        match self {
            Self::None => (None, None),
            Self::Code(message) => (Some(Cow::Borrowed(message)), None),
            Self::Passkey(message) => (None, Some(message)),
            Self::Throttled(throttled) => (Some(Cow::Owned(throttled.message())), None),
        }
    }

    fn retry_after(self) -> Option<i64> {
        match self {
            Self::Throttled(throttled) => Some(throttled.retry_after),
            Self::None | Self::Code(_) | Self::Passkey(_) => None,
        }
    }
}

mod attempts;
mod enrol;

pub(crate) use enrol::Enrolled;
