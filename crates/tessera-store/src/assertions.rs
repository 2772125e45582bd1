//! Client-assertion identifiers already used (RFC 7523 §3, item 7), kept until they expire.

use crate::{Result, Store, StoreError};

impl Store {
    /// Records that `client_id` used `jti`, valid until `expires_at`. Returns `false` when
    /// the pair was already recorded: a replay.
    ///
    /// The primary key decides, not a prior SELECT, so of two requests racing with one
    /// assertion exactly one succeeds on either engine. The statement runs on its own, not
    /// in a transaction, because PostgreSQL aborts a transaction on a unique violation.
    pub async fn record_assertion_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        // An expired record can be reused: the assertion carrying it was refused anyway.
        sqlx::query(
            "DELETE FROM client_assertion_jtis \
             WHERE client_id = $1 AND jti = $2 AND expires_at <= $3",
        )
        .bind(client_id)
        .bind(jti)
        .bind(now)
        .execute(&self.pool)
        .await?;

        let inserted = sqlx::query(
            "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(crate::conflict);
        match inserted {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(other) => Err(other),
        }
    }
}
