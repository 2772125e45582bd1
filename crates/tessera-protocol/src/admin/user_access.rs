//! `/admin/v1/users/{id}/…`: what stands between a person and their account, as an admin
//! sees it: their second factors, browser sessions, refresh tokens and roles.
//!
//! Times are seconds since the Unix epoch. Nothing here is secret: sessions are named by
//! their public `sid` (Back-Channel Logout 1.0 §2.1), refresh tokens by their family id,
//! keys by their WebAuthn credential id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

/// The answer of `GET /users/{id}/factors`: every factor in one answer, since a person
/// holds at most one authenticator app, one set of recovery codes and their few keys.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FactorList {
    pub items: Vec<Factor>,
}

/// One second factor, named by `id` in `DELETE /users/{id}/factors/{factor_id}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Factor {
    /// A TOTP authenticator app (RFC 6238); `id` is `totp`.
    Totp {
        id: String,
        created_at: i64,
        /// When a code confirmed the enrolment; null while it is unconfirmed.
        confirmed_at: Option<i64>,
    },
    /// Single-use recovery codes; `id` is `recovery-codes`.
    RecoveryCodes {
        id: String,
        created_at: i64,
        /// How many are left unused.
        remaining: i64,
    },
    /// A WebAuthn credential (a passkey or security key); `id` is `webauthn:` followed by
    /// its credential id in base64url.
    Webauthn {
        id: String,
        /// The name the person gave it.
        name: String,
        created_at: i64,
        last_used_at: Option<i64>,
        /// WebAuthn Level 3 §6.1 flag BE: the credential may be synced to other devices.
        backup_eligible: bool,
        /// Flag BS: it is synced now.
        backed_up: bool,
    },
}

/// What `factor_id` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FactorId {
    Totp,
    RecoveryCodes,
    /// The raw credential id.
    Webauthn(Vec<u8>),
}

impl FactorId {
    pub const TOTP: &'static str = "totp";
    pub const RECOVERY_CODES: &'static str = "recovery-codes";
    pub const WEBAUTHN_PREFIX: &'static str = "webauthn:";

    /// `None` for anything that is not a factor id: such a factor does not exist.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            Self::TOTP => Some(Self::Totp),
            Self::RECOVERY_CODES => Some(Self::RecoveryCodes),
            _ => {
                let encoded = value.strip_prefix(Self::WEBAUTHN_PREFIX)?;
                let raw = URL_SAFE_NO_PAD.decode(encoded).ok()?;
                (!raw.is_empty()).then_some(Self::Webauthn(raw))
            }
        }
    }

    pub fn webauthn_id(credential_id: &[u8]) -> String {
        format!(
            "{}{}",
            Self::WEBAUTHN_PREFIX,
            URL_SAFE_NO_PAD.encode(credential_id)
        )
    }
}

/// The answer of `GET /users/{id}/sessions`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// A live browser session.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// The public session id, as the `sid` claim gives it to clients.
    pub sid: String,
    /// When the person last authenticated in it (OIDC Core §2 `auth_time`).
    pub auth_time: i64,
    /// How they authenticated (RFC 8176 method references).
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// The device it was opened from (see `GET /users/{id}/devices`); null for a session
    /// opened before devices were recorded.
    pub device_id: Option<String>,
    /// The clients given a code in this session: those a logout notifies.
    pub clients: Vec<String>,
}

/// The answer of `GET /users/{id}/refresh-tokens`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RefreshFamilyList {
    pub items: Vec<RefreshFamilyView>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// A refresh-token family: one grant and every rotation of its token (RFC 9700 §4.14.2).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RefreshFamilyView {
    /// Not a credential: it names the grant, and redeems nothing.
    pub family_id: String,
    pub client_id: String,
    pub scope: String,
    pub created_at: i64,
    /// The latest refresh; null if the token was never redeemed.
    pub last_used_at: Option<i64>,
    /// The family's absolute end.
    pub expires_at: i64,
    /// When the current token lapses if it is not used first.
    pub idle_expires_at: i64,
}

/// `GET /users/{id}/roles`, and the answer of a `PUT`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserRoles {
    /// The role names, sorted.
    pub roles: Vec<String>,
    /// The person's version, as the `ETag` gives it for `If-Match`.
    pub version: i64,
}

/// The body of `PUT /users/{id}/roles`: the complete set of roles the person is to hold.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRolesUpdate {
    pub roles: Vec<String>,
}

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 200;

/// One page of a list: where it starts and how long it is, from `limit` and `cursor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// The position of the last item of the previous page: the time the list is ordered by
    /// (a creation, or a device's last sighting) and the item's id.
    pub after: Option<(i64, String)>,
}

impl PageRequest {
    /// The query parameters of a paged list.
    pub const NAMES: [&'static str; 2] = ["limit", "cursor"];

    /// Reads the query parameters as sent, naming each one that is wrong.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = match limit.map(str::parse::<u32>) {
            None => DEFAULT_LIMIT,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                let message = format!("must be a whole number from 1 to {MAX_LIMIT}");
                errors.push(FieldError::new("limit", message));
                DEFAULT_LIMIT
            }
        };
        let after = match cursor.map(decode_cursor) {
            None => None,
            Some(Some(after)) => Some(after),
            Some(None) => {
                let message = "is not a cursor this list gave out";
                errors.push(FieldError::new("cursor", message));
                None
            }
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(errors)
        }
    }
}

/// The opaque cursor after the item at `time` (its creation, or the time its list is
/// ordered by) with `id`.
pub fn encode_cursor(time: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{time}.{id}"))
}

/// Every parameter of `query` (a raw query string) whose name is not one of `names`, named
/// once each: a misspelt parameter would otherwise be ignored, and the answer would not be
/// what was asked for.
pub fn unknown_parameters(query: &str, names: &[&str]) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for (name, _) in url::form_urlencoded::parse(query.as_bytes()) {
        let known = names.contains(&name.as_ref());
        if !known && !errors.iter().any(|e| e.field == name) {
            errors.push(FieldError::new(name.as_ref(), "unknown parameter"));
        }
    }
    errors
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (created_at, id) = text.split_once('.')?;
    // Ids are printable; a control character (a NUL, which PostgreSQL text cannot hold)
    // means the cursor was not one of ours.
    if id.chars().any(char::is_control) {
        return None;
    }
    Some((created_at.parse().ok()?, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_ids_are_the_three_documented_forms() {
        assert_eq!(FactorId::parse("totp"), Some(FactorId::Totp));
        assert_eq!(
            FactorId::parse("recovery-codes"),
            Some(FactorId::RecoveryCodes)
        );
        // "AQID" is base64url (RFC 4648 §5) for the bytes 1, 2, 3.
        assert_eq!(
            FactorId::parse("webauthn:AQID"),
            Some(FactorId::Webauthn(vec![1, 2, 3]))
        );
        assert_eq!(FactorId::webauthn_id(&[1, 2, 3]), "webauthn:AQID");
        for bad in [
            "",
            "TOTP",
            "webauthn:",
            "webauthn:AQID=",
            "webauthn:+/",
            "key:AQID",
        ] {
            assert_eq!(FactorId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_page_is_50_items_by_default_and_at_most_200() {
        let first = PageRequest::parse(None, None).unwrap();
        assert_eq!(first.limit, 50);
        assert_eq!(first.after, None);
        assert_eq!(PageRequest::parse(Some("200"), None).unwrap().limit, 200);
        for bad in ["0", "201", "-1", "ten", ""] {
            let errors = PageRequest::parse(Some(bad), None).unwrap_err();
            assert_eq!(errors[0].field, "limit", "{bad}");
        }
    }

    #[test]
    fn unknown_parameters_are_named_once_each() {
        let errors = unknown_parameters(
            "limit=1&colour=red&cursor=x&colour=blue&Limit=2",
            &PageRequest::NAMES,
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["colour", "Limit"]);
        assert!(unknown_parameters("limit=1&cursor=x", &PageRequest::NAMES).is_empty());
        assert!(unknown_parameters("", &PageRequest::NAMES).is_empty());
    }

    #[test]
    fn a_cursor_reads_back_and_a_forged_one_is_named() {
        let cursor = encode_cursor(1_700_000_000, "abc.def");
        let page = PageRequest::parse(None, Some(&cursor)).unwrap();
        assert_eq!(page.after, Some((1_700_000_000, "abc.def".to_string())));

        let nul = encode_cursor(1, "a\0b");
        assert!(PageRequest::parse(None, Some(&nul)).is_err());

        let errors = PageRequest::parse(Some("0"), Some("not a cursor")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
    }
}
