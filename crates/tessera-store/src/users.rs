//! People who log in.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict, flag, Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct User {
    /// Also the OIDC `sub`.
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    /// The PHC string of the argon2id hash; `None` for an account with no password.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
}

const COLUMNS: &str = "id, username, email, email_verified, display_name, password_hash, \
                       disabled, created_at, updated_at";

/// The same columns, qualified for queries that join `users u`.
pub(crate) const PREFIXED_COLUMNS: &str = "u.id AS id, u.username AS username, u.email AS email, \
    u.email_verified AS email_verified, u.display_name AS display_name, \
    u.password_hash AS password_hash, u.disabled AS disabled, u.created_at AS created_at, \
    u.updated_at AS updated_at";

pub(crate) fn from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        email_verified: row.try_get::<i64, _>("email_verified")? != 0,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Looks a user up by the normalised form of their username.
    pub async fn user_by_username_key(&self, username_key: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username_key = $1");
        let row = sqlx::query(&sql)
            .bind(username_key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }
}

impl Tx {
    /// The user with this id, read inside the transaction: a request that holds a
    /// transaction must not wait for a second pooled connection, or enough such requests at
    /// once would hold every connection and wait for one another.
    pub async fn user_by_id(&mut self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Creates a user; a taken username (after normalisation) is a [`crate::StoreError::Conflict`].
    pub async fn insert_user(&mut self, user: &NewUser<'_>, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, username, username_key, email, email_verified, display_name, \
             password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id)
        .bind(user.username)
        .bind(user.username_key)
        .bind(user.email)
        .bind(flag(false))
        .bind(user.display_name)
        .bind(user.password_hash)
        .bind(flag(false))
        .bind(now)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    /// Replaces a person's password hash, only if it is still `expected`, the hash the new
    /// password's owner was checked against: of two changes made at once, one wins and the
    /// other is told (false) instead of silently overwriting it.
    pub async fn replace_password_hash(
        &mut self,
        user_id: &str,
        expected: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2 \
             WHERE id = $3 AND password_hash = $4",
        )
        .bind(new_hash)
        .bind(now)
        .bind(user_id)
        .bind(expected)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_email_verified(
        &mut self,
        user_id: &str,
        verified: bool,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3")
            .bind(flag(verified))
            .bind(now)
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    pub async fn set_user_disabled(
        &mut self,
        user_id: &str,
        disabled: bool,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(flag(disabled))
            .bind(now)
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}
