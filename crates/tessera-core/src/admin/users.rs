//! People, as an administrator manages them (`/admin/v1/users`).
//!
//! Enforces: usernames follow RFC 8265 and passwords the NIST policy exactly as the command
//! line's `create_user` does (the same functions, [`username_key`] and
//! [`PasswordPolicy::check`](crate::password_policy::PasswordPolicy::check)); every invalid
//! field is named at once; a change applies only to the version the administrator read
//! (RFC 9110 §13.1.1, a compare-and-set in SQL); each change commits with its audit event;
//! a deleted person is never shown again and their `sub` is never reused (OIDC Core §2).
//! Disabling, deleting and setting passwords live in [`lifecycle`].

mod lifecycle;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::SecretString;
use serde_json::json;
use tessera_protocol::admin::users::{
    FactorSummary, NewUser, Patch, User, UserList, UserListQuery, UserPatch, UserStatus,
};
use tessera_protocol::admin::{etag, FieldError, PREFIX};
use tessera_store::{FactorFilter, Outcome, ProfileUpdate, StoreError, UserQuery, UserRecord};

use super::idempotency::{json_body, IdempotencyKey, Replay};
use super::{AdminError, AdminPrincipal};
use crate::accounts::insert_new_user;
use crate::username::username_key;
use crate::{Provider, RequestContext};

/// Items per page when the caller names no `limit`, and the most it may name.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Longest email address: RFC 5321 §4.5.3.1.3 limits a path to 256 octets, brackets
/// included.
const MAX_EMAIL_LEN: usize = 254;
/// Longest display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 128;

/// A created person: their view and where it lives.
pub struct Created {
    pub user: User,
    pub location: String,
}

/// The wire view of a stored person.
pub(crate) fn view(record: UserRecord) -> User {
    User {
        status: if record.disabled {
            UserStatus::Disabled
        } else {
            UserStatus::Active
        },
        factors: FactorSummary {
            password: record.has_password,
            totp: record.totp,
            webauthn_keys: record.webauthn_keys,
            recovery_codes: record.recovery_codes,
        },
        id: record.id,
        username: record.username,
        email: record.email,
        email_verified: record.email_verified,
        display_name: record.display_name,
        must_change_password: record.must_change_password,
        created_at: record.created_at,
        updated_at: record.updated_at,
        last_login_at: record.last_login_at,
        version: record.version,
    }
}

/// The audit target of a call about one person.
pub fn target(id: &str) -> serde_json::Value {
    json!({ "user": id })
}

/// An email address as far as Tessera checks one: one `@` between a non-empty local part
/// and domain, no spaces or control characters, at most [`MAX_EMAIL_LEN`] bytes. Whether it
/// reaches anyone is what `email_verified` records.
fn check_email(email: &str) -> Result<(), &'static str> {
    if email.len() > MAX_EMAIL_LEN {
        return Err("at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            if domain.contains('@') {
                return Err("must contain exactly one @");
            }
            Ok(())
        }
        _ => Err("must be an address such as name@example.com"),
    }
}

fn check_display_name(name: &str) -> Result<(), &'static str> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
        return Err("1 to 128 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

/// The stored key of `username`, or its field error.
fn checked_username(username: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match username_key(username) {
        Ok(key) => Some(key),
        Err(err) => {
            errors.push(FieldError::new("/username", err.to_string()));
            None
        }
    }
}

fn check_into(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    check: fn(&str) -> Result<(), &'static str>,
) {
    if let Some(Err(message)) = value.map(check) {
        errors.push(FieldError::new(field, message));
    }
}

/// The cursor after `record`: opaque to the caller, `created_at` and `id` inside.
fn cursor_after(record: &UserRecord) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", record.created_at, record.id))
}

fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (created_at, id) = text.split_once(':')?;
    if id.chars().any(char::is_control) {
        return None;
    }
    Some((created_at.parse().ok()?, id.to_string()))
}

/// The list query, every malformed parameter named.
fn parse_query(query: &UserListQuery) -> Result<UserQuery, AdminError> {
    let mut errors = Vec::new();
    let mut parsed = UserQuery {
        limit: DEFAULT_LIMIT,
        text: query.q.clone().filter(|q| !q.is_empty()),
        ..UserQuery::default()
    };
    // PostgreSQL's text holds no NUL, and no name or address holds a control character.
    if parsed
        .text
        .as_deref()
        .is_some_and(|q| q.chars().any(char::is_control))
    {
        errors.push(FieldError::new("q", "must not contain control characters"));
    }
    if let Some(limit) = &query.limit {
        match limit.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => parsed.limit = n,
            _ => errors.push(FieldError::new("limit", "an integer from 1 to 200")),
        }
    }
    if let Some(cursor) = &query.cursor {
        match parse_cursor(cursor) {
            Some(after) => parsed.after = Some(after),
            None => errors.push(FieldError::new("cursor", "not a cursor this API gave")),
        }
    }
    match query.status.as_deref() {
        None => {}
        Some("active") => parsed.disabled = Some(false),
        Some("disabled") => parsed.disabled = Some(true),
        Some(_) => errors.push(FieldError::new("status", "active or disabled")),
    }
    parsed.factor = match query.factor.as_deref() {
        None => None,
        Some("totp") => Some(FactorFilter::Totp),
        Some("webauthn") => Some(FactorFilter::Webauthn),
        Some("recovery") => Some(FactorFilter::Recovery),
        Some("none") => Some(FactorFilter::None),
        Some(_) => {
            errors.push(FieldError::new(
                "factor",
                "totp, webauthn, recovery or none",
            ));
            None
        }
    };
    for (name, value, slot) in [
        (
            "last_login_before",
            &query.last_login_before,
            &mut parsed.last_login_before,
        ),
        (
            "last_login_after",
            &query.last_login_after,
            &mut parsed.last_login_after,
        ),
    ] {
        if let Some(value) = value {
            match value.parse::<i64>() {
                Ok(time) => *slot = Some(time),
                Err(_) => errors.push(FieldError::new(name, "Unix seconds, an integer")),
            }
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(AdminError::Invalid(errors))
    }
}

/// Where a person's resource lives, below the issuer.
fn location_of(provider: &Provider, id: &str) -> String {
    let mut segments: Vec<&str> = PREFIX.split('/').filter(|s| !s.is_empty()).collect();
    segments.extend(["users", id]);
    provider.inner.settings.issuer.endpoint(&segments)
}

/// The profile a merge patch leaves, or every field it got wrong.
fn patched(current: &UserRecord, patch: UserPatch) -> Result<PatchedProfile, AdminError> {
    let mut errors = Vec::new();
    let username = match patch.username {
        Patch::Keep => current.username.clone(),
        Patch::Clear => {
            errors.push(FieldError::new("/username", "cannot be removed"));
            current.username.clone()
        }
        Patch::Set(name) => name,
    };
    let key = checked_username(&username, &mut errors);

    let email = match patch.email {
        Patch::Keep => current.email.clone(),
        Patch::Clear => None,
        Patch::Set(email) => Some(email),
    };
    check_into(&mut errors, "/email", email.as_deref(), check_email);
    // A new address was not verified by anyone: it is unverified unless the caller says so.
    let email_verified = match patch.email_verified {
        Patch::Set(verified) => verified,
        Patch::Clear => {
            errors.push(FieldError::new("/email_verified", "cannot be removed"));
            false
        }
        Patch::Keep if email != current.email => false,
        Patch::Keep => current.email_verified,
    };
    if email_verified && email.is_none() {
        errors.push(FieldError::new(
            "/email_verified",
            "there is no email to verify",
        ));
    }

    let display_name = match patch.display_name {
        Patch::Keep => current.display_name.clone(),
        Patch::Clear => None,
        Patch::Set(name) => Some(name),
    };
    check_into(
        &mut errors,
        "/display_name",
        display_name.as_deref(),
        check_display_name,
    );

    match key {
        Some(key) if errors.is_empty() => Ok(PatchedProfile {
            username,
            key,
            email,
            email_verified,
            display_name,
        }),
        _ => Err(AdminError::Invalid(errors)),
    }
}

struct PatchedProfile {
    username: String,
    key: String,
    email: Option<String>,
    email_verified: bool,
    display_name: Option<String>,
}

/// The version a change applies to: the one `If-Match` names, or the current one for `*`
/// (`None`). A named version that is not the current one is refused before any write.
pub(crate) fn version_to_change(
    current: &UserRecord,
    expected: Option<i64>,
) -> Result<i64, AdminError> {
    match expected {
        Some(version) if version != current.version => Err(AdminError::VersionMismatch),
        _ => Ok(current.version),
    }
}

fn taken(err: StoreError) -> AdminError {
    match err {
        StoreError::Conflict => AdminError::Conflict("that username is taken".into()),
        other => other.into(),
    }
}

impl Provider {
    /// `POST /users`: creates a person; with `key`, stores the answer for retries in the
    /// same transaction.
    pub async fn admin_create_user(
        &self,
        principal: &AdminPrincipal,
        request: NewUser,
        key: Option<&IdempotencyKey>,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<Created, AdminError> {
        let username_key = self.checked_new_user(&request)?;
        let hash = match request.password {
            Some(password) => Some(self.hash_password(password).await?),
            None => None,
        };

        let mut tx = self.inner.store.begin().await?;
        let new_user = tessera_store::NewUser {
            id: "",
            username: &request.username,
            username_key: &username_key,
            email: request.email.as_deref(),
            display_name: request.display_name.as_deref(),
            password_hash: hash.as_deref(),
        };
        let id = insert_new_user(&mut tx, new_user, now)
            .await
            .map_err(taken)?;
        tx.set_new_user_flags(&id, request.email_verified, request.must_change_password)
            .await?;
        tx.record(&principal.event("admin.user.create", Outcome::Success, target(&id), now, ctx))
            .await?;
        let user = view(tx.user_record(&id).await?.ok_or(AdminError::NotFound)?);
        let location = location_of(self, &id);
        if let Some(key) = key {
            let answer = Replay {
                status: 201,
                location: Some(location.clone()),
                etag: Some(etag(user.version)),
                body: json_body(&user)?,
            };
            self.remember_answer(&mut tx, key, &answer, now).await?;
        }
        tx.commit().await?;
        Ok(Created { user, location })
    }

    /// The stored key of a new person's username, once every field is checked: one answer
    /// names every field at fault.
    fn checked_new_user(&self, request: &NewUser) -> Result<String, AdminError> {
        let mut errors = Vec::new();
        let username_key = checked_username(&request.username, &mut errors);
        check_into(&mut errors, "/email", request.email.as_deref(), check_email);
        check_into(
            &mut errors,
            "/display_name",
            request.display_name.as_deref(),
            check_display_name,
        );
        if request.email_verified && request.email.is_none() {
            errors.push(FieldError::new(
                "/email_verified",
                "there is no email to verify",
            ));
        }
        if let Some(password) = &request.password {
            if let Err(refusal) = self.inner.settings.password_policy().check(password) {
                errors.push(FieldError::new("/password", refusal.to_string()));
            }
        }
        match username_key {
            Some(key) if errors.is_empty() => Ok(key),
            _ => Err(AdminError::Invalid(errors)),
        }
    }

    /// `GET /users/{id}`.
    pub async fn admin_user(&self, id: &str) -> Result<User, AdminError> {
        let record = self.inner.store.user_record(id).await?;
        record.map(view).ok_or(AdminError::NotFound)
    }

    /// `GET /users`: a page of people, never the deleted.
    pub async fn admin_users(&self, query: &UserListQuery) -> Result<UserList, AdminError> {
        let mut query = parse_query(query)?;
        let limit = query.limit;
        // One more than asked tells whether another page follows.
        query.limit = limit + 1;
        let mut records = self.inner.store.user_records(&query).await?;
        let next_cursor = if records.len() as i64 > limit {
            records.truncate(usize::try_from(limit).unwrap_or(0));
            records.last().map(cursor_after)
        } else {
            None
        };
        Ok(UserList {
            items: records.into_iter().map(view).collect(),
            next_cursor,
        })
    }

    /// `PATCH /users/{id}`: a JSON merge patch (RFC 7396) of the profile, at `expected`
    /// (`None` for `If-Match: *`).
    pub async fn admin_update_user(
        &self,
        principal: &AdminPrincipal,
        id: &str,
        expected: Option<i64>,
        patch: UserPatch,
        now: i64,
        ctx: &RequestContext,
    ) -> Result<User, AdminError> {
        let current = self.inner.store.user_record(id).await?;
        let current = current.ok_or(AdminError::NotFound)?;
        let version = version_to_change(&current, expected)?;
        let changed = changed_fields(&patch);
        let profile = patched(&current, patch)?;

        let mut tx = self.inner.store.begin().await?;
        if let Err(refusal) = principal
            .must_outrank(&mut tx, id, "change their profile")
            .await
        {
            tx.rollback().await?;
            return Err(refusal);
        }
        let update = ProfileUpdate {
            username: &profile.username,
            username_key: &profile.key,
            email: profile.email.as_deref(),
            email_verified: profile.email_verified,
            display_name: profile.display_name.as_deref(),
        };
        if !tx
            .update_profile(id, version, &update, now)
            .await
            .map_err(taken)?
        {
            // Changed or deleted between the read and the write.
            tx.rollback().await?;
            return Err(AdminError::VersionMismatch);
        }
        let mut event =
            principal.event("admin.user.update", Outcome::Success, target(id), now, ctx);
        event.detail["changed"] = json!(changed);
        tx.record(&event).await?;
        let user = view(tx.user_record(id).await?.ok_or(AdminError::NotFound)?);
        tx.commit().await?;
        Ok(user)
    }

    pub(crate) async fn hash_password(&self, password: SecretString) -> Result<String, AdminError> {
        self.inner
            .passwords
            .hash(password)
            .await
            .map_err(|err| AdminError::Provider(err.into()))
    }
}

/// The names of the fields a patch touches, for the audit trail (never their values).
fn changed_fields(patch: &UserPatch) -> Vec<&'static str> {
    let touched = [
        ("username", patch.username != Patch::Keep),
        ("email", patch.email != Patch::Keep),
        ("email_verified", patch.email_verified != Patch::Keep),
        ("display_name", patch.display_name != Patch::Keep),
    ];
    touched
        .into_iter()
        .filter_map(|(name, touched)| touched.then_some(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_between_two_parts() {
        assert_eq!(check_email("ann@example.com"), Ok(()));
        assert!(check_email("ann").is_err());
        assert!(check_email("@example.com").is_err());
        assert!(check_email("ann@").is_err());
        assert!(check_email("ann@b@example.com").is_err());
        assert!(check_email("ann smith@example.com").is_err());
        assert!(check_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn display_names_are_short_and_printable() {
        assert_eq!(check_display_name("Ann Smith"), Ok(()));
        assert!(check_display_name("").is_err());
        assert!(check_display_name("Ann\u{7}").is_err());
        assert!(check_display_name(&"é".repeat(129)).is_err());
        assert_eq!(check_display_name(&"é".repeat(128)), Ok(()));
    }

    #[test]
    fn a_cursor_reads_back_and_garbage_does_not() {
        let cursor = URL_SAFE_NO_PAD.encode("1700000000:4f1c");
        assert_eq!(
            parse_cursor(&cursor),
            Some((1_700_000_000, "4f1c".to_string()))
        );
        assert_eq!(parse_cursor("!!"), None);
        assert_eq!(parse_cursor(&URL_SAFE_NO_PAD.encode("x:4f1c")), None);
    }

    #[test]
    fn a_query_names_every_malformed_parameter() {
        let query = UserListQuery {
            limit: Some("0".into()),
            status: Some("gone".into()),
            factor: Some("sms".into()),
            last_login_before: Some("yesterday".into()),
            cursor: Some("!".into()),
            ..UserListQuery::default()
        };
        let Err(AdminError::Invalid(errors)) = parse_query(&query) else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["limit", "cursor", "status", "factor", "last_login_before"]
        );
    }
}
