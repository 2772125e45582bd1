//! A key as the second factor after the password, and a key registered while a login enrols
//! its first factor. Both are steps of the interaction's pending second factor
//! ([`crate::second_factor`]): each response takes one of the interaction's attempts first,
//! and a refused one counts against the interaction and the account like a wrong code.

use serde_json::json;
use tessera_protocol::OAuthError;
use tessera_store::{AuditEvent, NewWebauthnCredential, Tx, User, WebauthnCredential};
use webauthn_rs::prelude::{
    CredentialID, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid,
};

use super::{
    amr, key_id, passkey_of, record_assertion, registered_flags, require_discoverable,
    take_ceremony, to_json, unavailable, KeyFlags, KeyLogin, KeyName, KeyRefusal, Purpose,
    RelyingParty, KEY_NOT_ACCEPTED,
};
use crate::authorize::{interaction_gone, BrowserState};
use crate::interaction::csrf_refused;
use crate::refusal::reason;
use crate::second_factor::{Enrolled, FactorOutcome, Notice, Pending, Verified};
use crate::secret::csrf_matches;
use crate::{Provider, ProviderError, RequestContext};

/// A submitted assertion: the credential as the page's script encoded it (JSON).
pub struct KeyForm {
    pub csrf: String,
    pub credential: String,
}

/// A submitted registration, with the name the person gave the key (may be empty).
pub struct KeyEnrolForm {
    pub csrf: String,
    pub credential: String,
    pub name: String,
}

/// A credential just registered, in the transaction that stored it.
pub(super) struct Registered {
    pub credential_id: Vec<u8>,
    pub name: KeyName,
    pub flags: KeyFlags,
    pub backed_up: bool,
}

/// Whether an assertion's user handle, when there is one, is the person's (W3C WebAuthn L2
/// §7.2 step 6: when the person was identified before the ceremony, a user handle in the
/// response must map to that same person).
pub(super) fn handle_is_theirs(presented: Option<&[u8]>, stored: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return true;
    };
    let stored = stored.and_then(|text| Uuid::parse_str(text).ok());
    match (Uuid::from_slice(presented).ok(), stored) {
        (Some(presented), Some(stored)) => presented == stored,
        _ => false,
    }
}

impl Provider {
    /// The relying party and the pending second factor an options request is about, or the
    /// error it gets: every request carries the interaction's CSRF token in a header.
    async fn key_step(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<(&RelyingParty, Pending), OAuthError>, ProviderError> {
        let Some(rp) = self.relying_party() else {
            return Ok(Err(unavailable()));
        };
        let Some(id) = browser.interaction_id else {
            return Ok(Err(interaction_gone()));
        };
        // A forged request is an attempt on the key's step, recorded as its form's would be.
        if !csrf_matches(id, csrf) {
            self.record_refusal(ctx, now, "login.webauthn", reason::CSRF)
                .await?;
            return Ok(Err(csrf_refused()));
        }
        match self.pending(browser, now).await? {
            Ok(pending) => Ok(Ok((rp, pending))),
            Err(_) => Ok(Err(interaction_gone())),
        }
    }

    /// The options of a second-factor assertion (JSON for `navigator.credentials.get`): the
    /// person's credentials and a new challenge, saved on the interaction.
    pub async fn key_factor_options(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<String, OAuthError>, ProviderError> {
        let (rp, pending) = match self.key_step(browser, csrf, now, ctx).await? {
            Ok(found) => found,
            Err(error) => return Ok(Err(error)),
        };
        let records = self
            .inner
            .store
            .webauthn_credentials(&pending.user.id)
            .await?;
        if records.is_empty() {
            return Ok(Err(OAuthError::invalid_request(
                "No passkey or security key is registered for this sign-in.",
            )));
        }
        let passkeys = records
            .iter()
            .map(passkey_of)
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = rp
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|_| ProviderError::Webauthn("an assertion could not start"))?;
        let user_id = Some(pending.user.id.as_str());
        let (hash, expires_at) = (&pending.interaction_hash, pending.expires_at);
        self.save_ceremony(hash, Purpose::SecondFactor, user_id, &state, expires_at)
            .await?;
        Ok(Ok(to_json(&options)?))
    }

    /// A second-factor assertion: on success the session is created, as after a code.
    pub async fn submit_key_factor(
        &self,
        browser: &BrowserState<'_>,
        form: KeyForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let pending = match self
            .begin_attempt(browser, &form.csrf, false, now, ctx)
            .await?
        {
            Ok(pending) => pending,
            Err(outcome) => return Ok(outcome),
        };

        // Reads first: a request holding a transaction must not wait for another connection.
        let credential: Option<PublicKeyCredential> = serde_json::from_str(&form.credential).ok();
        let record = match &credential {
            Some(c) => {
                self.inner
                    .store
                    .webauthn_credential(c.raw_id.as_slice())
                    .await?
            }
            None => None,
        };
        let handle = self.inner.store.webauthn_handle(&pending.user.id).await?;

        let mut tx = self.inner.store.begin().await?;
        let checked = self
            .check_assertion(
                &mut tx,
                &pending,
                credential.as_ref(),
                record.as_ref(),
                handle,
                now,
            )
            .await?;
        let credential_id = record.as_ref().map(|r| key_id(&r.credential_id));
        let mut event = match checked {
            Ok(_) => self.factor_event(&pending, "login.webauthn", now, ctx, ""),
            Err(refusal) => {
                self.factor_event(&pending, "login.webauthn", now, ctx, refusal.reason())
            }
        };
        event.detail["credential"] = json!(credential_id);

        let Ok(flags) = checked else {
            return self.key_refused(tx, &pending, event, now).await;
        };
        let verified = Verified {
            amr: amr(KeyLogin::SecondFactor, flags),
            factor: event,
            end_other_sessions: false,
        };
        self.complete(tx, &pending, verified, browser, now, ctx)
            .await
    }

    /// The checks of a second-factor assertion, in order, each its own guard.
    async fn check_assertion(
        &self,
        tx: &mut Tx,
        pending: &Pending,
        credential: Option<&PublicKeyCredential>,
        record: Option<&WebauthnCredential>,
        handle: Option<String>,
        now: i64,
    ) -> Result<Result<KeyFlags, KeyRefusal>, ProviderError> {
        let Some(rp) = self.relying_party() else {
            return Ok(Err(KeyRefusal::Unavailable));
        };
        let (hash, user_id) = (&pending.interaction_hash, pending.user.id.as_str());

        // Single use: the ceremony is taken, whatever follows.
        let state: PasskeyAuthentication =
            match take_ceremony(tx, hash, Purpose::SecondFactor, Some(user_id), now).await? {
                Ok(state) => state,
                Err(refusal) => return Ok(Err(refusal)),
            };

        let Some(credential) = credential else {
            return Ok(Err(KeyRefusal::Malformed));
        };

        let Some(record) = record.filter(|r| r.user_id == user_id) else {
            return Ok(Err(KeyRefusal::UnknownCredential));
        };

        // W3C WebAuthn L2 §7.2 step 6.
        let presented = credential.get_user_unique_id();
        if !handle_is_theirs(presented, handle.as_deref()) {
            return Ok(Err(KeyRefusal::WrongUser));
        }

        let result = match rp
            .webauthn
            .finish_passkey_authentication(credential, &state)
        {
            Ok(result) => result,
            Err(err) => return Ok(Err(KeyRefusal::from_library(&err))),
        };

        record_assertion(tx, record, &result, now).await
    }

    /// The options of a registration during a login that must enrol a first factor (JSON for
    /// `navigator.credentials.create`).
    pub async fn key_enrol_options(
        &self,
        browser: &BrowserState<'_>,
        csrf: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<String, OAuthError>, ProviderError> {
        let (rp, pending) = match self.key_step(browser, csrf, now, ctx).await? {
            Ok(found) => found,
            Err(error) => return Ok(Err(error)),
        };
        // Only at the enrolment step: a person who has a factor gives it instead.
        if pending.has_factor() {
            return Ok(Err(OAuthError::invalid_request(
                "A second factor is set up already: use it to continue.",
            )));
        }
        let (owner, expires_at) = (&pending.interaction_hash, pending.expires_at);
        let options = self
            .registration_options(rp, &pending.user, owner, Purpose::Enrol, expires_at, now)
            .await?;
        Ok(Ok(options))
    }

    /// A registration during a login: the key becomes the person's first factor and finishes
    /// the step as a confirmed authenticator does (recovery codes shown once, sessions opened
    /// with the password alone ended).
    pub async fn submit_key_enrolment(
        &self,
        browser: &BrowserState<'_>,
        form: KeyEnrolForm,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<FactorOutcome, ProviderError> {
        let pending = match self
            .begin_attempt(browser, &form.csrf, false, now, ctx)
            .await?
        {
            Ok(pending) => pending,
            Err(outcome) => return Ok(outcome),
        };
        if pending.has_factor() {
            return self.show(&pending, Notice::None, now).await;
        }

        let credential: Option<RegisterPublicKeyCredential> =
            serde_json::from_str(&form.credential).ok();
        let mut tx = self.inner.store.begin().await?;
        let (owner, user_id) = (&pending.interaction_hash, pending.user.id.as_str());
        let registered = self
            .register_in(
                &mut tx,
                user_id,
                owner,
                Purpose::Enrol,
                credential.as_ref(),
                &form.name,
                now,
            )
            .await?;
        let registered = match registered {
            Ok(registered) => registered,
            Err(refusal) => {
                let reason = refusal.reason();
                let event =
                    self.factor_event(&pending, "factor.webauthn_register", now, ctx, reason);
                return self.key_refused(tx, &pending, event, now).await;
            }
        };

        // One attempt, one event: the login's, naming the key it registered.
        let mut factor = self.factor_event(&pending, "login.webauthn", now, ctx, "");
        let credential = key_id(&registered.credential_id);
        factor.detail = json!({ "enrolled": "webauthn", "credential": credential });
        let enrolled = Enrolled {
            amr: amr(KeyLogin::SecondFactor, registered.flags),
            factor,
        };
        self.complete_enrolment(tx, &pending, enrolled, browser, now, ctx)
            .await
    }

    /// A refused key: counted like a wrong code, then the page again with one message for
    /// every reason, or the end of the interaction at its limit.
    async fn key_refused(
        &self,
        tx: Tx,
        pending: &Pending,
        event: AuditEvent,
        now: i64,
    ) -> Result<FactorOutcome, ProviderError> {
        let notice = Notice::Passkey(KEY_NOT_ACCEPTED);
        self.refused(tx, pending, event, notice, now).await
    }

    /// Starts a registration for `user`, saved under `owner` for `purpose`: a discoverable
    /// credential with user verification, none of the person's credentials again.
    pub(super) async fn registration_options(
        &self,
        rp: &RelyingParty,
        user: &User,
        owner: &[u8],
        purpose: Purpose,
        expires_at: i64,
        now: i64,
    ) -> Result<String, ProviderError> {
        let existing = self.inner.store.webauthn_credentials(&user.id).await?;
        // W3C WebAuthn L2 §5.4 excludeCredentials: an authenticator holding one of these
        // refuses, so the same key is not registered twice.
        let exclude: Vec<CredentialID> = existing
            .iter()
            .map(|r| CredentialID::from(r.credential_id.clone()))
            .collect();
        let handle = self.user_handle(&user.id, now).await?;
        let display_name = user.display_name.as_deref().unwrap_or(&user.username);
        let (mut options, state) = rp
            .webauthn
            .start_passkey_registration(handle, &user.username, display_name, Some(exclude))
            .map_err(|_| ProviderError::Webauthn("a registration could not start"))?;
        require_discoverable(&mut options);
        self.save_ceremony(owner, purpose, Some(&user.id), &state, expires_at)
            .await?;
        to_json(&options)
    }

    /// The person's user handle, created on first use: random, not the username and not
    /// their `sub` (W3C WebAuthn L2 §14.6.1: the handle must not identify the person).
    async fn user_handle(&self, user_id: &str, now: i64) -> Result<Uuid, ProviderError> {
        let stored = match self.inner.store.webauthn_handle(user_id).await? {
            Some(handle) => handle,
            None => {
                let candidate = Uuid::new_v4().to_string();
                let mut tx = self.inner.store.begin().await?;
                let handle = tx.ensure_webauthn_handle(user_id, &candidate, now).await?;
                tx.commit().await?;
                handle
            }
        };
        Uuid::parse_str(&stored).map_err(|_| ProviderError::Webauthn("stored handle unreadable"))
    }

    /// Finishes a registration within `tx`: takes the ceremony, has webauthn-rs verify the
    /// response, and stores the credential.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn register_in(
        &self,
        tx: &mut Tx,
        user_id: &str,
        owner: &[u8],
        purpose: Purpose,
        credential: Option<&RegisterPublicKeyCredential>,
        name: &str,
        now: i64,
    ) -> Result<Result<Registered, KeyRefusal>, ProviderError> {
        let Some(rp) = self.relying_party() else {
            return Ok(Err(KeyRefusal::Unavailable));
        };

        let state: PasskeyRegistration =
            match take_ceremony(tx, owner, purpose, Some(user_id), now).await? {
                Ok(state) => state,
                Err(refusal) => return Ok(Err(refusal)),
            };

        let Some(credential) = credential else {
            return Ok(Err(KeyRefusal::Malformed));
        };

        let passkey = match rp.webauthn.finish_passkey_registration(credential, &state) {
            Ok(passkey) => passkey,
            Err(err) => return Ok(Err(KeyRefusal::from_library(&err))),
        };

        let (flags, backed_up, counter) = registered_flags(&passkey);
        let name = match KeyName::or_default(name, flags.backup_eligible) {
            Ok(name) => name,
            Err(refusal) => return Ok(Err(KeyRefusal::Name(refusal))),
        };

        // W3C WebAuthn L2 §7.1 step 22: a credential id registered already, to anyone, is
        // refused.
        let stored = to_json(&passkey)?;
        let credential_id = passkey.cred_id().as_ref().to_vec();
        let new = NewWebauthnCredential {
            credential_id: &credential_id,
            user_id,
            name: name.as_str(),
            passkey: &stored,
            sign_count: i64::from(counter),
            backup_eligible: flags.backup_eligible,
            backed_up,
        };
        if !tx.insert_webauthn_credential(&new, now).await? {
            return Ok(Err(KeyRefusal::AlreadyRegistered));
        }
        Ok(Ok(Registered {
            credential_id,
            name,
            flags,
            backed_up,
        }))
    }
}
