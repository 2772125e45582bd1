//! The audit trail's hash chain: sealing events into it, its signed checkpoints, the keys
//! that signed them, and purging its oldest part.
//!
//! The hashes are computed by the domain; this module only keeps them. Sealing happens in
//! one transaction that first updates the single `audit_chain` row: on PostgreSQL that row
//! lock, on SQLite the database's write lock, makes a second sealer wait until the first
//! has committed, so two instances never hand out the same position.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{stored_event, EVENT_COLUMNS};
use crate::{conflict, Result, Store, StoredAuditEvent, Tx};

/// The end of the chain, and the last checkpoint written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// Position of the last sealed event; 0 before the first.
    pub seq: i64,
    /// Its hash (hex); 64 zeros before the first.
    pub hash: String,
    pub checkpoint_seq: i64,
    pub checkpointed_at: i64,
}

/// An event with its place in the chain.
#[derive(Clone, Debug)]
pub struct SealedAuditEvent {
    pub seq: i64,
    /// Hash of the event sealed before it (hex).
    pub prev: String,
    /// SHA-256 of `prev` and the event's columns (hex).
    pub hash: String,
    pub event: StoredAuditEvent,
}

/// A signed checkpoint as stored: the columns, and the JWS that is the actual evidence.
#[derive(Clone, Debug)]
pub struct AuditCheckpoint {
    pub seq: i64,
    pub head_hash: String,
    pub created_at: i64,
    pub jws: String,
}

/// A public key that signed checkpoints.
#[derive(Clone, Debug)]
pub struct AuditKey {
    pub kid: String,
    pub public_jwk: String,
    /// The public JWK encrypted under the key-encryption key; opaque to the store.
    pub sealed_jwk: Vec<u8>,
    pub created_at: i64,
}

fn sealed_event(row: &AnyRow) -> Result<SealedAuditEvent> {
    Ok(SealedAuditEvent {
        seq: row.try_get("chain_seq")?,
        prev: row.try_get("chain_prev")?,
        hash: row.try_get("chain_hash")?,
        event: stored_event(row)?,
    })
}

fn chain_head(row: &AnyRow) -> Result<ChainHead> {
    Ok(ChainHead {
        seq: row.try_get("head_seq")?,
        hash: row.try_get("head_hash")?,
        checkpoint_seq: row.try_get("checkpoint_seq")?,
        checkpointed_at: row.try_get("checkpointed_at")?,
    })
}

fn checkpoint(row: &AnyRow) -> Result<AuditCheckpoint> {
    Ok(AuditCheckpoint {
        seq: row.try_get("seq")?,
        head_hash: row.try_get("head_hash")?,
        created_at: row.try_get("created_at")?,
        jws: row.try_get("jws")?,
    })
}

impl Tx {
    /// Takes the sealing lock (held until commit or rollback) and reads the chain's end as
    /// the previous sealer left it.
    pub async fn lock_audit_chain(&mut self) -> Result<ChainHead> {
        // The write comes first: on SQLite a read first would start a read transaction
        // that could not later become the writer without failing as busy.
        sqlx::query("UPDATE audit_chain SET head_seq = head_seq WHERE id = 1")
            .execute(&mut *self.0)
            .await?;
        let row = sqlx::query(
            "SELECT head_seq, head_hash, checkpoint_seq, checkpointed_at FROM audit_chain \
             WHERE id = 1",
        )
        .fetch_one(&mut *self.0)
        .await?;
        chain_head(&row)
    }

    /// Committed, unsealed events that occurred at or before `occurred_by`, lowest id first.
    /// An event whose transaction commits after higher ids were sealed is found here on a
    /// later pass, and takes the next position then.
    pub async fn unsealed_audit_events(
        &mut self,
        occurred_by: i64,
        limit: i64,
    ) -> Result<Vec<StoredAuditEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events \
             WHERE chain_seq IS NULL AND occurred_at <= $1 ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(occurred_by)
            .bind(limit)
            .fetch_all(&mut *self.0)
            .await?;
        rows.iter().map(stored_event).collect()
    }

    /// Gives event `id` its place in the chain. Fails with [`crate::StoreError::Conflict`]
    /// if the position is taken, which the lock should make impossible.
    pub async fn seal_audit_event(
        &mut self,
        id: i64,
        seq: i64,
        prev: &str,
        hash: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE audit_events SET chain_seq = $1, chain_prev = $2, chain_hash = $3 \
             WHERE id = $4 AND chain_seq IS NULL",
        )
        .bind(seq)
        .bind(prev)
        .bind(hash)
        .bind(id)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        if done.rows_affected() != 1 {
            return Err(crate::StoreError::Conflict);
        }
        Ok(())
    }

    /// Moves the chain's end to `seq` and `hash`.
    /// The hash of the event sealed at `seq`, read inside the sealer's lock.
    pub async fn audit_hash_at(&mut self, seq: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT chain_hash FROM audit_events WHERE chain_seq = $1")
            .bind(seq)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.map(|row| row.try_get("chain_hash")).transpose()?)
    }

    pub async fn advance_audit_chain(&mut self, seq: i64, hash: &str) -> Result<()> {
        sqlx::query("UPDATE audit_chain SET head_seq = $1, head_hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(hash)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Stores a checkpoint and remembers it as the latest.
    pub async fn insert_audit_checkpoint(&mut self, checkpoint: &AuditCheckpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, head_hash, created_at, jws) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.head_hash)
        .bind(checkpoint.created_at)
        .bind(&checkpoint.jws)
        .execute(&mut *self.0)
        .await
        .map_err(conflict)?;
        sqlx::query(
            "UPDATE audit_chain SET checkpoint_seq = $1, checkpointed_at = $2 WHERE id = 1",
        )
        .bind(checkpoint.seq)
        .bind(checkpoint.created_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Whether the key `kid` is already kept for verifying checkpoints.
    pub async fn audit_key_known(&mut self, kid: &str) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_keys WHERE kid = $1")
            .bind(kid)
            .fetch_one(&mut *self.0)
            .await?;
        let n: i64 = row.try_get("n")?;
        Ok(n > 0)
    }

    pub async fn insert_audit_key(&mut self, key: &AuditKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_keys (kid, public_jwk, sealed_jwk, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.public_jwk)
        .bind(&key.sealed_jwk)
        .bind(key.created_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Deletes the events sealed at or before `seq` and the checkpoints before it; the
    /// checkpoint at `seq` stays, as the signed anchor of the first event that remains.
    /// Returns how many events went.
    pub async fn purge_audit_events_through(&mut self, seq: i64) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM audit_events WHERE chain_seq IS NOT NULL AND chain_seq <= $1")
                .bind(seq)
                .execute(&mut *self.0)
                .await?;
        sqlx::query("DELETE FROM audit_checkpoints WHERE seq < $1")
            .bind(seq)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// The end of the chain as last committed.
    pub async fn audit_chain_head(&self) -> Result<ChainHead> {
        let row = sqlx::query(
            "SELECT head_seq, head_hash, checkpoint_seq, checkpointed_at FROM audit_chain \
             WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        chain_head(&row)
    }

    /// Sealed events after position `after`, in chain order.
    pub async fn sealed_audit_events(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SealedAuditEvent>> {
        let sql = format!(
            "SELECT chain_seq, chain_prev, chain_hash, {EVENT_COLUMNS} FROM audit_events \
             WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sealed_event).collect()
    }

    /// Sealed events whose hash is one of `hashes`: the verifier's way to find where an
    /// event that lost its place was first sealed.
    pub async fn sealed_audit_events_with_hash(
        &self,
        hashes: &[String],
    ) -> Result<Vec<SealedAuditEvent>> {
        let mut found = Vec::new();
        let sql = format!(
            "SELECT chain_seq, chain_prev, chain_hash, {EVENT_COLUMNS} FROM audit_events \
             WHERE chain_hash = $1 AND chain_seq IS NOT NULL"
        );
        for hash in hashes {
            let rows = sqlx::query(&sql).bind(hash).fetch_all(&self.pool).await?;
            for row in &rows {
                found.push(sealed_event(row)?);
            }
        }
        Ok(found)
    }

    /// How many events are waiting to be sealed.
    pub async fn unsealed_audit_event_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE chain_seq IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// When the oldest event not yet sealed was recorded, if any is.
    pub async fn oldest_unsealed_audit_event(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(occurred_at) AS since FROM audit_events WHERE chain_seq IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("since")?)
    }

    /// Checkpoints with `after < seq <= through`, in chain order.
    pub async fn audit_checkpoints(
        &self,
        after: i64,
        through: i64,
    ) -> Result<Vec<AuditCheckpoint>> {
        let rows = sqlx::query(
            "SELECT seq, head_hash, created_at, jws FROM audit_checkpoints \
             WHERE seq > $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(after)
        .bind(through)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(checkpoint).collect()
    }

    /// The latest checkpoint created at or before `created_by`, at a position no later than
    /// `through`: where a purge of everything older than `created_by` may stop.
    pub async fn audit_checkpoint_before(
        &self,
        created_by: i64,
        through: i64,
    ) -> Result<Option<AuditCheckpoint>> {
        let row = sqlx::query(
            "SELECT seq, head_hash, created_at, jws FROM audit_checkpoints \
             WHERE created_at <= $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(created_by)
        .bind(through)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(checkpoint).transpose()
    }

    /// The position of the oldest sealed event still kept, if any.
    pub async fn first_sealed_audit_seq(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MIN(chain_seq) AS first FROM audit_events")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("first")?)
    }

    /// Every key that signed a checkpoint.
    pub async fn audit_keys(&self) -> Result<Vec<AuditKey>> {
        let rows = sqlx::query(
            "SELECT kid, public_jwk, sealed_jwk, created_at FROM audit_keys ORDER BY kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditKey {
                    kid: row.try_get("kid")?,
                    public_jwk: row.try_get("public_jwk")?,
                    sealed_jwk: row.try_get("sealed_jwk")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
