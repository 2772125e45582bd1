//! People as the admin API sees them: every column an administrator may read, a summary of
//! their factors, listing with filters, and the version-checked changes.
//!
//! Every change here is a compare-and-set on `version` (the resource's ETag): it touches the
//! row only while the version is the one the administrator read, and bumps it, so of two
//! administrators changing one person at once the second is told instead of overwriting.
//! Deleted people (tombstones) are invisible to every read.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict, flag, Result, Store, Tx};

/// A person with their factors summarised, as the admin API shows them.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    pub version: i64,
    pub has_password: bool,
    /// Whether a confirmed TOTP authenticator is on.
    pub totp: bool,
    /// WebAuthn credentials (passkeys and security keys).
    pub webauthn_keys: i64,
    /// Recovery codes not used yet.
    pub recovery_codes: i64,
}

/// The selected columns; the factor counts are subqueries so one row says everything.
const RECORD: &str = "SELECT u.id AS id, u.username AS username, u.email AS email, \
    u.email_verified AS email_verified, u.display_name AS display_name, u.disabled AS disabled, \
    u.must_change_password AS must_change_password, u.created_at AS created_at, \
    u.updated_at AS updated_at, u.last_login_at AS last_login_at, u.version AS version, \
    CAST(CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_password, \
    (SELECT COUNT(*) FROM totp_factors t \
      WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS totp, \
    (SELECT COUNT(*) FROM webauthn_credentials w WHERE w.user_id = u.id) AS webauthn_keys, \
    (SELECT COUNT(*) FROM recovery_codes r \
      WHERE r.user_id = u.id AND r.used_at IS NULL) AS recovery_codes \
    FROM users u WHERE u.deleted_at IS NULL";

fn record_of(row: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        email_verified: row.try_get::<i64, _>("email_verified")? != 0,
        display_name: row.try_get("display_name")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_login_at: row.try_get("last_login_at")?,
        version: row.try_get("version")?,
        has_password: row.try_get::<i64, _>("has_password")? != 0,
        totp: row.try_get::<i64, _>("totp")? > 0,
        webauthn_keys: row.try_get("webauthn_keys")?,
        recovery_codes: row.try_get("recovery_codes")?,
    })
}

/// Which second factor a listed person must (or must not) hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorFilter {
    Totp,
    Webauthn,
    Recovery,
    /// Neither a confirmed authenticator nor a key (recovery codes alone stand for nothing).
    None,
}

/// What a list of people is narrowed to. Every field is optional.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// A substring of the username, email or display name, compared case-insensitively
    /// (ASCII case only: both engines agree on `LOWER` for ASCII).
    pub text: Option<String>,
    pub disabled: Option<bool>,
    pub factor: Option<FactorFilter>,
    /// Last login strictly before this time; people who never logged in are left out.
    pub last_login_before: Option<i64>,
    /// Last login at or after this time.
    pub last_login_after: Option<i64>,
    /// Resume after this `(created_at, id)`, exclusive.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// `LIKE` treats `%` and `_` as wildcards: a search text must match them literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A bind value of a list query.
enum Bind {
    Text(String),
    Int(i64),
}

/// Adds a value to `binds` and returns its placeholder.
fn next(bind: Bind, binds: &mut Vec<Bind>) -> String {
    binds.push(bind);
    format!("${}", binds.len())
}

/// The list query and its values, built condition by condition.
fn list_sql(query: &UserQuery) -> (String, Vec<Bind>) {
    let mut sql = RECORD.to_string();
    let mut binds = Vec::new();

    if let Some(text) = &query.text {
        let p = next(Bind::Text(like_pattern(text)), &mut binds);
        sql.push_str(&format!(
            " AND (LOWER(u.username) LIKE {p} ESCAPE '\\' \
             OR LOWER(COALESCE(u.email, '')) LIKE {p} ESCAPE '\\' \
             OR LOWER(COALESCE(u.display_name, '')) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(disabled) = query.disabled {
        let p = next(Bind::Int(flag(disabled)), &mut binds);
        sql.push_str(&format!(" AND u.disabled = {p}"));
    }
    let totp = "EXISTS (SELECT 1 FROM totp_factors t \
                WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL)";
    let keys = "EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = u.id)";
    match query.factor {
        Some(FactorFilter::Totp) => sql.push_str(&format!(" AND {totp}")),
        Some(FactorFilter::Webauthn) => sql.push_str(&format!(" AND {keys}")),
        Some(FactorFilter::Recovery) => sql.push_str(
            " AND EXISTS (SELECT 1 FROM recovery_codes r \
             WHERE r.user_id = u.id AND r.used_at IS NULL)",
        ),
        Some(FactorFilter::None) => sql.push_str(&format!(" AND NOT {totp} AND NOT {keys}")),
        None => {}
    }
    if let Some(before) = query.last_login_before {
        let p = next(Bind::Int(before), &mut binds);
        sql.push_str(&format!(" AND u.last_login_at < {p}"));
    }
    if let Some(after) = query.last_login_after {
        let p = next(Bind::Int(after), &mut binds);
        sql.push_str(&format!(" AND u.last_login_at >= {p}"));
    }
    if let Some((created_at, id)) = &query.after {
        let c = next(Bind::Int(*created_at), &mut binds);
        let i = next(Bind::Text(id.clone()), &mut binds);
        sql.push_str(&format!(
            " AND (u.created_at > {c} OR (u.created_at = {c} AND u.id > {i}))"
        ));
    }
    let l = next(Bind::Int(query.limit), &mut binds);
    sql.push_str(&format!(" ORDER BY u.created_at, u.id LIMIT {l}"));
    (sql, binds)
}

/// The profile an administrator's update leaves a person with.
#[derive(Debug)]
pub struct ProfileUpdate<'a> {
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
}

impl Store {
    /// A person who is not deleted.
    pub async fn user_record(&self, id: &str) -> Result<Option<UserRecord>> {
        let sql = format!("{RECORD} AND u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_of).transpose()
    }

    /// People matching `query`, oldest first, at most `query.limit`.
    pub async fn user_records(&self, query: &UserQuery) -> Result<Vec<UserRecord>> {
        let (sql, binds) = list_sql(query);
        let mut statement = sqlx::query(&sql);
        for bind in binds {
            statement = match bind {
                Bind::Text(text) => statement.bind(text),
                Bind::Int(int) => statement.bind(int),
            };
        }
        let rows = statement.fetch_all(&self.pool).await?;
        rows.iter().map(record_of).collect()
    }

    /// The current version of a person who is not deleted.
    pub async fn user_version(&self, id: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT version FROM users WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(row.try_get("version")?)).transpose()
    }

    /// Whether a person must choose a new password at their next login.
    pub async fn must_change_password(&self, id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT must_change_password FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("must_change_password")? != 0,
            None => false,
        })
    }
}

impl Tx {
    /// A person who is not deleted, read inside the transaction.
    pub async fn user_record(&mut self, id: &str) -> Result<Option<UserRecord>> {
        let sql = format!("{RECORD} AND u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?;
        row.as_ref().map(record_of).transpose()
    }

    /// Sets what a newly inserted person starts with beyond [`crate::NewUser`].
    pub async fn set_new_user_flags(
        &mut self,
        id: &str,
        email_verified: bool,
        must_change_password: bool,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE users SET email_verified = $1, must_change_password = $2 WHERE id = $3",
        )
        .bind(flag(email_verified))
        .bind(flag(must_change_password))
        .bind(id)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Replaces the profile at `version`; false when the person is gone or changed since.
    /// A taken username is a [`crate::StoreError::Conflict`].
    pub async fn update_profile(
        &mut self,
        id: &str,
        version: i64,
        profile: &ProfileUpdate<'_>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET username = $1, username_key = $2, email = $3, email_verified = $4, \
             display_name = $5, updated_at = $6, version = version + 1 \
             WHERE id = $7 AND version = $8 AND deleted_at IS NULL",
        )
        .bind(profile.username)
        .bind(profile.username_key)
        .bind(profile.email)
        .bind(flag(profile.email_verified))
        .bind(profile.display_name)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables or enables a person at `version`; false when gone or changed since.
    pub async fn set_user_disabled_at_version(
        &mut self,
        id: &str,
        version: i64,
        disabled: bool,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET disabled = $1, updated_at = $2, version = version + 1 \
             WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
        )
        .bind(flag(disabled))
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a person's password hash at `version`, and whether they must change it at their
    /// next login; false when gone or changed since.
    pub async fn set_password_at_version(
        &mut self,
        id: &str,
        version: i64,
        hash: &str,
        must_change_password: bool,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 AND deleted_at IS NULL",
        )
        .bind(hash)
        .bind(flag(must_change_password))
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The person chose a new password at login, as required: only while the hash is still
    /// the `expected` one their old password was checked against.
    pub async fn replace_required_password(
        &mut self,
        id: &str,
        expected: &str,
        hash: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2, \
             version = version + 1 WHERE id = $3 AND password_hash = $4 AND deleted_at IS NULL",
        )
        .bind(hash)
        .bind(now)
        .bind(id)
        .bind(expected)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Turns a person into a tombstone at `version`: the row and its id stay, so the `sub`
    /// is never given to anyone else, while the username is freed (`username_key` becomes
    /// `tombstone_key`, which no username can normalise to) and every personal field is
    /// erased. False when gone or changed since.
    pub async fn tombstone_user(
        &mut self,
        id: &str,
        version: i64,
        tombstone_key: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET username = '', username_key = $1, email = NULL, \
             email_verified = 0, display_name = NULL, password_hash = NULL, disabled = 1, \
             must_change_password = 0, deleted_at = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 AND deleted_at IS NULL",
        )
        .bind(tombstone_key)
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes what a deleted person leaves besides factors and sessions: their WebAuthn
    /// handle, consents, roles and devices.
    pub async fn delete_user_grants(&mut self, id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM webauthn_handles WHERE user_id = $1",
            "DELETE FROM webauthn_ceremonies WHERE user_id = $1",
            "DELETE FROM consents WHERE user_id = $1",
            "DELETE FROM user_roles WHERE user_id = $1",
            "DELETE FROM device_sessions WHERE user_id = $1",
            "DELETE FROM devices WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *self.0).await?;
        }
        Ok(())
    }

    /// A successful login: the person's `last_login_at` becomes `now`.
    pub async fn record_login(&mut self, id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}
