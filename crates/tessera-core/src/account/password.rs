//! Changing the password from the account page.
//!
//! Enforces, in order: the new password and its confirmation are the same; the new password
//! meets the policy (NIST SP 800-63B §3.1.1.2, [`crate::password_policy`]); the current
//! password, charged to the throttle first and refused unchecked while its delay holds
//! ([`crate::throttle`]), is right; the hash replaced is the one just verified. A wrong
//! current password is one refused change, reason `bad_password` (the login page's word for
//! it), and its charge stands, so guessing it here slows the login page's guesses too. On
//! success, in one transaction: the new argon2id hash, the end of every other session of the
//! person, the revocation of every refresh and access token they hold (whoever knew the old
//! password may hold any of them), and the audit event.

use std::borrow::Cow;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use subtle::ConstantTimeEq;
use tessera_store::AuditEvent;

use super::{
    account_event, done, failed, succeeded, AccountOutcome, Acting, Notice, PasswordErrors,
};
use crate::password_policy::{PasswordPolicy, PasswordRefusal};
use crate::secret::digest;
use crate::throttle::{Charge, Subject, Throttled};
use crate::{Provider, ProviderError, RequestContext};

/// The password form's fields.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    pub confirm: SecretString,
}

const WRONG_CURRENT: &str = "Incorrect password.";
const CONFIRMATION_DIFFERS: &str = "The two new passwords differ. Type the same one twice.";
const CHANGED_ELSEWHERE: &str =
    "Your password was changed in another window meanwhile. Type the current one again.";

/// Why a new password was refused, in the page's words; never repeats the password.
fn refusal_message(refusal: &PasswordRefusal) -> String {
    match refusal {
        PasswordRefusal::TooShort(min) => format!("Use at least {min} characters."),
        PasswordRefusal::TooLong(max) => format!("Use at most {max} characters."),
        PasswordRefusal::Common => {
            "That password is too common: it appears in lists of breached passwords. \
             Choose another."
                .to_string()
        }
    }
}

/// The new password's refusals, if any: the policy's and the confirmation's. Shared with
/// the change an administrator requires at login ([`crate::password_change`]).
pub(crate) fn new_password_errors(
    new: &SecretString,
    confirm: &SecretString,
    policy: &PasswordPolicy,
) -> PasswordErrors {
    let mut errors = PasswordErrors::default();

    // The new password, as the policy sees it (§3.1.1.2).
    if let Err(refusal) = policy.check(new) {
        errors.new = Some(refusal_message(&refusal));
    }

    // The confirmation: the same characters, compared without a timing signal.
    let same = new
        .expose_secret()
        .as_bytes()
        .ct_eq(confirm.expose_secret().as_bytes());
    if !bool::from(same) {
        errors.confirm = Some(CONFIRMATION_DIFFERS);
    }
    errors
}

impl Provider {
    pub(super) async fn change_password(
        &self,
        acting: &Acting<'_>,
        change: PasswordChange,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event = account_event(acting, "account.password_change", now, ctx);

        // Steps 1 and 2: the new password meets the policy and its confirmation matches.
        let policy = self.inner.settings.password_policy();
        let errors = new_password_errors(&change.new, &change.confirm, &policy);
        if errors.any() {
            let reason = if errors.new.is_some() {
                "policy"
            } else {
                "confirmation_differs"
            };
            let refused = failed(event, json!({ "reason": reason }));
            self.inner.store.record(&refused).await?;
            return self.refused_form(acting, errors, now).await;
        }

        // Step 3: the current password, charged to the same counters as the login page's
        // (NIST SP 800-63B §5.2.2): whoever holds the session may be guessing it.
        let (charge, old_hash) = match self
            .check_current(acting, change.current, &event, now, ctx)
            .await?
        {
            Ok(checked) => checked,
            Err(refused) => return Ok(refused),
        };

        // Step 4: the change, with everything it ends, in one transaction.
        let new_hash = self.inner.passwords.hash(change.new).await?;
        let user_id = acting.user.id.as_str();
        // Back-Channel Logout §2.7: the apps the other sessions served hear that they ended.
        let this_session = digest(acting.session_id);
        let others = self
            .inner
            .store
            .session_sids(user_id, Some(&this_session))
            .await?;
        let notices = self.logout_notices(user_id, others, now).await?;
        let mut tx = self.inner.store.begin().await?;
        if !tx
            .replace_password_hash(user_id, &old_hash, &new_hash, now)
            .await?
        {
            tx.rollback().await?;
            let refused = failed(event, json!({ "reason": "changed_concurrently" }));
            self.inner.store.record(&refused).await?;
            let errors = PasswordErrors {
                current: Some(Cow::Borrowed(CHANGED_ELSEWHERE)),
                ..PasswordErrors::default()
            };
            return self.refused_form(acting, errors, now).await;
        }
        charge.succeeded(&mut tx).await?;
        let ended = tx.delete_other_sessions(user_id, &this_session).await?;
        notices.queue(&mut tx, now).await?;
        let revoked = tx.revoke_user_tokens(user_id, now).await?;
        // A login that verified the old password and still owes its second factor ends too.
        let ended_logins = tx.delete_pending_logins(user_id).await?;
        let detail = json!({
            "ended_sessions": ended,
            "ended_pending_logins": ended_logins,
            "backchannel_notifications": notices.len(),
            "revoked_refresh_tokens": revoked.refresh_tokens,
            "revoked_access_tokens": revoked.access_tokens,
        });
        tx.record(&succeeded(event, detail)).await?;
        tx.commit().await?;
        Ok(done(acting, Notice::PasswordChanged))
    }

    /// The current password's throttle charge and the hash it was verified against, or the
    /// page refusing it: throttled, or wrong.
    async fn check_current(
        &self,
        acting: &Acting<'_>,
        current: SecretString,
        event: &AuditEvent,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<(Charge, String), AccountOutcome>, ProviderError> {
        let subject = Subject::Password(&acting.user.username);
        let charge = match self.take_attempt(subject, ctx, now).await? {
            Ok(charge) => charge,
            Err(throttled) => {
                let refused = self
                    .current_password_throttled(acting, event.clone(), throttled, now)
                    .await?;
                return Ok(Err(refused));
            }
        };
        let stored = acting.user.password_hash.clone();
        let verified = self.inner.passwords.verify(current, stored.clone()).await;
        let (true, Some(old_hash)) = (verified, stored) else {
            let refused = self
                .wrong_current_password(acting, event.clone(), now)
                .await?;
            return Ok(Err(refused));
        };
        Ok(Ok((charge, old_hash)))
    }

    /// A wrong current password: one attempt, so one event, the refused change. Whoever
    /// holds the session may be guessing the password; the reason says so in the login
    /// page's word, and the throttle's charge, not the trail, is what slows them down.
    async fn wrong_current_password(
        &self,
        acting: &Acting<'_>,
        event: AuditEvent,
        now: i64,
    ) -> Result<AccountOutcome, ProviderError> {
        let refused = failed(event, json!({ "reason": "bad_password" }));
        self.inner.store.record(&refused).await?;
        let errors = PasswordErrors {
            current: Some(Cow::Borrowed(WRONG_CURRENT)),
            ..PasswordErrors::default()
        };
        self.refused_form(acting, errors, now).await
    }

    /// The current password was refused unchecked while the throttle's delay holds.
    async fn current_password_throttled(
        &self,
        acting: &Acting<'_>,
        event: AuditEvent,
        throttled: Throttled,
        now: i64,
    ) -> Result<AccountOutcome, ProviderError> {
        let refused = failed(event, throttled.detail());
        self.inner.store.record(&refused).await?;
        let errors = PasswordErrors {
            current: Some(Cow::Owned(throttled.message())),
            retry_after: Some(throttled.retry_after),
            ..PasswordErrors::default()
        };
        self.refused_form(acting, errors, now).await
    }

    /// The page again, with the password form's errors.
    async fn refused_form(
        &self,
        acting: &Acting<'_>,
        errors: PasswordErrors,
        now: i64,
    ) -> Result<AccountOutcome, ProviderError> {
        let view = self.account_view(acting, None, errors, now).await?;
        Ok(AccountOutcome::Page {
            view: Box::new(view),
            refused: true,
        })
    }
}

#[cfg(test)]
mod tests;
