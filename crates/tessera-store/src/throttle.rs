//! Counters of failed secrets, for the brute-force defence in `tessera_core::throttle`.
//!
//! The store keeps the numbers and does not judge them: the domain reads a counter, decides
//! whether an attempt may go ahead, and charges it with [`Store::charge_throttle`], a
//! compare-and-swap that succeeds only if the counter is still what was read. Of several
//! requests that read the same counter at once, exactly one charges it; the others read
//! again and see the charge. The counter thus never lets more attempts through than the
//! domain's rule allows, on either engine, and no row lock is held while a secret is checked.

use sqlx::Row;

use crate::{Result, Store, Tx};

/// One subject's counter as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleCounter {
    /// Attempts charged since the last success, those still being checked included.
    pub failures: i64,
    /// When the last attempt was charged.
    pub last_at: i64,
}

impl Store {
    /// The counter of `subject` (a digest) of `kind`, if it has one.
    pub async fn throttle_counter(
        &self,
        kind: &str,
        subject: &[u8],
    ) -> Result<Option<ThrottleCounter>> {
        let row = sqlx::query(
            "SELECT failures, last_at FROM throttle_counters WHERE kind = $1 AND subject = $2",
        )
        .bind(kind)
        .bind(subject.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(ThrottleCounter {
                failures: row.try_get("failures")?,
                last_at: row.try_get("last_at")?,
            })
        })
        .transpose()
    }

    /// Sets the counter to `next`, only if it is still `seen` (`None`: still absent).
    /// False when another request changed it first: read it again and decide anew.
    pub async fn charge_throttle(
        &self,
        kind: &str,
        subject: &[u8],
        seen: Option<ThrottleCounter>,
        next: ThrottleCounter,
    ) -> Result<bool> {
        let done = match seen {
            None => {
                sqlx::query(
                    "INSERT INTO throttle_counters (kind, subject, failures, last_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, subject) DO NOTHING",
                )
                .bind(kind)
                .bind(subject.to_vec())
                .bind(next.failures)
                .bind(next.last_at)
                .execute(&self.pool)
                .await?
            }
            Some(seen) => {
                sqlx::query(
                    "UPDATE throttle_counters SET failures = $1, last_at = $2 \
                     WHERE kind = $3 AND subject = $4 AND failures = $5 AND last_at = $6",
                )
                .bind(next.failures)
                .bind(next.last_at)
                .bind(kind)
                .bind(subject.to_vec())
                .bind(seen.failures)
                .bind(seen.last_at)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the counters whose last attempt was charged at or before `cutoff`; returns
    /// how many went. Safe to run from several instances at once.
    pub async fn purge_throttle_counters(&self, cutoff: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM throttle_counters WHERE last_at <= $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

impl Tx {
    /// Gives back one charged attempt that turned out not to be a failure (the secret was
    /// right, or it was never checked). The time of the last charge stays.
    pub async fn refund_throttle(&mut self, kind: &str, subject: &[u8]) -> Result<()> {
        sqlx::query(
            "UPDATE throttle_counters SET failures = failures - 1 \
             WHERE kind = $1 AND subject = $2 AND failures > 0",
        )
        .bind(kind)
        .bind(subject.to_vec())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Forgets the counter of a subject; true when it had one.
    pub async fn clear_throttle(&mut self, kind: &str, subject: &[u8]) -> Result<bool> {
        let done = sqlx::query("DELETE FROM throttle_counters WHERE kind = $1 AND subject = $2")
            .bind(kind)
            .bind(subject.to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
