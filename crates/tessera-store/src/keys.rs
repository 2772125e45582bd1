//! Signing keys, private halves encrypted by the caller before they arrive here.
//!
//! A key's life is told by three times: `created_at` (published in JWKS from then on),
//! `activates_at` (may sign from then on) and `retired_at` (signs no more; set when its
//! successor is created, to the successor's activation time). Which key signs at a given
//! moment is the domain's decision; the store only keeps the times and guards against two
//! writers creating the same generation of a key.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict, Result, Store, Tx};

#[derive(Clone, Debug)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: String,
    /// Encrypted private key; opaque to the store.
    pub private_key: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
    /// 1 for the first key of `alg`, one more for each key after it; unique per `alg`.
    pub generation: i64,
}

const COLUMNS: &str =
    "kid, alg, private_key, public_jwk, created_at, activates_at, retired_at, generation";

fn record(row: &AnyRow) -> Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.try_get("kid")?,
        alg: row.try_get("alg")?,
        private_key: row.try_get("private_key")?,
        public_jwk: row.try_get("public_jwk")?,
        created_at: row.try_get("created_at")?,
        activates_at: row.try_get("activates_at")?,
        retired_at: row.try_get("retired_at")?,
        generation: row.try_get("generation")?,
    })
}

impl Store {
    /// Every stored key, by algorithm and then oldest first. The order is the same on every
    /// instance, so each serves a byte-identical JWKS (and so the same ETag).
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM signing_keys ORDER BY alg, generation, kid");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(record).collect()
    }
}

impl Tx {
    /// Inserts a key. Another key of the same `alg` and `generation` (a concurrent rotation
    /// by another instance) makes this fail with [`crate::StoreError::Conflict`].
    pub async fn insert_signing_key(&mut self, key: &SigningKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys \
             (kid, alg, private_key, public_jwk, created_at, activates_at, retired_at, generation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.private_key)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .bind(key.activates_at)
        .bind(key.retired_at)
        .bind(key.generation)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    /// Retires at `at` every key of `alg` other than `successor` that would otherwise sign
    /// past `at`; returns how many.
    pub async fn retire_signing_keys(
        &mut self,
        alg: &str,
        successor: &str,
        at: i64,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE signing_keys SET retired_at = $1 \
             WHERE alg = $2 AND kid <> $3 AND (retired_at IS NULL OR retired_at > $1)",
        )
        .bind(at)
        .bind(alg)
        .bind(successor)
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected())
    }
}
