//! What the admin REST API keeps: the roles people hold, and the first answers to creation
//! requests that carried an `Idempotency-Key`.

use sqlx::Row;

use crate::{conflict, AccessTokenRecord, Result, Store, Tx};

/// A creation's first answer, kept to be replayed to a retry.
#[derive(Clone, Debug)]
pub struct IdempotentResponse {
    /// SHA-256 of what was asked (method, path, body): the same key with another request is
    /// refused rather than answered with the first one's result.
    pub request_hash: Vec<u8>,
    pub status: i64,
    pub location: Option<String>,
    pub etag: Option<String>,
    /// The body, sealed with the key-encryption key: it may hold a secret shown once.
    pub sealed_body: Vec<u8>,
    pub expires_at: i64,
}

impl Store {
    /// The roles `user_id` holds, sorted by name.
    pub async fn roles_of(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("role")?)).collect()
    }

    /// The ids of the people who hold `role`.
    pub async fn holders_of(&self, role: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT user_id FROM user_roles WHERE role = $1 ORDER BY user_id")
            .bind(role)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("user_id")?)).collect()
    }

    /// An access token's record if it is known, unrevoked and unexpired at `now`.
    pub async fn live_access_token(
        &self,
        jti: &str,
        now: i64,
    ) -> Result<Option<AccessTokenRecord>> {
        Ok(self
            .access_token(jti)
            .await?
            .filter(|token| token.revoked_at.is_none() && token.record.expires_at > now)
            .map(|token| token.record))
    }

    /// The unexpired answer stored under `principal` and `key`.
    pub async fn idempotent_response(
        &self,
        principal: &str,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotentResponse>> {
        let row = sqlx::query(
            "SELECT request_hash, status, location, etag, response, expires_at \
             FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND expires_at > $3",
        )
        .bind(principal)
        .bind(key)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(IdempotentResponse {
                request_hash: row.try_get("request_hash")?,
                status: row.try_get("status")?,
                location: row.try_get("location")?,
                etag: row.try_get("etag")?,
                sealed_body: row.try_get("response")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }
}

impl Tx {
    /// The roles `user_id` holds, read inside the transaction.
    pub async fn roles_of(&mut self, user_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(&mut *self.0)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("role")?)).collect()
    }

    /// Gives `user_id` the role; holding it already is not an error.
    pub async fn grant_role(
        &mut self,
        user_id: &str,
        role: &str,
        granted_by: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_roles (user_id, role, granted_at, granted_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, role) DO NOTHING",
        )
        .bind(user_id)
        .bind(role)
        .bind(now)
        .bind(granted_by)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Takes the role from `user_id`; returns whether they held it.
    pub async fn revoke_role(&mut self, user_id: &str, role: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
            .bind(user_id)
            .bind(role)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores a creation's first answer. A concurrent request that stored one first makes
    /// this fail with [`crate::StoreError::Conflict`], and its caller rolls back.
    pub async fn insert_idempotent_response(
        &mut self,
        principal: &str,
        key: &str,
        response: &IdempotentResponse,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, location, \
             etag, response, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(principal)
        .bind(key)
        .bind(&response.request_hash)
        .bind(response.status)
        .bind(&response.location)
        .bind(&response.etag)
        .bind(&response.sealed_body)
        .bind(now)
        .bind(response.expires_at)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        Ok(())
    }
}
