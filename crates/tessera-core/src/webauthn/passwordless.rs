//! Signing in with a passkey alone: the authenticator discovers the credential, and its user
//! handle says whose it is (W3C WebAuthn L2 §7.2, the person not identified beforehand).
//! The login page asks for one through its button or through the browser's autofill
//! (conditional mediation); both answer the one ceremony saved on the interaction.

use serde_json::json;
use tessera_protocol::{ErrorCode, OAuthError};
use tessera_store::{AuditEvent, Outcome, Session, Tx, User, WebauthnCredential};
use webauthn_rs::prelude::{DiscoverableAuthentication, DiscoverableKey, PublicKeyCredential};

use super::{
    amr, key_id, passkey_of, record_assertion, take_ceremony, to_json, unavailable, KeyForm,
    KeyLogin, KeyRefusal, Purpose, PASSKEY_LOGIN_FAILED,
};
use crate::authorize::{audit_context, interaction_gone, BrowserState};
use crate::interaction::{csrf_refused, LoginResult, LoginView};
use crate::mfa::{is_multi_factor, MAX_FAILURES_PER_INTERACTION};
use crate::refusal::{reason, refusal_event};
use crate::risk::{mark, refusal, Assessment};
use crate::secret::{csrf_matches, csrf_token, digest, RandomSecret};
use crate::{Provider, ProviderError, RequestContext};

/// The audit event of a passwordless login, and of its refused requests.
const PASSWORDLESS: &str = "login.passwordless";

fn too_many_attempts() -> OAuthError {
    OAuthError::new(
        ErrorCode::AccessDenied,
        "Too many failed sign-in attempts. Return to the application and start again.",
    )
}

/// What the reads before the transaction found about a response.
struct Found {
    credential: Option<PublicKeyCredential>,
    record: Option<WebauthnCredential>,
    /// The person the response's user handle names, if any.
    owner: Option<String>,
    /// The owner of the credential.
    user: Option<User>,
}

impl Provider {
    /// The options of a passwordless assertion (JSON for `navigator.credentials.get`): no
    /// credentials listed, user verification required, a new challenge saved on the
    /// interaction.
    pub async fn passkey_login_options(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<String, OAuthError>, ProviderError> {
        let Some(rp) = self.relying_party() else {
            return Ok(Err(unavailable()));
        };
        let (Some(id), Some((hash, interaction, request))) = (
            browser.interaction_id,
            self.interaction(browser, now).await?,
        ) else {
            return Ok(Err(interaction_gone()));
        };
        if !csrf_matches(id, csrf) {
            self.record_csrf_refusal(ctx, now, &request).await?;
            return Ok(Err(csrf_refused()));
        }
        let (options, state) = rp
            .webauthn
            .start_discoverable_authentication()
            .map_err(|_| ProviderError::Webauthn("an assertion could not start"))?;
        self.save_ceremony(
            &hash,
            Purpose::Passwordless,
            None,
            &state,
            interaction.expires_at,
        )
        .await?;
        Ok(Ok(to_json(&options)?))
    }

    /// A passwordless assertion: on success a session, as after a password; on failure the
    /// login page again, with one message whatever failed.
    pub async fn passkey_login(
        &self,
        browser: &BrowserState<'_>,
        form: KeyForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<LoginResult, ProviderError> {
        let (Some(id), Some((hash, _, request))) = (
            browser.interaction_id,
            self.interaction(browser, now).await?,
        ) else {
            self.record_refusal(ctx, now, PASSWORDLESS, reason::INTERACTION_GONE)
                .await?;
            return Ok(LoginResult::ErrorPage(interaction_gone()));
        };
        if !csrf_matches(id, &form.csrf) {
            self.record_csrf_refusal(ctx, now, &request).await?;
            return Ok(LoginResult::ErrorPage(csrf_refused()));
        }
        let mut event = AuditEvent {
            occurred_at: now,
            event_type: PASSWORDLESS,
            client_id: request.client_id().map(str::to_string),
            ..audit_context(ctx)
        };

        if !self.claim_attempt(&hash, &mut event).await? {
            return Ok(LoginResult::ErrorPage(too_many_attempts()));
        }

        let found = self.find(&form.credential).await?;
        // Scored before the transaction, as the credential's owner; it counts only if the
        // assertion proves them.
        let assessment = match found.user.as_ref().filter(|u| !u.disabled) {
            Some(user) => {
                let prior = self.throttle_prior(&user.username, ctx).await?;
                Some(self.assess_login(&user.id, prior, ctx, now).await?)
            }
            None => None,
        };
        let mut tx = self.inner.store.begin().await?;
        let checked = self.check_passwordless(&mut tx, &hash, &found, now).await?;
        event.user_id = found.record.as_ref().map(|r| r.user_id.clone());
        let credential_id = found.record.as_ref().map(|r| key_id(&r.credential_id));

        let (user, flags) = match checked {
            Ok(accepted) => accepted,
            Err(refusal) => {
                event.detail = json!({ "reason": refusal.reason(), "credential": credential_id });
                tx.record(&event).await?;
                tx.commit().await?;
                return self.passkey_retry(id, &request).await;
            }
        };

        // The key proved its owner: their login's risk decides whether it goes on. A key
        // with user verification is two factors already, so only a refusal applies.
        let amr = amr(KeyLogin::Passwordless, flags);
        if let Some(assessment) = &assessment {
            self.count_decision(assessment);
            if let Some(refused) = refusal(assessment, is_multi_factor(&amr)) {
                self.record_risk_refusal(event, assessment, refused, Some(tx))
                    .await?;
                return self.passkey_retry(id, &request).await;
            }
        }
        let assessed = assessment.as_ref();
        let (session_id, sid) = self
            .open_session(&mut tx, browser, &hash, &user, &amr, assessed, now, ctx)
            .await?;
        event.outcome = Outcome::Success;
        event.session_id = Some(sid);
        event.detail = json!({ "credential": credential_id, "amr": amr });
        mark(&mut event, assessment.as_ref());
        tx.record(&event).await?;
        tx.commit().await?;
        Ok(LoginResult::LoggedIn(session_id))
    }

    /// The login page again after a refused passkey, with one message whatever refused it.
    async fn passkey_retry(
        &self,
        interaction_id: &str,
        purpose: &crate::purpose::Purpose,
    ) -> Result<LoginResult, ProviderError> {
        Ok(LoginResult::Retry(LoginView {
            csrf: csrf_token(interaction_id),
            client_name: self.audience_name(purpose).await?,
            username: String::new(),
            error: None,
            retry_after: None,
            passkey: true,
            passkey_error: Some(PASSKEY_LOGIN_FAILED),
        }))
    }

    /// Records a passwordless request, for options or with a response, whose CSRF token is
    /// not its interaction's: one failure, naming the client the sign-in is for.
    async fn record_csrf_refusal(
        &self,
        ctx: &RequestContext,
        now: i64,
        purpose: &crate::purpose::Purpose,
    ) -> Result<(), ProviderError> {
        let mut event = refusal_event(ctx, now, PASSWORDLESS, reason::CSRF);
        event.client_id = purpose.client_id().map(str::to_string);
        self.inner.store.record(&event).await?;
        Ok(())
    }

    /// The session of a passwordless login, within `tx`. As after a password: a new session
    /// id replaces any earlier one (session fixation), the interaction records that a login
    /// was made within it (which `prompt=login` and `max_age` accept), the session keeps the
    /// login's risk assessment and the person's history learns from it. Returns the
    /// session's cookie value and its public `sid`.
    #[allow(clippy::too_many_arguments)] // Each is a distinct fact of the login.
    async fn open_session(
        &self,
        tx: &mut Tx,
        browser: &BrowserState<'_>,
        hash: &[u8],
        user: &User,
        amr: &str,
        assessment: Option<&Assessment>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<(RandomSecret, String), ProviderError> {
        let session_id = RandomSecret::generate();
        let sid = uuid::Uuid::new_v4().simple().to_string();
        let session = Session {
            user_id: user.id.clone(),
            auth_time: now,
            amr: amr.to_string(),
            sid: Some(sid.clone()),
            expires_at: now + self.inner.settings.session_ttl,
            risk: assessment.and_then(Assessment::session_stored),
        };
        if let Some(old) = browser.session_id {
            tx.delete_session(&digest(old)).await?;
        }
        tx.insert_session(&session_id.digest(), &session, now)
            .await?;
        self.note_device(tx, ctx, &session, now).await?;
        tx.record_login(&user.id, now).await?;
        self.learn_login(tx, &user.id, assessment, now).await?;
        tx.mark_interaction_authenticated(hash, now).await?;
        Ok((session_id, sid))
    }

    /// Takes one of the interaction's attempts before a response is checked, committed at
    /// once (NIST SP 800-63B §5.2.2, as for codes); when none is left the interaction ends,
    /// `event` records why, and this returns false.
    async fn claim_attempt(
        &self,
        hash: &[u8],
        event: &mut AuditEvent,
    ) -> Result<bool, ProviderError> {
        let mut claim = self.inner.store.begin().await?;
        let attempt = claim
            .claim_factor_attempt(hash, MAX_FAILURES_PER_INTERACTION)
            .await?;
        claim.commit().await?;
        if attempt.is_some() {
            return Ok(true);
        }
        event.detail = json!({ "reason": "too_many" });
        let mut tx = self.inner.store.begin().await?;
        tx.delete_interaction(hash).await?;
        tx.record(event).await?;
        tx.commit().await?;
        Ok(false)
    }

    /// Everything about a response that is read outside the transaction: the credential it
    /// names, the person its user handle names, and the credential's owner.
    async fn find(&self, text: &str) -> Result<Found, ProviderError> {
        let credential: Option<PublicKeyCredential> = serde_json::from_str(text).ok();
        let Some(presented) = &credential else {
            return Ok(Found {
                credential,
                record: None,
                owner: None,
                user: None,
            });
        };
        let record = self
            .inner
            .store
            .webauthn_credential(presented.raw_id.as_slice())
            .await?;
        let handle = presented
            .get_user_unique_id()
            .and_then(|bytes| uuid::Uuid::from_slice(bytes).ok());
        let owner = match handle {
            Some(handle) => {
                let text = handle.hyphenated().to_string();
                self.inner.store.user_id_by_webauthn_handle(&text).await?
            }
            None => None,
        };
        let user = match &record {
            Some(record) => self.inner.store.user_by_id(&record.user_id).await?,
            None => None,
        };
        Ok(Found {
            credential,
            record,
            owner,
            user,
        })
    }

    /// The checks of a passwordless assertion, in order, each its own guard.
    async fn check_passwordless(
        &self,
        tx: &mut Tx,
        hash: &[u8],
        found: &Found,
        now: i64,
    ) -> Result<Result<(User, super::KeyFlags), KeyRefusal>, ProviderError> {
        let Some(rp) = self.relying_party() else {
            return Ok(Err(KeyRefusal::Unavailable));
        };

        // Single use: the ceremony is taken, whatever follows.
        let state: DiscoverableAuthentication =
            match take_ceremony(tx, hash, Purpose::Passwordless, None, now).await? {
                Ok(state) => state,
                Err(refusal) => return Ok(Err(refusal)),
            };

        let Some(credential) = &found.credential else {
            return Ok(Err(KeyRefusal::Malformed));
        };

        let Some(record) = &found.record else {
            return Ok(Err(KeyRefusal::UnknownCredential));
        };

        // W3C WebAuthn L2 §7.2 step 6: the person was not identified before the ceremony, so
        // the user handle must be present and name the credential's owner.
        if found.owner.as_deref() != Some(record.user_id.as_str()) {
            return Ok(Err(KeyRefusal::WrongUser));
        }

        let Some(user) = found.user.as_ref().filter(|u| !u.disabled) else {
            return Ok(Err(KeyRefusal::AccountDisabled));
        };

        let key = DiscoverableKey::from(passkey_of(record)?);
        let result = match rp
            .webauthn
            .finish_discoverable_authentication(credential, state, &[key])
        {
            Ok(result) => result,
            Err(err) => return Ok(Err(KeyRefusal::from_library(&err))),
        };

        // W3C WebAuthn L2 §7.2 step 17: a passkey alone is a login only when the
        // authenticator verified the person (PIN or biometric); presence is not enough.
        if !result.user_verified() {
            return Ok(Err(KeyRefusal::NotVerified));
        }

        match record_assertion(tx, record, &result, now).await? {
            Ok(flags) => Ok(Ok((user.clone(), flags))),
            Err(refusal) => Ok(Err(refusal)),
        }
    }
}
