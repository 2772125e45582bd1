//! Browser sessions of people who logged in, found by the SHA-256 of their cookie value.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    pub auth_time: i64,
    /// Space-separated RFC 8176 method references.
    pub amr: String,
    /// The public, non-secret session id given to clients as `sid`.
    pub sid: Option<String>,
    pub expires_at: i64,
    /// The risk assessment of the login that opened the session (JSON owned by the domain),
    /// for the `urn:tessera:risk` claim; none for a login that was not scored.
    pub risk: Option<String>,
}

fn session_of(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        user_id: row.try_get("user_id")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        sid: row.try_get("sid")?,
        expires_at: row.try_get("expires_at")?,
        risk: row.try_get("risk")?,
    })
}

impl Store {
    /// The live session with this id hash, if it has not expired at `now`.
    pub async fn session(&self, id_hash: &[u8], now: i64) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT user_id, auth_time, amr, sid, expires_at, risk FROM sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash.to_vec())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_of).transpose()
    }
}

impl Store {
    /// The public `sid`s of a person's live and expired sessions, but the one with
    /// `except_hash`: what back-channel logout must announce when they all end.
    pub async fn session_sids(
        &self,
        user_id: &str,
        except_hash: Option<&[u8]>,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT sid FROM sessions WHERE user_id = $1 AND sid IS NOT NULL AND id_hash <> $2",
        )
        .bind(user_id)
        .bind(except_hash.unwrap_or_default().to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get("sid")?)).collect()
    }
}

impl Tx {
    pub async fn insert_session(
        &mut self,
        id_hash: &[u8],
        session: &Session,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, auth_time, amr, sid, created_at, expires_at, \
             risk) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id_hash.to_vec())
        .bind(&session.user_id)
        .bind(session.auth_time)
        .bind(&session.amr)
        .bind(&session.sid)
        .bind(now)
        .bind(session.expires_at)
        .bind(&session.risk)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Ends every browser session of a person; returns how many there were.
    pub async fn delete_user_sessions(&mut self, user_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }

    /// Ends every browser session of a person but the one with `keep_hash`; returns how many
    /// ended.
    pub async fn delete_other_sessions(&mut self, user_id: &str, keep_hash: &[u8]) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep_hash.to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }

    /// Ends the session with this id hash if it is live at `now`, and returns it: of two
    /// transactions taking the same session, only one gets it.
    pub async fn take_live_session(&mut self, id_hash: &[u8], now: i64) -> Result<Option<Session>> {
        let row = sqlx::query(
            "DELETE FROM sessions WHERE id_hash = $1 AND expires_at > $2 \
             RETURNING user_id, auth_time, amr, sid, expires_at, risk",
        )
        .bind(id_hash.to_vec())
        .bind(now)
        .fetch_optional(&mut *self.0)
        .await?;
        row.as_ref().map(session_of).transpose()
    }

    pub async fn delete_session(&mut self, id_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash.to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}
