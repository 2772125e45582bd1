//! Second factors from the account page: an authenticator added or removed, recovery codes
//! made anew.
//!
//! Enforces: each change first passes both rules of a fresh authentication
//! ([`Provider::require_fresh`]); an authenticator is added only through the login's own
//! enrolment step, so it is confirmed only by a valid code from it and its recovery codes are
//! shown once, exactly as at login; removing it removes the recovery codes that stand in for
//! it; a new set of recovery codes replaces the whole old set in one statement group, so no
//! old code works once the new ones are shown. Each change and its audit event share a
//! transaction.

use serde_json::json;

use super::{account_event, done, succeeded, AccountAction, AccountOutcome, Acting, Notice};
use crate::purpose::{AccountLogin, Purpose};
use crate::recovery::{self, RecoveryCode};
use crate::secret::RandomSecret;
use crate::step_up::StepUp;
use crate::{Provider, ProviderError, RequestContext};

impl Provider {
    /// Opens the enrolment step of the login state machine for the acting person: an account
    /// interaction whose password step the fresh session stands for, dated by that session's
    /// authentication. The browser continues at `/factor`.
    pub(super) async fn add_totp(
        &self,
        acting: &Acting<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event_type = AccountAction::AddTotp.event_type();
        if let Some(elsewhere) = self.require_fresh(acting, event_type, now, ctx).await? {
            return Ok(elsewhere);
        }

        let user_id = acting.user.id.as_str();
        let factor = self.inner.store.totp_factor(user_id).await?;
        if factor.is_some_and(|f| f.confirmed_at.is_some()) {
            return self
                .refuse_action(
                    acting,
                    event_type,
                    "already_on",
                    Notice::TotpAlreadyOn,
                    now,
                    ctx,
                )
                .await;
        }

        // The enrolment stands on this session, not on a password given within it, so it is
        // bound to the session exactly as a step-up is: it finishes only in this browser,
        // while this session is live and still recent (see `account_enrolment_holds`). A
        // browser that signed out, or whose session a password change ended, binds nothing.
        let id = RandomSecret::generate();
        let purpose = Purpose::Account(AccountLogin::default());
        let binding = StepUp::of(acting.session_id, &acting.session);
        let mut tx = self.inner.store.begin().await?;
        self.insert_interaction(&mut tx, &id, &purpose, Some(&binding), now)
            .await?;
        tx.record(&succeeded(
            account_event(acting, event_type, now, ctx),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(AccountOutcome::Enrol(id))
    }

    /// Removes the authenticator and the recovery codes that stand in for it.
    pub(super) async fn remove_totp(
        &self,
        acting: &Acting<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event_type = AccountAction::RemoveTotp.event_type();
        if let Some(elsewhere) = self.require_fresh(acting, event_type, now, ctx).await? {
            return Ok(elsewhere);
        }

        let user_id = acting.user.id.as_str();
        let mut tx = self.inner.store.begin().await?;
        if !tx.delete_totp_factor(user_id).await? {
            tx.rollback().await?;
            return self
                .refuse_action(
                    acting,
                    event_type,
                    "none",
                    Notice::NoAuthenticator,
                    now,
                    ctx,
                )
                .await;
        }
        // Recovery codes replace a lost authenticator; without one they would unlock nothing
        // but could still be stolen. A passkey left keeps them: they stand in for it too.
        if !tx.holds_second_factor(user_id).await? {
            tx.replace_recovery_codes(user_id, &[], now).await?;
        }
        tx.record(&succeeded(
            account_event(acting, event_type, now, ctx),
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(done(acting, Notice::TotpRemoved))
    }

    /// Replaces the recovery codes with a new set, shown once.
    pub(super) async fn regenerate_recovery_codes(
        &self,
        acting: &Acting<'_>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        let event_type = AccountAction::RegenerateRecoveryCodes.event_type();
        if let Some(elsewhere) = self.require_fresh(acting, event_type, now, ctx).await? {
            return Ok(elsewhere);
        }

        let user_id = acting.user.id.as_str();
        if !self.has_second_factor(user_id).await? {
            return self
                .refuse_action(
                    acting,
                    event_type,
                    "no_authenticator",
                    Notice::NoAuthenticator,
                    now,
                    ctx,
                )
                .await;
        }

        let codes = recovery::generate_set();
        let digests: Vec<[u8; 32]> = codes.iter().map(RecoveryCode::digest).collect();
        let mut tx = self.inner.store.begin().await?;
        tx.replace_recovery_codes(user_id, &digests, now).await?;
        tx.record(&succeeded(
            account_event(acting, event_type, now, ctx),
            json!({ "codes": codes.len() }),
        ))
        .await?;
        tx.commit().await?;
        Ok(AccountOutcome::RecoveryCodes(codes))
    }
}
