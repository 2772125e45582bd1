//! The new password a person must choose at login, after an administrator set theirs with
//! `must_change_password` (admin API, `PUT /users/{id}/password`).
//!
//! Enforces, in order: the step exists only once the person's password was verified within
//! this very interaction ([`Provider::login`] records it), so it cannot be reached without
//! one; the form carries the interaction's CSRF token; the new password meets the policy
//! (NIST SP 800-63B §3.1.1.2) and its confirmation matches, checked by the account page's
//! own function; the hash replaced is the one the password step verified, and only one
//! submission of the form can replace it. On success, in one transaction: the new hash,
//! the end of every session and token the person held and of their other half-finished
//! logins (as the account page's change does), the audit event, and the login going on to
//! its next step (a second factor, or a new session).

use secrecy::SecretString;
use serde_json::json;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, Outcome, User};

use crate::account::{new_password_errors, PasswordErrors};
use crate::accounts::end_access;
use crate::authorize::{audit_context, interaction_gone, BrowserState};
use crate::interaction::{csrf_refused, LoginResult, Opened};
use crate::purpose::Purpose;
use crate::refusal::reason;
use crate::risk::{mark, Assessment};
use crate::secret::{csrf_matches, csrf_token};
use crate::{Provider, ProviderError, RequestContext};

/// What the password change page shows. No `Debug`: it holds the CSRF token.
pub struct PasswordChangeView {
    pub csrf: String,
    pub username: String,
    /// Fewest characters the new password may have.
    pub password_min_length: usize,
    pub errors: PasswordErrors,
}

/// The submitted form.
pub struct PasswordChangeForm {
    pub csrf: String,
    pub new: SecretString,
    pub confirm: SecretString,
}

/// Where a submitted form leads.
pub enum PasswordChangeOutcome {
    /// Show the form again; the view says what was refused.
    Retry(PasswordChangeView),
    /// The password is changed: go on as a login would.
    Continue(LoginResult),
}

/// The interaction waiting for a new password, and whose.
struct Owed {
    id: String,
    interaction_hash: [u8; 32],
    purpose: Purpose,
    user: User,
    /// The risk assessment of the password step, for the session the change leads to.
    risk: Option<Assessment>,
}

impl Provider {
    /// The form, or the error page when no change is owed in this interaction.
    pub async fn password_change_page(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Result<PasswordChangeView, OAuthError>, ProviderError> {
        let Some(owed) = self.owed_change(browser, now).await? else {
            return Ok(Err(interaction_gone()));
        };
        Ok(Ok(self.change_view(&owed, PasswordErrors::default())))
    }

    /// A submitted form.
    pub async fn submit_password_change(
        &self,
        browser: &BrowserState<'_>,
        form: PasswordChangeForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<PasswordChangeOutcome, ProviderError> {
        let gone = || {
            Ok(PasswordChangeOutcome::Continue(LoginResult::ErrorPage(
                interaction_gone(),
            )))
        };

        // Step 1: a password was verified here, and a change is owed for it.
        let Some(owed) = self.owed_change(browser, now).await? else {
            self.record_refusal(ctx, now, "login.password_change", reason::INTERACTION_GONE)
                .await?;
            return gone();
        };
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: "login.password_change",
            user_id: Some(owed.user.id.clone()),
            client_id: owed.purpose.client_id().map(str::to_string),
            ..audit_context(ctx)
        };
        mark(&mut event, owed.risk.as_ref());

        // Step 2: the form came from the page shown in this interaction (CSRF).
        if !csrf_matches(&owed.id, &form.csrf) {
            event.detail = json!({ "reason": "csrf" });
            self.inner.store.record(&event).await?;
            return Ok(PasswordChangeOutcome::Continue(LoginResult::ErrorPage(
                csrf_refused(),
            )));
        }

        // Step 3: the policy and the confirmation.
        let policy = self.inner.settings.password_policy();
        let errors = new_password_errors(&form.new, &form.confirm, &policy);
        if errors.any() {
            let reason = match errors.new {
                Some(_) => "policy",
                None => "confirmation_differs",
            };
            event.detail = json!({ "reason": reason });
            self.inner.store.record(&event).await?;
            return Ok(PasswordChangeOutcome::Retry(
                self.change_view(&owed, errors),
            ));
        }

        // Step 4: the change, what it ends, and the login's next step, together.
        let next = self
            .replace_required(browser, &owed, form.new, event, now, ctx)
            .await?;
        Ok(PasswordChangeOutcome::Continue(next))
    }

    /// Step 4 of [`Provider::submit_password_change`], in one transaction.
    async fn replace_required(
        &self,
        browser: &BrowserState<'_>,
        owed: &Owed,
        new: SecretString,
        mut event: AuditEvent,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<LoginResult, ProviderError> {
        let gone = || Ok(LoginResult::ErrorPage(interaction_gone()));
        let Some(old_hash) = owed.user.password_hash.clone() else {
            return gone();
        };
        let new_hash = self.inner.passwords.hash(new).await?;
        let user_id = owed.user.id.as_str();
        let sids = self.inner.store.session_sids(user_id, None).await?;
        let notices = self.logout_notices(user_id, sids, now).await?;
        let next_factor = self.second_factor_owed(&owed.user, &owed.purpose).await?;

        let mut tx = self.inner.store.begin().await?;
        let taken = tx
            .take_interaction_password_change(&owed.interaction_hash, user_id)
            .await?;
        if !taken
            || !tx
                .replace_required_password(user_id, &old_hash, &new_hash, now)
                .await?
        {
            tx.rollback().await?;
            return gone();
        }
        let ended = end_access(&mut tx, user_id, Some(&notices), now).await?;
        event.outcome = Outcome::Success;
        event.detail = json!({
            "ended_sessions": ended.sessions,
            "revoked_refresh_tokens": ended.revoked.refresh_tokens,
            "revoked_access_tokens": ended.revoked.access_tokens,
        });
        tx.record(&event).await?;
        let next = match next_factor {
            Some(step) => {
                tx.set_interaction_pending(&owed.interaction_hash, user_id, now)
                    .await?;
                LoginResult::SecondFactor(step)
            }
            None => {
                let opened = Opened {
                    interaction_hash: &owed.interaction_hash,
                    user_id,
                    assessment: owed.risk.as_ref(),
                };
                let (session, _) = self
                    .open_password_session(&mut tx, browser, &opened, now, ctx)
                    .await?;
                LoginResult::LoggedIn(session)
            }
        };
        tx.commit().await?;
        Ok(next)
    }

    /// The change owed in the browser's interaction: its person, still live and still
    /// required to change their password.
    async fn owed_change(
        &self,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Option<Owed>, ProviderError> {
        let (Some(id), Some((interaction_hash, interaction, purpose))) = (
            browser.interaction_id,
            self.interaction(browser, now).await?,
        ) else {
            return Ok(None);
        };
        let store = &self.inner.store;
        let Some(user_id) = store
            .interaction_password_change(&interaction_hash, now)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = store.user_by_id(&user_id).await? else {
            return Ok(None);
        };
        if user.disabled || !store.must_change_password(&user.id).await? {
            return Ok(None);
        }
        Ok(Some(Owed {
            id: id.to_string(),
            interaction_hash,
            purpose,
            user,
            risk: Assessment::from_stored(interaction.risk.as_deref()),
        }))
    }

    fn change_view(&self, owed: &Owed, errors: PasswordErrors) -> PasswordChangeView {
        PasswordChangeView {
            csrf: csrf_token(&owed.id),
            username: owed.user.username.clone(),
            password_min_length: self.inner.settings.password_min_length,
            errors,
        }
    }
}
