//! The account page's calls about a logged-in person's keys: register one, list, rename and
//! remove them. The page itself (routes, session and CSRF checks, which person is asking) is
//! the caller's: these functions act for the `user_id` they are given. A registration's
//! state is kept on the server under a key the caller chooses (the session's hash, say),
//! for [`ACCOUNT_CEREMONY_TTL`] seconds, and answers once.

use serde_json::json;
use tessera_store::{AuditEvent, Outcome, Tx, WebauthnCredential};
use webauthn_rs::prelude::RegisterPublicKeyCredential;
use webauthn_rs::DEFAULT_AUTHENTICATOR_TIMEOUT;

use super::{key_id, KeyName, KeyRefusal, Purpose};
use crate::authorize::audit_context;
use crate::recovery::{self, RecoveryCode};
use crate::{Provider, ProviderError, RequestContext};

/// How long a registration started from the account page can be finished, seconds: the
/// time webauthn-rs gives the browser (`timeout`, five minutes).
pub const ACCOUNT_CEREMONY_TTL: i64 = DEFAULT_AUTHENTICATOR_TIMEOUT.as_secs() as i64;

/// The audit event of a registration from the account page.
const REGISTER: &str = "factor.webauthn_register";

/// A registered key as the account page lists it. Nothing in it is secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySummary {
    /// The credential id, base64url: what rename and remove take.
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// A synced passkey rather than a key bound to one device.
    pub backup_eligible: bool,
    pub backed_up: bool,
}

impl KeySummary {
    fn of(record: &WebauthnCredential) -> Self {
        Self {
            id: key_id(&record.credential_id),
            name: record.name.clone(),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            backup_eligible: record.backup_eligible,
            backed_up: record.backed_up,
        }
    }
}

/// A key registered from the account page.
#[derive(Debug)]
pub struct RegisteredKey {
    pub key: KeySummary,
    /// A new set of recovery codes when the key is the person's first factor, to be shown
    /// once; empty otherwise. The caller should also end the person's other sessions then,
    /// as a login that enrols does: they were opened with the password alone.
    pub recovery_codes: Vec<RecoveryCode>,
}

impl Provider {
    /// Starts registering a key for `user_id`; the options as JSON for
    /// `navigator.credentials.create`. The person's existing keys are excluded.
    pub async fn start_key_registration(
        &self,
        user_id: &str,
        state_key: &[u8],
        now: i64,
    ) -> Result<Result<String, KeyRefusal>, ProviderError> {
        let Some(rp) = self.relying_party() else {
            return Ok(Err(KeyRefusal::Unavailable));
        };
        let Some(user) = self
            .inner
            .store
            .user_by_id(user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(Err(KeyRefusal::AccountDisabled));
        };
        let expires_at = now + ACCOUNT_CEREMONY_TTL;
        let options = self
            .registration_options(rp, &user, state_key, Purpose::Account, expires_at, now)
            .await?;
        Ok(Ok(options))
    }

    /// Finishes a registration started by [`Provider::start_key_registration`] under the
    /// same `state_key`. `name` may be empty: the key is then named by its kind. When the
    /// key is the person's first factor, every session of theirs but `keep_session` (a
    /// session's hash) ends in the same transaction, as after an enrolment during login:
    /// those sessions were opened with the password alone. `sid` is the public id of the
    /// session asking, for the audit event.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_key_registration(
        &self,
        user_id: &str,
        state_key: &[u8],
        credential: &str,
        name: &str,
        keep_session: &[u8],
        sid: Option<&str>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<RegisteredKey, KeyRefusal>, ProviderError> {
        let credential: Option<RegisterPublicKeyCredential> = serde_json::from_str(credential).ok();
        let active = self.inner.store.user_by_id(user_id).await?;
        // Back-Channel Logout §2.7, for the sessions a first factor ends; prepared before the
        // transaction, queued only if the key turns out to be the first.
        let others = self
            .inner
            .store
            .session_sids(user_id, Some(keep_session))
            .await?;
        let notices = self.logout_notices(user_id, others, now).await?;

        let mut tx = self.inner.store.begin().await?;
        let had_factor = tx.holds_second_factor(user_id).await?;
        let (owner, purpose, presented) = (state_key, Purpose::Account, credential.as_ref());
        let registered = match active {
            Some(user) if !user.disabled => {
                self.register_in(&mut tx, user_id, owner, purpose, presented, name, now)
                    .await?
            }
            _ => Err(KeyRefusal::AccountDisabled),
        };
        let registered = match registered {
            Ok(registered) => registered,
            Err(refusal) => {
                let detail = json!({ "via": "account", "reason": refusal.reason() });
                let event = account_event(REGISTER, user_id, sid, detail, now, ctx);
                let event = AuditEvent {
                    outcome: Outcome::Failure,
                    ..event
                };
                tx.record(&event).await?;
                tx.commit().await?;
                return Ok(Err(refusal));
            }
        };

        // The first factor comes with recovery codes, as an enrolment during login does.
        let codes = if had_factor {
            Vec::new()
        } else {
            let ended = tx.delete_other_sessions(user_id, keep_session).await?;
            notices.queue(&mut tx, now).await?;
            tracing::info!(
                ended_sessions = ended,
                "first key registered from the account"
            );
            first_recovery_codes(&mut tx, user_id, now).await?
        };
        // One request, one event: the registration's, which counts the codes it brought.
        let id = key_id(&registered.credential_id);
        let detail = if codes.is_empty() {
            json!({ "via": "account", "credential": id })
        } else {
            json!({ "via": "account", "credential": id, "recovery_codes": codes.len() })
        };
        tx.record(&account_event(REGISTER, user_id, sid, detail, now, ctx))
            .await?;
        tx.commit().await?;

        Ok(Ok(RegisteredKey {
            key: KeySummary {
                id,
                name: registered.name.as_str().to_string(),
                created_at: now,
                last_used_at: None,
                backup_eligible: registered.flags.backup_eligible,
                backed_up: registered.backed_up,
            },
            recovery_codes: codes,
        }))
    }

    /// The person's keys, oldest first.
    pub async fn list_keys(&self, user_id: &str) -> Result<Vec<KeySummary>, ProviderError> {
        let records = self.inner.store.webauthn_credentials(user_id).await?;
        Ok(records.iter().map(KeySummary::of).collect())
    }

    /// Renames one of the person's keys, named by [`KeySummary::id`], for the session `sid`.
    pub async fn rename_key(
        &self,
        user_id: &str,
        sid: Option<&str>,
        id: &str,
        name: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<(), KeyRefusal>, ProviderError> {
        let name = match KeyName::parse(name) {
            Ok(name) => name,
            Err(refusal) => return Ok(Err(KeyRefusal::Name(refusal))),
        };
        let Some(credential_id) = credential_id_of(id) else {
            return Ok(Err(KeyRefusal::NoSuchKey));
        };
        let mut tx = self.inner.store.begin().await?;
        if !tx
            .rename_webauthn_credential(user_id, &credential_id, name.as_str())
            .await?
        {
            tx.rollback().await?;
            return Ok(Err(KeyRefusal::NoSuchKey));
        }
        let detail = json!({ "via": "account", "credential": id });
        tx.record(&account_event(
            "factor.webauthn_rename",
            user_id,
            sid,
            detail,
            now,
            ctx,
        ))
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Removes one of the person's keys, named by [`KeySummary::id`], for the session `sid`.
    /// Whether the person may be left without a second factor is the caller's decision; when
    /// they are, their recovery codes go too, in the same transaction: they stand in for a
    /// factor, and without one they would unlock nothing but could still be stolen.
    pub async fn remove_key(
        &self,
        user_id: &str,
        sid: Option<&str>,
        id: &str,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Result<(), KeyRefusal>, ProviderError> {
        let Some(credential_id) = credential_id_of(id) else {
            return Ok(Err(KeyRefusal::NoSuchKey));
        };
        let mut tx = self.inner.store.begin().await?;
        if !tx
            .delete_webauthn_credential(user_id, &credential_id)
            .await?
        {
            tx.rollback().await?;
            return Ok(Err(KeyRefusal::NoSuchKey));
        }
        let last = !tx.holds_second_factor(user_id).await?;
        if last {
            tx.replace_recovery_codes(user_id, &[], now).await?;
        }
        let detail = json!({ "via": "account", "credential": id, "last_factor": last });
        tx.record(&account_event(
            "factor.webauthn_remove",
            user_id,
            sid,
            detail,
            now,
            ctx,
        ))
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}

/// Gives a person whose first factor was just registered a set of recovery codes, in `tx`.
/// The registration's event records them.
async fn first_recovery_codes(
    tx: &mut Tx,
    user_id: &str,
    now: i64,
) -> Result<Vec<RecoveryCode>, ProviderError> {
    let codes = recovery::generate_set();
    let digests: Vec<[u8; 32]> = codes.iter().map(RecoveryCode::digest).collect();
    tx.replace_recovery_codes(user_id, &digests, now).await?;
    Ok(codes)
}

/// A credential id from its base64url form; `None` when it is not one.
fn credential_id_of(id: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .filter(|bytes| !bytes.is_empty())
}

/// A successful audit event of the account page about the person `user_id`, asked for by
/// their session `sid` (its public id), as the page's other events are.
fn account_event(
    event_type: &'static str,
    user_id: &str,
    sid: Option<&str>,
    detail: serde_json::Value,
    now: i64,
    ctx: &RequestContext,
) -> AuditEvent {
    AuditEvent {
        occurred_at: now,
        event_type,
        outcome: Outcome::Success,
        user_id: Some(user_id.to_string()),
        session_id: sid.map(str::to_string),
        detail,
        ..audit_context(ctx)
    }
}
