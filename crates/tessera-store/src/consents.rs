//! What each person approved for each client.

use sqlx::Row;

use crate::{Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct Consent {
    /// The union of every scope the person approved for the client.
    pub scope: String,
    pub granted_at: i64,
}

impl Store {
    pub async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<Consent>> {
        let row = sqlx::query(
            "SELECT scope, granted_at FROM consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Consent {
                scope: row.try_get("scope")?,
                granted_at: row.try_get("granted_at")?,
            })
        })
        .transpose()
    }
}

impl Tx {
    /// Records the scopes now approved, replacing the previous record for the pair.
    pub async fn upsert_consent(
        &mut self,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scope = $3, granted_at = $4",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(scope)
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}
