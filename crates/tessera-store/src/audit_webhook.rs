//! The audit webhook's cursor: how far along the chain the receiver has acknowledged.
//!
//! The chain itself is the outbox. An event sealed is an event owed to the webhook, whichever
//! instance sealed it and whatever that instance's settings, and nothing is copied. Several
//! instances may deliver: a batch is claimed by moving `next_attempt_at` forward,
//! conditionally on the value read (as logout deliveries are), and the cursor advances only
//! from the position the batch started at, so a batch is never acknowledged twice and the
//! receiver sees positions in order.

use sqlx::Row;

use crate::{Result, Store};

/// The cursor as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookCursor {
    /// Events up to this position were acknowledged.
    pub delivered_seq: i64,
    /// Failed attempts since the last acknowledgement.
    pub attempts: i64,
    /// Not before this time; also the lease of the instance delivering.
    pub next_attempt_at: i64,
}

impl Store {
    pub async fn audit_webhook_cursor(&self) -> Result<WebhookCursor> {
        let row = sqlx::query(
            "SELECT delivered_seq, attempts, next_attempt_at FROM audit_webhook WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(WebhookCursor {
            delivered_seq: row.try_get("delivered_seq")?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
        })
    }

    /// Takes the next batch for one attempt, leasing it until `lease_until`. Returns `false`
    /// when another instance took it first.
    pub async fn claim_audit_webhook(
        &self,
        read: &WebhookCursor,
        lease_until: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE audit_webhook SET next_attempt_at = $1 \
             WHERE id = 1 AND next_attempt_at = $2 AND delivered_seq = $3",
        )
        .bind(lease_until)
        .bind(read.next_attempt_at)
        .bind(read.delivered_seq)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the acknowledgement of the events after `from` up to `through`, and makes
    /// the next batch due at `next_attempt_at`. Returns `false`, changing nothing, if the
    /// lease `lease_until` was lost (another instance moved the cursor meanwhile).
    pub async fn acknowledge_audit_webhook(
        &self,
        lease_until: i64,
        from: i64,
        through: i64,
        next_attempt_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE audit_webhook SET delivered_seq = $1, attempts = 0, next_attempt_at = $2 \
             WHERE id = 1 AND next_attempt_at = $3 AND delivered_seq = $4",
        )
        .bind(through)
        .bind(next_attempt_at)
        .bind(lease_until)
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt at the batch after `from` and when to try it again.
    pub async fn reschedule_audit_webhook(
        &self,
        lease_until: i64,
        from: i64,
        attempts: i64,
        next_attempt_at: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE audit_webhook SET attempts = $1, next_attempt_at = $2 \
             WHERE id = 1 AND next_attempt_at = $3 AND delivered_seq = $4",
        )
        .bind(attempts)
        .bind(next_attempt_at)
        .bind(lease_until)
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
