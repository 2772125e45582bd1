//! Giving and taking roles from the command line, where the admin API cannot be used yet:
//! the first admin is made here (`tessera admin bootstrap`), never by a default password.

use serde_json::json;
use tessera_store::{AuditEvent, Outcome, Store};

use super::roles::Role;
use crate::accounts::AccountError;
use crate::username::username_key;

/// Whether anyone holds `role`.
async fn anyone_holds(store: &Store, role: Role) -> Result<Option<String>, AccountError> {
    Ok(store.holders_of(role.as_str()).await?.into_iter().next())
}

/// Gives `username` the role, recorded as done from the command line.
pub async fn grant_role(
    store: &Store,
    username: &str,
    role: &str,
    now: i64,
) -> Result<(), AccountError> {
    change_role(store, username, role, true, now).await
}

/// Takes the role from `username`. Their tokens lose its scopes at their next call.
pub async fn revoke_role(
    store: &Store,
    username: &str,
    role: &str,
    now: i64,
) -> Result<(), AccountError> {
    change_role(store, username, role, false, now).await
}

/// Makes `username` the first admin. Refused once someone holds the admin role, so the
/// command cannot be replayed quietly to add admins; `grant_role` says so openly.
pub async fn bootstrap(store: &Store, username: &str, now: i64) -> Result<(), AccountError> {
    if let Some(holder) = anyone_holds(store, Role::Admin).await? {
        let name = store
            .user_by_id(&holder)
            .await?
            .map_or(holder, |user| user.username);
        return Err(AccountError::AlreadyBootstrapped(name));
    }
    change_role(store, username, Role::Admin.as_str(), true, now).await
}

async fn change_role(
    store: &Store,
    username: &str,
    role: &str,
    grant: bool,
    now: i64,
) -> Result<(), AccountError> {
    let role = Role::parse(role).ok_or_else(|| AccountError::UnknownRole(role.to_string()))?;
    let key = username_key(username)?;
    let user = store
        .user_by_username_key(&key)
        .await?
        .ok_or(AccountError::NoSuchUser)?;

    let mut tx = store.begin().await?;
    if grant {
        tx.grant_role(&user.id, role.as_str(), None, now).await?;
    } else {
        tx.revoke_role(&user.id, role.as_str()).await?;
    }
    tx.record(&AuditEvent {
        occurred_at: now,
        event_type: if grant { "role.grant" } else { "role.revoke" },
        outcome: Outcome::Success,
        user_id: Some(user.id.clone()),
        detail: json!({ "via": "cli", "role": role.as_str() }),
        ..AuditEvent::default()
    })
    .await?;
    tx.commit().await?;
    Ok(())
}
