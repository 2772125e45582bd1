//! The roles a person holds, as an admin reads and sets them (`/admin/v1/users/{id}/roles`).
//!
//! Enforces, in order:
//! 1. every name is one of Tessera's roles, each named once (400 naming `/roles/<i>`);
//! 2. the person exists (404);
//! 3. the change is made to the version the caller read (`If-Match`, RFC 9110 §13.1.1): the
//!    person's version is bumped by a compare-and-set, so of two admins changing roles at
//!    once the second gets 412 instead of silently undoing the first;
//! 4. the caller holds every scope of every role it grants or takes away (issue 5: "an admin
//!    cannot grant scopes they do not hold themselves"), whether a person or a service
//!    client; a delegated admin cannot mint a bigger one, nor strip one (403 `Escalation`).

use std::collections::BTreeSet;

use serde_json::json;
use tessera_protocol::admin::{FieldError, UserRoles, UserRolesUpdate};
use tessera_store::Outcome;

use super::roles::Role;
use super::user_access::target;
use super::{AdminError, AdminPrincipal};
use crate::{Provider, RequestContext};

pub const ROLES_READ: &str = "admin.user.roles.read";
pub const ROLES_UPDATE: &str = "admin.user.roles.update";

/// Step 1: the requested roles, or every offending entry.
fn requested_roles(update: &UserRolesUpdate) -> Result<BTreeSet<Role>, AdminError> {
    let mut roles = BTreeSet::new();
    let mut errors = Vec::new();
    for (i, name) in update.roles.iter().enumerate() {
        let field = format!("/roles/{i}");
        match Role::parse(name) {
            None => {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                let message = format!("not a role; the roles are {}", known.join(", "));
                errors.push(FieldError::new(field, message));
            }
            Some(role) if !roles.insert(role) => {
                errors.push(FieldError::new(field, "named twice"));
            }
            Some(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(roles)
    } else {
        Err(AdminError::Invalid(errors))
    }
}

/// Step 4: the first role among `changed` with a scope the caller does not hold.
fn escalation(principal: &AdminPrincipal, changed: &[&str]) -> Option<AdminError> {
    for name in changed {
        // A stored name that is no longer a role grants nothing, so taking it is no risk.
        let Some(role) = Role::parse(name) else {
            continue;
        };
        if let Some(missing) = role.scopes().iter().find(|s| !principal.holds(**s)) {
            return Some(AdminError::Escalation(format!(
                "changing who holds the role {name} needs the scope {missing}, which the \
                 caller does not hold"
            )));
        }
    }
    None
}

impl Provider {
    /// The person's roles and version.
    pub async fn admin_user_roles(&self, user_id: &str) -> Result<UserRoles, AdminError> {
        let store = &self.inner.store;
        let version = store
            .user_version(user_id)
            .await?
            .ok_or(AdminError::NotFound)?;
        let roles = store.roles_of(user_id).await?;
        Ok(UserRoles { roles, version })
    }

    /// Sets the person's roles to exactly `update.roles`; `expected` is the version the
    /// caller read, `None` for `If-Match: *`.
    pub async fn admin_set_user_roles(
        &self,
        principal: &AdminPrincipal,
        user_id: &str,
        expected: Option<i64>,
        update: &UserRolesUpdate,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<UserRoles, AdminError> {
        // Step 1.
        let wanted = requested_roles(update)?;

        // Step 2.
        let store = &self.inner.store;
        let current = store
            .user_version(user_id)
            .await?
            .ok_or(AdminError::NotFound)?;

        // Step 3.
        let mut tx = store.begin().await?;
        let Some(version) = tx
            .bump_user_version(user_id, expected.unwrap_or(current), now)
            .await?
        else {
            tx.rollback().await?;
            return Err(AdminError::VersionMismatch);
        };

        // Step 4, against the roles held now: the version's row lock keeps them still.
        let held: BTreeSet<String> = tx.roles_of(user_id).await?.into_iter().collect();
        let wanted: BTreeSet<String> = wanted.iter().map(|r| r.as_str().to_string()).collect();
        let granted: Vec<&str> = wanted.difference(&held).map(String::as_str).collect();
        let revoked: Vec<&str> = held.difference(&wanted).map(String::as_str).collect();
        if let Some(refusal) = escalation(principal, &granted).or(escalation(principal, &revoked)) {
            tx.rollback().await?;
            return Err(refusal);
        }

        let admin = principal.id();
        for role in &granted {
            tx.grant_role(user_id, role, Some(&admin), now).await?;
        }
        for role in &revoked {
            tx.revoke_role(user_id, role).await?;
        }
        let target = target(user_id, None);
        let mut event = principal.event(ROLES_UPDATE, Outcome::Success, target, now, ctx);
        event.detail["granted"] = json!(granted);
        event.detail["revoked"] = json!(revoked);
        tx.record(&event).await?;
        tx.commit().await?;

        Ok(UserRoles {
            roles: wanted.into_iter().collect(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unknown_or_repeated_role_is_named_by_its_position() {
        let update = UserRolesUpdate {
            roles: vec![
                "auditor".into(),
                "root".into(),
                "auditor".into(),
                "Admin".into(),
            ],
        };
        let Err(AdminError::Invalid(errors)) = requested_roles(&update) else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["/roles/1", "/roles/2", "/roles/3"]);
    }

    #[test]
    fn the_known_roles_are_accepted_as_a_set() {
        let update = UserRolesUpdate {
            roles: vec!["user-admin".into(), "auditor".into()],
        };
        let roles = requested_roles(&update).unwrap();
        assert_eq!(
            roles.into_iter().collect::<Vec<_>>(),
            [Role::UserAdmin, Role::Auditor]
        );
    }
}
