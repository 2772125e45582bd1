//! Passkeys and security keys from the account page: a registration's options, and the forms
//! that add, rename and remove a key.
//!
//! Enforces: every step first passes both rules of a fresh authentication (the options
//! request too, so that a stale session never sees a challenge); the options request carries
//! the session's CSRF token in a header, the forms carry it as a field; a registration's
//! state is kept under the session's hash, so it answers only the session that asked for it,
//! once (a new login gets a new session id, and so a new key); the first key comes with
//! recovery codes shown once and ends the person's other sessions, as an enrolment during
//! login does. Each change and its audit event share a transaction (the calls in
//! `crate::webauthn` own them); each refusal is an audit event too.

use serde_json::json;
use tessera_protocol::error::ErrorCode;
use tessera_protocol::OAuthError;

use super::{account_event, done, failed, AccountOutcome, Acting, Notice, CSRF_LABEL};
use crate::authorize::BrowserState;
use crate::secret::{digest, keyed_token_matches};
use crate::webauthn::{unavailable, KeyRefusal};
use crate::{Provider, ProviderError, RequestContext};

/// The audit events of the three actions, as the WebAuthn calls record them.
pub(super) const REGISTER: &str = "factor.webauthn_register";
pub(super) const RENAME: &str = "factor.webauthn_rename";
pub(super) const REMOVE: &str = "factor.webauthn_remove";

/// The answer to an options request that must go through the page's form instead (no
/// session, or one that is not fresh): the script then posts the form, and the form's answer
/// (a login that returns here) is what the person sees.
fn sign_in_again() -> OAuthError {
    OAuthError::new(
        ErrorCode::AccessDenied,
        "Sign in again to add a passkey or security key.",
    )
}

/// The notice for a refused key action.
fn notice_of(refusal: KeyRefusal) -> Notice {
    match refusal {
        KeyRefusal::Name(_) => Notice::KeyNameRefused,
        KeyRefusal::NoSuchKey => Notice::NoSuchKey,
        _ => Notice::KeyNotAdded,
    }
}

impl Provider {
    /// The options of a registration from the account page (JSON for
    /// `navigator.credentials.create`), for the session's person, kept under the session.
    pub async fn account_key_options(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<String, OAuthError>, ProviderError> {
        // Step 1: the session the request acts for.
        let Some(acting) = self.acting(browser, ctx, now).await? else {
            return Ok(Err(sign_in_again()));
        };

        // Step 2: the request came from a page shown to this session (CSRF).
        if !keyed_token_matches(acting.session_id, CSRF_LABEL, csrf) {
            let event = account_event(&acting, REGISTER, now, ctx);
            self.inner
                .store
                .record(&failed(event, json!({ "reason": "csrf" })))
                .await?;
            return Ok(Err(OAuthError::invalid_request(
                "The page has expired. Open the account page again and retry.",
            )));
        }

        // Step 3: a fresh authentication (NIST SP 800-63B §6.1.2.1).
        if let Some(reason) = self.unfresh_reason(&acting, now).await? {
            let event = account_event(&acting, REGISTER, now, ctx);
            self.inner
                .store
                .record(&failed(event, json!({ "reason": reason })))
                .await?;
            return Ok(Err(sign_in_again()));
        }

        // Step 4: the ceremony, kept under this session.
        let state_key = digest(acting.session_id);
        match self
            .start_key_registration(&acting.user.id, &state_key, now)
            .await?
        {
            Ok(options) => Ok(Ok(options)),
            Err(KeyRefusal::Unavailable) => Ok(Err(unavailable())),
            Err(_) => Ok(Err(sign_in_again())),
        }
    }

    /// Registers the key the page's script created; the first one is shown with its
    /// recovery codes.
    pub(super) async fn add_key(
        &self,
        acting: &Acting<'_>,
        credential: &str,
        name: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        if let Some(elsewhere) = self.require_fresh(acting, REGISTER, now, ctx).await? {
            return Ok(elsewhere);
        }

        let session = digest(acting.session_id);
        let (user_id, sid) = (acting.user.id.as_str(), acting.session.sid.as_deref());
        let registered = self
            .finish_key_registration(user_id, &session, credential, name, &session, sid, now, ctx)
            .await?;
        match registered {
            Ok(key) if key.recovery_codes.is_empty() => Ok(done(acting, Notice::KeyAdded)),
            Ok(key) => Ok(AccountOutcome::RecoveryCodes(key.recovery_codes)),
            // The refusal is recorded already, in the registration's transaction.
            Err(refusal) => Ok(done(acting, notice_of(refusal))),
        }
    }

    pub(super) async fn rename_account_key(
        &self,
        acting: &Acting<'_>,
        id: &str,
        name: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        if let Some(elsewhere) = self.require_fresh(acting, RENAME, now, ctx).await? {
            return Ok(elsewhere);
        }

        let (user_id, sid) = (acting.user.id.as_str(), acting.session.sid.as_deref());
        match self.rename_key(user_id, sid, id, name, now, ctx).await? {
            Ok(()) => Ok(done(acting, Notice::KeyRenamed)),
            Err(refusal) => {
                let notice = notice_of(refusal);
                self.refuse_action(acting, RENAME, refusal.reason(), notice, now, ctx)
                    .await
            }
        }
    }

    /// Removes a key; the last factor takes the recovery codes with it.
    pub(super) async fn remove_account_key(
        &self,
        acting: &Acting<'_>,
        id: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<AccountOutcome, ProviderError> {
        if let Some(elsewhere) = self.require_fresh(acting, REMOVE, now, ctx).await? {
            return Ok(elsewhere);
        }

        let (user_id, sid) = (acting.user.id.as_str(), acting.session.sid.as_deref());
        match self.remove_key(user_id, sid, id, now, ctx).await? {
            Ok(()) => Ok(done(acting, Notice::KeyRemoved)),
            Err(refusal) => {
                let notice = notice_of(refusal);
                self.refuse_action(acting, REMOVE, refusal.reason(), notice, now, ctx)
                    .await
            }
        }
    }
}
