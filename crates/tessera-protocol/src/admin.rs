//! The wire types of the admin REST API (`/admin/v1`): its scopes, its error shape (RFC 9457
//! problem details), and the JSON of each resource. The OpenAPI description is generated from
//! these types, so what is documented is what is parsed and sent.
//!
//! Request bodies refuse unknown fields: a typo, or an attempt to set a field the server owns
//! (`id`, `sub`, `created_at`, a role), fails loudly instead of being ignored.

pub mod audit;
mod client;
mod devices;
pub mod keys;
mod me;
mod problem;
pub mod risk;
mod scope;
mod user_access;
pub mod users;

pub use client::{
    ClientList, ClientListQuery, ClientMfa, ClientPatch, ClientRegistration, ClientType,
    ClientView, ClientWithSecret, SecretRotation, SecretRotationRequest, DEFAULT_PAGE,
    MAX_GRACE_PERIOD, MAX_PAGE,
};
pub use devices::{DeviceList, DeviceSessionView, DeviceView};
pub use me::Caller;
pub use problem::{FieldError, Problem, ProblemType};
pub use scope::AdminScope;
pub use user_access::{
    encode_cursor, unknown_parameters, Factor, FactorId, FactorList, PageRequest,
    RefreshFamilyList, RefreshFamilyView, SessionList, SessionView, UserRoles, UserRolesUpdate,
};

/// The path every admin endpoint lives under, below the issuer.
pub const PREFIX: &str = "/admin/v1";

/// The strong entity tag of a resource at `version` (RFC 9110 §8.8.3).
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` value names: one strong tag as [`etag`] writes it. Weak tags
/// never match (RFC 9110 §13.1.1 compares strongly), and neither does anything else.
pub fn version_of_etag(value: &str) -> Option<i64> {
    let inner = value.trim().strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{etag, version_of_etag};

    #[test]
    fn an_etag_names_its_version_and_nothing_else_does() {
        assert_eq!(etag(7), "\"7\"");
        assert_eq!(version_of_etag("\"7\""), Some(7));
        assert_eq!(version_of_etag(" \"12\" "), Some(12));
        assert_eq!(version_of_etag("W/\"7\""), None);
        assert_eq!(version_of_etag("7"), None);
        assert_eq!(version_of_etag("\"\""), None);
        assert_eq!(version_of_etag("\"-1\""), None);
        assert_eq!(version_of_etag("\"99999999999999999999\""), None);
    }
}
