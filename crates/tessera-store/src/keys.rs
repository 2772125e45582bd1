//! Signing keys, private halves encrypted by the caller before they arrive here.

use sqlx::Row;

use crate::{Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: String,
    /// Encrypted private key; opaque to the store.
    pub private_key: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl Store {
    /// Keys that are not retired, oldest first.
    pub async fn active_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, public_jwk, created_at, retired_at FROM signing_keys \
             WHERE retired_at IS NULL ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SigningKeyRecord {
                    kid: row.try_get("kid")?,
                    alg: row.try_get("alg")?,
                    private_key: row.try_get("private_key")?,
                    public_jwk: row.try_get("public_jwk")?,
                    created_at: row.try_get("created_at")?,
                    retired_at: row.try_get("retired_at")?,
                })
            })
            .collect()
    }
}

impl Tx {
    pub async fn insert_signing_key(&mut self, key: &SigningKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.private_key)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .bind(key.retired_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}
