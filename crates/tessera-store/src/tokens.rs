//! Issued access tokens, kept by `jti` so that they can be revoked before they expire.

use sqlx::Row;

use crate::{AuditEvent, Engine, Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Records an access token that stands alone (client credentials: no code, no family)
    /// together with its audit event, atomically.
    ///
    /// This is the hot path of service-to-service calls. On PostgreSQL both rows go in one
    /// statement, atomic on its own, so the grant costs one round trip instead of five
    /// (BEGIN, two INSERTs, COMMIT); SQLite, in process, has no round trips to save and no
    /// data-modifying `WITH`, so it uses a transaction.
    pub async fn insert_access_token_with_event(
        &self,
        token: &AccessTokenRecord,
        event: &AuditEvent,
    ) -> Result<()> {
        match self.engine {
            Engine::Postgres => {
                let sql = format!(
                    "WITH token AS ({INSERT_ACCESS_TOKEN} RETURNING jti) {}",
                    crate::audit::insert_event_sql(8)
                );
                let query = bind_access_token(sqlx::query(&sql), token, None, None);
                crate::audit::bind_event(query, event)
                    .execute(&self.pool)
                    .await?;
                crate::audit::count(event);
                Ok(())
            }
            Engine::Sqlite => {
                let mut tx = self.begin().await?;
                tx.insert_access_token_in_family(token, None, None).await?;
                tx.record(event).await?;
                tx.commit().await
            }
        }
    }
}

const INSERT_ACCESS_TOKEN: &str = "INSERT INTO access_tokens (jti, client_id, user_id, scope, \
     code_hash, issued_at, expires_at, refresh_family) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

fn bind_access_token<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    token: &'q AccessTokenRecord,
    code_hash: Option<&[u8]>,
    refresh_family: Option<&'q str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&token.jti)
        .bind(&token.client_id)
        .bind(&token.user_id)
        .bind(&token.scope)
        .bind(code_hash.map(<[u8]>::to_vec))
        .bind(token.issued_at)
        .bind(token.expires_at)
        .bind(refresh_family)
}

impl Tx {
    pub async fn insert_access_token(
        &mut self,
        token: &AccessTokenRecord,
        code_hash: Option<&[u8]>,
    ) -> Result<()> {
        self.insert_access_token_in_family(token, code_hash, None)
            .await
    }

    /// Records an access token, with the refresh-token family it was issued alongside or
    /// from, so that revoking the family revokes it too.
    pub async fn insert_access_token_in_family(
        &mut self,
        token: &AccessTokenRecord,
        code_hash: Option<&[u8]>,
        refresh_family: Option<&str>,
    ) -> Result<()> {
        bind_access_token(
            sqlx::query(INSERT_ACCESS_TOKEN),
            token,
            code_hash,
            refresh_family,
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Revokes every token issued for an authorization code, refresh-token families and
    /// their later access tokens included; returns how many access tokens were live.
    pub async fn revoke_tokens_of_code(&mut self, code_hash: &[u8], now: i64) -> Result<u64> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND family_id IN \
             (SELECT refresh_family FROM access_tokens WHERE code_hash = $2)",
        )
        .bind(now)
        .bind(code_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        let done = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND \
             (code_hash = $2 OR refresh_family IN \
             (SELECT refresh_family FROM access_tokens WHERE code_hash = $3))",
        )
        .bind(now)
        .bind(code_hash.to_vec())
        .bind(code_hash.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected())
    }
}

/// An access token's record with its revocation state, for revocation and introspection.
#[derive(Clone, Debug)]
pub struct StoredAccessToken {
    pub record: AccessTokenRecord,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// An access token's record by `jti`, whatever its state.
    pub async fn access_token(&self, jti: &str) -> Result<Option<StoredAccessToken>> {
        let row = sqlx::query(
            "SELECT jti, client_id, user_id, scope, issued_at, expires_at, revoked_at \
             FROM access_tokens WHERE jti = $1",
        )
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StoredAccessToken {
                record: AccessTokenRecord {
                    jti: row.try_get("jti")?,
                    client_id: row.try_get("client_id")?,
                    user_id: row.try_get("user_id")?,
                    scope: row.try_get("scope")?,
                    issued_at: row.try_get("issued_at")?,
                    expires_at: row.try_get("expires_at")?,
                },
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .transpose()
    }

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
