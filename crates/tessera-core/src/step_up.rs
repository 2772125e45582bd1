//! Step-up: a person whose live session is weaker than a request needs (`acr_values`, OIDC
//! Core §3.1.2.1, or a client that requires a second factor) gives the missing factor
//! without giving the password again.
//!
//! The step is the ordinary second-factor step ([`crate::second_factor`]) on an interaction
//! bound to the session it upgrades. Enforces, each in its own guard, whenever the step is
//! shown or submitted: the browser presents that very session, so an interaction cookie
//! carried to another browser finishes nothing; the session is still live; the factor
//! checked is that session's own person's; a session that `max_age` finds stale gives the
//! password again; and a step-up only verifies a factor the person already has. Finishing
//! takes the old session in the same transaction that opens the new one (new id,
//! `auth_time` now, the methods of both factors), and records one audit event,
//! `login.step_up`, naming the factor given.
//!
//! A person without a second factor does not enrol one on the strength of a session: they
//! give the password again, and enrol after it, within one interaction. A session alone may
//! be stolen, and an authenticator its holder chose, bound to the account, would outlive
//! it: enrolling ends the person's other sessions, and every later login would ask the
//! holder's device (NIST SP 800-63B §6.1.2.1 asks for authentication before binding one).

use tessera_protocol::authorize::AuthorizationRequest;
use tessera_store::{Session, Tx};

use crate::account::authenticated_recently;
use crate::authorize::{interaction_gone, BrowserState, Next};
use crate::secret::{digest, matches_digest};
use crate::{Provider, ProviderError};

/// OIDC Core §3.1.2.1: `max_age` bounds the seconds since the last active authentication,
/// and "max_age=0 is equivalent to prompt=login", even within the second of a login.
pub(crate) fn is_stale(max_age: Option<i64>, auth_time: i64, now: i64) -> bool {
    max_age.is_some_and(|max_age| max_age == 0 || now - auth_time > max_age)
}

/// The session a step-up upgrades.
pub(crate) struct StepUp {
    pub session_hash: [u8; 32],
    pub user_id: String,
    /// When the session's person last authenticated.
    pub authenticated_at: i64,
}

impl StepUp {
    /// The step-up of `session`, which the browser presented as `session_id`.
    pub(crate) fn of(session_id: &str, session: &Session) -> Self {
        Self {
            session_hash: digest(session_id),
            user_id: session.user_id.clone(),
            authenticated_at: session.auth_time,
        }
    }
}

impl Provider {
    /// Whether the person has a second factor a step-up can verify: a confirmed TOTP
    /// authenticator (an unconfirmed one is an enrolment still under way) or a WebAuthn key.
    pub(crate) async fn has_second_factor(&self, user_id: &str) -> Result<bool, ProviderError> {
        let factor = self.inner.store.totp_factor(user_id).await?;
        if factor.is_some_and(|f| f.confirmed_at.is_some()) {
            return Ok(true);
        }
        Ok(self.inner.store.has_webauthn_credential(user_id).await?)
    }

    /// Makes an open interaction the step-up of a session: its person owes a second factor.
    pub(crate) async fn begin_step_up(
        &self,
        interaction_hash: &[u8],
        step_up: &StepUp,
    ) -> Result<(), ProviderError> {
        let mut tx = self.inner.store.begin().await?;
        tx.set_interaction_step_up(
            interaction_hash,
            &step_up.user_id,
            &step_up.session_hash,
            step_up.authenticated_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the step-up bound to `bound` (a session's hash) may go on in `browser` for
    /// `pending_user`; if not, where the browser goes instead.
    pub(crate) async fn step_up_holds(
        &self,
        bound: &[u8],
        pending_user: &str,
        request: &AuthorizationRequest,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Result<(), Next>, ProviderError> {
        // The same browser: it presents the session the step-up was opened for. Another
        // browser holding the interaction cookie, with its own session or none, gets nothing.
        let same = browser
            .session_id
            .is_some_and(|session_id| matches_digest(session_id, bound));
        if !same {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        }

        // The session is still live: one ended (logout, expiry, an administrator) since the
        // step began leaves nothing to step up, and the person logs in anew.
        let Some((session, _)) = self.live_session(browser.session_id, now).await? else {
            return Ok(Err(Next::Login(None)));
        };

        // The factor to check is that session's own person's, nobody else's.
        if session.user_id != pending_user {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        }

        // OIDC Core §3.1.2.1: a session that became too old for `max_age` while the step
        // was open needs the password again, not only the factor.
        if is_stale(request.max_age, session.auth_time, now) {
            return Ok(Err(Next::Login(None)));
        }

        // A step-up verifies a factor the person has and never enrols one, which needs the
        // password within the interaction (see the module's docs). The factor may have been
        // removed since the step began.
        if !self.has_second_factor(pending_user).await? {
            return Ok(Err(Next::Login(None)));
        }

        Ok(Ok(()))
    }
}

impl Provider {
    /// Whether an authenticator set up from the account page, bound to the session `bound`
    /// that opened it, may still be confirmed in `browser`; if not, where the browser goes.
    ///
    /// NIST SP 800-63B §6.1.2.1: binding an authenticator needs an authenticated subscriber.
    /// Here that is the session that passed the account page's fresh-authentication rules,
    /// so each of them is checked again when the code arrives, each its own guard.
    pub(crate) async fn account_enrolment_holds(
        &self,
        bound: &[u8],
        pending_user: &str,
        browser: &BrowserState<'_>,
        now: i64,
    ) -> Result<Result<(), Next>, ProviderError> {
        // The same browser, presenting the session that opened the enrolment.
        let same = browser
            .session_id
            .is_some_and(|session_id| matches_digest(session_id, bound));
        if !same {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        }

        // That session is still live: signing out or a password change ends the enrolment.
        let Some((session, _)) = self.live_session(browser.session_id, now).await? else {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        };

        // It is the session of the person enrolling.
        if session.user_id != pending_user {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        }

        // Its authentication is still recent enough to change factors.
        let window = self.inner.settings.reauthentication_window;
        if !authenticated_recently(&session, now, window) {
            return Ok(Err(Next::ErrorPage(interaction_gone())));
        }

        Ok(Ok(()))
    }
}

/// Takes (ends and returns) the session a step-up upgrades, within the transaction that
/// opens its successor; `None` when it may not be upgraded any more.
pub(crate) async fn take_upgraded_session(
    tx: &mut Tx,
    bound: &[u8],
    pending_user: &str,
    now: i64,
) -> Result<Option<Session>, ProviderError> {
    // Still live at the moment of the upgrade, whatever was checked when the form arrived.
    let Some(session) = tx.take_live_session(bound, now).await? else {
        return Ok(None);
    };

    // Still the person whose factor was just verified.
    if session.user_id != pending_user {
        return Ok(None);
    }

    Ok(Some(session))
}
