//! `/admin/v1/users`: the people who log in, as an administrator creates, reads, lists,
//! changes, disables, deletes them and sets their passwords.
//!
//! Times are Unix seconds. A person's `id` is their OIDC `sub` (OIDC Core §2): opaque,
//! assigned by Tessera, never changed and never given to anyone else, even after deletion.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

use super::problem::FieldError;

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Compared as RFC 8265 UsernameCaseMapped: look-alike spellings are one name.
    pub username: String,
    pub email: Option<String>,
    /// Whether Tessera may tell apps the email was verified. Default false.
    #[serde(default)]
    pub email_verified: bool,
    pub display_name: Option<String>,
    /// Without one, the account cannot log in by password until one is set.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// The person must choose a new password at their first login. Default false.
    #[serde(default)]
    pub must_change_password: bool,
}

/// A field of a JSON merge patch (RFC 7396 §2): absent leaves the value alone, `null`
/// clears it, a value replaces it.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only a present field reaches here (absent ones take the default, Keep).
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Set(value),
            None => Self::Clear,
        })
    }
}

/// `PATCH /users/{id}` (`application/merge-patch+json` or `application/json`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// Cannot be cleared.
    #[serde(default)]
    #[schema(value_type = String, required = false)]
    pub username: Patch<String>,
    /// `null` removes the address. A new address is unverified unless `email_verified` is
    /// given too.
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable)]
    pub email: Patch<String>,
    /// Cannot be cleared.
    #[serde(default)]
    #[schema(value_type = bool, required = false)]
    pub email_verified: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable)]
    pub display_name: Patch<String>,
}

/// Whether a person may log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Disabled,
}

/// What a person can authenticate with.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FactorSummary {
    pub password: bool,
    /// A confirmed TOTP authenticator.
    pub totp: bool,
    /// Passkeys and security keys.
    pub webauthn_keys: i64,
    /// Recovery codes not used yet.
    pub recovery_codes: i64,
}

/// A person, as the admin API shows them. Sent with an `ETag` naming `version`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Also the OIDC `sub`.
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub status: UserStatus,
    pub must_change_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The last successful login, if any.
    pub last_login_at: Option<i64>,
    pub factors: FactorSummary,
    pub version: i64,
}

/// A page of `GET /users`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// The query of `GET /users`. Every value arrives as text and is checked by the domain, so
/// that one answer names every malformed parameter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 200; default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// A substring of the username, email or display name (case-insensitive).
    pub q: Option<String>,
    #[param(value_type = Option<UserStatus>)]
    pub status: Option<String>,
    /// `totp`, `webauthn`, `recovery`, or `none` (neither an authenticator nor a key).
    #[param(value_type = Option<FactorFilterParam>)]
    pub factor: Option<String>,
    /// Unix seconds: last login strictly before.
    #[param(value_type = Option<i64>)]
    pub last_login_before: Option<String>,
    /// Unix seconds: last login at or after.
    #[param(value_type = Option<i64>)]
    pub last_login_after: Option<String>,
}

impl UserListQuery {
    /// The parameters `GET /users` takes.
    pub const NAMES: [&'static str; 7] = [
        "cursor",
        "limit",
        "q",
        "status",
        "factor",
        "last_login_before",
        "last_login_after",
    ];

    /// Every parameter of `query` (the raw query string) that is not one of [`Self::NAMES`],
    /// named: a misspelt filter would otherwise be ignored and list everyone.
    pub fn unknown_parameters(query: &str) -> Vec<FieldError> {
        super::unknown_parameters(query, &Self::NAMES)
    }
}

/// The values of the `factor` filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FactorFilterParam {
    Totp,
    Webauthn,
    Recovery,
    None,
}

/// `PUT /users/{id}/password`: give `password`, or ask for one with `generate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSet {
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// Let Tessera choose a random password, returned once in the answer.
    #[serde(default)]
    pub generate: bool,
    /// The person must choose a new password at their next login.
    pub must_change_password: bool,
}

/// A password shown once, in the answer that set it. Its `Debug` is redacted.
pub struct ShownOnce(pub SecretString);

impl std::fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownOnce([redacted])")
    }
}

impl Serialize for ShownOnce {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose_secret())
    }
}

/// The answer to `PUT /users/{id}/password`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordSetResult {
    pub user: User,
    /// The generated password, shown this once; absent when the caller gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Password)]
    pub generated_password: Option<ShownOnce>,
}

#[cfg(test)]
mod tests {
    use super::{Patch, UserPatch};

    #[test]
    fn a_merge_patch_tells_absent_from_null_from_a_value() {
        let patch: UserPatch =
            serde_json::from_str(r#"{"email": null, "display_name": "Ann"}"#).unwrap();
        assert_eq!(patch.username, Patch::Keep);
        assert_eq!(patch.email, Patch::Clear);
        assert_eq!(patch.display_name, Patch::Set("Ann".to_string()));
        assert_eq!(patch.email_verified, Patch::Keep);
    }

    #[test]
    fn a_patch_refuses_fields_the_server_owns() {
        for body in [
            r#"{"id": "x"}"#,
            r#"{"created_at": 1}"#,
            r#"{"version": 2}"#,
        ] {
            assert!(serde_json::from_str::<UserPatch>(body).is_err(), "{body}");
        }
    }
}
