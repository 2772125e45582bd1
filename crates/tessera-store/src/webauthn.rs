//! WebAuthn: registered credentials, each person's user handle, and ceremonies in progress.
//!
//! The single-use and counter rules live in the SQL: a ceremony is taken by one DELETE, so
//! of two responses to one challenge exactly one gets its state; a credential's use is
//! recorded by an UPDATE conditional on the counter read before it, so two assertions that
//! raced past the same counter cannot both be accepted.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict, flag, Result, Store, Tx};

/// A registered credential. Nothing in it is secret: `passkey` holds the public key.
#[derive(Clone)]
pub struct WebauthnCredential {
    pub credential_id: Vec<u8>,
    pub user_id: String,
    /// Chosen by the person, shown to them only.
    pub name: String,
    /// The webauthn-rs credential as JSON; the domain layer reads it.
    pub passkey: String,
    /// The last signature counter accepted.
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for WebauthnCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebauthnCredential")
            .field("user_id", &self.user_id)
            .field("sign_count", &self.sign_count)
            .field("backup_eligible", &self.backup_eligible)
            .field("backed_up", &self.backed_up)
            .finish_non_exhaustive()
    }
}

/// A credential to register.
#[derive(Debug)]
pub struct NewWebauthnCredential<'a> {
    pub credential_id: &'a [u8],
    pub user_id: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// What an accepted assertion changes on its credential.
#[derive(Debug)]
pub struct WebauthnUse<'a> {
    pub credential_id: &'a [u8],
    /// The counter read before the assertion was checked; the update applies only if it is
    /// still the stored one.
    pub read_sign_count: i64,
    pub sign_count: i64,
    pub passkey: &'a str,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub now: i64,
}

/// A ceremony's saved state, as taken back.
#[derive(Debug)]
pub struct WebauthnCeremony {
    /// The person it was started for; `None` for a passwordless login, where nobody is known
    /// until the authenticator answers.
    pub user_id: Option<String>,
    /// The webauthn-rs state as JSON, holding the challenge.
    pub state: String,
}

const COLUMNS: &str = "credential_id, user_id, name, passkey, sign_count, backup_eligible, \
                       backed_up, created_at, last_used_at";

fn from_row(row: &AnyRow) -> Result<WebauthnCredential> {
    Ok(WebauthnCredential {
        credential_id: row.try_get("credential_id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        passkey: row.try_get("passkey")?,
        sign_count: row.try_get("sign_count")?,
        backup_eligible: row.try_get::<i64, _>("backup_eligible")? != 0,
        backed_up: row.try_get::<i64, _>("backed_up")? != 0,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    /// A person's credentials, oldest first.
    pub async fn webauthn_credentials(&self, user_id: &str) -> Result<Vec<WebauthnCredential>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webauthn_credentials WHERE user_id = $1 \
             ORDER BY created_at, credential_id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn webauthn_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<WebauthnCredential>> {
        let sql = format!("SELECT {COLUMNS} FROM webauthn_credentials WHERE credential_id = $1");
        let row = sqlx::query(&sql)
            .bind(credential_id.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn has_webauthn_credential(&self, user_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM webauthn_credentials WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The person's user handle, if they were ever given one.
    pub async fn webauthn_handle(&self, user_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT handle FROM webauthn_handles WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| row.try_get("handle"))
            .transpose()
            .map_err(Into::into)
    }

    /// The person a user handle belongs to.
    pub async fn user_id_by_webauthn_handle(&self, handle: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT user_id FROM webauthn_handles WHERE handle = $1")
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| row.try_get("user_id"))
            .transpose()
            .map_err(Into::into)
    }
}

impl Tx {
    /// Gives the person `candidate` as their user handle unless they have one already, and
    /// returns the one they have now: of two first registrations at once, both use the
    /// handle that was stored first.
    pub async fn ensure_webauthn_handle(
        &mut self,
        user_id: &str,
        candidate: &str,
        now: i64,
    ) -> Result<String> {
        sqlx::query(
            "INSERT INTO webauthn_handles (user_id, handle, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(candidate)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        let row = sqlx::query("SELECT handle FROM webauthn_handles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(row.try_get("handle")?)
    }

    /// Registers a credential; false, and nothing changed, when its id is registered already,
    /// to anyone (WebAuthn L2 §7.1 step 22). The conflict is handled in the statement, so the
    /// transaction stays usable for the audit event of the refusal.
    pub async fn insert_webauthn_credential(
        &mut self,
        credential: &NewWebauthnCredential<'_>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO webauthn_credentials (credential_id, user_id, name, passkey, sign_count, \
             backup_eligible, backed_up, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL) \
             ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(credential.credential_id.to_vec())
        .bind(credential.user_id)
        .bind(credential.name)
        .bind(credential.passkey)
        .bind(credential.sign_count)
        .bind(flag(credential.backup_eligible))
        .bind(flag(credential.backed_up))
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an accepted assertion; false when the stored counter is no longer the one
    /// read before the check (another assertion was accepted in between).
    pub async fn record_webauthn_use(&mut self, used: &WebauthnUse<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webauthn_credentials SET sign_count = $1, passkey = $2, \
             backup_eligible = $3, backed_up = $4, last_used_at = $5 \
             WHERE credential_id = $6 AND sign_count = $7",
        )
        .bind(used.sign_count)
        .bind(used.passkey)
        .bind(flag(used.backup_eligible))
        .bind(flag(used.backed_up))
        .bind(used.now)
        .bind(used.credential_id.to_vec())
        .bind(used.read_sign_count)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Renames one of the person's credentials; false when they have none with this id.
    pub async fn rename_webauthn_credential(
        &mut self,
        user_id: &str,
        credential_id: &[u8],
        name: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webauthn_credentials SET name = $1 WHERE user_id = $2 AND credential_id = $3",
        )
        .bind(name)
        .bind(user_id)
        .bind(credential_id.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes one of the person's credentials; false when they have none with this id.
    pub async fn delete_webauthn_credential(
        &mut self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM webauthn_credentials WHERE user_id = $1 AND credential_id = $2",
        )
        .bind(user_id)
        .bind(credential_id.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Saves a ceremony's state under `owner_key` and `purpose`, replacing one started
    /// before for the same purpose: only the latest challenge can be answered.
    pub async fn put_webauthn_ceremony(
        &mut self,
        owner_key: &[u8],
        purpose: &str,
        user_id: Option<&str>,
        state: &str,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (owner_key, purpose, user_id, state, expires_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner_key, purpose) DO UPDATE SET user_id = excluded.user_id, \
             state = excluded.state, expires_at = excluded.expires_at",
        )
        .bind(owner_key.to_vec())
        .bind(purpose)
        .bind(user_id)
        .bind(state)
        .bind(expires_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Takes a live ceremony: it is deleted as it is read, so it is answered at most once.
    pub async fn take_webauthn_ceremony(
        &mut self,
        owner_key: &[u8],
        purpose: &str,
        now: i64,
    ) -> Result<Option<WebauthnCeremony>> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE owner_key = $1 AND purpose = $2 \
             RETURNING user_id, state, expires_at",
        )
        .bind(owner_key.to_vec())
        .bind(purpose)
        .fetch_optional(&mut *self.0)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        // An expired ceremony is deleted all the same: it can never be answered.
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(None);
        }
        Ok(Some(WebauthnCeremony {
            user_id: row.try_get("user_id")?,
            state: row.try_get("state")?,
        }))
    }
}
