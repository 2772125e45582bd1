//! The scopes of the admin REST API: one per kind of resource and per right (read or write),
//! so that a token can carry exactly what its holder's task needs.
//!
//! They are ordinary OAuth scopes (RFC 6749 §3.3): a service client is granted them by being
//! registered for them, a person through the roles an admin gave them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdminScope {
    UsersRead,
    UsersWrite,
    ClientsRead,
    ClientsWrite,
    KeysRead,
    KeysWrite,
    AuditRead,
    /// Assigning roles to people: kept apart from `UsersWrite`, since it hands out rights.
    RolesWrite,
}

impl AdminScope {
    pub const ALL: [AdminScope; 8] = [
        Self::UsersRead,
        Self::UsersWrite,
        Self::ClientsRead,
        Self::ClientsWrite,
        Self::KeysRead,
        Self::KeysWrite,
        Self::AuditRead,
        Self::RolesWrite,
    ];

    /// Every admin scope begins so; a scope with the prefix that is not listed here is
    /// refused at registration rather than silently meaning nothing.
    pub const PREFIX: &'static str = "admin:";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersRead => "admin:users:read",
            Self::UsersWrite => "admin:users:write",
            Self::ClientsRead => "admin:clients:read",
            Self::ClientsWrite => "admin:clients:write",
            Self::KeysRead => "admin:keys:read",
            Self::KeysWrite => "admin:keys:write",
            Self::AuditRead => "admin:audit:read",
            Self::RolesWrite => "admin:roles:write",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether `value` claims to be an admin scope (known or not).
    pub fn is_admin(value: &str) -> bool {
        value.starts_with(Self::PREFIX)
    }
}

impl fmt::Display for AdminScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::AdminScope;

    #[test]
    fn every_scope_parses_back_from_its_name() {
        for scope in AdminScope::ALL {
            assert_eq!(AdminScope::parse(scope.as_str()), Some(scope));
            assert!(AdminScope::is_admin(scope.as_str()));
        }
        assert_eq!(AdminScope::parse("admin:users:delete"), None);
        assert_eq!(AdminScope::parse("openid"), None);
        assert!(!AdminScope::is_admin("openid"));
    }
}
