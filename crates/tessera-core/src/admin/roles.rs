//! The roles a person can hold, and the admin scopes each one grants.
//!
//! Roles are built in rather than defined at run time: the set is small, each one is a
//! least-privilege bundle for one job, and a fixed set cannot be edited into an escalation.

use std::collections::BTreeSet;

use tessera_protocol::admin::AdminScope;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Every admin scope.
    Admin,
    /// People: read and change accounts, their factors and sessions.
    UserAdmin,
    /// Apps: register, change and delete clients, rotate their secrets.
    ClientAdmin,
    /// Signing keys: list and rotate.
    KeyAdmin,
    /// Read-only: the audit trail and what it refers to.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Admin,
        Self::UserAdmin,
        Self::ClientAdmin,
        Self::KeyAdmin,
        Self::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::UserAdmin => "user-admin",
            Self::ClientAdmin => "client-admin",
            Self::KeyAdmin => "key-admin",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    pub fn scopes(self) -> &'static [AdminScope] {
        use AdminScope::*;
        match self {
            Self::Admin => &AdminScope::ALL,
            Self::UserAdmin => &[UsersRead, UsersWrite],
            Self::ClientAdmin => &[ClientsRead, ClientsWrite],
            Self::KeyAdmin => &[KeysRead, KeysWrite],
            Self::Auditor => &[AuditRead, UsersRead, ClientsRead, KeysRead],
        }
    }
}

/// The admin scopes the named roles grant together. Names that are not roles (a role a
/// later version dropped) grant nothing.
pub fn scopes_of<'a>(roles: impl IntoIterator<Item = &'a str>) -> BTreeSet<AdminScope> {
    roles
        .into_iter()
        .filter_map(Role::parse)
        .flat_map(|role| role.scopes().iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_the_scopes_of_their_job_and_no_more() {
        assert_eq!(scopes_of(["admin"]).len(), AdminScope::ALL.len());
        let auditor: Vec<&str> = scopes_of(["auditor"])
            .into_iter()
            .map(AdminScope::as_str)
            .collect();
        assert_eq!(
            auditor,
            [
                "admin:users:read",
                "admin:clients:read",
                "admin:keys:read",
                "admin:audit:read"
            ]
        );
        let users: Vec<&str> = scopes_of(["user-admin"])
            .into_iter()
            .map(AdminScope::as_str)
            .collect();
        assert_eq!(users, ["admin:users:read", "admin:users:write"]);
        assert!(scopes_of(["superuser", ""]).is_empty());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            if role != Role::Admin {
                assert!(!role.scopes().contains(&AdminScope::RolesWrite));
            }
        }
    }
}
