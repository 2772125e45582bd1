//! Issued access tokens, kept by `jti` so that they can be revoked before they expire.

use crate::{Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl Tx {
    pub async fn insert_access_token(
        &mut self,
        token: &AccessTokenRecord,
        code_hash: Option<&[u8]>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_tokens (jti, client_id, user_id, scope, code_hash, issued_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.jti)
        .bind(&token.client_id)
        .bind(&token.user_id)
        .bind(&token.scope)
        .bind(code_hash.map(<[u8]>::to_vec))
        .bind(token.issued_at)
        .bind(token.expires_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Revokes every token issued for an authorization code; returns how many were live.
    pub async fn revoke_tokens_of_code(&mut self, code_hash: &[u8], now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE code_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(code_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// The active user an access token speaks for, if the token (by `jti`) is known,
    /// unexpired and unrevoked at `now`, and was issued to `subject`. One round trip, since
    /// every userinfo request asks it.
    pub async fn user_for_access_token(
        &self,
        jti: &str,
        subject: &str,
        now: i64,
    ) -> Result<Option<crate::User>> {
        let sql = format!(
            "SELECT {} FROM access_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.jti = $1 AND t.user_id = $2 AND t.revoked_at IS NULL AND t.expires_at > $3 \
             AND u.disabled = 0",
            crate::users::PREFIXED_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(jti)
            .bind(subject)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(crate::users::from_row).transpose()
    }
}
