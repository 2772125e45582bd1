//! The account page, where a person changes their password and manages their second factors.
//!
//! **Reaching it.** `/account` with a live session shows the page. Without one, it opens an
//! interaction whose purpose is the account ([`Purpose::Account`]) and sends the browser to
//! the same `/login` and `/factor` steps that an app's login uses: one state machine, so each
//! of its rules (dummy hashing for unknown users, one failure message, codes counted and
//! throttled, a new session id at every login) holds here too. When that login completes,
//! `/resume` reads the purpose and returns the browser to `/account` instead of going on to
//! consent.
//!
//! **Why the authorization flow does not weaken.** An account interaction holds no
//! authorization request, and a code is only ever issued from one, so no sequence of pages
//! turns it into a code: consent treats it as gone, `/resume` ends it at `/account`. Only
//! `/account` opens account interactions and `/authorize` only opens authorization ones, so
//! an app cannot steer a browser into one. The session an account login creates is an
//! ordinary session: the app flow judges its `auth_time` and `amr` as it judges any other's,
//! so a client that requires a second factor still refuses a password-only one, and an
//! account login owes the factor the person has but never enrols for a client's policy.
//!
//! **Changing things.** Every form carries a CSRF token bound to the session (an HMAC keyed
//! by the session's secret id); every action, refused or done, is an audit event written in
//! the transaction of the change it records.
//!
//! - The password ([`password`]): the current one, a new one meeting the NIST policy, and
//!   its confirmation. The current password is throttled as the login page's is, and a
//!   wrong one is a refused change whose reason is `bad_password`. On success every other
//!   session of the person ends and every refresh and access token they hold is revoked,
//!   since whoever knew the old password may hold them; this session stays.
//! - Factors ([`factors`]): adding an authenticator, removing it and making new recovery
//!   codes need a fresh authentication, two rules with a guard each: the session's last
//!   authentication is within `reauthentication_window` ([`authenticated_recently`]), and a
//!   person who has a second factor used one in this session ([`used_the_factor_held`]). A
//!   session that fails either is sent through an account login (password, then the factor
//!   the person has), which returns here. An authenticator is set up by the login's own
//!   enrolment step: the page opens an account interaction whose password step this fresh
//!   session stands for, and `/factor` enrols exactly as it does for an app that requires it.
//! - Passkeys and security keys ([`keys`]): added by a WebAuthn registration whose options
//!   the page's script asks for, renamed, removed; the same two rules guard all three.
//! - Devices and sessions ([`devices`]): each device the person signed in from, with what it
//!   runs and its live sessions; ending a device or a session ends what was signed in through
//!   it, behind the same two rules.

mod devices;
mod factors;
mod keys;
mod notice;
mod password;

use std::borrow::Cow;

use serde_json::json;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Outcome, Session, User};

use crate::authorize::{audit_context, interaction_gone, BrowserState, Next};
use crate::devices::DeviceSummary;
use crate::mfa::is_multi_factor;
use crate::purpose::{AccountLogin, Purpose};
use crate::recovery::RecoveryCode;
use crate::refusal::reason;
use crate::secret::{keyed_token, keyed_token_matches, RandomSecret};
use crate::webauthn::KeySummary;
use crate::{Provider, ProviderError, RequestContext};

pub use notice::Notice;
pub(crate) use password::new_password_errors;
pub use password::PasswordChange;

/// The label of the account page's CSRF tokens.
const CSRF_LABEL: &[u8] = b"tessera account csrf v1";

/// What the account page shows. No `Debug`: it holds the session's CSRF token.
pub struct AccountView {
    pub csrf: String,
    pub username: String,
    /// Whether a confirmed TOTP authenticator is on.
    pub totp_enabled: bool,
    /// The person's passkeys and security keys, oldest first.
    pub keys: Vec<KeySummary>,
    /// Whether this server offers WebAuthn, so that a key can be added.
    pub passkeys_offered: bool,
    pub recovery_codes_left: i64,
    /// Fewest characters a new password may have.
    pub password_min_length: usize,
    /// How recent a sign-in must be to change factors, in words ("5 minutes").
    pub reauthentication_window: String,
    /// The person's devices, the most recently seen first, with their live sessions.
    pub devices: Vec<DeviceSummary>,
    /// The public id of the browser's own device.
    pub this_device: Option<String>,
    /// The public `sid` of the browser's own session.
    pub this_session: Option<String>,
    pub notice: Option<Notice>,
    pub errors: PasswordErrors,
}

/// Why the password form was refused, per field; shown next to the field it concerns.
#[derive(Debug, Default)]
pub struct PasswordErrors {
    pub current: Option<Cow<'static, str>>,
    /// Set when the current password was refused by the throttle, unchecked: seconds until
    /// the next attempt is taken.
    pub retry_after: Option<i64>,
    pub new: Option<String>,
    pub confirm: Option<&'static str>,
}

impl PasswordErrors {
    pub fn any(&self) -> bool {
        self.current.is_some() || self.new.is_some() || self.confirm.is_some()
    }
}

/// A submitted account form: what to do, and the CSRF token it came with.
pub struct AccountForm {
    pub csrf: String,
    pub action: AccountAction,
}

/// The actions the page offers, one form each.
pub enum AccountAction {
    ChangePassword(PasswordChange),
    AddTotp,
    RemoveTotp,
    RegenerateRecoveryCodes,
    /// A WebAuthn registration's result (JSON, as the page's script posts it) and the name
    /// typed for the key, possibly empty.
    AddKey {
        credential: String,
        name: String,
    },
    /// A key, by [`KeySummary::id`], and its new name.
    RenameKey {
        id: String,
        name: String,
    },
    RemoveKey {
        id: String,
    },
    /// A device, by its public id: sign it out, everything it signed in to, and forget it.
    EndDevice {
        id: String,
    },
    /// A live session, by its public `sid`.
    EndSession {
        sid: String,
    },
}

impl AccountAction {
    /// The audit event that records the action.
    fn event_type(&self) -> &'static str {
        match self {
            Self::ChangePassword(_) => "account.password_change",
            Self::AddTotp => "account.totp_setup",
            Self::RemoveTotp => "factor.totp_remove",
            Self::RegenerateRecoveryCodes => "factor.recovery_codes_generated",
            Self::AddKey { .. } => keys::REGISTER,
            Self::RenameKey { .. } => keys::RENAME,
            Self::RemoveKey { .. } => keys::REMOVE,
            Self::EndDevice { .. } => devices::END_DEVICE,
            Self::EndSession { .. } => devices::END_SESSION,
        }
    }
}

/// Where a request to the account page leads.
pub enum AccountOutcome {
    /// Show the page; `refused` when the submitted form was refused (the view says why).
    Page {
        /// Boxed: a view is far larger than every other outcome.
        view: Box<AccountView>,
        refused: bool,
    },
    /// Log in, or again: set this account interaction's cookie and go to `/login`.
    Login(RandomSecret),
    /// Set up an authenticator: set this account interaction's cookie and go to `/factor`.
    Enrol(RandomSecret),
    /// Show these new recovery codes, once.
    RecoveryCodes(Vec<RecoveryCode>),
    /// Done: back to the page, which says so (the proof binds the notice to the session).
    Done {
        notice: Notice,
        proof: String,
    },
    /// This browser's own session was ended: forget its cookie and say it is signed out.
    SignedOut,
    /// A form arrived without a session: it can be neither checked nor done; the page is
    /// loaded again, which logs in.
    Reload,
    ErrorPage(OAuthError),
}

/// The session an account request acts for.
struct Acting<'a> {
    session_id: &'a str,
    session: Session,
    user: User,
    /// The public id of the browser's device.
    device_id: Option<&'a str>,
}

/// Rule 1 of a fresh authentication: the session's last authentication is at most
/// `window` seconds old, so that a session left open on someone else's computer cannot
/// change factors (NIST SP 800-63B §6.1.2.1 asks the subscriber to authenticate before an
/// authenticator is bound; a recent authentication is what that means for a long session).
pub(crate) fn authenticated_recently(session: &Session, now: i64, window: i64) -> bool {
    now.saturating_sub(session.auth_time) <= window
}

/// Rule 2 of a fresh authentication: a person who has a second factor used one in this
/// session, so that a stolen password alone cannot replace or remove it (NIST SP 800-63B
/// §6.1.2.1: binding an authenticator needs the existing authenticators' strength).
pub(crate) fn used_the_factor_held(session: &Session, holds_factor: bool) -> bool {
    !holds_factor || is_multi_factor(&session.amr)
}

/// A duration in the page's words.
fn in_words(seconds: i64) -> String {
    match seconds {
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        60 => "1 minute".to_string(),
        1 => "1 second".to_string(),
        s => format!("{s} seconds"),
    }
}

fn csrf_refused() -> OAuthError {
    OAuthError::invalid_request("The form has expired. Open the account page again and retry.")
}

impl Provider {
    /// The account page, or a login first when there is no session.
    pub async fn account_page(
        &self,
        browser: &BrowserState<'_>,
        notice: Option<(&str, &str)>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let Some(acting) = self.acting(browser, ctx, now).await? else {
            let id = self
                .open_interaction(&Purpose::Account(AccountLogin::default()), None, None, now)
                .await?;
            return Ok(AccountOutcome::Login(id));
        };
        let notice =
            notice.and_then(|(name, proof)| Notice::verified(acting.session_id, name, proof));
        let view = self
            .account_view(&acting, notice, PasswordErrors::default(), now)
            .await?;
        Ok(AccountOutcome::Page {
            view: Box::new(view),
            refused: false,
        })
    }

    /// A submitted account form.
    pub async fn account_action(
        &self,
        browser: &BrowserState<'_>,
        form: AccountForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        // Step 1: the session the form acts for. Without one the form can be neither
        // checked nor done, but it was still an attempt (issue 6).
        let Some(acting) = self.acting(browser, ctx, now).await? else {
            self.record_refusal(ctx, now, "account.request", reason::NO_SESSION)
                .await?;
            return Ok(AccountOutcome::Reload);
        };

        // Step 2: the form came from a page shown to this session (CSRF).
        if !keyed_token_matches(acting.session_id, CSRF_LABEL, &form.csrf) {
            let event = account_event(&acting, form.action.event_type(), now, ctx);
            self.inner
                .store
                .record(&failed(event, json!({ "reason": "csrf" })))
                .await?;
            return Ok(AccountOutcome::ErrorPage(csrf_refused()));
        }

        // Step 3: the action.
        match form.action {
            AccountAction::ChangePassword(change) => {
                self.change_password(&acting, change, now, ctx).await
            }
            AccountAction::AddTotp => self.add_totp(&acting, now, ctx).await,
            AccountAction::RemoveTotp => self.remove_totp(&acting, now, ctx).await,
            AccountAction::RegenerateRecoveryCodes => {
                self.regenerate_recovery_codes(&acting, now, ctx).await
            }
            AccountAction::AddKey { credential, name } => {
                self.add_key(&acting, &credential, &name, now, ctx).await
            }
            AccountAction::RenameKey { id, name } => {
                self.rename_account_key(&acting, &id, &name, now, ctx).await
            }
            AccountAction::RemoveKey { id } => {
                self.remove_account_key(&acting, &id, now, ctx).await
            }
            AccountAction::EndDevice { id } => {
                self.end_account_device(&acting, &id, now, ctx).await
            }
            AccountAction::EndSession { sid } => {
                self.end_account_session(&acting, &sid, now, ctx).await
            }
        }
    }

    /// Ends an account interaction whose login is complete: the browser returns to the page.
    pub(crate) async fn finish_account_login(
        &self,
        interaction_hash: &[u8; 32],
        authenticated: bool,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Next, ProviderError> {
        // Only a login completed within this interaction finishes it.
        if !authenticated || self.live_session(browser.session_id, now).await?.is_none() {
            return Ok(Next::Login(None));
        }
        let mut tx = self.inner.store.begin().await?;
        if !tx.delete_interaction(interaction_hash).await? {
            return Ok(Next::ErrorPage(interaction_gone()));
        }
        tx.commit().await?;
        Ok(Next::Account)
    }

    async fn acting<'b>(
        &self,
        browser: &BrowserState<'b>,
        ctx: &'b RequestContext,
        now: i64,
    ) -> Result<Option<Acting<'b>>, ProviderError> {
        let Some(session_id) = browser.session_id else {
            return Ok(None);
        };
        let live = self.live_session(Some(session_id), now).await?;
        Ok(live.map(|(session, user)| Acting {
            session_id,
            session,
            user,
            device_id: ctx.device_id.as_deref(),
        }))
    }

    async fn account_view(
        &self,
        acting: &Acting<'_>,
        notice: Option<Notice>,
        errors: PasswordErrors,
        now: i64,
    ) -> Result<AccountView, ProviderError> {
        let user_id = acting.user.id.as_str();
        let totp = self.inner.store.totp_factor(user_id).await?;
        let settings = &self.inner.settings;
        Ok(AccountView {
            csrf: keyed_token(acting.session_id, CSRF_LABEL),
            username: acting.user.username.clone(),
            totp_enabled: totp.is_some_and(|f| f.confirmed_at.is_some()),
            keys: self.list_keys(user_id).await?,
            passkeys_offered: self.webauthn_offered(),
            recovery_codes_left: self.inner.store.unused_recovery_codes(user_id).await?,
            password_min_length: settings.password_policy().min_chars(),
            reauthentication_window: in_words(settings.reauthentication_window),
            devices: self.devices_of(user_id, now).await?,
            this_device: acting.device_id.map(str::to_string),
            this_session: acting.session.sid.clone(),
            notice,
            errors,
        })
    }

    /// Whether the person has a second factor: an authenticator (a confirmed TOTP app, or a
    /// passkey or security key), or recovery codes left.
    async fn holds_second_factor(&self, user_id: &str) -> Result<bool, ProviderError> {
        if self.has_second_factor(user_id).await? {
            return Ok(true);
        }
        Ok(self.inner.store.unused_recovery_codes(user_id).await? > 0)
    }

    /// Which rule of a fresh authentication the session fails, as the audit trail names it;
    /// `None` when it passes both. One guard each.
    async fn unfresh_reason(
        &self,
        acting: &Acting<'_>,
        now: i64,
    ) -> Result<Option<&'static str>, ProviderError> {
        let window = self.inner.settings.reauthentication_window;

        // Rule 1: the last authentication is recent.
        if !authenticated_recently(&acting.session, now, window) {
            return Ok(Some("stale_authentication"));
        }

        // Rule 2: a person with a second factor used one in this session.
        let holds = self.holds_second_factor(&acting.user.id).await?;
        if !used_the_factor_held(&acting.session, holds) {
            return Ok(Some("single_factor_session"));
        }
        Ok(None)
    }

    /// Checks the two rules of a fresh authentication; on failure, records the refused
    /// action and sends the browser to log in again, coming back here.
    async fn require_fresh(
        &self,
        acting: &Acting<'_>,
        event_type: &'static str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Option<AccountOutcome>, ProviderError> {
        let Some(reason) = self.unfresh_reason(acting, now).await? else {
            return Ok(None);
        };
        let outcome = self
            .reauthenticate(acting, event_type, reason, now, ctx)
            .await?;
        Ok(Some(outcome))
    }

    /// Records a refused action and opens an account interaction that asks the person to log
    /// in again, their username filled in.
    async fn reauthenticate(
        &self,
        acting: &Acting<'_>,
        event_type: &'static str,
        reason: &'static str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let purpose = Purpose::Account(AccountLogin {
            login_hint: Some(acting.user.username.clone()),
        });
        let id = RandomSecret::generate();
        let event = account_event(acting, event_type, now, ctx);
        let mut tx = self.inner.store.begin().await?;
        self.insert_interaction(&mut tx, &id, &purpose, None, now)
            .await?;
        tx.record(&failed(event, json!({ "reason": reason })))
            .await?;
        tx.commit().await?;
        Ok(AccountOutcome::Login(id))
    }

    /// Records a refused action whose refusal the page states with `notice`.
    async fn refuse_action(
        &self,
        acting: &Acting<'_>,
        event_type: &'static str,
        reason: &'static str,
        notice: Notice,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event = account_event(acting, event_type, now, ctx);
        self.inner
            .store
            .record(&failed(event, json!({ "reason": reason })))
            .await?;
        Ok(done(acting, notice))
    }
}

/// The page again, saying `notice`.
fn done(acting: &Acting<'_>, notice: Notice) -> AccountOutcome {
    AccountOutcome::Done {
        notice,
        proof: notice.proof(acting.session_id),
    }
}

/// An audit event about an action of the acting person, a failure until marked otherwise.
fn account_event(
    acting: &Acting<'_>,
    event_type: &'static str,
    now: i64,
    ctx: &RequestContext,
) -> AuditEvent {
    AuditEvent {
        occurred_at: now,
        event_type,
        user_id: Some(acting.user.id.clone()),
        session_id: acting.session.sid.clone(),
        detail: json!({ "via": "account" }),
        ..audit_context(ctx)
    }
}

fn failed(event: AuditEvent, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        outcome: Outcome::Failure,
        detail: merged(event.detail.clone(), detail),
        ..event
    }
}

fn succeeded(event: AuditEvent, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        outcome: Outcome::Success,
        detail: merged(event.detail.clone(), detail),
        ..event
    }
}

/// `base` with the members of `extra` added.
fn merged(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

#[cfg(test)]
mod tests;
