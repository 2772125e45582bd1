//! Creating users and clients, as the command line (and later the admin API) does.

pub mod registration;

use secrecy::SecretString;
use serde_json::json;
use tessera_protocol::admin::FieldError;
use tessera_store::{AuditEvent, NewUser, Outcome, Revoked, Store, StoreError, Tx};

use crate::backchannel::LogoutNotices;
use crate::mfa::MfaPolicy;
use crate::password::PasswordHasher;
use crate::password_policy::{PasswordPolicy, PasswordRefusal};
use crate::username::{username_key, UsernameError};
use crate::{Provider, ProviderError};

pub use registration::{CreatedClient, NewClientRequest, UriRefusal, GRANT_TYPES};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("username: {0}")]
    Username(#[from] UsernameError),
    #[error("that username is taken")]
    UsernameTaken,
    #[error("no such user")]
    NoSuchUser,
    #[error("{0}")]
    Provider(#[from] ProviderError),
    #[error("no such client")]
    NoSuchClient,
    #[error("{0}")]
    PasswordRefused(#[from] PasswordRefusal),
    /// A client registration broke these rules (JSON Pointers as in the admin API).
    #[error("invalid client registration: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error(
        "unknown role {0:?}: the roles are admin, user-admin, client-admin, key-admin, auditor"
    )]
    UnknownRole(String),
    #[error("{0} already holds the admin role; use `tessera admin grant-role` for more admins")]
    AlreadyBootstrapped(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Password(#[from] crate::password::PasswordError),
}

fn describe(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect();
    parts.join("; ")
}

pub struct NewUserRequest<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub password: SecretString,
}

/// Creates a user and returns its subject identifier. The password must meet `policy`.
pub async fn create_user(
    store: &Store,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    request: NewUserRequest<'_>,
    now: i64,
) -> Result<String, AccountError> {
    let key = username_key(request.username)?;
    policy.check(&request.password)?;
    let hash = hasher.hash(request.password).await?;

    let mut tx = store.begin().await?;
    let user = NewUser {
        id: "",
        username: request.username,
        username_key: &key,
        email: request.email,
        display_name: request.display_name,
        password_hash: Some(&hash),
    };
    let id = insert_new_user(&mut tx, user, now)
        .await
        .map_err(|err| match err {
            StoreError::Conflict => AccountError::UsernameTaken,
            other => AccountError::Store(other),
        })?;
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "user.create",
        outcome: Outcome::Success,
        user_id: Some(id.clone()),
        detail: json!({ "via": "cli" }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores a person under a new subject identifier, which it returns; `user.id` is ignored.
/// The username and password must have been checked already ([`username_key`],
/// [`PasswordPolicy::check`]); a taken username is [`StoreError::Conflict`].
pub(crate) async fn insert_new_user(
    tx: &mut Tx,
    user: NewUser<'_>,
    now: i64,
) -> Result<String, StoreError> {
    // A random UUID as `sub`: opaque, and never handed to anyone else (OIDC Core §2).
    let id = uuid::Uuid::new_v4().to_string();
    let user = NewUser { id: &id, ..user };
    tx.insert_user(&user, now).await?;
    Ok(id)
}

/// Registers a client from the command line; see [`registration::validate`] for the rules.
pub async fn create_client(
    store: &Store,
    request: NewClientRequest<'_>,
    now: i64,
) -> Result<CreatedClient, AccountError> {
    let registration = registration::validate(&request).map_err(AccountError::Invalid)?;

    let mut tx = store.begin().await?;
    let created = registration::insert(&mut tx, &request, &registration, now).await?;
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "client.create",
        outcome: Outcome::Success,
        client_id: Some(created.client_id.clone()),
        detail: json!({
            "via": "cli",
            "public": request.public,
            "auth_method": registration.auth_method,
        }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Disables or re-enables an account, as an administrator does. Disabling revokes every
/// refresh and access token the person holds, in the transaction that disables them, so no
/// token outlives the decision; re-enabling brings none of them back. Returns what was
/// revoked.
pub async fn set_user_disabled(
    store: &Store,
    username: &str,
    disabled: bool,
    now: i64,
) -> Result<Revoked, AccountError> {
    disable(store, None, username, disabled, now).await
}

impl Provider {
    /// [`set_user_disabled`], and the apps the ended sessions served are sent back-channel
    /// logout tokens (Back-Channel Logout 1.0 §2.7), which needs the provider's keys.
    pub async fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
        now: i64,
    ) -> Result<Revoked, AccountError> {
        disable(&self.inner.store, Some(self), username, disabled, now).await
    }

    /// [`reset_factors`], with back-channel logout tokens as [`Provider::set_user_disabled`].
    pub async fn reset_factors(&self, username: &str, now: i64) -> Result<Revoked, AccountError> {
        reset(&self.inner.store, Some(self), username, now).await
    }
}

/// The logout tokens owed for every session of `user_id`, when a provider can sign them.
async fn notices_for(
    store: &Store,
    provider: Option<&Provider>,
    user_id: &str,
    now: i64,
) -> Result<Option<LogoutNotices>, AccountError> {
    let Some(provider) = provider else {
        return Ok(None);
    };
    let sids = store.session_sids(user_id, None).await?;
    Ok(Some(provider.logout_notices(user_id, sids, now).await?))
}

async fn disable(
    store: &Store,
    provider: Option<&Provider>,
    username: &str,
    disabled: bool,
    now: i64,
) -> Result<Revoked, AccountError> {
    let key = username_key(username)?;
    let user = store
        .user_by_username_key(&key)
        .await?
        .ok_or(AccountError::NoSuchUser)?;
    let notices = match disabled {
        true => notices_for(store, provider, &user.id, now).await?,
        false => None,
    };

    let mut tx = store.begin().await?;
    tx.set_user_disabled(&user.id, disabled, now).await?;
    // A disabled person keeps nothing: tokens and browser sessions end now, so that
    // enabling the account later brings none of them back.
    let ended = if disabled {
        end_access(&mut tx, &user.id, notices.as_ref(), now).await?
    } else {
        Ended::default()
    };
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        outcome: Outcome::Success,
        user_id: Some(user.id.clone()),
        detail: ended.detail(),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(ended.revoked)
}

/// What ending a person's access took away.
#[derive(Default)]
pub(crate) struct Ended {
    pub revoked: Revoked,
    pub sessions: u64,
}

impl Ended {
    pub(crate) fn detail(&self) -> serde_json::Value {
        json!({
            "via": "cli",
            "revoked_refresh_tokens": self.revoked.refresh_tokens,
            "revoked_access_tokens": self.revoked.access_tokens,
            "ended_sessions": self.sessions,
        })
    }
}

/// Revokes every token a person holds, ends their browser sessions and the logins still
/// owing a second factor, within `tx`; queues `notices` for the ended sessions.
pub(crate) async fn end_access(
    tx: &mut Tx,
    user_id: &str,
    notices: Option<&LogoutNotices>,
    now: i64,
) -> Result<Ended, StoreError> {
    let revoked = tx.revoke_user_tokens(user_id, now).await?;
    let sessions = tx.delete_user_sessions(user_id).await?;
    tx.delete_pending_logins(user_id).await?;
    if let Some(notices) = notices {
        notices.queue(tx, now).await?;
    }
    Ok(Ended { revoked, sessions })
}

/// Removes every second factor of a person (their TOTP authenticator and recovery codes),
/// as an administrator does when the person lost them; revokes every token they hold and
/// ends their browser sessions, which the removed factors signed in, all in one
/// transaction. Their next login to a client that requires a factor enrols anew.
pub async fn reset_factors(
    store: &Store,
    username: &str,
    now: i64,
) -> Result<Revoked, AccountError> {
    reset(store, None, username, now).await
}

async fn reset(
    store: &Store,
    provider: Option<&Provider>,
    username: &str,
    now: i64,
) -> Result<Revoked, AccountError> {
    let key = username_key(username)?;
    let user = store
        .user_by_username_key(&key)
        .await?
        .ok_or(AccountError::NoSuchUser)?;
    let notices = notices_for(store, provider, &user.id, now).await?;

    let mut tx = store.begin().await?;
    tx.delete_factors(&user.id).await?;
    let ended = end_access(&mut tx, &user.id, notices.as_ref(), now).await?;
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "factor.reset",
        outcome: Outcome::Success,
        user_id: Some(user.id.clone()),
        detail: ended.detail(),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(ended.revoked)
}

/// Sets whether logins for a client need a second factor; `None` defers to `mfa_default`.
pub async fn set_client_mfa(
    store: &Store,
    client_id: &str,
    policy: Option<MfaPolicy>,
    now: i64,
) -> Result<(), AccountError> {
    let value = policy.map_or("default", MfaPolicy::as_str);
    let mut tx = store.begin().await?;
    if !tx.set_client_mfa(client_id, value).await? {
        return Err(AccountError::NoSuchClient);
    }
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: "client.mfa",
        outcome: Outcome::Success,
        client_id: Some(client_id.to_string()),
        detail: json!({ "via": "cli", "mfa": value }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(())
}
